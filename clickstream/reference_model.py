"""A plain-Python reference model of the analytics, for comparing the real pipeline's output with.

``generate_clicks`` yields a deterministic (seeded) sequence of clicks shaped like the datagen
``clickstream`` quickstart, optionally with quiet gaps (what ``python -m clickstream sessionize``
causes). The other functions compute the final content of the ksqlDB tables in ``ksql/`` with
ksqlDB's window semantics, all times in epoch milliseconds of the record timestamp:

* tumbling window of size S: the one window ``[start, start + S)`` with ``start`` a multiple of S;
* hopping window of size S advancing by A: every window ``[start, start + S)`` with ``start`` a
  multiple of A (and >= 0) that contains the event, i.e. S / A windows per event;
* session window with gap G (per key): events closer than or exactly G apart belong to the same
  session; a session spans its first to its last event (``WINDOWSTART``..``WINDOWEND``).

Values are the final aggregates after all events (what the newest document per window in
Elasticsearch shows once the pipeline has caught up).
"""
from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from typing import Callable, Hashable, Iterable, Sequence

SECOND = 1000
MINUTE = 60 * SECOND
SESSION_GAP_MS = 30 * SECOND

# value pools in the spirit of the datagen clickstream quickstart
REQUESTS = ("GET /index.html HTTP/1.1", "GET /site/user_status.html HTTP/1.1",
            "GET /site/login.html HTTP/1.1", "GET /images/logo-small.png HTTP/1.1",
            "GET /images/track.png HTTP/1.1", "POST /site/login.html HTTP/1.1")
STATUSES = (200, 200, 200, 302, 404, 405, 406, 407)
BYTES = (278, 1289, 2048, 4006, 4196, 14096)


@dataclasses.dataclass(frozen=True)
class Click:
    """One click; ``ts`` is the record timestamp in epoch milliseconds."""

    ts: int
    userid: int
    ip: str
    request: str
    status: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class Session:
    """One session window of one key: first/last event time, hit count and bytes served."""

    key: Hashable
    start: int
    end: int
    hits: int
    bytes: int


def generate_clicks(seed: int, count: int, *, start_ms: int = 1_700_000_000_000,
                    max_interval_ms: int = 100, users: int = 40, pause_every: int = 0,
                    pause_ms: int = 0) -> list[Click]:
    """``count`` clicks in time order, at most ``max_interval_ms`` apart; after every ``pause_every``
    clicks (0 = never) the stream is quiet for an extra ``pause_ms``. Same arguments, same clicks."""
    rng = random.Random(seed)
    clicks, ts = [], start_ms
    for i in range(count):
        if pause_every and i and i % pause_every == 0:
            ts += pause_ms
        ts += rng.randint(0, max_interval_ms)
        clicks.append(Click(ts=ts, userid=rng.randint(1, users),
                            ip=f"222.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                            request=rng.choice(REQUESTS), status=rng.choice(STATUSES),
                            bytes=rng.choice(BYTES)))
    return clicks


def tumbling_window(ts: int, size_ms: int) -> list[int]:
    """The start of the one tumbling window holding ``ts``."""
    return [ts - ts % size_ms]


def hopping_windows(ts: int, size_ms: int, advance_ms: int) -> list[int]:
    """Starts of every hopping window ``[start, start + size)`` holding ``ts``, oldest first."""
    last = ts - ts % advance_ms
    return [start for start in range(last, ts - size_ms, -advance_ms) if start >= 0][::-1]


def count_windows(clicks: Iterable[Click], key: Callable[[Click], Hashable],
                  windows: Callable[[int], list[int]],
                  where: Callable[[Click], bool] = lambda c: True) -> dict[tuple[Hashable, int], int]:
    """COUNT(*) per (key, window start) of the clicks matching ``where``."""
    counts: dict[tuple[Hashable, int], int] = defaultdict(int)
    for click in clicks:
        if where(click):
            for start in windows(click.ts):
                counts[(key(click), start)] += 1
    return dict(counts)


def like(value: str, pattern: str) -> bool:
    """SQL ``LIKE`` for the patterns the SQL uses: ``%`` wildcards around a literal."""
    literal = pattern.strip("%")
    if pattern.startswith("%") and pattern.endswith("%"):
        return literal in value
    if pattern.startswith("%"):
        return value.endswith(literal)
    if pattern.endswith("%"):
        return value.startswith(literal)
    return value == literal


