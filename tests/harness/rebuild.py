"""A ksqlDB table rebuilt while data flows, on a REAL Kafka broker and a REAL Elasticsearch node, with the
project's sink config applied by the sink's stand-in running as a connector (``RunningSink``), the ksqlDB
query played here (``Query``), and the provider kinds the stack uses for the swap (``VersionedIndex``,
``IndexAlias``); what a reader of the alias sees is sampled every ``SAMPLE_EVERY`` seconds from the moment the
table's topic is dropped until the swap. Used by tests/provider/test_zero_gap.py and benchmarks/zero_gap.py."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid

import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from clickstream.content import connectors
from providers.elasticsearch.index_alias import IndexAliasProvider
from providers.elasticsearch.versioned_index import VersionedIndexProvider
from providers.http import wait_until
from providers.kafka.offsets import query_group
from tests.fakes.ksqldb import FakeKsqlDb
from tests.harness.es_sink import RunningSink
from tests.provider.pulumi_engine import destroy, up

SERVICE_ID = "default_"
SAMPLE_EVERY = 0.1
SOURCE_RECORDS = 50
Rows = dict[bytes, dict]


def ids(rows: Rows) -> dict[str, dict]:
    """The documents ``rows`` make: id = the key read as the sink reads it."""
    return {key.decode(connectors.KEY_ENCODING): value for key, value in rows.items()}


def read_alias(url: str, alias: str) -> dict[str, dict] | str:
    """What a reader of ``alias`` finds: its documents, or the error Elasticsearch answered (status and type)."""
    answer = requests.post(f"{url}/{alias}/_search", json={"size": 10_000}, timeout=30)
    if answer.status_code != 200:
        return f"HTTP {answer.status_code} {answer.text[:300]}"
    return {hit["_id"]: hit["_source"] for hit in answer.json()["hits"]["hits"]}


class Query:
    """The ksqlDB query of one build: reads the source, writes the table's rows (one per ``pace`` seconds, as a
    query working through its input), then commits its group on the source (Kafka Streams commits after
    flushing its producer)."""

    def __init__(self, bootstrap: str, source: str, table: str, query_id: str):
        self.producer = Producer({"bootstrap.servers": bootstrap})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": query_group(SERVICE_ID, query_id),
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        self.source, self.table = source, table
        self.committed_at: float | None = None  # time.monotonic() of the commit

    def process(self, rows: Rows, pace: float = 0.0) -> None:
        self.consumer.assign([TopicPartition(self.source, 0)])
        read = 0
        while read < SOURCE_RECORDS:
            read += len(self.consumer.consume(num_messages=SOURCE_RECORDS - read, timeout=1))
        paced = threading.Event()  # never set: only the pace
        for key, value in rows.items():
            self.producer.produce(self.table, key=key, value=json.dumps(value).encode(), partition=0)
            if pace:
                self.producer.flush(30)
                paced.wait(pace)
        assert self.producer.flush(60) == 0
        self.consumer.commit(asynchronous=False)
        self.committed_at = time.monotonic()
        self.consumer.close()


@dataclasses.dataclass
class Rebuild:
    """What readers of the alias saw: ``samples`` of (seconds since the old topic was dropped, documents)."""

    samples: list[tuple[float, dict[str, dict] | str]]
    swap_started: float  # when ``up`` of the alias began, seconds since the old topic was dropped
    swapped: float  # when it returned
    query_committed: float  # when the new build's query committed its group at the source's end
    after: dict[str, dict] | str
    old_index_left: bool

    def blank(self) -> int:
        """Samples where a reader found no rows or an error."""
        return sum(1 for _, documents in self.samples if not documents or isinstance(documents, str))

    def errors(self) -> list[str]:
        return [documents for _, documents in self.samples if isinstance(documents, str)]

    def served_old(self, old: dict[str, dict]) -> list[float]:
        return [at for at, documents in self.samples if documents == old]

    def first_new(self, new: dict[str, dict]) -> float | None:
        """When a reader first found the new build's rows."""
        return next((at for at, documents in self.samples if documents == new), None)

    def other(self, old: dict[str, dict], new: dict[str, dict]) -> int:
        """Samples that were neither build's rows exactly (a partly filled or mixed index)."""
        return sum(1 for _, documents in self.samples if documents not in (old, new))


