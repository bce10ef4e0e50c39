"""The sink settings make each index mirror its table: on the REAL Kafka broker and the REAL Elasticsearch node,
with the project's sink config (``connectors.elasticsearch_sink``) applied by the sink's stand-in
(tests/harness/es_sink.py: the plugin is on no package registry), into an index made by ``VersionedIndex``."""
from __future__ import annotations

import json
import struct
import uuid

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from clickstream.content import connectors
from providers.elasticsearch.versioned_index import VersionedIndexProvider
from tests.harness.es_sink import sink_topic
from tests.provider.pulumi_engine import up

VERSION = "0a1b2c3d4e5f6a7b"
START = 1_764_162_000_000  # epoch millis of a window start


def json_key(**columns) -> bytes:
    return json.dumps(columns, separators=(",", ":")).encode()


def session_key(key: bytes, start: int, end: int) -> bytes:
    """ksqlDB's session-windowed key: the key's bytes, then the window end and start (8 bytes each)."""
    return key + struct.pack(">qq", end, start)


def time_window_key(key: bytes, start: int) -> bytes:
    """ksqlDB's tumbling/hopping-windowed key: the key's bytes, then the window start (8 bytes)."""
    return key + struct.pack(">q", start)


def records() -> list[tuple[bytes, dict | None]]:
    """Keyed records, updates and tombstones as ksqlDB writes them: ``(key bytes, value or None)``."""
    user1, user2, kafka_int = json_key(USERID=1), json_key(USERID=2), struct.pack(">i", 404)
    first_session = session_key(json_key(USERID=3), START, START + 20_000)
    merged_session = session_key(json_key(USERID=3), START, START + 50_000)
    # two windows whose starts differ only in their last byte, a lone continuation byte in UTF-8 (0x80 / 0x81)
    window_a, window_b = (time_window_key(b"/home", (START & ~0xFFFF) | 0x4100 | low) for low in (0x80, 0x81))
    return [
        (user1, {"USERID": 1, "EVENTS": 1}),
        (user2, {"USERID": 2, "EVENTS": 5}),
        (user1, {"USERID": 1, "EVENTS": 2}),                     # an update replaces the row
        (user2, None),                                          # a row that stops meeting HAVING
        (first_session, {"USERID": 3, "BYTES": 100}),
        (first_session, None),                                  # merged into a longer session:
        (merged_session, {"USERID": 3, "BYTES": 900}),           # the old window goes, the merged one stays
        (kafka_int, {"CODE": 404, "COUNT": 1}),
        (kafka_int, {"CODE": 404, "COUNT": 7}),
        (window_a, {"PAGE": "/home", "HITS": 3}),
        (window_b, {"PAGE": "/home", "HITS": 4}),
    ]


def live_rows(produced: list[tuple[bytes, dict | None]]) -> dict[str, dict]:
    """What the table holds after these records: key -> last value, tombstoned keys gone; keys as ids."""
    rows: dict[bytes, dict] = {}
    for key, value in produced:
        if value is None:
            rows.pop(key, None)
        else:
            rows[key] = value
    return {key.decode(connectors.KEY_ENCODING): value for key, value in rows.items()}


def index_contents(url: str, index: str) -> dict[str, dict]:
    answer = requests.post(f"{url}/{index}/_search", json={"size": 1000, "query": {"match_all": {}}}, timeout=30)
    answer.raise_for_status()
    return {hit["_id"]: hit["_source"] for hit in answer.json()["hits"]["hits"]}


@pytest.fixture
def table(kafka_connect, elasticsearch_node):
    """A topic of two partitions (named like a ksqlDB table) and its versioned index behind its alias."""
    name = f"MIRROR_{uuid.uuid4().hex[:8].upper()}"
    admin = AdminClient({"bootstrap.servers": kafka_connect.bootstrap_servers})
    for future in admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)]).values():
        future.result(timeout=60)
    index = connectors.versioned_index_name(name, VERSION)
    up(VersionedIndexProvider(), {"elasticsearch_url": elasticsearch_node.url, "ready_timeout": 60,
                                  "alias": connectors.index_name(name), "index": index})
    requests.post(f"{elasticsearch_node.url}/_aliases", timeout=30, json={"actions": [
        {"add": {"index": index, "alias": connectors.index_name(name)}}]}).raise_for_status()  # as IndexAlias does
    yield name
    requests.delete(f"{elasticsearch_node.url}/{connectors.versioned_index_name(name, VERSION)}", timeout=30)
    for future in admin.delete_topics([name]).values():
        future.result(timeout=60)


def sink_config(table: str, elasticsearch_url: str) -> dict:
    """The project's sink config of ``table`` (plain strings: the index name is known here)."""
    spec = connectors.elasticsearch_sink(table, connectors.versioned_index_name(table, VERSION),
                                         connectors.sink_group(connectors.sink_connector_name(table, VERSION),
                                                               f"CTAS_{table}_1"), elasticsearch_url)
    return {key: str(value) for key, value in spec.config.items()}


def produce(bootstrap_servers: str, topic: str, produced: list[tuple[bytes, dict | None]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True})
    for key, value in produced:
        producer.produce(topic, key=key, value=None if value is None else json.dumps(value).encode())
    assert producer.flush(60) == 0, "records not delivered within 60 s"


@pytest.mark.real
def test_index_holds_exactly_the_live_rows_of_the_table(kafka_connect, elasticsearch_node, table):
    produced = records()
    produce(kafka_connect.bootstrap_servers, table, produced)
    config = sink_config(table, elasticsearch_node.url)
    assert sink_topic(config, kafka_connect.bootstrap_servers, elasticsearch_node.url) == len(produced)
    expected = live_rows(produced)
    # read through the alias, as Grafana does
    assert index_contents(elasticsearch_node.url, connectors.index_name(table)) == expected
    assert len(expected) == 5  # user 1, the merged session, code 404, two windows of /home
    # a replay (a restarted sink reading again from older offsets) changes nothing: offsets version the rows
    sink_topic(config, kafka_connect.bootstrap_servers, elasticsearch_node.url)
    assert index_contents(elasticsearch_node.url, connectors.index_name(table)) == expected


@pytest.mark.fake
def test_utf8_key_ids_would_merge_windows_that_iso_8859_1_keeps_apart():
    """Why the key converter reads ISO-8859-1: the default UTF-8 maps both windows' bytes to U+FFFD."""
    window_a, window_b = (key for key, _ in records()[-2:])
    assert window_a.decode("utf-8", errors="replace") == window_b.decode("utf-8", errors="replace")
    assert window_a.decode(connectors.KEY_ENCODING) != window_b.decode(connectors.KEY_ENCODING)


@pytest.mark.real
def test_the_earlier_config_left_stale_and_deleted_rows_in_the_index(kafka_connect, elasticsearch_node, table):
    """The settings before issue 28 (keys ignored, tombstones dropped), same records: the index is not the
    table (what the issue measured on the real connector)."""
    produced = records()
    produce(kafka_connect.bootstrap_servers, table, produced)
    config = {**sink_config(table, elasticsearch_node.url),
              "key.ignore": "true", "behavior.on.null.values": "ignore"}
    sink_topic(config, kafka_connect.bootstrap_servers, elasticsearch_node.url)
    documents = index_contents(elasticsearch_node.url, connectors.index_name(table))
    assert len(documents) == sum(value is not None for _, value in produced) == 9
    assert {"USERID": 2, "EVENTS": 5} in documents.values()  # a row the table no longer has
