"""Provider tier (fake ksqlDB): statements go to a server one at a time, a collision at ksqlDB's command topic
is retried after reading the catalog, and a dry run is never sent again beside an earlier copy of itself.

The answers staged here are those a real ksqlDB 8.2.1 gave when requests collided (recorded in
``tests/data/ksqldb-8.2.1/``; see docs/resources/ksqldb.md, "One statement at a time").
"""
from __future__ import annotations

import json
import threading

import pytest
import requests

from providers.http import Endpoint
from providers.ksqldb.client import AnswerLost, KsqlClient, KsqlError
from providers.ksqldb.directory import KsqlDirectoryProvider
from providers.ksqldb.landed import only_reads
from tests.engine.proxy import CountingProxy
from tests.fakes.ksqldb import FakeKsqlDb

pytestmark = pytest.mark.fake

CREATE = "CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);"
CATALOG = "SHOW STREAMS EXTENDED; SHOW TABLES EXTENDED; SHOW QUERIES; SHOW TOPICS;"
# HTTP 500 messages of requests that collided at the real server's command topic (nothing of them ran)
COLLISIONS = {
    "fenced": "There is a newer producer with the same transactionalId which fences the current one.",
    "fenced, wrapped": "Could not write the statement '{s}' into the command topic.\nCaused by: There is a newer "
                       "producer with the same transactionalId which fences\n\tthe current one.",
    "producer in error state": "Cannot execute transactional method because we are in an error state\nCaused by: "
                               "The producer attempted a transactional operation in an invalid state.",
    "same command id": "Could not write the statement '{s}' into the command topic.\nCaused by: Another command "
                       "with the same id (stream/`S`/create) is being\n\texecuted.",
    "command topic consumer": "Could not write the statement '{s}' into the command topic.\nCaused by: Timeout while "
                              "waiting for command topic consumer to process command topic",
}
SANDBOX_COLLISION = ("Unable to initialize state, this can happen if multiple instances of Kafka Streams are "
                     "running in the same state directory (current state directory is [/tmp/ksql/x])")


HOLD = 2.0  # seconds the first write waits at the server for a second one


def server_error(message: str, statement: str) -> dict:
    return {"@type": "statement_error", "error_code": 50000, "message": message.format(s=statement),
            "statementText": statement, "entities": []}


@pytest.fixture
def fake():
    with FakeKsqlDb(topics={"s": 1}) as server:
        yield server
        assert server.calls_to("POST", "/ksql/terminate") == []


def client_of(url: str) -> KsqlClient:
    return KsqlClient(Endpoint(url, ready_timeout=60))


def sent(fake) -> list[str]:
    return [call.body["ksql"] for call in fake.calls_to("POST", "/ksql")]


@pytest.mark.parametrize("collision", list(COLLISIONS))
def test_a_statement_that_collided_is_sent_again_after_the_catalog_shows_it_did_not_run(fake, collision):
    fake.fail_next("POST", "/ksql", 500, server_error(COLLISIONS[collision], CREATE))
    with client_of(fake.url) as client:
        client.execute(CREATE)
    assert "S" in fake.sources
    assert sent(fake) == [CREATE, CATALOG, CREATE]  # refused, the catalog read, then sent again


def test_a_statement_refused_by_a_collision_after_it_ran_counts_as_done_and_is_not_sent_again(fake):
    """The command-topic consumer timeout can come after the command was queued: it runs anyway."""
    with client_of(fake.url) as client:
        client.execute(CREATE)
        requests.post(f"{fake.url}/ksql", json={"ksql": "DROP STREAM S;"}, timeout=30)  # it ran meanwhile
        fake.reset_calls()
        fake.fail_next("POST", "/ksql", 500, server_error(COLLISIONS["command topic consumer"], "DROP STREAM S;"))
        assert client.execute("DROP STREAM S;") == []
    assert "S" not in fake.sources and sent(fake) == ["DROP STREAM S;", CATALOG]


