"""Kafka on Docker: one cp-kafka node in KRaft mode, broker and controller combined.

Listeners: INTERNAL (other containers, ``<prefix>-kafka:29092``), EXTERNAL (the host,
advertised as ``localhost:<kafkaHostPort>``) and CONTROLLER (the KRaft quorum, never advertised).
The cp-kafka image exits when KAFKA_PORT/KAFKA_HOST/KAFKA_ADVERTISED_PORT/KAFKA_ADVERTISED_HOST are
set, so none of them are.
"""
from __future__ import annotations

import base64
import uuid

import pulumi
import pulumi_docker as docker

from components.base import ServiceComponent
from components.docker.common import Health, Spec, container_name, env_list, once_healthy, run_container
from components.service_settings import heap_opts
from stackconfig import StackConfig

INTERNAL_PORT = 29092
EXTERNAL_PORT = 9092
CONTROLLER_PORT = 9093
NODE_ID = 1
DATA_PATH = "/var/lib/kafka/data"
# The healthcheck starts a JVM of its own every interval. Without these it would inherit the broker's
# KAFKA_HEAP_OPTS (kafka-run-class passes them to every tool) and reserve the broker's heap each time.
HEALTHCHECK_JVM = {"KAFKA_HEAP_OPTS": "-Xms16m -Xmx64m", "KAFKA_OPTS": ""}


def cluster_id(name_prefix: str) -> str:
    """A valid KRaft cluster id (16 bytes, URL-safe base64 without padding), stable per name prefix."""
    raw = uuid.uuid5(uuid.NAMESPACE_DNS, f"{name_prefix}.kafka.clickstream").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def kafka_env(cfg: StackConfig) -> dict[str, str]:
    """The broker's settings: replication and sizing from the stack config, and no topic auto-creation:
    whoever writes a topic creates it (docs/architecture.md, "Kafka topics")."""
    host = container_name(cfg, "kafka")
    return {
        "CLUSTER_ID": cluster_id(cfg.name_prefix),
        "KAFKA_NODE_ID": str(NODE_ID),
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"{NODE_ID}@{host}:{CONTROLLER_PORT}",
        "KAFKA_LISTENERS": (f"INTERNAL://0.0.0.0:{INTERNAL_PORT},EXTERNAL://0.0.0.0:{EXTERNAL_PORT},"
                            f"CONTROLLER://{host}:{CONTROLLER_PORT}"),
        "KAFKA_ADVERTISED_LISTENERS": (f"INTERNAL://{host}:{INTERNAL_PORT},"
                                       f"EXTERNAL://localhost:{cfg.kafka_host_port}"),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LOG_DIRS": DATA_PATH,
        "KAFKA_NUM_PARTITIONS": str(cfg.kafka_partitions),
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": str(cfg.replication_factor),
        "KAFKA_MIN_INSYNC_REPLICAS": str(cfg.min_insync_replicas),
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": str(cfg.replication_factor),
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": str(cfg.replication_factor),
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": str(cfg.min_insync_replicas),
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": str(cfg.replication_factor),
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": str(cfg.min_insync_replicas),
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_HEAP_OPTS": heap_opts(cfg.kafka_heap),
    }


def healthcheck() -> list[str]:
    """Ask the broker for its API versions on the internal listener, from a small JVM."""
    return ["CMD", "env", *(f"{key}={value}" for key, value in HEALTHCHECK_JVM.items()),
            "kafka-broker-api-versions", "--bootstrap-server", f"localhost:{INTERNAL_PORT}"]


class KafkaService(ServiceComponent):
    """Kafka: ``internal_url`` / ``admin_url`` are bootstrap strings (``host:port``)."""

    def __init__(self, name: str, cfg: StackConfig, network: docker.Network,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:docker:Kafka", name, None, opts)
        spec = Spec(
            service="kafka",
            image=cfg.kafka_image,
            env=env_list(kafka_env(cfg)),
            ports={EXTERNAL_PORT: cfg.kafka_host_port},
            data_path=DATA_PATH,
            health=Health(test=healthcheck(), start_period=30, timeout=20, wait_timeout=180),
        )
        deployed = run_container(cfg, spec, network, parent=self)
        self.container = deployed.container
        self.volume = deployed.volume
        self.publish(self.container.name.apply(lambda host: f"{host}:{INTERNAL_PORT}"),
                     once_healthy(f"localhost:{cfg.kafka_host_port}", self.container))
