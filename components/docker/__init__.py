"""The Docker platform (stack ``dev``): every service as a container on one user-defined network.

Order through Pulumi dependencies: Kafka -> Connect -> ksqlDB; Elasticsearch and Grafana start in
parallel. Each container has a healthcheck and ``pulumi up`` waits for it to report healthy.
"""
from __future__ import annotations

from components.base import Services
from components.docker.connect import ConnectService
from components.docker.elasticsearch import ElasticsearchService
from components.docker.grafana import GrafanaService
from components.docker.kafka import KafkaService
from components.docker.ksqldb import KsqldbService
from components.docker.network import create_network
from stackconfig import Secrets, StackConfig

__all__ = ["deploy"]


def deploy(cfg: StackConfig, secrets: Secrets) -> Services:
    """Declare the whole service stack on the local Docker engine."""
    network = create_network(cfg)
    kafka = KafkaService("kafka", cfg, network)
    connect = ConnectService("connect", cfg, network, kafka)
    ksqldb = KsqldbService("ksqldb", cfg, network, kafka, connect)
    elasticsearch = ElasticsearchService("elasticsearch", cfg, secrets, network)
    grafana = GrafanaService("grafana", cfg, secrets, network)
    return Services(kafka=kafka, connect=connect, ksqldb=ksqldb, elasticsearch=elasticsearch, grafana=grafana)
