"""The ksqlDB FAKE held to a REAL ksqlDB 8.2.1: the recorded requests of ``tests/data/ksqldb-8.2.1/`` are
replayed in order against a fresh fake set up like the recorded server, and every answer must match the
real one in what the provider reads: HTTP status, ``@type``, ``error_code``, messages, ``statementText``,
stored statements, column names, types and KEY role, topics, partitions, replicas, and query ids (without
the server's counter) and states. What is left out, and why, is in ``ALLOWED``; nothing else may differ.
"""
from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
import requests

from tests.fakes.ksqldb import FakeKsqlDb

pytestmark = pytest.mark.fake

RECORDED = pathlib.Path(__file__).parents[1] / "data" / "ksqldb-8.2.1"
SERVICE_ID = "clickstream_ksql_"
SOURCE_TOPICS = {"clickstream": 1, "clickstream_codes": 1, "clickstream_users": 1}  # fed by the datagen connectors

# The one allow-list: (path pattern of a difference, reason it does not matter). Keep it short.
ALLOWED: list[tuple[str, str]] = []

_QUERY_ID = re.compile(r"(?<![A-Za-z0-9])((?:CSAS|CTAS)_[A-Z0-9_]+?|INSERTQUERY)_\d+\b")


def _norm(value: Any) -> Any:
    """Query ids without the server's command counter (``CTAS_EVENTS_PER_MIN_11`` -> ``CTAS_EVENTS_PER_MIN_#``)."""
    return _QUERY_ID.sub(r"\1_#", value) if isinstance(value, str) else value


def _schema(schema: dict) -> str:
    kind = schema["type"]
    if kind == "STRUCT":
        return "STRUCT<" + ", ".join(f"{f['name']} {_schema(f['schema'])}" for f in schema["fields"]) + ">"
    if kind in ("ARRAY", "MAP"):
        return f"{kind}<{_schema(schema['memberSchema'])}>"
    return kind


def _fields(fields: list[dict]) -> list[str]:
    return [f"{f['name']} {_schema(f['schema'])}{' KEY' if f.get('type') == 'KEY' else ''}" for f in fields]


def _query(q: dict) -> dict:
    return {"queryString": _norm(q["queryString"]), "sinks": q["sinks"], "sinkKafkaTopics": q["sinkKafkaTopics"],
            "state": q["state"], "statusCount": q["statusCount"], "queryType": q["queryType"]}


def _source(d: dict) -> dict:
    return {"type": d["type"], "windowType": d["windowType"], "topic": d["topic"], "keyFormat": d["keyFormat"],
            "valueFormat": d["valueFormat"], "partitions": d["partitions"], "replication": d["replication"],
            "statement": d["statement"], "fields": _fields(d["fields"]), "extended": d["extended"],
            "readQueries": {_norm(q["id"]): _query(q) for q in d["readQueries"]},
            "writeQueries": {_norm(q["id"]): _query(q) for q in d["writeQueries"]},
            "sourceConstraints": sorted(d["sourceConstraints"])}


def _entity(e: dict) -> dict:
    kind = e["@type"]
    view: dict[str, Any] = {"@type": kind, "statementText": _norm(e.get("statementText")),
                            "warnings": [w["message"] for w in e.get("warnings", [])]}
    if kind == "currentStatus":
        view.update(status=e["commandStatus"]["status"], message=_norm(e["commandStatus"]["message"]),
                    queryId=_norm(e["commandStatus"]["queryId"]))
    elif kind == "warning_entity":
        view["message"] = e["message"]
    elif kind in ("streams", "tables"):
        view[kind] = {s["name"]: s for s in e[kind]}
    elif kind == "source_descriptions":
        view["sources"] = {d["name"]: _source(d) for d in e["sourceDescriptions"]}
    elif kind == "sourceDescription":
        view["source"] = {e["sourceDescription"]["name"]: _source(e["sourceDescription"])}
    elif kind == "queries":
        view["queries"] = {_norm(q["id"]): _query(q) for q in e["queries"]}
    elif kind == "query_descriptions":
        view["queries"] = {_norm(q["id"]): {
            "statementText": _norm(q["statementText"]), "windowType": q["windowType"], "fields": _fields(q["fields"]),
            "sources": sorted(q["sources"]), "sinks": q["sinks"], "queryType": q["queryType"], "state": q["state"],
            "hostStates": sorted(q["ksqlHostQueryStatus"].values())} for q in e["queryDescriptions"]}
    elif kind in ("kafka_topics", "kafka_topics_extended"):
        view["topics"] = e["topics"]
    else:
        view["body"] = e
    return view


