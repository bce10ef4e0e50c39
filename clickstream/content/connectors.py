"""The connector configs and the index template of the analytics (content only, no resources).

* Datagen source connectors write the three JSON topics the ksqlDB sources read (``ksql/01_sources.sql``).
  Codes and users are keyed by an ``int`` field (``code``, ``user_id``), so their key converter is the
  ``IntegerConverter`` (ksqlDB ``KAFKA`` INT keys); clicks have no key. They run before the ksqlDB sources
  exist and the brokers do not auto-create topics, so Connect creates each topic (see :func:`_datagen`).
* One Elasticsearch sink per derived ksqlDB table, so that its index mirrors the table
  (docs/resources/versioned-indexes.md): the document id is the record key (an update replaces its
  row), a tombstone deletes it (merged sessions, rows that stop meeting a HAVING), schemaless JSON values.
  It writes to the table's versioned index ``<table>_v<version>`` (readers use the alias ``<table>``).
* The composable index template maps ``EVENT_TS``/``SESSION_START`` as ``date`` (accepting epoch millis,
  returning ISO 8601) and every string as ``keyword``, for exactly our versioned indexes, above the
  built-in templates' priority 100.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Iterable, Mapping

import pulumi

from clickstream.content import generator
from providers.ksqldb.parser import Statement
from stackconfig import StackConfig

DATAGEN_CLASS = "io.confluent.kafka.connect.datagen.DatagenConnector"
ELASTICSEARCH_SINK_CLASS = "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
INTEGER_CONVERTER = "org.apache.kafka.connect.converters.IntegerConverter"
# The sink turns a key into a document id only from a string or an integer (DataConverter.convertKey:
# bytes, structs and maps are refused). Read as ISO-8859-1, every key byte is one character, so the id is
# the key's bytes one-to-one, for every key ksqlDB writes: KAFKA and JSON keys, and windowed keys (key
# bytes + 8-byte window start; session windows: + end and start): one id per row, window included.
KEY_ENCODING = "ISO-8859-1"

# A failed bulk request is retried after a random wait in [0, SINK_RETRY_BACKOFF_MS * 2**n) for attempt
# n = 1..SINK_MAX_RETRIES: at most 1022 s (~17 min) in all, 511 s on average, and under 2 min only about
# 0.2 % of the time, so a node restart (about 1 min) is ridden out. The sink's defaults (5 x 100 ms) give
# up after at most 6.2 s and fail the task.
SINK_MAX_RETRIES = 9
SINK_RETRY_BACKOFF_MS = 1000
DEAD_LETTER_TOPIC = "es-sink-dead-letters"  # records the sinks could not write, with the error in headers

INDEX_TEMPLATE_NAME = "clickstream"
INDEX_TEMPLATE_PRIORITY = 500
RETENTION_POLICY_NAME = "clickstream-retention"  # the ILM policy of the index family of INDEX_TEMPLATE_NAME
TIME_FIELD = "EVENT_TS"
DATE_FIELDS = ("EVENT_TS", "SESSION_START")
# Stored as epoch millis by ksqlDB, read back by Grafana in the first format: Grafana 12.4's Elasticsearch
# raw-data queries fetch the time field as a doc value and accept only RFC 3339 text there.
DATE_FORMAT = "strict_date_optional_time||epoch_millis"

@dataclasses.dataclass(frozen=True)
class ConnectorSpec:
    """One connector: its Connect name, plain config and secret config (kept as secret Inputs)."""

    name: str
    config: Mapping[str, pulumi.Input[str]]
    secret_config: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)


def derived_tables(statements: Iterable[Statement]) -> tuple[str, ...]:
    """Every table the SQL derives (each ``CREATE TABLE ... AS SELECT``, in dependency order): each is sunk
    into its index, charted and backed by one datasource. A table no file declares any more takes its sink
    and datasource with it."""
    return tuple(s.name for s in statements if s.kind == "TABLE" and s.is_query)


def index_name(table: str) -> str:
    """The Elasticsearch index a table lands in (the sink lower-cases the topic name)."""
    return table.lower()


def resource_stem(table: str) -> str:
    """A table's part of the names the stack gives its index, sink, alias and datasource: its index name with
    ``-`` for ``_``."""
    return index_name(table).replace("_", "-")


def versioned_index_name(table: str, version: str) -> str:
    """The concrete index behind a table's alias ``index_name(table)``: ``<index>_v<version>``."""
    return f"{index_name(table)}_v{version}"