def events_per_min(clicks: Sequence[Click]) -> dict[tuple[Hashable, int], int]:
    """EVENTS_PER_MIN: clicks per user, tumbling 60 s."""
    return count_windows(clicks, lambda c: c.userid, lambda ts: tumbling_window(ts, MINUTE))


def pages_per_min(clicks: Sequence[Click]) -> dict[tuple[Hashable, int], int]:
    """PAGES_PER_MIN: requests LIKE '%html%' per user, hopping 60 s advancing by 5 s."""
    return count_windows(clicks, lambda c: c.userid, lambda ts: hopping_windows(ts, MINUTE, 5 * SECOND),
                         where=lambda c: like(c.request, "%html%"))


def errors_per_min(clicks: Sequence[Click]) -> dict[tuple[Hashable, int], int]:
    """ERRORS_PER_MIN: status > 400 per status, hopping 60 s advancing by 5 s."""
    return count_windows(clicks, lambda c: c.status, lambda ts: hopping_windows(ts, MINUTE, 5 * SECOND),
                         where=lambda c: c.status > 400)


def errors_per_min_alert(clicks: Sequence[Click]) -> dict[tuple[Hashable, int], int]:
    """ERRORS_PER_MIN_ALERT: status > 400 per status, hopping 60 s / 20 s, only counts > 5."""
    counts = count_windows(clicks, lambda c: c.status,
                           lambda ts: hopping_windows(ts, MINUTE, 20 * SECOND),
                           where=lambda c: c.status > 400)
    return {k: n for k, n in counts.items() if n > 5}


def bandwidth_per_min(clicks: Sequence[Click]) -> dict[int, tuple[int, int]]:
    """BANDWIDTH_PER_MIN: site-wide (hits, bytes) per tumbling minute, keyed by window start."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for click in clicks:
        total = totals[tumbling_window(click.ts, MINUTE)[0]]
        total[0] += 1
        total[1] += click.bytes
    return {start: (hits, size) for start, (hits, size) in totals.items()}


def user_bandwidth_per_min(clicks: Sequence[Click]) -> dict[tuple[int, int], tuple[int, int]]:
    """USER_BANDWIDTH_PER_MIN: (hits, bytes) per (user, tumbling minute)."""
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for click in clicks:
        total = totals[(click.userid, tumbling_window(click.ts, MINUTE)[0])]
        total[0] += 1
        total[1] += click.bytes
    return {k: (hits, size) for k, (hits, size) in totals.items()}


def sessions(clicks: Iterable[Click], key: Callable[[Click], Hashable] = lambda c: c.userid,
             gap_ms: int = SESSION_GAP_MS) -> list[Session]:
    """Session windows per key (SESSION_BANDWIDTH / CLICK_USER_SESSIONS), ordered by key then start."""
    by_key: dict[Hashable, list[Click]] = defaultdict(list)
    for click in clicks:
        by_key[key(click)].append(click)
    result = []
    for k in sorted(by_key, key=repr):
        current: list[Click] = []
        for click in sorted(by_key[k], key=lambda c: c.ts):
            if current and click.ts - current[-1].ts > gap_ms:
                result.append(_session(k, current))
                current = []
            current.append(click)
        if current:
            result.append(_session(k, current))
    return result


def _session(key: Hashable, clicks: list[Click]) -> Session:
    return Session(key=key, start=clicks[0].ts, end=clicks[-1].ts, hits=len(clicks),
                   bytes=sum(c.bytes for c in clicks))


def session_counts(all_sessions: Iterable[Session]) -> dict[Hashable, int]:
    """Number of sessions per key."""
    counts: dict[Hashable, int] = defaultdict(int)
    for session in all_sessions:
        counts[session.key] += 1
    return dict(counts)


def high_bandwidth_sessions(all_sessions: Iterable[Session], threshold_bytes: int) -> list[Session]:
    """HIGH_BANDWIDTH_SESSIONS: sessions whose bytes exceed the threshold (strictly greater)."""
    return [s for s in all_sessions if s.bytes > threshold_bytes]

