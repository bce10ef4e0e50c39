"""What the services need, whatever the platform runs them on.

The environment of ``cp-kafka-connect`` and ``cp-ksqldb-server`` (their ``CONNECT_*`` / ``KSQL_*``
variables), the Confluent Hub plugins the pipeline installs, and JVM heap options. The Docker and Kubernetes
components add only what is theirs: how a worker advertises itself, ports on the host, probes, replicas.
"""
from __future__ import annotations

import shlex

from stackconfig import StackConfig

CONNECT_PORT = 8083
KSQLDB_PORT = 8088
PLUGIN_DIR = "/usr/share/confluent-hub-components"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


def heap_opts(size: str) -> str:
    """JVM options fixing the heap to ``size`` (minimum = maximum, no resizing pauses)."""
    return f"-Xms{size} -Xmx{size}"


def connect_plugins(cfg: StackConfig) -> list[str]:
    """Confluent Hub ids (``owner/name:version``) of the plugins the pipeline needs."""
    return [f"confluentinc/kafka-connect-datagen:{cfg.datagen_version}",
            f"confluentinc/kafka-connect-elasticsearch:{cfg.elasticsearch_sink_version}"]


def plugin_install_steps(cfg: StackConfig, *, skip_installed: bool) -> list[str]:
    """Shell steps installing each plugin into PLUGIN_DIR; ``skip_installed``: not when already there."""
    steps = []
    for plugin in connect_plugins(cfg):
        install = f"confluent-hub install --no-prompt --component-dir {PLUGIN_DIR} {shlex.quote(plugin)}"
        directory = f"{PLUGIN_DIR}/{plugin.split(':')[0].replace('/', '-')}"
        steps.append(f"[ -d {directory} ] || {install}" if skip_installed else install)
    return steps


def connect_settings(cfg: StackConfig, bootstrap: str) -> dict[str, str]:
    """A distributed Connect worker of the pipeline's group (advertised host name excluded)."""
    prefix, rf = cfg.name_prefix, str(cfg.replication_factor)
    return {
        "CONNECT_BOOTSTRAP_SERVERS": bootstrap,
        "CONNECT_LISTENERS": f"http://0.0.0.0:{CONNECT_PORT}",
        "CONNECT_GROUP_ID": f"{prefix}-connect",
        "CONNECT_CONFIG_STORAGE_TOPIC": f"_{prefix}-connect-configs",
        "CONNECT_OFFSET_STORAGE_TOPIC": f"_{prefix}-connect-offsets",
        "CONNECT_STATUS_STORAGE_TOPIC": f"_{prefix}-connect-status",
        "CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR": rf,
        "CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR": rf,
        "CONNECT_STATUS_STORAGE_REPLICATION_FACTOR": rf,
        # the datagen quickstarts produce schemaless JSON; connectors may override per connector
        "CONNECT_KEY_CONVERTER": JSON_CONVERTER,
        "CONNECT_KEY_CONVERTER_SCHEMAS_ENABLE": "false",
        "CONNECT_VALUE_CONVERTER": JSON_CONVERTER,
        "CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE": "false",
        "CONNECT_PLUGIN_PATH": f"/usr/share/java,{PLUGIN_DIR}",
        "KAFKA_HEAP_OPTS": heap_opts(cfg.connect_heap),
    }


def ksqldb_settings(cfg: StackConfig, bootstrap: str, connect_url: str) -> dict[str, str]:
    """A ksqlDB server of the pipeline's cluster (one service id), with every topic it creates replicated.

    The topics of ``CREATE ... AS SELECT`` get the broker's ``default.replication.factor`` (ksqlDB has no
    ``ksql.sink.replicas`` any more), which each platform sets to ``replicationFactor``.
    """
    rf = str(cfg.replication_factor)
    return {
        "KSQL_BOOTSTRAP_SERVERS": bootstrap,
        "KSQL_LISTENERS": f"http://0.0.0.0:{KSQLDB_PORT}",
        "KSQL_KSQL_SERVICE_ID": f"{cfg.name_prefix}_ksql_",
        "KSQL_KSQL_CONNECT_URL": connect_url,
        "KSQL_KSQL_INTERNAL_TOPIC_REPLICAS": rf,
        "KSQL_KSQL_INTERNAL_TOPIC_MIN_INSYNC_REPLICAS": str(cfg.min_insync_replicas),
        "KSQL_KSQL_STREAMS_REPLICATION_FACTOR": rf,
        "KSQL_KSQL_LOGGING_PROCESSING_TOPIC_REPLICATION_FACTOR": rf,
        "KSQL_KSQL_LOGGING_PROCESSING_TOPIC_AUTO_CREATE": "true",
        "KSQL_KSQL_LOGGING_PROCESSING_STREAM_AUTO_CREATE": "true",
        "KSQL_HEAP_OPTS": heap_opts(cfg.ksqldb_heap),
    }
