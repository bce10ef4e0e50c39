"""The Kubernetes platform (stacks ``staging`` and ``prod``): operators and charts where maintained
ones exist (Strimzi for Kafka, ECK for Elasticsearch, the grafana-community chart), typed Deployments
where not (Kafka Connect, ksqlDB), all in the stack's namespace through one provider. The operators
are the stack's own or the cluster's shared ones (stack ``operators``, :mod:`.operators`).
"""
from __future__ import annotations

from components.base import Services
from components.kubernetes import access, network_policy
from components.kubernetes.connect import ConnectService
from components.kubernetes.elasticsearch import ElasticsearchService
from components.kubernetes.grafana import GrafanaService
from components.kubernetes.kafka import KafkaService
from components.kubernetes.ksqldb import KsqldbService
from components.kubernetes.operators import ClusterOperators
from components.kubernetes.platform import open_platform
from stackconfig import Secrets, StackConfig

__all__ = ["deploy", "deploy_operators"]


def deploy_operators(cfg: StackConfig) -> ClusterOperators:
    """Declare the shared operators in the stack's namespace of the configured cluster, which denies every
    connection but the API server's calls of ECK's webhook (:func:`.network_policy.restrict_operators`)."""
    platform = open_platform(cfg)
    operators = ClusterOperators("operators", platform)
    network_policy.restrict_operators(platform, operators)
    return operators


def deploy(cfg: StackConfig, secrets: Secrets) -> Services:
    """Declare the whole service stack in the configured cluster and namespace."""
    platform = open_platform(cfg)
    apis = access.targets(platform)
    url = {api: access.admin_url(platform, target) for api, target in apis.items()}
    kafka = KafkaService("kafka", platform)
    connect = ConnectService("connect", platform, kafka, url["connect"])
    ksqldb = KsqldbService("ksqldb", platform, kafka, connect, url["ksqldb"])
    elasticsearch = ElasticsearchService("elasticsearch", platform, secrets, url["elasticsearch"])
    grafana = GrafanaService("grafana", platform, secrets, url["grafana"])
    network_policy.restrict(platform, connect, ksqldb, elasticsearch, grafana)
    forwards = access.kafka_forward_commands(platform)  # Kafka is reached through port-forwards in both modes
    if cfg.admin_access == "ingress":
        owners = {"connect": connect, "ksqldb": ksqldb, "elasticsearch": elasticsearch, "grafana": grafana}
        restricted = access.allow_list_annotations(platform, connect)
        for api, target in apis.items():
            access.ingress(platform, target, owners[api], restricted if api in access.UNAUTHENTICATED else None)
    else:
        forwards = (*(access.port_forward_command(platform, t) for t in apis.values()), *forwards)
    return Services(kafka=kafka, connect=connect, ksqldb=ksqldb, elasticsearch=elasticsearch, grafana=grafana,
                    port_forward_commands=forwards)
