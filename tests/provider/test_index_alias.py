"""IndexAlias: the alias readers use, put at once on a first deploy and moved to a new build's index only once
it has caught up, on a FAKE and a REAL Elasticsearch 8.19.20 (``es_backend``), with the offsets read from the
REAL Kafka broker (also through its SASL_PLAINTEXT listener, with a PLAIN login) and the ksqlDB service id from
the fake ksqlDB's ``GET /info``."""
from __future__ import annotations

import re
import uuid

import pytest
import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from providers.elasticsearch.index_alias import CONTRACT, IndexAliasProvider, swap
from providers.elasticsearch.versioned_index import VersionedIndexProvider
from providers.http import ServiceTimeout
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.elasticsearch_backend import es_backend  # noqa: F401  (the fixture)
from tests.provider.pulumi_engine import CheckFailed, check, destroy, refresh, up
from tests.provider.test_versioned_index import behind, names, point_alias, props, writes  # noqa: F401


@pytest.fixture
def provider():
    return IndexAliasProvider()


@pytest.fixture(scope="module")
def ksqldb():
    with FakeKsqlDb() as server:
        yield server


@pytest.fixture
def topics(kafka_connect):
    """A source topic and a table topic only this test uses (empty), deleted afterwards."""
    admin = AdminClient({"bootstrap.servers": kafka_connect.bootstrap_servers})
    made = [f"ALIAS_{kind}_{uuid.uuid4().hex[:8].upper()}" for kind in ("SOURCE", "TABLE")]
    for future in admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1) for t in made]).values():
        future.result(timeout=60)
    yield made
    for future in admin.delete_topics(made).values():
        future.result(timeout=60)


@pytest.fixture
def sasl_listener(kafka_connect):
    """The broker's SASL_PLAINTEXT listener (PLAIN) and the one login it admits (the JVM backend has one)."""
    if not hasattr(kafka_connect, "sasl_bootstrap_servers"):
        pytest.skip(f"the {kafka_connect.kind} Kafka backend has no SASL listener (tests/harness/jvm.py has one)")
    user, password = kafka_connect.sasl_login
    return kafka_connect.sasl_bootstrap_servers, user, password


def sasl_props(sasl_listener, password: str | None = None, **overrides) -> dict:
    """The Kafka inputs of a swap over the SASL listener (``password``: another than the right one)."""
    bootstrap, user, right = sasl_listener
    return {"kafka_bootstrap": bootstrap, "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": "PLAIN", "kafka_username": user, "kafka_password": password or right,
            **overrides}


def alias_props(backend, kafka_connect, ksqldb, topics, alias: str, index: str, **overrides) -> dict:
    source, table = topics
    return {**props(backend, alias, index), "kafka_bootstrap": kafka_connect.bootstrap_servers, "topic": table,
            "source_topics": [source], "query_id": f"CTAS_{table}_1", "sink": f"sink-{table.lower()}",
            "sink_group": f"connect-sink-{table.lower()}-q1", "ksqldb_url": ksqldb.url, "catch_up_timeout": 60,
            **overrides}


@pytest.fixture
def indexes(es_backend, names):
    """Both versions of the index made, as their ``VersionedIndex`` resources would."""
    alias, first, second = names
    for index in (first, second):
        up(VersionedIndexProvider(), props(es_backend, alias, index))
    return alias, first, second


def test_first_deploy_puts_the_alias_at_once_and_a_second_apply_makes_no_call(
        es_backend, indexes, provider, http_calls, kafka_connect, ksqldb, topics):
    alias, first, _ = indexes
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first)
    http_calls.clear()
    deployed = up(provider, inputs)
    assert writes(http_calls) == [("POST", "_aliases")]
    assert deployed.id == alias and deployed.outs["index"] == first
    assert behind(es_backend, alias) == {first: [alias]}
    http_calls.clear()
    assert up(provider, inputs, deployed) is deployed and http_calls == []
    refreshed = refresh(provider, deployed)
    assert provider.diff(refreshed.id, refreshed.outs, inputs).changes is False


