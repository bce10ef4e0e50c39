"""The connector configs and the index template of the analytics (content only, no resources).

* Datagen source connectors write the three JSON topics the ksqlDB sources read (``ksql/01_sources.sql``).
  Codes and users are keyed by an ``int`` field (``code``, ``user_id``), so their key converter is the
  ``IntegerConverter`` (ksqlDB ``KAFKA`` INT keys); clicks have no key.
* One Elasticsearch sink connector per derived ksqlDB table: index = topic name lower-cased (what the
  sink 15.x does itself), keys ignored (document id = topic+partition+offset, so every update of a
  window is a point in time), schemaless JSON, ``null`` values (tombstones of merged sessions and of
  rows failing a HAVING) dropped.
* The composable index template maps ``EVENT_TS``/``SESSION_START`` as ``date`` (accepting epoch millis,
  returning ISO 8601) and every string as ``keyword``, for exactly our indexes, above the built-in
  templates' priority 100.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, Mapping

import pulumi

from clickstream import generator
from providers.ksqldb.parser import Statement
from stackconfig import StackConfig

DATAGEN_CLASS = "io.confluent.kafka.connect.datagen.DatagenConnector"
ELASTICSEARCH_SINK_CLASS = "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
INTEGER_CONVERTER = "org.apache.kafka.connect.converters.IntegerConverter"
BYTES_CONVERTER = "org.apache.kafka.connect.converters.ByteArrayConverter"

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


def datasource_key(table: str) -> str:
    """The ``${DS_<TABLE>}`` placeholder name dashboards use for a table's datasource."""
    return f"DS_{table}"


def datasource_uid(table: str) -> str:
    """The Grafana datasource uid of a table's index (Grafana allows at most 40 characters)."""
    return f"es-{index_name(table).replace('_', '-')}"


def _datagen(topic: str, interval_ms: int, key_converter: str, **schema: str) -> ConnectorSpec:
    """A datagen source: ``schema`` is either ``quickstart=<name>`` or a custom ``schema.string`` (with
    ``schema.keyfield`` and single message transforms as needed)."""
    return ConnectorSpec(name=f"datagen-{topic.replace('_', '-')}", config={
        "connector.class": DATAGEN_CLASS,
        "tasks.max": "1",
        "kafka.topic": topic,
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

    Clicks and users use the custom schemas of ``clickstream.generator`` (stable user <-> IP <-> city);
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


def elasticsearch_sink(table: str, elasticsearch_url: pulumi.Input[str], *, username: str | None = None,
                       password: pulumi.Input[str] | None = None) -> ConnectorSpec:
    """The sink of one derived table's topic into its index; basic auth when ``username`` is set.

    It rides out an Elasticsearch restart (``SINK_MAX_RETRIES`` x ``SINK_RETRY_BACKOFF_MS``, see below) and
    sends what it cannot write to ``DEAD_LETTER_TOPIC`` instead of failing: records the converter cannot
    read (``errors.tolerance``) and documents Elasticsearch rejects (``behavior.on.malformed.documents``).
    """
    config: dict[str, pulumi.Input[str]] = {
        "connector.class": ELASTICSEARCH_SINK_CLASS,
        "tasks.max": "1",
        "topics": table,
        "connection.url": elasticsearch_url,
        "key.ignore": "true",
        "schema.ignore": "true",
        "behavior.on.null.values": "ignore",
        # windowed ksqlDB keys are binary; the key is ignored, so pass its bytes through untouched
        "key.converter": BYTES_CONVERTER,
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
    return ConnectorSpec(name=f"es-sink-{index_name(table).replace('_', '-')}", config=config,
                         secret_config=secret_config)


def elasticsearch_sinks(tables: Iterable[str], elasticsearch_url: pulumi.Input[str], *, username: str | None = None,
                        password: pulumi.Input[str] | None = None) -> list[ConnectorSpec]:
    """One sink per derived table (:func:`derived_tables`)."""
    return [elasticsearch_sink(t, elasticsearch_url, username=username, password=password) for t in tables]


def retention_policy(days: int) -> dict[str, Any]:
    """The ILM ``policy`` that deletes an index ``days`` after its creation."""
    return {"phases": {"hot": {"actions": {}}, "delete": {"min_age": f"{days}d", "actions": {"delete": {}}}},
            "_meta": {"managed_by": "clickstream-iac"}}


def index_template(tables: Iterable[str], replicas: int, lifecycle: str | None = None) -> dict[str, Any]:
    """The composable ``_index_template`` body for the indexes of ``tables`` (:func:`derived_tables`);
    ``lifecycle``: the ILM policy that manages the indices it creates (retention), if any."""
    settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": replicas}
    if lifecycle:
        settings["lifecycle"] = {"name": lifecycle}
    return {
        "index_patterns": [index_name(t) for t in tables],
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
