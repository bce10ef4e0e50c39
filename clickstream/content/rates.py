"""What the default pipeline produces per second, and the thresholds derived from it.

kafka-connect-datagen sleeps a uniformly random ``[0, max.interval)`` ms before each record, so a source
emits ``2000 / max.interval`` records per second on average (100 ms -> 20 clicks/s). Each click picks one
of the :data:`~clickstream.content.generator.VISITORS` (41: 40 users + 1 anonymous) and one of the quickstart's
byte sizes (mean 4287 B) and statuses (6, 4 of them errors) uniformly. The thresholds in ``ksql/`` are
computed here from the stack config, so changing a rate or the sessionize cycle moves them too.
"""
from __future__ import annotations

import math
from statistics import fmean

from clickstream.content.generator import BYTES, STATUSES, VISITORS
from stackconfig import StackConfig

MEAN_CLICK_BYTES = fmean(BYTES)
ERROR_BURST_WINDOW_SECONDS = 60  # ERRORS_PER_MIN_ALERT: 60 s windows
ERROR_BURST_SIGMAS = 1.0


def records_per_second(max_interval_ms: int) -> float:
    """Mean records per second of a datagen source with this ``max.interval``."""
    return 2000.0 / max_interval_ms


def clicks_per_second(cfg: StackConfig) -> float:
    return records_per_second(cfg.clickstream_interval_ms)


def clicks_per_visitor_second(cfg: StackConfig) -> float:
    """Clicks per second of one user id (all ids are equally likely)."""
    return clicks_per_second(cfg) / len(VISITORS)


def session_bytes(cfg: StackConfig) -> float:
    """Mean bytes of one user's session while ``sessionize`` lets clicks flow for its run period."""
    return clicks_per_visitor_second(cfg) * cfg.sessionize_run_seconds * MEAN_CLICK_BYTES


def high_bandwidth_bytes(cfg: StackConfig) -> int:
    """HIGH_BANDWIDTH_SESSIONS threshold: ``highBandwidthPercent`` % of the mean session."""
    return math.ceil(session_bytes(cfg) * cfg.high_bandwidth_percent / 100)


def errors_per_status_window(cfg: StackConfig) -> float:
    """Mean clicks with one given status in a full 60 s window while clicks flow."""
    return clicks_per_second(cfg) * ERROR_BURST_WINDOW_SECONDS / len(STATUSES)


def error_burst_count(cfg: StackConfig) -> int:
    """ERRORS_PER_MIN_ALERT threshold: the mean errors of one status per full minute plus one standard
    deviation (a click has that status with p = 1/6, so the count is binomial)."""
    mean = errors_per_status_window(cfg)
    return math.ceil(mean + ERROR_BURST_SIGMAS * math.sqrt(mean * (1 - 1 / len(STATUSES))))