def test_a_caught_up_build_takes_the_alias_in_one_request_and_the_old_index_goes_after(
        es_backend, indexes, provider, http_calls, kafka_connect, ksqldb, topics):
    alias, first, second = indexes
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    http_calls.clear()
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, second, query_id="CTAS_X_2")
    assert provider.diff(deployed.id, deployed.outs, inputs).replaces == []
    updated = up(provider, inputs, deployed)
    assert writes(http_calls) == [("POST", "_aliases"), ("DELETE", first)]
    assert updated.outs["index"] == second
    assert behind(es_backend, alias) == {second: [alias]} and behind(es_backend, first) is None


def test_a_refilled_build_takes_the_alias_back_from_its_held_copy_which_then_goes(
        es_backend, indexes, provider, http_calls, kafka_connect, ksqldb, topics):
    """The table rebuilt under the same build (VersionedIndex refilled its index, readers on ``<index>-held``)."""
    alias, first, _ = indexes
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    held = es_backend.index(first.removeprefix(es_backend.prefix) + "-held")
    up(VersionedIndexProvider(), props(es_backend, alias, first, build="CTAS_X_2"),
       up(VersionedIndexProvider(), props(es_backend, alias, first, build="CTAS_X_1")))
    assert behind(es_backend, alias) == {held: [alias]}
    http_calls.clear()
    up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first, query_id="CTAS_X_2"), deployed)
    assert writes(http_calls) == [("POST", "_aliases"), ("DELETE", held)]
    assert behind(es_backend, alias) == {first: [alias]} and behind(es_backend, held) is None


def test_a_concrete_index_of_the_alias_name_is_replaced_by_the_alias_in_one_request(
        es_backend, names, provider, http_calls, kafka_connect, ksqldb, topics):
    """A stack deployed before versions: its index is named like the alias."""
    alias, first, _ = names
    assert es_backend.call("PUT", f"/{alias}").status_code == 200
    up(VersionedIndexProvider(), props(es_backend, alias, first))
    http_calls.clear()
    up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    assert writes(http_calls) == [("POST", "_aliases")]
    assert behind(es_backend, alias) == {first: [alias]}


def test_a_build_that_does_not_catch_up_in_time_leaves_readers_on_the_old_index(
        es_backend, indexes, provider, kafka_connect, ksqldb, topics):
    alias, first, second = indexes
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    producer = Producer({"bootstrap.servers": kafka_connect.bootstrap_servers})
    for n in range(3):
        producer.produce(topics[1], key=str(n).encode(), value=b"{}", partition=0)
    assert producer.flush(60) == 0
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, second, catch_up_timeout=2)
    with pytest.raises(ServiceTimeout) as failure:
        up(provider, inputs, deployed)
    message = str(failure.value)
    assert f"the new index {second!r} has not caught up within 2 s" in message
    assert f"sink connector sink-{topics[1].lower()} to catch up" in message and "0 of 3 records" in message
    assert f"still points at {first}, which keeps serving; run `pulumi up` again" in message
    assert behind(es_backend, alias) == {first: [alias]} and behind(es_backend, second) == {second: []}


def test_a_kafka_that_does_not_answer_leaves_readers_on_the_old_index_and_says_where_it_looked(
        es_backend, indexes, provider, kafka_connect, ksqldb, topics):
    """The swap reads offsets in Kafka at ``kafka_bootstrap``, which answers from where ``up`` runs only while
    the stack's port-forwards run (Kubernetes): the error says where it looked and how to start them."""
    alias, first, second = indexes
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, second, kafka_bootstrap="127.0.0.1:9",
                         catch_up_timeout=2)
    answer = r"Kafka at 127\.0\.0\.1:9 did not answer the offsets the swap of"
    with pytest.raises(ServiceTimeout, match=answer) as failure:
        up(provider, inputs, deployed)
    assert f"still points at {first}, which keeps serving" in str(failure.value)
    assert "start them: `pulumi stack output portForwardCommands` prints them" in str(failure.value)
    assert behind(es_backend, alias) == {first: [alias]}