def sink_name(table: str) -> str:
    """The name of a table's sink in the stack (its resource), whatever build it reads."""
    return f"es-sink-{resource_stem(table)}"


def sink_connector_name(table: str, version: str) -> str:
    """The Connect name of the sink of one build of ``table``: a new build gets a new connector."""
    return f"{sink_name(table)}-v{version}"


def sink_group(connector: str, query_id: str) -> str:
    """The consumer group of a sink (``consumer.override.group.id``): Connect's own ``connect-<connector>``
    and a digest of the ksqlDB query that fills the topic, so each topic a query writes gets a group that
    reads it from its start. A table rebuilt with the same statements (its query failed, or it was dropped
    outside the stack) keeps its build's connector but has a new query and a new topic: the old group would
    restore its offsets on the new topic and skip its first records."""
    return f"connect-{connector}-q{hashlib.sha256(query_id.encode()).hexdigest()[:8]}"


def datasource_key(table: str) -> str:
    """The ``${DS_<TABLE>}`` placeholder name dashboards use for a table's datasource."""
    return f"DS_{table}"


def datasource_uid(table: str) -> str:
    """The Grafana datasource uid of a table's index (Grafana allows at most 40 characters)."""
    return f"es-{resource_stem(table)}"


def _datagen(topic: str, interval_ms: int, key_converter: str, **schema: str) -> ConnectorSpec:
    """A datagen source: ``schema`` is either ``quickstart=<name>`` or a custom ``schema.string`` (with
    ``schema.keyfield`` and single message transforms as needed).

    Connect creates the topic before the first record if it is missing (KIP-158 ``topic.creation.*``, on by
    default on a worker: ``topic.creation.enable`` defaults to true in Kafka's ``WorkerConfig``), with the
    broker's defaults: -1 partitions = its ``num.partitions`` and -1 replicas = its
    ``default.replication.factor`` (Kafka's ``TopicCreationConfig`` accepts -1 or at least 1 for both; Connect's
    ``TopicAdmin.NewTopicBuilder`` leaves -1 to the broker). Each platform's broker sets ``num.partitions`` to
    ``kafkaPartitions``, the ``PARTITIONS`` the ksqlDB source declares (ksqlDB refuses an existing topic with
    another count). Not ``kafkaPartitions`` itself: a change of it, which ksqlDB refuses, would then also
    rewrite the running sources in the same ``up``. An existing topic is left as it is.
    """
    return ConnectorSpec(name=f"datagen-{topic.replace('_', '-')}", config={
        "connector.class": DATAGEN_CLASS,
        "tasks.max": "1",
        "kafka.topic": topic,
        "topic.creation.default.partitions": "-1",
        "topic.creation.default.replication.factor": "-1",
        **schema,
        "max.interval": str(interval_ms),
        # < 1 = unlimited; datagen fails its task once a finite count is reached
        "iterations": "-1",
        "key.converter": key_converter,
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": "false",
    })


def datagen_sources(cfg: StackConfig) -> list[ConnectorSpec]:
    """The three datagen connectors; rates (max ms between records) come from the stack config.

    Clicks and users use the custom schemas of ``clickstream.content.generator`` (stable user <-> IP <-> city);
    the clicks' ``visitor`` record is flattened back into top-level ``userid``/``ip`` fields by Kafka
    Connect's built-in ``Flatten`` and ``ReplaceField`` transforms, so the topic keeps the quickstart's
    flat shape. The codes keep the ``clickstream_codes`` quickstart (already one record per code)."""
    return [
        _datagen("clickstream", cfg.clickstream_interval_ms, STRING_CONVERTER,
                 **{"schema.string": json.dumps(generator.clickstream_schema(), separators=(",", ":")),
                    "transforms": "flatten,rename",
                    "transforms.flatten.type": "org.apache.kafka.connect.transforms.Flatten$Value",
                    "transforms.flatten.delimiter": "_",
                    "transforms.rename.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
                    "transforms.rename.renames": "visitor_userid:userid,visitor_ip:ip"}),
        _datagen("clickstream_codes", cfg.codes_interval_ms, INTEGER_CONVERTER, quickstart="clickstream_codes"),
        _datagen("clickstream_users", cfg.users_interval_ms, INTEGER_CONVERTER,
                 **{"schema.string": json.dumps(generator.users_schema(), separators=(",", ":")),
                    "schema.keyfield": "user_id"}),
    ]


