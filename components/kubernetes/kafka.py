"""Kafka on Kubernetes: a KRaft cluster of one dual-role node pool, run by the Strimzi operator (the
stack's own or the cluster's shared one, see ``operators``).

Every node is both controller and broker (``kafkaBrokers`` of them); replication factor and min ISR
of all topics, internal ones included, come from the config. Strimzi itself creates the bootstrap
Service, the broker readiness/liveness probes and a PodDisruptionBudget (max one node unavailable).
"""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.base import ServiceComponent
from components.kubernetes import charts, operators
from components.kubernetes.platform import (
    Platform,
    anti_affinity,
    await_annotations,
    jvm_resources,
    labels,
    once_ready,
)

PORT = 9092
POOL = "dual-role"


def kafka_config(platform: Platform) -> dict[str, object]:
    """Broker settings: replication of user and internal topics from the stack config."""
    cfg = platform.cfg
    rf, isr = cfg.replication_factor, cfg.min_insync_replicas
    return {
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "num.partitions": cfg.kafka_partitions,
        "auto.create.topics.enable": True,
    }


def node_pool_spec(platform: Platform, cluster: str) -> dict[str, object]:
    cfg = platform.cfg
    volume = {"id": 0, "type": "persistent-claim", "size": cfg.kafka_storage, "deleteClaim": False,
              "kraftMetadata": "shared"}
    if cfg.storage_class:
        volume["class"] = cfg.storage_class
    pod_labels = {"strimzi.io/cluster": cluster, "strimzi.io/pool-name": POOL}
    return {
        "replicas": cfg.kafka_brokers,
        "roles": ["controller", "broker"],
        "storage": {"type": "jbod", "volumes": [volume]},
        "resources": jvm_resources(cfg.kafka_heap),
        "jvmOptions": {"-Xms": cfg.kafka_heap, "-Xmx": cfg.kafka_heap},
        "template": {"pod": {"affinity": anti_affinity(pod_labels)}},
    }


def listener_peers(platform: Platform) -> list[dict[str, object]]:
    """Who may connect to the brokers' listener: the Connect workers and ksqlDB servers. Strimzi writes
    them into the Kafka pods' NetworkPolicy (with its own rules for its operator and the brokers'
    replication and controller ports); without peers a listener is open to every pod."""
    return [{"podSelector": {"matchLabels": labels(platform, component)}} for component in ("connect", "ksqldb")]


def kafka_spec(platform: Platform) -> dict[str, object]:
    return {"kafka": {
        "version": charts.STRIMZI_KAFKA_VERSION,
        "listeners": [{"name": "plain", "port": PORT, "type": "internal", "tls": False,
                       "networkPolicyPeers": listener_peers(platform)}],
        "config": kafka_config(platform),
    }}


class KafkaService(ServiceComponent):
    """Kafka: ``internal_url`` and ``admin_url`` are both the in-cluster bootstrap ``host:port`` (the
    application layer only speaks HTTP, so nothing outside the cluster needs the brokers)."""

    def __init__(self, name: str, platform: Platform, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:kubernetes:Kafka", name, None, opts)
        cluster = platform.name("kafka")
        # the stack's own operator, or the cluster's shared one (stack `operators`)
        self.operator = (operators.strimzi_release(platform, self, cluster_wide=False)
                         if platform.cfg.install_operators else None)
        operator = [self.operator] if self.operator else []
        meta = {"namespace": platform.ns, "labels": {"strimzi.io/cluster": cluster}}
        self.node_pool = k8s.apiextensions.CustomResource(
            f"{cluster}-{POOL}", api_version=charts.STRIMZI_API, kind="KafkaNodePool",
            metadata={"name": POOL, **meta}, spec=node_pool_spec(platform, cluster),
            opts=platform.opts(self, stateful=True, depends_on=operator))
        self.cluster = k8s.apiextensions.CustomResource(
            cluster, api_version=charts.STRIMZI_API, kind="Kafka",
            metadata={"name": cluster, "namespace": platform.ns,
                      "annotations": await_annotations("condition=Ready")},
            spec=kafka_spec(platform),
            opts=platform.opts(self, stateful=True, depends_on=[*operator, self.node_pool]))
        self.bootstrap = f"{platform.service_host(cluster + '-kafka-bootstrap')}:{PORT}"
        ready = once_ready(self.bootstrap, self.cluster)
        self.publish(ready, ready)