def test_a_swap_reads_the_offsets_through_a_sasl_login(es_backend, indexes, provider, http_calls, kafka_connect,
                                                      ksqldb, topics, sasl_listener):
    """The sink's group has committed 3 records of the table's 3, read on the SASL listener with the login."""
    alias, first, second = indexes
    table = topics[1]
    group = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first)["sink_group"]
    producer = Producer({"bootstrap.servers": kafka_connect.bootstrap_servers})
    for n in range(3):
        producer.produce(table, key=str(n).encode(), value=b"{}", partition=0)
    assert producer.flush(60) == 0
    committer = Consumer({"bootstrap.servers": kafka_connect.bootstrap_servers, "group.id": group})
    try:
        committer.commit(offsets=[TopicPartition(table, 0, 3)], asynchronous=False)
    finally:
        committer.close()
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first,
                                        **sasl_props(sasl_listener)))
    http_calls.clear()
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, second, **sasl_props(sasl_listener))
    updated = up(provider, inputs, deployed)
    assert writes(http_calls) == [("POST", "_aliases"), ("DELETE", first)]
    assert updated.outs["index"] == second and behind(es_backend, alias) == {second: [alias]}


def test_a_wrong_kafka_password_is_a_refused_login_naming_the_address_not_the_password(
        es_backend, indexes, provider, kafka_connect, ksqldb, topics, sasl_listener):
    alias, first, second = indexes
    bootstrap, user, right = sasl_listener
    wrong = f"wrong-{uuid.uuid4().hex}"
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, second, catch_up_timeout=5,
                         **sasl_props(sasl_listener, password=wrong))
    with pytest.raises(ServiceTimeout) as failure:  # not re-raised as redacted: no secret was in its text
        up(provider, inputs, deployed)
    message = str(failure.value)
    assert f"Kafka at {bootstrap} refused the PLAIN login of {user!r}" in message
    assert "Authentication failed" in message and "check kafka_username and kafka_password" in message
    assert wrong not in message and right not in message
    assert f"still points at {first}, which keeps serving" in message
    assert behind(es_backend, alias) == {first: [alias]}


def test_no_login_against_a_sasl_listener_says_where_and_over_which_protocol(
        es_backend, indexes, provider, kafka_connect, ksqldb, topics, sasl_listener):
    alias, first, second = indexes
    bootstrap = sasl_listener[0]
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, second, kafka_bootstrap=bootstrap,
                         catch_up_timeout=5)
    with pytest.raises(ServiceTimeout) as failure:
        up(provider, inputs, deployed)
    message = str(failure.value)
    assert f"Kafka at {bootstrap} did not answer the offsets the swap of {alias!r} needs, over PLAINTEXT" in message
    assert "over the security protocol its listener wants" in message
    assert f"still points at {first}, which keeps serving" in message
    assert behind(es_backend, alias) == {first: [alias]}


def test_alias_moved_by_hand_is_drift_and_up_moves_it_back(es_backend, indexes, provider, kafka_connect, ksqldb,
                                                          topics):
    alias, first, second = indexes
    inputs = alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first)
    deployed = up(provider, inputs)
    other = es_backend.index("other")
    assert es_backend.call("PUT", f"/{other}").status_code == 200
    point_alias(es_backend, alias, other)
    drifted = refresh(provider, deployed)
    assert drifted.outs["index"] == ",".join(sorted([first, other]))
    assert provider.diff(drifted.id, drifted.outs, inputs).changes is True
    up(provider, inputs, drifted)
    assert behind(es_backend, alias) == {first: [alias]}
    assert behind(es_backend, other) == {other: []}  # not ours: it only loses the alias