def elasticsearch_sink(table: str, index: pulumi.Input[str], group: pulumi.Input[str],
                       elasticsearch_url: pulumi.Input[str], *, username: str | None = None,
                       password: pulumi.Input[str] | None = None) -> ConnectorSpec:
    """The sink of one derived table's topic into its versioned index, reading in consumer group ``group``
    (:func:`sink_group`); basic auth when ``username`` is set.

    The index mirrors the table: document id = the record key read as ``KEY_ENCODING`` (``key.ignore``
    false: an update of a row replaces its document, versioned by the record's offset), a tombstone deletes
    the document (``behavior.on.null.values=delete``). It writes to ``index`` (the table's versioned index),
    which must exist (``external.resource.usage=INDEX``; the ``VersionedIndex`` resource makes it).
    It rides out an Elasticsearch restart (``SINK_MAX_RETRIES`` x ``SINK_RETRY_BACKOFF_MS``, see below) and
    sends what it cannot write to ``DEAD_LETTER_TOPIC`` instead of failing: records the converter cannot
    read (``errors.tolerance``) and documents Elasticsearch rejects (``behavior.on.malformed.documents``).
    """
    config: dict[str, pulumi.Input[str]] = {
        "connector.class": ELASTICSEARCH_SINK_CLASS,
        "tasks.max": "1",
        "topics": table,
        "consumer.override.group.id": group,
        "connection.url": elasticsearch_url,
        "external.resource.usage": "INDEX",
        "topic.to.external.resource.mapping": (f"{table}:{index}" if isinstance(index, str)
                                               else pulumi.Output.concat(table, ":", index)),
        "key.ignore": "false",
        "schema.ignore": "true",
        "behavior.on.null.values": "delete",
        "key.converter": STRING_CONVERTER,
        "key.converter.converter.encoding": KEY_ENCODING,
        "value.converter": JSON_CONVERTER,
        "value.converter.schemas.enable": "false",
        "max.retries": str(SINK_MAX_RETRIES),
        "retry.backoff.ms": str(SINK_RETRY_BACKOFF_MS),
        "behavior.on.malformed.documents": "warn",
        "errors.tolerance": "all",
        "errors.log.enable": "true",
        "errors.deadletterqueue.topic.name": DEAD_LETTER_TOPIC,
        # -1: created with the broker's default.replication.factor, which each platform sets per stack
        "errors.deadletterqueue.topic.replication.factor": "-1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }
    secret_config: dict[str, pulumi.Input[str]] = {}
    if username is not None:
        config["connection.username"] = username
        if password is not None:
            secret_config["connection.password"] = password
    return ConnectorSpec(name=sink_name(table), config=config,
                         secret_config=secret_config)


def elasticsearch_sinks(elasticsearch_url: pulumi.Input[str], indexes: Mapping[str, pulumi.Input[str]],
                        groups: Mapping[str, pulumi.Input[str]], *, username: str | None = None,
                        password: pulumi.Input[str] | None = None) -> list[ConnectorSpec]:
    """One sink per derived table (:func:`derived_tables`) of ``indexes`` (table -> the index of its build),
    each in its group of ``groups`` (table -> :func:`sink_group`)."""
    return [elasticsearch_sink(table, index, groups[table], elasticsearch_url, username=username, password=password)
            for table, index in indexes.items()]


def retention_policy(days: int) -> dict[str, Any]:
    """The ILM ``policy`` that deletes an index ``days`` after its creation."""
    return {"phases": {"hot": {"actions": {}}, "delete": {"min_age": f"{days}d", "actions": {"delete": {}}}},
            "_meta": {"managed_by": "clickstream-iac"}}


def index_template(tables: Iterable[str], replicas: int, lifecycle: str | None = None) -> dict[str, Any]:
    """The composable ``_index_template`` body for every build's index of ``tables`` (:func:`derived_tables`);
    ``lifecycle``: the ILM policy that manages the indices it creates (retention), if any."""
    settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": replicas}
    if lifecycle:
        settings["lifecycle"] = {"name": lifecycle}
    return {
        "index_patterns": [versioned_index_name(t, "*") for t in tables],
        "priority": INDEX_TEMPLATE_PRIORITY,
        "template": {
            "settings": settings,
            "mappings": {
                "dynamic_templates": [
                    {"strings_as_keyword": {"match_mapping_type": "string",
                                            "mapping": {"type": "keyword"}}},
                ],
                "properties": {f: {"type": "date", "format": DATE_FORMAT} for f in DATE_FIELDS},
            },
        },
        "_meta": {"managed_by": "clickstream-iac"},
    }
