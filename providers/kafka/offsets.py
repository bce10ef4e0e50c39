"""How far a consumer group has read: its committed offsets against the topics' end offsets, read with Kafka's
admin protocol (``confluent-kafka``'s ``AdminClient``: the librdkafka client Confluent maintains, wheels on PyPI;
chosen over writing the admin protocol by hand).

Two groups matter to the application layer (docs/resources/versioned-indexes.md):

- a ksqlDB persistent query's, ``_confluent-ksql-<ksql.service.id>query_<query id>`` (ksqlDB 8.2.1
  ``QueryApplicationId.build``: the internal prefix ``_confluent-ksql-``, the service id, the persistent query
  prefix ``query_`` by default); it commits the offsets of every topic it reads, its sources and its internal
  repartition topics, after the records those offsets cover are in its output topic (Kafka Streams commits
  after flushing its producer);
- a Kafka Connect sink's, the one its ``consumer.override.group.id`` names, else ``connect-<connector name>``
  (Connect's default sink consumer group).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

Partition = tuple[str, int]  # (topic, partition)
KSQL_INTERNAL_PREFIX = "_confluent-ksql-"
KSQL_PERSISTENT_PREFIX = "query_"


def query_group(service_id: str, query_id: str) -> str:
    """The consumer group of ksqlDB persistent query ``query_id`` on the server with ``service_id``."""
    return f"{KSQL_INTERNAL_PREFIX}{service_id}{KSQL_PERSISTENT_PREFIX}{query_id}"


@dataclasses.dataclass(frozen=True)
class Progress:
    """A group's committed offsets against targets (end offsets taken at one moment), per partition."""

    committed: Mapping[Partition, int]
    targets: Mapping[Partition, int]

    @property
    def caught_up(self) -> bool:
        return all(self.committed.get(p, 0) >= end for p, end in self.targets.items())

    def __str__(self) -> str:
        read = sum(min(self.committed.get(p, 0), end) for p, end in self.targets.items())
        return f"{read} of {sum(self.targets.values())} records"


class KafkaOffsets:
    """Reads offsets from the Kafka cluster at ``bootstrap`` (``host:port[,...]``); every call waits at most
    ``timeout`` seconds. Create it inside a provider method."""

    def __init__(self, bootstrap: str, *, timeout: float):
        self.timeout = timeout
        self.admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": int(timeout * 1000)})

    def partitions(self, topic: str) -> list[Partition]:
        """The partitions of ``topic`` (empty when it does not exist)."""
        metadata = self.admin.list_topics(topic, timeout=self.timeout).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return []
        return [(topic, p) for p in sorted(metadata.partitions)]

    def ends(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """The end offset (the next offset to be written) of each partition."""
        wanted = {TopicPartition(topic, p): OffsetSpec.latest() for topic, p in partitions}
        if not wanted:
            return {}
        futures = self.admin.list_offsets(wanted, request_timeout=self.timeout)
        return {(tp.topic, tp.partition): future.result(timeout=self.timeout).offset for tp, future in futures.items()}

    def committed(self, group: str) -> dict[Partition, int]:
        """The offsets ``group`` has committed (none: an empty map)."""
        futures = self.admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                         request_timeout=self.timeout)
        try:
            result = futures[group].result(timeout=self.timeout)
        except KafkaException as exc:  # a group that never committed is not an error of ours
            if "GROUP_ID_NOT_FOUND" in str(exc):
                return {}
            raise
        return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or () if tp.offset >= 0}

    def progress(self, group: str, topics: Iterable[str] = ()) -> Progress:
        """``group``'s progress towards the end offsets, now, of ``topics`` and of every topic it has committed."""
        committed = self.committed(group)
        partitions = set(committed) | {p for topic in topics for p in self.partitions(topic)}
        return Progress(committed, self.ends(partitions))