def rebuild(bootstrap: str, url: str, old_rows: Rows, new_rows: Rows, *, pace: float) -> Rebuild:
    """Build 1 serves its rows behind the alias; then the table is rebuilt into ``new_rows`` (its query writes
    one row per ``pace`` seconds) and ``IndexAlias`` swaps; everything made is removed afterwards."""
    table = f"REBUILT_{uuid.uuid4().hex[:8].upper()}"
    source, alias, template = f"{table}_SOURCE", connectors.index_name(table), f"rebuild-{table.lower()}"
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def create_topics(*names: str) -> None:
        for future in admin.create_topics([NewTopic(n, num_partitions=1, replication_factor=1)
                                           for n in names]).values():
            future.result(timeout=60)

    def build(version: str, query_id: str) -> dict[str, str]:
        index = connectors.versioned_index_name(table, version)
        up(VersionedIndexProvider(), {"elasticsearch_url": url, "ready_timeout": 60, "alias": alias, "index": index,
                                      "build": query_id})
        group = connectors.sink_group(sink_name(version), query_id)
        spec = connectors.elasticsearch_sink(table, index, group, url)
        return {key: str(value) for key, value in spec.config.items()}

    def sink_name(version: str) -> str:
        return connectors.sink_connector_name(table, version)

    requests.put(f"{url}/_index_template/{template}", timeout=30, json={
        "index_patterns": [f"{alias}_v*"], "priority": 300,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}}}).raise_for_status()
    create_topics(source, table)
    producer = Producer({"bootstrap.servers": bootstrap})
    for _ in range(SOURCE_RECORDS):
        producer.produce(source, value=b"{}", partition=0)
    assert producer.flush(60) == 0
    try:
        with FakeKsqlDb(service_id=SERVICE_ID) as ksqldb:
            def alias_inputs(version: str, query_id: str) -> dict:
                return {"elasticsearch_url": url, "ready_timeout": 60, "alias": alias,
                        "index": connectors.versioned_index_name(table, version), "kafka_bootstrap": bootstrap,
                        "topic": table, "source_topics": [source], "query_id": query_id, "sink": sink_name(version),
                        "sink_group": connectors.sink_group(sink_name(version), query_id), "ksqldb_url": ksqldb.url,
                        "catch_up_timeout": 600}

            Query(bootstrap, source, table, "CTAS_1").process(old_rows)
            with RunningSink(sink_name("1"), build("1", "CTAS_1"), bootstrap, url):
                deployed = up(IndexAliasProvider(), alias_inputs("1", "CTAS_1"))
                wait_until(lambda: read_alias(url, alias) == ids(old_rows), timeout=300,
                           description="the first build's sink to fill its index")
            # the first build's sink has stopped: its connector is replaced delete-before-create

            samples: list[tuple[float, dict[str, dict] | str]] = []
            stop = threading.Event()
            started = time.monotonic()

            def sample() -> None:
                while not stop.is_set():
                    samples.append((time.monotonic() - started, read_alias(url, alias)))
                    stop.wait(SAMPLE_EVERY)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            try:
                # ksqlDB rebuilds the table: its topic is dropped and created again, a new query fills it
                for future in admin.delete_topics([table]).values():
                    future.result(timeout=60)
                wait_until(lambda: table not in admin.list_topics(timeout=30).topics, timeout=60,
                           description="the old topic to go")
                create_topics(table)
                second = Query(bootstrap, source, table, "CTAS_2")
                query = threading.Thread(target=second.process, args=(new_rows, pace), daemon=True)
                with RunningSink(sink_name("2"), build("2", "CTAS_2"), bootstrap, url):
                    query.start()
                    swap_started = time.monotonic() - started
                    deployed = up(IndexAliasProvider(), alias_inputs("2", "CTAS_2"), deployed)
                    swapped = time.monotonic() - started
                    query.join(timeout=600)
                    after = read_alias(url, alias)
            finally:
                stop.set()
                sampler.join(timeout=30)
            old_left = requests.head(f"{url}/{connectors.versioned_index_name(table, '1')}", timeout=30).status_code
            destroy(IndexAliasProvider(), deployed)
            assert second.committed_at is not None, "the new build's query did not finish"
            return Rebuild(samples, swap_started, swapped, second.committed_at - started, after, old_left != 404)
    finally:
        requests.delete(f"{url}/{alias}_v*", timeout=30)
        requests.delete(f"{url}/_index_template/{template}", timeout=30)
        for future in admin.delete_topics([source, table]).values():
            future.result(timeout=60)
