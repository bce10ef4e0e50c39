"""Kafka on Kubernetes: a KRaft cluster of one dual-role node pool, run by the Strimzi operator (the
stack's own or the cluster's shared one, see ``operators``).

Every node is both controller and broker (``kafkaBrokers`` of them); replication factor and min ISR
of all topics, internal ones included, come from the config. Strimzi itself creates the bootstrap
Service, the broker readiness/liveness probes and a PodDisruptionBudget (max one node unavailable).

Two listeners, both plain (no TLS) and ``internal``: ``plain`` (9092) for the services in the cluster, and
``forward`` (9094) for ``pulumi up`` outside it, through one ``kubectl port-forward`` per broker pod: broker
``i`` advertises ``localhost:<kafkaHostPort + i>``, the local end of its forward, so a client that
bootstraps from any forward is sent to the others (Strimzi 1.0.1: the listener's
``configuration.brokers[]`` ``broker``/``advertisedHost``/``advertisedPort`` override what a broker
advertises for that listener, for every listener type — ``GenericKafkaListenerConfigurationBroker``'s
reference page and ``ListenersUtils.brokerAdvertisedHost``/``advertisedPortFromOverrideOrParameter``,
used for ``internal`` listeners by ``KafkaListenersReconciler.internalServicesReady``). No pod may use
``forward`` (:data:`NO_POD`); port-forwarded connections never pass a NetworkPolicy
(:mod:`.network_policy`).
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
FORWARD_LISTENER = "forward"
# the port of the listener `pulumi up` reaches through port-forwards (Strimzi refuses ports below 9092,
# 9404 and 9999, and each listener needs its own: ListenersValidator)
FORWARD_PORT = 9094
# A NetworkPolicy peer that selects no pod: a pod would need the label both set and unset. Strimzi writes
# a listener's `networkPolicyPeers` as the `from` of its port's rule, and an empty or missing list would
# admit every pod of the cluster (KafkaCluster.generateNetworkPolicy); port-forwards need no peer at all.
NO_POD = {"podSelector": {"matchExpressions": [{"key": "strimzi.io/cluster", "operator": "Exists"},
                                               {"key": "strimzi.io/cluster", "operator": "DoesNotExist"}]}}


def kafka_config(platform: Platform) -> dict[str, object]:
    """Broker settings: replication of user and internal topics from the stack config, and no topic
    auto-creation: whoever writes a topic creates it (docs/architecture.md, "Kafka topics")."""
    cfg = platform.cfg
    rf, isr = cfg.replication_factor, cfg.min_insync_replicas
    return {
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "offsets.topic.replication.factor": rf,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "num.partitions": cfg.kafka_partitions,
        "auto.create.topics.enable": False,
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


def node_ids(platform: Platform) -> range:
    """The node ids of the pool's brokers. Strimzi 1.0.1 (``NodeIdAssignor``) numbers a new pool's nodes from
    0 up, gives a scale-up the lowest free ids and takes a scale-down's from the highest, unless the pool's
    ``strimzi.io/next-node-ids``/``remove-node-ids`` annotations say otherwise (this project sets neither):
    the one pool's nodes are always 0 .. kafkaBrokers-1."""
    return range(platform.cfg.kafka_brokers)


def pod_name(platform: Platform, node: int) -> str:
    """The pod of a node: ``<Kafka name>-<pool name>-<node id>`` (Strimzi 1.0.1: ``KafkaPool.componentName``
    and ``KafkaPool.nodeRef``)."""
    return f"{platform.name('kafka')}-{POOL}-{node}"


def local_port(platform: Platform, node: int) -> int:
    """The port where ``pulumi up`` reaches a broker: ``kafkaHostPort`` + its node id."""
    return platform.cfg.kafka_host_port + node


def forward_listener(platform: Platform) -> dict[str, object]:
    """The listener reached through ``kubectl port-forward``: each broker advertises its forward's local end."""
    brokers = [{"broker": node, "advertisedHost": "localhost", "advertisedPort": local_port(platform, node)}
               for node in node_ids(platform)]
    return {"name": FORWARD_LISTENER, "port": FORWARD_PORT, "type": "internal", "tls": False,
            "configuration": {"brokers": brokers}, "networkPolicyPeers": [NO_POD]}


def kafka_spec(platform: Platform) -> dict[str, object]:
    return {"kafka": {
        "version": charts.STRIMZI_KAFKA_VERSION,
        "listeners": [{"name": "plain", "port": PORT, "type": "internal", "tls": False,
                       "networkPolicyPeers": listener_peers(platform)},
                      forward_listener(platform)],
        "config": kafka_config(platform),
    }}


class KafkaService(ServiceComponent):
    """Kafka: ``internal_url`` is the in-cluster bootstrap ``host:port`` (the services), ``admin_url`` the
    local ends of the brokers' port-forwards, ``localhost:<port>,...`` (``pulumi up``; the commands come from
    :func:`.access.kafka_forward_commands`)."""

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
        forwarded = ",".join(f"localhost:{local_port(platform, node)}" for node in node_ids(platform))
        self.publish(once_ready(self.bootstrap, self.cluster), once_ready(forwarded, self.cluster))
