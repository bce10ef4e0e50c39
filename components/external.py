"""The external platform: services that already run (managed services, a shared cluster), named by URL.

Nothing is created here: each service becomes a component that only publishes where it is, from the stack
config, so the application layer is deployed onto it exactly as onto the Docker or Kubernetes services.
``admin_url`` is where ``pulumi up`` and ``clickstream status`` reach the service's API; ``internal_url``
is where the other services reach it: the same URL, except Elasticsearch, which Kafka Connect's sinks and
Grafana's datasources may reach at another address (``elasticsearchInternalUrl``). The credentials are
not part of the services: the application layer takes them from the config secrets (``clickstream.stack.analytics``).
``revision`` stays constant: whether a service lost its state is not this project's to know.
"""
from __future__ import annotations

import pulumi

from components.base import ServiceComponent, Services
from stackconfig import StackConfig

__all__ = ["deploy"]


class ExternalService(ServiceComponent):
    """A service that runs elsewhere, at ``admin_url`` (and ``internal_url`` for the other services)."""

    def __init__(self, name: str, kind: str, admin_url: str, internal_url: str = "",
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"clickstream:external:{kind}", name, None, opts)
        self.publish(internal_url or admin_url, admin_url)


def deploy(cfg: StackConfig) -> Services:
    """The five services at the addresses the stack config names."""
    return Services(
        kafka=ExternalService("kafka", "Kafka", cfg.kafka_bootstrap),
        connect=ExternalService("connect", "Connect", cfg.connect_url),
        ksqldb=ExternalService("ksqldb", "Ksqldb", cfg.ksqldb_url),
        elasticsearch=ExternalService("elasticsearch", "Elasticsearch", cfg.elasticsearch_url,
                                      cfg.elasticsearch_internal_url),
        grafana=ExternalService("grafana", "Grafana", cfg.grafana_url),
    )
