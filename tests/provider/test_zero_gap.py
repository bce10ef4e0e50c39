"""A table rebuilt while data flows never blanks, regresses or leaves stale rows behind its alias: on the REAL
Kafka broker and the REAL Elasticsearch node, with the project's sink config applied by the sink's stand-in
running as a connector (``RunningSink``: reads in ``connect-<name>``, commits what Elasticsearch took), the
ksqlDB query played by the test (it writes the table's records and commits its group on the source after
them, as Kafka Streams does), and the provider kinds the stack uses: ``VersionedIndex`` and ``IndexAlias``.

What a reader of the alias sees is sampled every 0.1 s from before the rebuild to after the swap."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from clickstream import connectors
from providers.elasticsearch.index_alias import IndexAliasProvider
from providers.elasticsearch.versioned_index import VersionedIndexProvider
from providers.http import wait_until
from providers.kafka.offsets import query_group
from tests.fakes.ksqldb import FakeKsqlDb
from tests.harness.es_sink import RunningSink
from tests.provider.pulumi_engine import destroy, up

SERVICE_ID = "default_"


def rows_of_build(threshold: int, users: int = 40) -> dict[bytes, dict]:
    """The rows a HAVING-style query keeps: users whose bytes reach ``threshold`` (a raise drops some)."""
    return {json.dumps({"USERID": n}).encode(): {"USERID": n, "BYTES": n * 100}
            for n in range(users) if n * 100 >= threshold}


def ids(rows: dict[bytes, dict]) -> dict[str, dict]:
    return {key.decode(connectors.KEY_ENCODING): value for key, value in rows.items()}


def read_alias(url: str, alias: str) -> dict[str, dict] | None:
    answer = requests.post(f"{url}/{alias}/_search", json={"size": 1000}, timeout=30)
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    return {hit["_id"]: hit["_source"] for hit in answer.json()["hits"]["hits"]}


class Query:
    """The ksqlDB query of one build: turns each source record into the table's rows and commits its group on
    the source after the rows are written (Kafka Streams commits after flushing its producer)."""

    def __init__(self, bootstrap: str, source: str, table: str, query_id: str):
        self.producer = Producer({"bootstrap.servers": bootstrap})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": query_group(SERVICE_ID, query_id),
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        self.source, self.table = source, table

    def process(self, rows: dict[bytes, dict], source_records: int, pace: float = 0.0) -> None:
        """Read ``source_records`` records of the source, write ``rows`` (one per ``pace`` seconds, as a
        query still working through its input would), then commit."""
        self.consumer.assign([TopicPartition(self.source, 0)])
        read = 0
        while read < source_records:
            read += len(self.consumer.consume(num_messages=source_records - read, timeout=1))
        paced = threading.Event()
        for key, value in rows.items():
            self.producer.produce(self.table, key=key, value=json.dumps(value).encode(), partition=0)
            self.producer.flush(30)
            paced.wait(pace)  # never set: the pace of a query working through its input
        assert self.producer.flush(60) == 0
        self.consumer.commit(asynchronous=False)
        self.consumer.close()


@pytest.mark.real
def test_a_rebuild_swaps_only_when_caught_up_and_readers_never_see_a_gap(kafka_connect, elasticsearch_node):
    bootstrap, url = kafka_connect.bootstrap_servers, elasticsearch_node.url
    table = f"SESSIONS_{uuid.uuid4().hex[:8].upper()}"
    source = f"{table}_SOURCE"
    alias = connectors.index_name(table)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    template = f"zero-gap-{alias}"

    def create_topics(*names: str) -> None:
        for future in admin.create_topics([NewTopic(n, num_partitions=1, replication_factor=1)
                                           for n in names]).values():
            future.result(timeout=60)

    def delete_topics(*names: str) -> None:
        for future in admin.delete_topics(list(names)).values():
            future.result(timeout=60)

    requests.put(f"{url}/_index_template/{template}", timeout=30, json={
        "index_patterns": [f"{alias}_v*"], "priority": 300,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}}}).raise_for_status()
    create_topics(source, table)
    producer = Producer({"bootstrap.servers": bootstrap})
    for n in range(50):
        producer.produce(source, value=b"{}", partition=0)
    assert producer.flush(60) == 0
    old_rows, new_rows = rows_of_build(threshold=0), rows_of_build(threshold=3000)
    stale = set(ids(old_rows)) - set(ids(new_rows))
    assert stale and new_rows

    with FakeKsqlDb(service_id=SERVICE_ID) as ksqldb:
        def alias_inputs(version: str, query_id: str, sink: str) -> dict:
            return {"elasticsearch_url": url, "ready_timeout": 60, "alias": alias,
                    "index": connectors.versioned_index_name(table, version), "kafka_bootstrap": bootstrap,
                    "topic": table, "source_topics": [source], "query_id": query_id, "sink": sink,
                    "ksqldb_url": ksqldb.url, "catch_up_timeout": 180}

        def build(version: str) -> tuple[dict, dict]:
            index = connectors.versioned_index_name(table, version)
            up(VersionedIndexProvider(), {"elasticsearch_url": url, "ready_timeout": 60, "alias": alias,
                                          "index": index})
            spec = connectors.elasticsearch_sink(table, index, url)
            return {key: str(value) for key, value in spec.config.items()}, {"index": index}

        # build 1: its query, its sink, the alias put at once
        Query(bootstrap, source, table, "CTAS_1").process(old_rows, 50)
        config1, _ = build("1")
        with RunningSink("sink-v1", config1, bootstrap, url):
            alias_state = up(IndexAliasProvider(), alias_inputs("1", "CTAS_1", "sink-v1"))
            wait_until(lambda: read_alias(url, alias) == ids(old_rows), timeout=120,
                       description="the first build's sink to fill its index")
        # the old sink has stopped (its connector is replaced delete-before-create); readers keep what they saw

        samples: list[dict[str, dict] | None] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(read_alias(url, alias))
                stop.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            # ksqlDB rebuilds the table: its topic is dropped and created again, a new query fills it
            delete_topics(table)
            wait_until(lambda: table not in admin.list_topics(timeout=30).topics, timeout=60,
                       description="the old topic to go")
            create_topics(table)
            config2, _ = build("2")
            query = threading.Thread(target=Query(bootstrap, source, table, "CTAS_2").process,
                                     args=(new_rows, 50, 0.2), daemon=True)
            with RunningSink("sink-v2", config2, bootstrap, url):
                query.start()
                swapped = up(IndexAliasProvider(), alias_inputs("2", "CTAS_2", "sink-v2"), alias_state)
                query.join(timeout=60)
                after_swap = read_alias(url, alias)
        finally:
            stop.set()
            sampler.join(timeout=30)

        assert after_swap == ids(new_rows)
        assert samples and all(s for s in samples), "a reader of the alias found it missing or empty"
        served = [s for s in samples if s != ids(old_rows)]
        assert all(s == ids(new_rows) for s in served), "a reader saw a partly filled or mixed index"
        assert not stale & set(after_swap), "rows the new query no longer produces are still there"
        assert requests.head(f"{url}/{connectors.versioned_index_name(table, '1')}", timeout=30).status_code == 404
        print(f"samples: {len(samples)}, old build served in {len(samples) - len(served)}, new in {len(served)}; "
              f"stale rows removed: {len(stale)}")
        destroy(IndexAliasProvider(), swapped)
    requests.delete(f"{url}/{connectors.versioned_index_name(table, '2')}", timeout=30)
    requests.delete(f"{url}/_index_template/{template}", timeout=30)
    delete_topics(source, table)
