"""The Kafka topics a FAKE ksqlDB sees: the cluster's own (``KafkaTopics``) and the view a request's
validation gets (``SandboxTopics``), which keeps the topics it creates to itself but deletes for real, as
``SandboxedKafkaTopicClient`` does at v8.2.1 (``createTopic`` checks and records in memory;
``deleteTopics`` calls the delegate, i.e. the real cluster)."""
from __future__ import annotations

import dataclasses

DEFAULT_RETENTION_MS = 604800000  # the broker's log.retention.ms default: 7 days


@dataclasses.dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    replicas: int
    retention_ms: int = DEFAULT_RETENTION_MS


class KafkaTopics:
    """The cluster's topics, by name (what ``Admin.listTopics``/``describeTopics`` would answer)."""

    def __init__(self) -> None:
        self._topics: dict[str, Topic] = {}

    def get(self, name: str) -> Topic | None:
        return self._topics.get(name)

    def names(self) -> list[str]:
        return sorted(self._topics)

    def create(self, topic: Topic) -> None:
        self._topics.setdefault(topic.name, topic)

    def delete(self, name: str) -> None:
        """Deleting a missing topic is no error (``KafkaTopicClientImpl.deleteTopics`` ignores
        ``UnknownTopicOrPartitionException``)."""
        self._topics.pop(name, None)


class SandboxTopics(KafkaTopics):
    """A validation's view: created topics stay in memory, deletions pass through to ``cluster``."""

    def __init__(self, cluster: KafkaTopics):
        super().__init__()
        self._cluster = cluster

    def get(self, name: str) -> Topic | None:
        return super().get(name) or self._cluster.get(name)

    def names(self) -> list[str]:
        return sorted(set(super().names()) | set(self._cluster.names()))

    def delete(self, name: str) -> None:
        super().delete(name)
        self._cluster.delete(name)

    def created(self) -> int:
        """How many topics this view created (kept to itself)."""
        return len(self._topics)