def answer_view(status: int, body: Any) -> dict:
    """What the comparison looks at in one answer."""
    if isinstance(body, list):
        return {"status": status, "entities": [_entity(e) for e in body]}
    return {"status": status, "@type": body.get("@type"), "error_code": body.get("error_code"),
            "message": _norm(body.get("message")), "statementText": _norm(body.get("statementText"))}


def differences(real: Any, fake: Any, path: str = "") -> list[str]:
    if isinstance(real, dict) and isinstance(fake, dict):
        return [d for key in sorted(set(real) | set(fake), key=str)
                for d in differences(real.get(key, "<missing>"), fake.get(key, "<missing>"), f"{path}/{key}")]
    if isinstance(real, list) and isinstance(fake, list) and len(real) == len(fake) and any(
            isinstance(x, dict) for x in real):
        return [d for i, (r, f) in enumerate(zip(real, fake)) for d in differences(r, f, f"{path}[{i}]")]
    return [] if real == fake else [f"{path}: real {real!r}, fake {fake!r}"]


def allowed(difference: str) -> bool:
    return any(re.search(pattern, difference) for pattern, _ in ALLOWED)


def with_fake_ids(request: dict, fake: FakeKsqlDb) -> dict:
    """The request with the real server's query ids replaced by the fake's ids of the same query."""
    ids = {_norm(query_id): query_id for query_id in fake.queries}
    return dict(request, ksql=_QUERY_ID.sub(lambda m: ids.get(_norm(m.group(0)), m.group(0)), request["ksql"]))


def replay(fake: FakeKsqlDb, exchanges: list[dict]) -> list[str]:
    found = []
    with requests.Session() as session:
        for exchange in exchanges:
            answer = session.post(f"{fake.url}/ksql", json=with_fake_ids(exchange["request"], fake), timeout=10)
            real_view = answer_view(exchange["status"], exchange["body"])
            fake_view = answer_view(answer.status_code, answer.json())
            found += [f"#{exchange['seq']} {exchange['label']}: {d}" for d in differences(real_view, fake_view)]
    return found


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def test_fake_answers_the_recorded_exchanges_as_the_real_server():
    with FakeKsqlDb(topics=SOURCE_TOPICS, service_id=SERVICE_ID) as fake:
        found = [d for d in replay(fake, recorded("exchanges.json")) if not allowed(d)]
        assert not fake.fenced, "requests sent one after the other never collide"
    assert not found, f"{len(found)} differences from the real ksqlDB 8.2.1:\n" + "\n".join(found)


SECOND_SET = RECORDED / "2026-12-07" / "exchanges.json"
_INTERNAL_TOPIC = re.compile(r"_confluent-ksql-.*|.*ksql_processing_log")


def catalog(fake: FakeKsqlDb) -> dict[str, set[str]]:
    """What ``catalog_change`` is computed from: streams and tables, query ids without the counter, and
    the Kafka topics but ksqlDB's internal ones."""
    return {"sources": set(fake.user_sources), "queries": {_norm(q) for q in fake.queries},
            "topics": {t for t in fake.topics if not _INTERNAL_TOPIC.fullmatch(t)}}


def catalog_change(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, list[str]]:
    change = {}
    for kind in before:
        for what, names in (("added", after[kind] - before[kind]), ("removed", before[kind] - after[kind])):
            if names:
                change[f"{kind}_{what}"] = sorted(names)
    return change


def replay_second_set(exchanges: list[dict]) -> list[str]:
    """Each recorded run on its own fresh fake; out-of-band topic deletions done where they were."""
    found: list[str] = []
    for run in dict.fromkeys(e["run"] for e in exchanges):
        in_run = [e for e in exchanges if e["run"] == run]
        with FakeKsqlDb(service_id=in_run[0]["service_id"]) as fake, requests.Session() as session:
            for exchange in in_run:
                for topic in (exchange.get("oob_action") or {}).get("result", {}):
                    fake.delete_topic(topic)
                before = catalog(fake)
                answer = session.post(f"{fake.url}/ksql", json=with_fake_ids(exchange["request"], fake), timeout=30)
                real = {"answer": answer_view(exchange["status"], exchange["body"]),
                        "catalog_change": {k: sorted(_norm(n) for n in v)
                                           for k, v in exchange["catalog_change"].items()}}
                fake_view = {"answer": answer_view(answer.status_code, answer.json()),
                             "catalog_change": catalog_change(before, catalog(fake))}
                found += [f"#{exchange['seq']} {exchange['label']}: {d}" for d in differences(real, fake_view)]
            found += [f"{run}: fenced although sent alone: {statement}" for statement in fake.fenced]
    return found


