"""Unit tier (pure Python, no services): the reference model of the analytics computes what the ksqlDB
tables must contain, checked on small hand-made click sequences whose answers are known."""
from __future__ import annotations

from clickstream import reference_model as rm
from clickstream.reference_model import Click

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
    alert = rm.errors_per_min_alert(errors)
    # 404 reaches 6 (> 5) in each 20 s-hop window holding all six clicks; 407 never alerts
    assert alert == {(404, T0 - 40_000): 6, (404, T0 - 20_000): 6, (404, T0): 6}
    assert rm.errors_per_min_alert(errors[:5]) == {}


def test_bandwidth_per_minute_overall_and_per_user():
    clicks = [click(T0, 1, size=100), click(T0 + 10, 2, size=50), click(T0 + 60_000, 1, size=7)]
    assert rm.bandwidth_per_min(clicks) == {T0: (2, 150), T0 + 60_000: (1, 7)}
    assert rm.user_bandwidth_per_min(clicks) == {(1, T0): (1, 100), (2, T0): (1, 50), (1, T0 + 60_000): (1, 7)}


def test_sessions_split_on_gaps_longer_than_30_seconds():
    clicks = [click(T0, size=10), click(T0 + 30_000, size=20),  # exactly the gap: same session
              click(T0 + 60_001, size=40),  # 30.001 s later: a new session
              click(T0 + 5_000, userid=2, size=1)]
    sessions = rm.sessions(clicks)
    assert sessions == [rm.Session(1, T0, T0 + 30_000, 2, 30), rm.Session(1, T0 + 60_001, T0 + 60_001, 1, 40),
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
