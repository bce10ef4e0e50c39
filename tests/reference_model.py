"""A plain-Python reference model of the analytics, for comparing the real pipeline's output with.

``simulate`` produces what the three datagen connectors write (``clickstream.content.generator``'s schemas, at
the configured rates, with ``python -m clickstream sessionize`` pausing the clicks); ``generate_clicks``
is a smaller seeded click sequence for hand-made checks. ``enrich_users``/``enrich_codes`` apply the
LEFT JOINs of ``ksql/02_enriched.sql`` with its unknown policy (a user or code not yet seen gives
``'unknown'``); the other functions compute the final content of the ksqlDB tables in ``ksql/`` with
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
from typing import Callable, Hashable, Iterable, Protocol, Sequence, TypeVar

from clickstream.content.generator import BYTES, CODES, REQUESTS, STATUSES, USERS, VISITORS

SECOND = 1000
MINUTE = 60 * SECOND
SESSION_GAP_MS = 30 * SECOND
UNKNOWN = "unknown"  # ksql/02_enriched.sql: COALESCE of a user's name/city or a code's definition


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
class UserClick:
    """A row of USER_CLICKSTREAM: a click with its user's name and city (or ``'unknown'``)."""

    ts: int
    userid: int
    username: str
    ip: str
    city: str
    request: str
    status: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class CodeClick:
    """A row of ENRICHED_ERROR_CODES: a click's status with its definition (or ``'unknown'``)."""

    ts: int
    code: int
    definition: str


@dataclasses.dataclass(frozen=True)
class Session:
    """One session window of one key: first/last event time (SESSION_START / EVENT_TS), hits, bytes
    and the latest username of the session."""

    key: Hashable
    start: int
    end: int
    hits: int
    bytes: int
    username: str | None = None


@dataclasses.dataclass(frozen=True)
class Simulation:
    """What the datagen connectors wrote: clicks, and (arrival time, record) of users and codes."""

    clicks: list[Click]
    users: list[tuple[int, int]]  # (ts, user_id)
    codes: list[tuple[int, int]]  # (ts, code)


def _datagen_times(rng: random.Random, start_ms: int, end_ms: int, max_interval_ms: int,
                   flowing: Callable[[int], bool] = lambda ts: True) -> Iterable[int]:
    """Record times of a datagen source: a uniform ``[0, max.interval)`` sleep before each record;
    while the connector is paused (``flowing`` false) time passes without records."""
    ts = start_ms
    while True:
        ts += rng.randrange(max_interval_ms)
        while not flowing(ts):
            ts += SECOND
        if ts >= end_ms:
            return
        yield ts


def sessionize_cycle(start_ms: int, run_seconds: int, pause_seconds: int) -> Callable[[int], bool]:
    """Whether clicks flow at a time while ``sessionize`` repeats run/pause from ``start_ms``."""
    period = (run_seconds + pause_seconds) * SECOND
    return lambda ts: (ts - start_ms) % period < run_seconds * SECOND


def simulate(seed: int, duration_ms: int, *, start_ms: int = 1_700_000_000_000, click_interval_ms: int = 100,
             users_interval_ms: int = 1000, codes_interval_ms: int = 1000,
             flowing: Callable[[int], bool] = lambda ts: True) -> Simulation:
    """The three datagen sources over ``duration_ms``; ``flowing`` pauses the clicks only (as
    ``sessionize`` pauses only ``datagen-clickstream``). Same arguments, same result."""
    rng = random.Random(seed)
    end = start_ms + duration_ms
    clicks = []
    for ts in _datagen_times(rng, start_ms, end, click_interval_ms, flowing):
        visitor = rng.choice(VISITORS)
        clicks.append(Click(ts=ts, userid=visitor.userid, ip=visitor.ip, request=rng.choice(REQUESTS),
                            status=rng.choice(STATUSES), bytes=rng.choice(BYTES)))
    users = [(ts, rng.choice(USERS).user_id) for ts in _datagen_times(rng, start_ms, end, users_interval_ms)]
    codes = [(ts, rng.choice(list(CODES))) for ts in _datagen_times(rng, start_ms, end, codes_interval_ms)]
    return Simulation(clicks=clicks, users=users, codes=codes)


def _first_seen(arrivals: Iterable[tuple[int, int]]) -> dict[int, int]:
    seen: dict[int, int] = {}
    for ts, key in arrivals:
        seen.setdefault(key, ts)
    return seen