def test_delete_takes_the_alias_off_and_leaves_the_indexes_to_their_resources(
        es_backend, indexes, provider, kafka_connect, ksqldb, topics):
    alias, first, _ = indexes
    deployed = up(provider, alias_props(es_backend, kafka_connect, ksqldb, topics, alias, first))
    destroy(provider, deployed)
    assert behind(es_backend, alias) is None and behind(es_backend, first) == {first: []}
    destroy(provider, deployed)


def test_check_refuses_bad_inputs_without_network(provider, http_calls):
    base = {"elasticsearch_url": "http://es:9200", "alias": "events", "index": "events_v1", "kafka_bootstrap": "k:9092",
            "topic": "EVENTS", "query_id": "CTAS_EVENTS_1", "sink": "s", "sink_group": "connect-s",
            "ksqldb_url": "http://ksqldb:8088"}
    http_calls.clear()
    for overrides, expected in [({"index": "other_v1"}, "index 'other_v1' must be named events_v<version>"),
                                ({"ksqldb_url": "ksqldb:8088"}, "ksqldb_url must be the http(s) base URL of ksqlDB"),
                                ({"catch_up_timeout": 0}, "catch_up_timeout must be a positive number"),
                                ({"kafka_security_protocol": "SASL"}, "kafka_security_protocol must be one of "
                                 "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, not 'SASL'"),
                                ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "GSSAPI"},
                                 "kafka_sasl_mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
                                ({"kafka_security_protocol": "SASL_SSL", "kafka_password": "s3cret"},
                                 "kafka_username is required with kafka_security_protocol SASL_SSL"),
                                ({"kafka_security_protocol": "SASL_SSL", "kafka_username": "KEY"},
                                 "kafka_password is required with kafka_security_protocol SASL_SSL"),
                                ({"kafka_username": "KEY"}, "kafka_username is set, but kafka_security_protocol "
                                 "PLAINTEXT has no login")]:
        with pytest.raises(CheckFailed, match=re.escape(expected)):
            check(provider, {**base, **overrides})
    assert http_calls == []
    assert CONTRACT.secret_outputs == ["password", "api_key", "kafka_password", "ksqldb_password"]


def test_the_swap_adds_the_alias_and_deletes_in_it_only_a_concrete_index_of_its_name():
    assert swap("events", "events_v2", {"events_v1": ["events"], "events": [], "other": ["events"]}) == [
        {"add": {"index": "events_v2", "alias": "events"}}, {"remove_index": {"index": "events"}},
        {"remove": {"index": "events_v1", "alias": "events"}}, {"remove": {"index": "other", "alias": "events"}}]


@pytest.mark.real
def test_status_shows_a_rebuilding_index_with_how_far_it_has_come(elasticsearch_node):
    """``clickstream status``'s index line on the REAL node while a new build's index fills beside the one the
    alias serves."""
    import time

    from clickstream.operations.status_links import LAGGING, Limits, index_link
    from providers.http import Endpoint

    url, alias = elasticsearch_node.url, f"rebuilding_{uuid.uuid4().hex[:8]}"
    old, new = f"{alias}_v1", f"{alias}_v2"
    now_ms = int(time.time() * 1000)
    try:
        for index, documents in ((old, 2), (new, 1)):
            assert requests.put(f"{url}/{index}", timeout=30).status_code == 200
            for n in range(documents):
                answer = requests.post(f"{url}/{index}/_doc?refresh=true", json={"EVENT_TS": now_ms - n}, timeout=30)
                assert answer.status_code == 201, answer.text
        requests.post(f"{url}/_aliases", json={"actions": [{"add": {"index": old, "alias": alias}}]},
                      timeout=30).raise_for_status()
        line = index_link(Endpoint(url), alias, Limits(), time.time())
        assert line.state == LAGGING, line
        assert f"rebuilding: {new} holds 1 documents; the alias stays on {old} (2 documents)" in line.evidence
        assert "`make up` resumes" in line.action
    finally:
        requests.delete(f"{url}/{old},{new}", timeout=30)