def test_fake_answers_the_semantic_refusals_as_the_real_server():
    """Group A of the second set: 65 statements the real server refuses or accepts on analysis, each alone
    and inside the dry-run pattern, with what each left in the catalog."""
    exchanges = [e for e in json.loads(SECOND_SET.read_text()) if e["seq"] < 223]
    found = replay_second_set(exchanges)
    assert not found, f"{len(found)} differences from the real ksqlDB 8.2.1:\n" + "\n".join(found)


def test_fake_answers_the_missing_topic_exchanges_as_the_real_server():
    """Group C of the second set: topics deleted out of band under a derived table and source streams."""
    exchanges = [e for e in json.loads(SECOND_SET.read_text()) if e["seq"] >= 223]
    found = replay_second_set(exchanges)
    assert not found, f"{len(found)} differences from the real ksqlDB 8.2.1:\n" + "\n".join(found)


def test_the_comparison_sees_a_difference():
    """The replay is not blind: a fake answer that differs in one column's KEY role is reported."""
    exchange = next(e for e in recorded("exchanges.json") if e["label"] == "DESCRIBE USER_CLICKSTREAM EXTENDED")
    changed = json.loads(json.dumps(exchange["body"]))
    del changed[0]["sourceDescription"]["fields"][0]["type"]
    found = differences(answer_view(200, exchange["body"]), answer_view(200, changed))
    assert found == ["/entities[0]/source/USER_CLICKSTREAM/fields: real ['USERID INTEGER KEY', 'USERNAME STRING', "
                     "'IP STRING', 'CITY STRING', 'REQUEST STRING', 'STATUS INTEGER', 'BYTES BIGINT'], fake "
                     "['USERID INTEGER', 'USERNAME STRING', 'IP STRING', 'CITY STRING', 'REQUEST STRING', "
                     "'STATUS INTEGER', 'BYTES BIGINT']"]


def post(fake: FakeKsqlDb, ksql: str) -> requests.Response:
    return requests.post(f"{fake.url}/ksql", json=with_fake_ids({"ksql": ksql}, fake), timeout=10)


def snapshot(fake: FakeKsqlDb) -> tuple:
    """Everything a refused request must leave as it was: topics, sources with columns, query states."""
    return (dict(fake.topics), {n: s.columns for n, s in fake.sources.items()},
            {q: query.state for q, query in fake.queries.items()})


@pytest.mark.parametrize("case", recorded("side_effects.json")["cases"], ids=lambda c: c["request"][:40])
def test_a_refused_request_deletes_the_topic_of_its_drop_delete_topic_as_the_real_server(case):
    """``SandboxedKafkaTopicClient.deleteTopics`` passes through to Kafka: validating ``DROP ... DELETE TOPIC``
    deletes the topic although a later statement refuses the request; the stream stays defined."""
    effects = recorded("side_effects.json")
    name = re.search(r"DROP STREAM IF EXISTS (\w+) DELETE TOPIC", case["request"]).group(1)
    with FakeKsqlDb(service_id=SERVICE_ID) as fake:
        for statement in effects["setup"]:
            assert post(fake, statement).status_code == 200, statement
        topic = fake.sources[name].topic
        assert (topic in fake.topics) is case[f"topic {name} before"]
        answer = post(fake, case["request"])
        assert (answer.status_code, answer.json()["error_code"]) == (case["status"], case["error_code"])
        assert (topic in fake.topics) is case["after"]
        assert (name in fake.sources) is case[f"stream {name} still defined"]
        assert next(q for q in fake.queries.values() if q.sink == name).state == "RUNNING"


def test_refused_requests_without_delete_topic_change_nothing_as_on_the_real_server():
    effects = recorded("side_effects.json")["without DELETE TOPIC"]
    with FakeKsqlDb(service_id=SERVICE_ID) as fake:
        setup = ["CREATE STREAM SBX_SRC (A INT) WITH (KAFKA_TOPIC='sbx_src', VALUE_FORMAT='JSON', PARTITIONS=1);",
                 *(f"CREATE STREAM SBX_{x} AS SELECT * FROM SBX_SRC EMIT CHANGES;" for x in "ABCDE")]
        for statement in setup:
            assert post(fake, statement).status_code == 200, statement
        for case in effects["cases"]:
            before = snapshot(fake)
            answer = post(fake, case["request"])
            body = answer.json()
            assert (answer.status_code, body["error_code"], body["message"]) == (
                case["status"], case["error_code"], case["message"]), case["case"]
            assert snapshot(fake) == before, case["case"]
        assert [name for name, _, _ in fake.sources["SBX_SRC"].columns] == effects["source columns after all of them"]