def test_a_collided_request_whose_effect_the_catalog_cannot_show_is_not_sent_again(fake):
    both = CREATE + " " + CREATE.replace("STREAM S ", "STREAM T ")
    fake.fail_next("POST", "/ksql", 500, server_error(COLLISIONS["fenced"], both))
    with client_of(fake.url) as client, pytest.raises(KsqlError, match="cannot tell whether this request ran"):
        client.execute(both)
    assert sent(fake) == [both] and fake.mutations == []


def test_a_dry_run_that_met_another_in_the_sandbox_is_sent_again(fake):
    fake.fail_next("POST", "/ksql", 500, server_error(SANDBOX_COLLISION, CREATE))
    with client_of(fake.url) as client:
        client.dry_run([CREATE])
    assert len(sent(fake)) == 2 and fake.mutations == [] and "S" not in fake.sources


def test_a_dry_run_whose_answer_was_lost_is_not_sent_again(fake):
    fake.drop_answer_next("POST", "/ksql", when=lambda body: "PULUMI_DRY_RUN_" in body["ksql"])
    with client_of(fake.url) as client, pytest.raises(AnswerLost, match="was not sent again; nothing was changed"):
        client.dry_run([CREATE])
    assert len(sent(fake)) == 1 and fake.mutations == []


def test_writes_and_dry_runs_wait_for_their_answer_as_long_as_the_deadline_leaves(fake, monkeypatch):
    timeouts: dict[str, object] = {}
    send = requests.Session.request

    def recording(session, method, url, **kwargs):
        if kwargs.get("json"):
            sql = kwargs["json"]["ksql"]
            timeouts["dry run" if "PULUMI_DRY_RUN_" in sql else sql.split()[0]] = kwargs["timeout"]
        return send(session, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    with KsqlClient(Endpoint(fake.url, ready_timeout=120, timeout=10)) as client:
        client.execute("SHOW TOPICS;")
        client.execute(CREATE)
        client.dry_run([CREATE.replace("STREAM S ", "STREAM T ")])
    assert timeouts["SHOW"] == 10
    for request in ("CREATE", "dry run"):
        connect, read = timeouts[request]
        assert connect == 10 and 100 < read <= 120


def test_writes_from_many_threads_and_two_urls_reach_one_server_one_at_a_time(fake, monkeypatch):
    """The engine calls one provider process from several threads at once; ksqlDB fences statements that
    arrive together. Two URLs of one server (``GET /info`` names the same server) share its lock. The
    first write is held at the server until a second one arrives (at most ``HOLD`` seconds): without the
    lock, the other threads' writes arrive meanwhile."""
    in_flight, most, held = [0], [0], [False]
    guard = threading.Lock()
    another = threading.Event()
    dispatch = fake._dispatch

    def counting(method, path, headers, raw):
        writes = method == "POST" and path == "/ksql" and not only_reads(json.loads(raw)["ksql"])
        if writes:
            with guard:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
                hold, held[0] = not held[0], True
                if in_flight[0] > 1:
                    another.set()
            if hold:
                another.wait(timeout=HOLD)
        try:
            return dispatch(method, path, headers, raw)
        finally:
            if writes:
                with guard:
                    in_flight[0] -= 1

    monkeypatch.setattr(fake, "_dispatch", counting)
    names = [f"S{i}" for i in range(8)]
    start = threading.Barrier(len(names))
    failures: list[BaseException] = []
    with CountingProxy(fake.url) as first, CountingProxy(fake.url) as second:
        def create(i: int, name: str) -> None:
            try:
                with client_of((first, second)[i % 2].url) as client:
                    client.wait_ready()
                    start.wait(timeout=60)
                    client.execute(CREATE.replace("STREAM S ", f"STREAM {name} "))
                    client.dry_run([f"CREATE STREAM {name}_COPY AS SELECT * FROM {name} EMIT CHANGES;"])
            except BaseException as exc:  # reported by the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=create, args=(i, name)) for i, name in enumerate(names)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == [] and set(names) <= set(fake.sources)
    assert most[0] == 1, f"{most[0]} writing requests reached ksqlDB at once"
    assert fake.fenced == [] and fake.server_errors == []


def test_the_directory_check_fails_naming_a_lost_dry_run_answer_and_sends_it_once(fake):
    news = {"ksqldb_url": fake.url, "statements": [{"file": "01.sql", "index": 1, "statement": CREATE}]}
    fake.drop_answer_next("POST", "/ksql", when=lambda body: "PULUMI_DRY_RUN_" in body["ksql"])
    (failure,) = KsqlDirectoryProvider().check({}, news).failures
    assert failure.property == "statements" and "was not sent again; nothing was changed" in failure.reason
    assert len([sql for sql in sent(fake) if "PULUMI_DRY_RUN_" in sql]) == 1 and fake.mutations == []


def test_a_drop_that_collided_and_left_its_topic_deleted_is_sent_again_in_the_same_step(fake):
    """Finding 5: ``DROP ... DELETE TOPIC`` answered 500 (the command topic's consumer timed out) after the
    sandbox had deleted the topic; the provider's DROP (``IF EXISTS``: a second run changes nothing more)
    is sent again in the same delete, not left for the next ``up``."""
    with client_of(fake.url) as client:
        client.execute(CREATE)
        client.execute("CREATE TABLE T AS SELECT A, COUNT(*) AS N FROM S GROUP BY A EMIT CHANGES;")
        fake.delete_topic("T")
        drop = "DROP TABLE IF EXISTS T DELETE TOPIC;"
        fake.fail_next("POST", "/ksql", 500, server_error(COLLISIONS["command topic consumer"], drop))
        client.execute(drop)
    assert "T" not in fake.sources and sent(fake)[-2:] == [drop, drop]


def test_each_drop_of_the_directorys_repair_has_the_whole_deadline_for_itself():
    """On a real ksqlDB 8.2.1, after a state loss, the new stack's repair dropped 7 objects whose input topic
    was gone, one after the other, each answered 500 'Timeout while waiting for command topic consumer' for
    5 s to 2.75 min before it ran: one ``ready_timeout`` for all of them ran out at 310 s and the `up` failed.
    Here each write is held ``WINDOW`` s and each DROP collides once: 4 drops take at least
    8 x ``WINDOW`` s, longer than one deadline, and each one alone well within it."""
    window, deadline = 1.0, 6.0
    statements = ["CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);",
                  "CREATE STREAM D AS SELECT A FROM S EMIT CHANGES;",
                  *(f"CREATE STREAM R{i} AS SELECT A FROM D EMIT CHANGES;" for i in range(3))]
    with FakeKsqlDb(topics={"s": 1}) as fake:
        with client_of(fake.url) as client:
            for statement in statements:
                client.execute(statement)
        fake.delete_topic("D")
        fake.producer.window_s = window
        for name in ("R0", "R1", "R2", "D"):
            drop = f"DROP STREAM IF EXISTS {name} DELETE TOPIC;"
            fake.fail_next_statement(drop, COLLISIONS["command topic consumer"].format(s=drop))
        props = {"ksqldb_url": fake.url, "ready_timeout": deadline,
                 "statements": [{"file": "01.sql", "index": i, "statement": s} for i, s in enumerate(statements)]}
        KsqlDirectoryProvider().create(props)
        dropped = [s.split()[4 if " IF EXISTS " in s else 2] for s in fake.mutations if s.startswith("DROP")]
        assert sorted(dropped[:3]) == ["R0", "R1", "R2"] and dropped[3:] == ["D"]
        assert {"D", "R0", "R1", "R2"}.isdisjoint(fake.sources) and fake.fenced == []
