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

The cluster is reached as a :class:`KafkaLogin` says: librdkafka's ``security.protocol`` and, with SASL,
``sasl.mechanism``, ``sasl.username`` and ``sasl.password`` (librdkafka CONFIGURATION.md).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

import certifi
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

Partition = tuple[str, int]  # (topic, partition)
KSQL_INTERNAL_PREFIX = "_confluent-ksql-"
KSQL_PERSISTENT_PREFIX = "query_"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")  # those the confluent-kafka wheels build in


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


@dataclasses.dataclass(frozen=True)
class KafkaLogin:
    """How to reach the cluster: ``protocol`` one of SECURITY_PROTOCOLS; with SASL, ``mechanism`` (one of
    SASL_MECHANISMS), ``username`` and ``password``."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "PLAIN"
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)

    def settings(self) -> dict[str, str]:
        """The librdkafka settings of this login.

        With TLS, the broker's certificate is verified against certifi's CA set (Mozilla's), the one
        ``requests`` verifies the services' HTTPS with: the confluent-kafka wheels link OpenSSL statically
        (no libssl beside their librdkafka) and ship no CA set, and such a librdkafka with ``ssl.ca.location``
        unset probes the usual system paths (``/etc/ssl/certs/ca-certificates.crt``, ...; librdkafka
        ``src/rdkafka_ssl.c``, the ``ssl.ca.location`` entry of CONFIGURATION.md), which a slim image may not
        have. Confluent Cloud's brokers present Let's Encrypt certificates (ISRG Root X1; Confluent Cloud docs,
        "Connect Clients to Confluent Cloud"), which certifi's set holds.
        """
        settings = {"security.protocol": self.protocol}
        if self.protocol.startswith("SASL_"):
            settings.update({"sasl.mechanism": self.mechanism, "sasl.username": self.username or "",
                             "sasl.password": self.password or ""})
        if self.protocol.endswith("SSL"):
            settings["ssl.ca.location"] = certifi.where()
        return settings


class KafkaOffsets:
    """Reads offsets from the Kafka cluster at ``bootstrap`` (``host:port[,...]``) with ``login``; every call
    waits at most ``timeout`` seconds. Create it inside a provider method.

    librdkafka reports what went wrong with the connection (refused, a failed TLS handshake or SASL
    authentication, a listener that wants another protocol) to the error callback, not in the error of the
    call that then times out: :meth:`connection_error` gives the latest of these."""

    def __init__(self, bootstrap: str, *, timeout: float, login: KafkaLogin = KafkaLogin()):
        self.timeout = timeout
        self.last_error: KafkaError | None = None
        settings: dict[str, Any] = {"bootstrap.servers": bootstrap, "socket.timeout.ms": int(timeout * 1000),
                                    "error_cb": self._reported, **login.settings()}  # the stubs omit callbacks
        self.admin = AdminClient(settings)

    def _reported(self, error: KafkaError) -> None:
        self.last_error = error

    def connection_error(self) -> KafkaError | None:
        """The latest connection error librdkafka reported (its callbacks served first), if any."""
        self.admin.poll(0)
        return self.last_error

    def partitions(self, topic: str) -> list[Partition]:
        """The partitions of ``topic`` (empty when it does not exist). Read from the metadata of every topic: a
        request for the one topic asks the broker to create it when missing, where auto-creation is on."""
        metadata = self.admin.list_topics(timeout=self.timeout).topics.get(topic)
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
