"""Unit tier (pure Python, no services): the reference model of the analytics computes what the ksqlDB
tables must contain, checked on small hand-made click sequences whose answers are known, and on a
simulated hour of the default pipeline with ``sessionize`` running."""
from __future__ import annotations

import dataclasses

import pytest

from clickstream.content import generator, rates
from stackconfig import StackConfig
from tests import reference_model as rm
from tests.reference_model import Click

T0 = 1_700_000_040_000  # a multiple of 60 s


def click(ts: int, userid: int = 1, *, request: str = "GET /index.html HTTP/1.1", status: int = 200,
          size: int = 100) -> Click:
    return Click(ts=ts, userid=userid, ip="10.0.0.1", request=request, status=status, bytes=size)


def test_generator_is_deterministic_ordered_and_bounded():
    a = rm.generate_clicks(seed=7, count=500, max_interval_ms=100, users=5)
    assert a == rm.generate_clicks(seed=7, count=500, max_interval_ms=100, users=5)
    assert a != rm.generate_clicks(seed=8, count=500, max_interval_ms=100, users=5)
    assert all(0 <= b.ts - x.ts <= 100 for x, b in zip(a, a[1:]))
    assert {c.userid for c in a} <= set(range(1, 6))
    assert {c.status for c in a} <= set(rm.STATUSES) and {c.bytes for c in a} <= set(rm.BYTES)


def test_generator_pauses_make_gaps_longer_than_the_session_gap():
    clicks = rm.generate_clicks(seed=1, count=300, max_interval_ms=50, pause_every=100, pause_ms=40_000)
    gaps = [b.ts - a.ts for a, b in zip(clicks, clicks[1:])]
    assert sum(gap > rm.SESSION_GAP_MS for gap in gaps) == 2


def test_tumbling_window_start():
    assert rm.tumbling_window(T0 + 59_999, rm.MINUTE) == [T0]
    assert rm.tumbling_window(T0 + 60_000, rm.MINUTE) == [T0 + 60_000]


def test_hopping_windows_follow_ksqldb_semantics():
    # 60 s windows every 5 s: 12 windows hold each event; starts are multiples of the advance
    starts = rm.hopping_windows(T0 + 7_000, rm.MINUTE, 5_000)
    assert len(starts) == 12
    assert starts[0] == T0 + 10_000 - 60_000 and starts[-1] == T0 + 5_000
    assert all(s % 5_000 == 0 and s <= T0 + 7_000 < s + rm.MINUTE for s in starts)
    # an event exactly on a boundary opens a new window and leaves the one ending there
    edge = rm.hopping_windows(T0 + 60_000, rm.MINUTE, 20_000)
    assert edge == [T0 + 20_000, T0 + 40_000, T0 + 60_000]
    assert rm.hopping_windows(1_000, rm.MINUTE, 5_000) == [0]  # no negative window starts


def test_like_matches_sql_patterns():
    assert rm.like("GET /site/login.html HTTP/1.1", "%html%")
    assert not rm.like("GET /images/logo.png HTTP/1.1", "%html%")
    assert rm.like("abc", "a%") and rm.like("abc", "%c") and rm.like("abc", "abc") and not rm.like("abc", "b")


def test_events_and_pages_per_min():
    clicks = [click(T0), click(T0 + 1_000, request="GET /a.png"), click(T0 + 61_000), click(T0 + 2_000, 2)]
    assert rm.events_per_min(clicks) == {(1, T0): 2, (1, T0 + 60_000): 1, (2, T0): 1}
    pages = rm.pages_per_min(clicks)
    # the html click at T0 is in the 12 windows starting T0-55s .. T0; the png click is not counted
    assert pages[(1, T0)] == 1 and pages[(1, T0 - 55_000)] == 1
    assert pages[(1, T0 + 5_000)] == 1  # only the click at T0+61s (window [T0+5s, T0+65s))
    assert sum(n for (user, _), n in pages.items() if user == 1) == 24


def test_errors_per_min_and_alert_threshold():
    errors = [click(T0 + i * 1_000, status=404) for i in range(6)] + [click(T0 + 500, status=407)]
    errors.append(click(T0 + 100, status=200))
    per_min = rm.errors_per_min(errors)
    assert per_min[(404, T0)] == 6 and per_min[(407, T0)] == 1 and (200, T0) not in per_min
    alert = rm.errors_per_min_alert(errors, threshold=5)
    # 404 reaches 6 (> 5) in each 20 s-hop window holding all six clicks; 407 never alerts
    assert alert == {(404, T0 - 40_000): 6, (404, T0 - 20_000): 6, (404, T0): 6}
    assert rm.errors_per_min_alert(errors[:5], threshold=5) == {}


