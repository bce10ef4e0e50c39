"""A stand-in for the Elasticsearch sink connector (confluentinc/kafka-connect-elasticsearch, on no package
registry): reads a real Kafka topic and writes it to a real Elasticsearch as the sink does with a given config.

What it models, from the sink's 15.1.3 source (``DataConverter``, ``ElasticsearchClient``), for the settings
the project uses (docs/resources/versioned-indexes.md); any other value of them is refused, so it can never
silently model a config it does not know:

- the target: ``topic.to.external.resource.mapping`` with ``external.resource.usage=INDEX`` (the index must
  exist: the sink's validator checks it), else the topic name lower-cased;
- the id: with ``key.ignore=false`` the key, through ``StringConverter`` in ``key.converter.converter.encoding``
  (``convertKey``: a string key is the id as it is); with ``key.ignore=true`` ``topic+partition+offset``;
- with keys used, every write and delete carries ``version_type=external`` and the offset as version
  (``maybeAddExternalVersioning``), and a ``version_conflict_engine_exception`` is dropped;
- a null value: ``behavior.on.null.values`` ``delete`` (a delete request by id; none without a key) or
  ``ignore``; a value is the record's JSON as it is (``schema.ignore=true``, schemaless ``JsonConverter``).
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from typing import Mapping, Sequence

import requests
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


def target_index(config: Mapping[str, str], topic: str) -> str:
    if config.get("external.resource.usage", "DISABLED") == "DISABLED":
        return topic.lower()
    if config["external.resource.usage"] != "INDEX":
        raise ValueError(f"the stand-in models external.resource.usage INDEX, not {config['external.resource.usage']}")
    mapping = dict(entry.split(":", 1) for entry in config["topic.to.external.resource.mapping"].split(","))
    return mapping[topic]


def _check_modelled(config: Mapping[str, str]) -> None:
    expected = {"key.converter": STRING_CONVERTER, "value.converter": JSON_CONVERTER,
                "value.converter.schemas.enable": "false", "schema.ignore": "true"}
    wrong = {key: config.get(key) for key, value in expected.items() if config.get(key) != value}
    if config.get("key.ignore") not in ("true", "false") or \
            config.get("behavior.on.null.values") not in ("delete", "ignore") or wrong:
        raise ValueError(f"the stand-in does not model this sink config: {wrong or dict(config)}")


def bulk_actions(config: Mapping[str, str], topic: str, index: str, partition: int, offset: int,
                 key: bytes | None, value: bytes | None) -> list[dict]:
    """The ``_bulk`` lines the sink sends for one record (none when it drops the record)."""
    use_key = config["key.ignore"] == "false"
    if value is None and (config["behavior.on.null.values"] == "ignore" or key is None):
        return []
    if use_key:
        if key is None:
            raise ValueError(f"{topic}/{partition}@{offset}: key is used as document id and can not be null")
        meta = {"_index": index, "_id": key.decode(config.get("key.converter.converter.encoding", "UTF-8")),
                "version": offset, "version_type": "external"}
    else:
        meta = {"_index": index, "_id": f"{topic}+{partition}+{offset}"}
    if value is None:
        return [{"delete": meta}]
    return [{"index": meta}, json.loads(value)]


def sink_topic(config: Mapping[str, str], bootstrap_servers: str, elasticsearch_url: str, *,
               timeout: float = 120.0) -> int:
    """Write every record of the config's topic (each partition from its start to its end as of now) to
    Elasticsearch as the sink would (then refresh the index); return how many records were read."""
    _check_modelled(config)
    (topic,) = config["topics"].split(",")
    index = target_index(config, topic)
    if config.get("external.resource.usage", "DISABLED") != "DISABLED":
        answer = requests.head(f"{elasticsearch_url}/{index}", timeout=30)
        if answer.status_code != 200:
            raise ValueError(f"the sink's index {index} does not exist (external.resource.usage needs it)")
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": f"es-sink-stand-in-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    deadline = time.monotonic() + timeout
    messages: list[Message] = []
    try:
        partitions = list(consumer.list_topics(topic, timeout=30).topics[topic].partitions)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {len(messages)} records of {topic} in {timeout:g} s; partitions "
                                   f"{sorted(pending)} not read to their end offsets {ends}")
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                raise RuntimeError(f"reading {topic}: {message.error()}")
            messages.append(message)
            partition, offset = message.partition(), message.offset()
            assert partition is not None and offset is not None  # a consumed record has both
            if offset + 1 >= ends[partition]:
                pending.discard(partition)
    finally:
        consumer.close()
    _write(config, topic, index, elasticsearch_url, messages)
    return len(messages)


def _write(config: Mapping[str, str], topic: str, index: str, elasticsearch_url: str,
           messages: Sequence[Message]) -> None:
    """What the sink writes for ``messages`` (records consumed from ``topic``): their ``_bulk`` lines in one
    request, then a refresh of ``index`` so that searches see them; no request when none makes a write."""
    lines: list[dict] = []
    for message in messages:
        if message.error():
            raise RuntimeError(f"reading {topic}: {message.error()}")
        partition, offset = message.partition(), message.offset()
        assert partition is not None and offset is not None  # a consumed record has both
        lines += bulk_actions(config, topic, index, partition, offset, message.key(), message.value())
    if lines:
        _bulk(elasticsearch_url, lines)
        requests.post(f"{elasticsearch_url}/{index}/_refresh", timeout=30).raise_for_status()


def _bulk(elasticsearch_url: str, lines: list[dict]) -> None:
    body = "".join(json.dumps(line) + "\n" for line in lines)
    answer = requests.post(f"{elasticsearch_url}/_bulk", data=body.encode(), timeout=60,
                           headers={"Content-Type": "application/x-ndjson"})
    answer.raise_for_status()
    failed = [item for entry in answer.json()["items"] for item in entry.values()
              if item.get("error") and item["error"]["type"] != "version_conflict_engine_exception"]
    if failed:
        raise RuntimeError(f"Elasticsearch refused {len(failed)} writes, e.g. {failed[0]}")


class RunningSink:
    """The stand-in as a running connector: a thread that reads the config's topic in the consumer group a
    Connect worker gives it (``consumer.override.group.id``, else ``connect-<name>``) from the earliest offset
    a new group has, writes each batch as
    the sink does and then commits the batch's offsets (the sink commits only what Elasticsearch took).
    ``with RunningSink(...) as sink:``; leaving stops it (a deleted connector)."""

    def __init__(self, name: str, config: Mapping[str, str], bootstrap_servers: str, elasticsearch_url: str):
        _check_modelled(config)
        (self.topic,) = config["topics"].split(",")
        self.config, self.elasticsearch_url = config, elasticsearch_url
        self.index = target_index(config, self.topic)
        group = config.get("consumer.override.group.id", f"connect-{name}")
        self.consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": group,
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"sink-{name}", daemon=True)

    def __enter__(self) -> "RunningSink":
        self.consumer.subscribe([self.topic])
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), f"the stand-in sink of {self.topic} did not stop within 60 s"
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            with self.consumer_closed():
                while not self.stopping.is_set():
                    messages = self.consumer.consume(num_messages=100, timeout=0.2)
                    _write(self.config, self.topic, self.index, self.elasticsearch_url, messages)
                    if messages:
                        self.consumer.commit(asynchronous=False)
        except BaseException as exc:  # noqa: BLE001 - reported by __exit__
            self.error = exc

    def consumer_closed(self):
        return contextlib.closing(self.consumer)