def enrich_users(clicks: Iterable[Click], user_arrivals: Iterable[tuple[int, int]]) -> list[UserClick]:
    """USER_CLICKSTREAM: clicks LEFT JOIN WEB_USERS as of each click; unknown -> ``'unknown'``."""
    known_since = _first_seen(user_arrivals)
    by_id = {u.user_id: u for u in USERS}
    result = []
    for c in clicks:
        user = by_id.get(c.userid) if known_since.get(c.userid, c.ts + 1) <= c.ts else None
        result.append(UserClick(ts=c.ts, userid=c.userid, username=user.username if user else UNKNOWN, ip=c.ip,
                                city=user.city if user else UNKNOWN, request=c.request, status=c.status,
                                bytes=c.bytes))
    return result


def enrich_codes(clicks: Iterable[Click], code_arrivals: Iterable[tuple[int, int]]) -> list[CodeClick]:
    """ENRICHED_ERROR_CODES: clicks LEFT JOIN CLICKSTREAM_CODES as of each click."""
    known_since = _first_seen(code_arrivals)
    return [CodeClick(ts=c.ts, code=c.status,
                      definition=CODES[c.status] if known_since.get(c.status, c.ts + 1) <= c.ts else UNKNOWN)
            for c in clicks]


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


class Timed(Protocol):
    """Anything with a record timestamp (a click, a joined row)."""

    @property
    def ts(self) -> int: ...


T = TypeVar("T", bound=Timed)


def count_windows(clicks: Iterable[T], key: Callable[[T], Hashable],
                  windows: Callable[[int], list[int]],
                  where: Callable[[T], bool] = lambda c: True) -> dict[tuple[Hashable, int], int]:
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


def errors_per_min_alert(clicks: Sequence[Click], threshold: int) -> dict[tuple[Hashable, int], int]:
    """ERRORS_PER_MIN_ALERT: status > 400 per status, hopping 60 s / 20 s, only counts > threshold."""
    counts = count_windows(clicks, lambda c: c.status,
                           lambda ts: hopping_windows(ts, MINUTE, 20 * SECOND),
                           where=lambda c: c.status > 400)
    return {k: n for k, n in counts.items() if n > threshold}


def user_ip_activity(clicks: Sequence[UserClick]) -> dict[tuple[Hashable, int], int]:
    """USER_IP_ACTIVITY: clicks per (username, ip, city), tumbling 60 s, only counts > 1."""
    counts = count_windows(clicks, lambda c: (c.username, c.ip, c.city), lambda ts: tumbling_window(ts, MINUTE))
    return {k: n for k, n in counts.items() if n > 1}


def clicks_per_city(clicks: Sequence[UserClick]) -> dict[tuple[Hashable, int], int]:
    """CLICKS_PER_CITY: clicks per city (``'unknown'`` included), tumbling 60 s."""
    return count_windows(clicks, lambda c: c.city, lambda ts: tumbling_window(ts, MINUTE))


def enriched_error_codes_count(clicks: Sequence[CodeClick]) -> dict[tuple[Hashable, int], int]:
    """ENRICHED_ERROR_CODES_COUNT: clicks per (code, definition), tumbling 30 s, only counts > 1."""
    counts = count_windows(clicks, lambda c: (c.code, c.definition), lambda ts: tumbling_window(ts, 30 * SECOND))
    return {k: n for k, n in counts.items() if n > 1}


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


def sessions(clicks: Iterable, key: Callable[..., Hashable] = lambda c: c.userid,
             gap_ms: int = SESSION_GAP_MS) -> list[Session]:
    """Session windows per key (CLICK_USER_SESSIONS / SESSION_BANDWIDTH: per user id, username = the
    latest), ordered by key then start; a session's EVENT_TS is its ``end``."""
    by_key: dict[Hashable, list] = defaultdict(list)
    for click in clicks:
        by_key[key(click)].append(click)
    result = []
    for k in sorted(by_key, key=repr):
        current: list = []
        for click in sorted(by_key[k], key=lambda c: c.ts):
            if current and click.ts - current[-1].ts > gap_ms:
                result.append(_session(k, current))
                current = []
            current.append(click)
        if current:
            result.append(_session(k, current))
    return result


def _session(key: Hashable, clicks: list) -> Session:
    return Session(key=key, start=clicks[0].ts, end=clicks[-1].ts, hits=len(clicks),
                   bytes=sum(c.bytes for c in clicks), username=getattr(clicks[-1], "username", None))


def session_counts(all_sessions: Iterable[Session]) -> dict[Hashable, int]:
    """Number of sessions per key."""
    counts: dict[Hashable, int] = defaultdict(int)
    for session in all_sessions:
        counts[session.key] += 1
    return dict(counts)


def high_bandwidth_sessions(all_sessions: Iterable[Session], threshold_bytes: int) -> list[Session]:
    """HIGH_BANDWIDTH_SESSIONS: sessions whose bytes exceed the threshold (strictly greater)."""
    return [s for s in all_sessions if s.bytes > threshold_bytes]