def test_bandwidth_per_minute_overall_and_per_user():
    clicks = [click(T0, 1, size=100), click(T0 + 10, 2, size=50), click(T0 + 60_000, 1, size=7)]
    assert rm.bandwidth_per_min(clicks) == {T0: (2, 150), T0 + 60_000: (1, 7)}
    assert rm.user_bandwidth_per_min(clicks) == {(1, T0): (1, 100), (2, T0): (1, 50), (1, T0 + 60_000): (1, 7)}


def test_sessions_split_on_gaps_longer_than_30_seconds():
    clicks = [click(T0, size=10), click(T0 + 30_000, size=20),  # exactly the gap: same session
              click(T0 + 60_001, size=40),  # 30.001 s later: a new session
              click(T0 + 5_000, userid=2, size=1)]
    sessions = rm.sessions(clicks)
    assert [dataclasses.replace(s, username=None) for s in sessions] == [
        rm.Session(1, T0, T0 + 30_000, 2, 30), rm.Session(1, T0 + 60_001, T0 + 60_001, 1, 40),
        rm.Session(2, T0 + 5_000, T0 + 5_000, 1, 1)]
    assert rm.session_counts(sessions) == {1: 2, 2: 1}


def test_sessions_by_another_key_and_out_of_order_input():
    clicks = [click(T0 + 10_000), click(T0)]
    assert rm.sessions(clicks, key=lambda c: c.ip) == [rm.Session("10.0.0.1", T0, T0 + 10_000, 2, 200)]


def test_high_bandwidth_rule_is_strictly_greater_than_the_threshold():
    sessions = [rm.Session(1, 0, 1, 2, 500), rm.Session(2, 0, 1, 2, 501)]
    assert rm.high_bandwidth_sessions(sessions, 500) == [sessions[1]]


def test_generated_sequence_with_pauses_has_one_more_session_per_pause_for_active_users():
    clicks = rm.generate_clicks(seed=3, count=600, max_interval_ms=100, users=3, pause_every=200,
                                pause_ms=45_000)
    counts = rm.session_counts(rm.sessions(clicks))
    assert counts == {1: 3, 2: 3, 3: 3}
    sessions = rm.sessions(clicks)
    assert sum(s.hits for s in sessions) == 600
    assert sum(s.bytes for s in sessions) == sum(c.bytes for c in clicks)
    threshold = sorted(s.bytes for s in sessions)[-2]
    assert len(rm.high_bandwidth_sessions(sessions, threshold)) == 1


def test_unknown_users_and_codes_get_the_unknown_policy():
    clicks = [click(T0, 1), click(T0 + 2_000, 1), click(T0 + 3_000, generator.ANONYMOUS_USERID, status=404)]
    users = rm.enrich_users(clicks, user_arrivals=[(T0 + 1_000, 1)])
    assert [(c.username, c.city) for c in users] == [
        ("unknown", "unknown"), (generator.USERS[0].username, generator.USERS[0].city), ("unknown", "unknown")]
    codes = rm.enrich_codes(clicks, code_arrivals=[(T0 + 2_500, 404), (T0, 200)])
    assert [c.definition for c in codes] == ["Successful", "Successful", "Page not found"]
    assert rm.clicks_per_city(users) == {("unknown", T0): 2, (generator.USERS[0].city, T0): 1}
    assert rm.user_ip_activity(users) == {(("unknown", "10.0.0.1", "unknown"), T0): 2}


def test_generator_ties_each_user_to_one_ip_and_city():
    assert len({v.userid for v in generator.VISITORS}) == len({v.ip for v in generator.VISITORS}) == 41
    assert len({u.username for u in generator.USERS}) == len(generator.USERS) == 40
    assert generator.ANONYMOUS_USERID not in {u.user_id for u in generator.USERS}


# --- a simulated hour of the default deployment with `sessionize` running ---------------------------

QUARTER = 15 * rm.MINUTE


@dataclasses.dataclass(frozen=True)
class Hour:
    cfg: StackConfig
    start: int
    sim: rm.Simulation
    users: list[rm.UserClick]
    codes: list[rm.CodeClick]
    sessions: list[rm.Session]
    tables: dict[str, list[int]]  # table -> EVENT_TS of each row


def window_starts(table: dict) -> list[int]:
    return [window for (_, window) in table]


