"""The ksqlDB fake held to a REAL ksqlDB 8.2.1 under concurrent requests (group B of
``tests/data/ksqldb-8.2.1/2026-12-07/concurrency.json``): each recorded burst is sent again to a fresh fake,
every request from its own thread and connection, released together by a barrier.

What must hold, as on the real server: a burst of writes released at once has a 500 whenever the real one
had one in every repetition (and none when it never had), every answer is one the real server gave that
request (the whole body: status, ``@type``, ``error_code``, message and ``statementText``), a refused
request ran nothing (neither its object nor its topic exists after the burst), and each refused request
sent again alone gets the real answer of a request that ran alone. The fake's windows are widened
(``WINDOWS``) so that requests released together overlap even on a loaded machine.
"""
from __future__ import annotations

import json
import pathlib
import threading
from typing import Any

import pytest
import requests

from providers.ksqldb.parser import split_statements
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.test_ksqldb_recorded import answer_view, differences

pytestmark = pytest.mark.fake

RECORDED = json.loads((pathlib.Path(__file__).parents[1] / "data" / "ksqldb-8.2.1" / "2026-12-07" /
                       "concurrency.json").read_text())
SERVICE_ID = RECORDED["server"]["service_id"]
# The recording replaced the server's state directory by this placeholder; the fake names it the same way.
STATE_DIR = f"<ksql.streams.state.dir>/{SERVICE_ID}"
WINDOWS = {"producer_window_s": 0.25, "topic_creation_s": 0.5, "validation_s": 0.15}
RETRIES = 12  # bound of in-thread retries (the real server's took at most 4)


def _post(fake: FakeKsqlDb, ksql: str) -> tuple[int, Any]:
    answer = requests.post(f"{fake.url}/ksql", json={"ksql": ksql, "streamsProperties": {}}, timeout=60)
    return answer.status_code, answer.json()


def _rep(burst: dict) -> dict:
    """The first repetition in which every request got a non-5xx answer at some point (in the burst, a
    retry, or sent again alone), so that each request has a recorded answer of a run that went through."""
    return next(rep for rep in burst["reps"] if all(any(s < 500 for s, _ in _recorded(rep, r["i"]))
                                                     for r in rep["results"]))


def _recorded(rep: dict, i: int) -> list[tuple[int, Any]]:
    result = next(r for r in rep["results"] if r["i"] == i)
    found = [(result["status"], result["body"])] + [(r["status"], r["body"]) for r in result.get("retries") or []]
    return found + [(r["status"], r["body"]) for r in rep["resent_alone_after_burst"] if r["i"] == i]


def _real_answers(rep: dict, i: int) -> list[tuple[int, Any]]:
    """The real answers request ``i`` may get: its own recorded ones, and every 5xx another request of the
    burst got, naming request ``i`` instead (which of the requests sent at once is refused is chance)."""
    ksql = {r["i"]: r["request"]["ksql"] for r in rep["results"]}
    found = list(_recorded(rep, i))
    for j in ksql:
        for status, body in _recorded(rep, j):
            if status >= 500 and j != i:
                text = body["statementText"]
                text = ksql[i] if text == ksql[j] else text.replace(
                    "\n".join(split_statements(ksql[j])), "\n".join(split_statements(ksql[i])))
                found.append((status, dict(body, statementText=text)))
    return found


def _matches_a_real_answer(status: int, body: Any, real: list[tuple[int, Any]]) -> list[str]:
    """[] when the fake's answer equals one of the real answers, else its differences from the closest."""
    fake_view = answer_view(status, body)
    return min((differences(answer_view(s, b), fake_view) for s, b in real), key=len)


def _burst(fake: FakeKsqlDb, requests_ksql: list[str], retry: bool) -> list[list[tuple[int, Any]]]:
    """Send every request from its own thread at once; each thread's answers in order (with ``retry``, a
    5xx is sent again in its thread at once, as the recording's retrying bursts did)."""
    barrier = threading.Barrier(len(requests_ksql))
    answers: list[list[tuple[int, Any]]] = [[] for _ in requests_ksql]

    def send(i: int) -> None:
        barrier.wait(timeout=60)
        for _ in range(RETRIES if retry else 1):
            answers[i].append(_post(fake, requests_ksql[i]))
            if answers[i][-1][0] < 500:
                return

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests_ksql))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(a for a in answers), "a thread got no answer"
    return answers


def _names(fake: FakeKsqlDb) -> set[str]:
    return set(fake.user_sources)


@pytest.mark.parametrize("burst", RECORDED["bursts"], ids=lambda b: b["burst"])
def test_a_burst_of_requests_at_once_gets_the_real_servers_answers(burst):
    summary = next(s for s in RECORDED["summary"] if s["burst"] == burst["burst"])
    rep = _rep(burst)
    results = sorted(rep["results"], key=lambda r: r["i"])
    with FakeKsqlDb(service_id=SERVICE_ID, state_dir=STATE_DIR, **WINDOWS) as fake:
        assert _post(fake, RECORDED["setup"]["ksql"])[0] == 200
        for pre in rep["pre"]:
            assert _post(fake, pre["ksql"])[0] == pre["status"], pre["ksql"]
        answers = _burst(fake, [r["request"]["ksql"] for r in results], burst["retry_in_thread_on_fence"])

        found = [f"request {r['i']}, answer {n}: {d}" for r, thread in zip(results, answers)
                 for n, (status, body) in enumerate(thread)
                 for d in _matches_a_real_answer(status, body, _real_answers(rep, r["i"]))]
        assert not found, "\n".join(found)
        refused = [r for r, thread in zip(results, answers) if thread[0][0] >= 500]
        if summary["bursts_with_any_5xx"] == summary["reps"]:
            assert refused, "the real server refused a request of this burst every time"
        if summary["bursts_with_any_5xx"] == 0:
            assert not refused, "the real server never refused a request of this burst"
        assert len(fake.server_errors) == sum(status >= 500 for thread in answers for status, _ in thread)
        if burst["retry_in_thread_on_fence"]:
            assert all(thread[-1][0] < 500 for thread in answers), "a retried request never went through"
            return

        for r, thread in zip(results, answers):  # what ran is there, nothing of a refused request is
            created = r["kind"].startswith("CREATE") and thread[0][0] == 200
            if r["target"]:
                assert (r["target"] in fake.sources) is created, r["target"]
            if r["kind"].startswith("CREATE") and thread[0][0] >= 500:
                topic = r["request"]["ksql"].partition("KAFKA_TOPIC='")[2].partition("'")[0] or r["target"]
                assert topic not in fake.topics, topic
        for r in refused:  # sent again alone, each refused request goes through
            status, body = _post(fake, r["request"]["ksql"])
            assert status < 500, body
            assert not _matches_a_real_answer(status, body, _recorded(rep, r["i"]))
        assert not fake.server_errors[len(refused):]