@pytest.fixture(scope="module", params=[1, 2, 3])
def hour(request):
    """One hour of the three datagen sources at the default rates, `sessionize` pausing the clicks with
    its default cycle from the start, and every table computed from it."""
    cfg = StackConfig()
    start = 1_700_000_000_000 + request.param * 7_919  # a different phase against the windows per seed
    sim = rm.simulate(request.param, 60 * rm.MINUTE, start_ms=start, click_interval_ms=cfg.clickstream_interval_ms,
                      users_interval_ms=cfg.users_interval_ms, codes_interval_ms=cfg.codes_interval_ms,
                      flowing=rm.sessionize_cycle(start, cfg.sessionize_run_seconds, cfg.sessionize_pause_seconds))
    users = rm.enrich_users(sim.clicks, sim.users)
    codes = rm.enrich_codes(sim.clicks, sim.codes)
    sessions = rm.sessions(users)
    flagged = rm.high_bandwidth_sessions(sessions, rates.high_bandwidth_bytes(cfg))
    # EVENT_TS of every row: WINDOWSTART, or for sessions WINDOWEND (the latest click)
    tables = {
        "EVENTS_PER_MIN": window_starts(rm.events_per_min(sim.clicks)),
        "PAGES_PER_MIN": window_starts(rm.pages_per_min(sim.clicks)),
        "BANDWIDTH_PER_MIN": list(rm.bandwidth_per_min(sim.clicks)),
        "USER_BANDWIDTH_PER_MIN": window_starts(rm.user_bandwidth_per_min(sim.clicks)),
        "USER_IP_ACTIVITY": window_starts(rm.user_ip_activity(users)),
        "CLICKS_PER_CITY": window_starts(rm.clicks_per_city(users)),
        "ERRORS_PER_MIN_ALERT": window_starts(rm.errors_per_min_alert(sim.clicks, rates.error_burst_count(cfg))),
        "ERRORS_PER_MIN": window_starts(rm.errors_per_min(sim.clicks)),
        "ENRICHED_ERROR_CODES_COUNT": window_starts(rm.enriched_error_codes_count(codes)),
        "CLICK_USER_SESSIONS": [s.end for s in sessions],
        "SESSION_BANDWIDTH": [s.end for s in sessions],
        "HIGH_BANDWIDTH_SESSIONS": [s.end for s in flagged],
    }
    return Hour(cfg, start, sim, users, codes, sessions, tables)


def test_the_simulation_runs_at_the_documented_rates(hour):
    flowing = hour.cfg.sessionize_run_seconds / (hour.cfg.sessionize_run_seconds + hour.cfg.sessionize_pause_seconds)
    per_second = len(hour.sim.clicks) / 3600 / flowing
    assert per_second == pytest.approx(rates.clicks_per_second(hour.cfg), rel=0.03)
    sizes = [c.bytes for c in hour.sim.clicks]
    assert sum(sizes) / len(sizes) == pytest.approx(rates.MEAN_CLICK_BYTES, rel=0.03)


def test_every_table_has_rows_in_every_15_minute_window(hour):
    from clickstream.content import connectors
    from clickstream.stack.analytics import KSQL_DIR, ksql_variables
    from providers.ksqldb import load_sql_dir, parse_sources
    derived = connectors.derived_tables(parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(hour.cfg)))
    assert set(hour.tables) == set(derived)
    for table, event_times in hour.tables.items():
        quarters = {(ts - hour.start) // QUARTER for ts in event_times}
        assert {0, 1, 2, 3} <= quarters, f"{table} has no rows in quarter(s) {sorted({0, 1, 2, 3} - quarters)}"


def test_some_but_not_most_sessions_are_flagged(hour):
    flagged = rm.high_bandwidth_sessions(hour.sessions, rates.high_bandwidth_bytes(hour.cfg))
    assert 0.02 < len(flagged) / len(hour.sessions) < 0.25
    # sessionize ends every session: one session per visitor and run
    cycle_ms = (hour.cfg.sessionize_run_seconds + hour.cfg.sessionize_pause_seconds) * rm.SECOND
    assert len(hour.sessions) == len(generator.VISITORS) * -(-3600_000 // cycle_ms)


def test_no_click_is_lost_to_a_null_group_key(hour):
    clicks = len(hour.sim.clicks)
    assert all(c.username is not None and c.city is not None for c in hour.users)
    assert all(c.definition is not None for c in hour.codes)
    assert sum(rm.clicks_per_city(hour.users).values()) == clicks
    assert sum(rm.count_windows(hour.users, lambda c: (c.username, c.ip, c.city),
                                lambda ts: rm.tumbling_window(ts, rm.MINUTE)).values()) == clicks
    assert sum(s.hits for s in hour.sessions) == clicks
    assert sum(rm.count_windows(hour.codes, lambda c: (c.code, c.definition),
                                lambda ts: rm.tumbling_window(ts, 30 * rm.SECOND)).values()) == clicks
    # unknown users are visible, not dropped: the anonymous visitor, and users before their first record
    assert any(c.username == rm.UNKNOWN for c in hour.users)


def test_each_ip_belongs_to_one_user_and_city(hour):
    owners: dict[str, set] = {}
    for c in hour.users:
        if c.username != rm.UNKNOWN:
            owners.setdefault(c.ip, set()).add((c.userid, c.username, c.city))
    assert owners and all(len(who) == 1 for who in owners.values())
