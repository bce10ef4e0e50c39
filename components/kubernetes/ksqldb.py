"""ksqlDB on Kubernetes: a Deployment of ``cp-ksqldb-server`` (no maintained open chart exists).

All servers share one ``ksql.service.id``, so they form one ksqlDB cluster that splits the persistent
queries between them; each advertises its pod IP for pull queries forwarded between servers.
"""
from __future__ import annotations

from typing import Any

import pulumi

from components.base import ServiceComponent
from components.kubernetes.connect import ConnectService
from components.kubernetes.kafka import KafkaService
from components.kubernetes.platform import (
    Platform,
    anti_affinity,
    deployment,
    disruption_budget,
    http_probe,
    jvm_resources,
    labels,
    once_ready,
    service,
)
from components.service_settings import KSQLDB_PORT as PORT
from components.service_settings import ksqldb_settings


def ksqldb_env(platform: Platform, bootstrap: str, connect_url: str) -> list[dict[str, Any]]:
    plain = ksqldb_settings(platform.cfg, bootstrap, connect_url)
    pod_ip: dict[str, Any] = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    # $(POD_IP) is expanded by Kubernetes from the variable defined before it
    advertised = {"name": "KSQL_KSQL_ADVERTISED_LISTENER", "value": f"http://$(POD_IP):{PORT}"}
    return [pod_ip, advertised, *({"name": k, "value": v} for k, v in sorted(plain.items()))]


def pod_spec(platform: Platform, bootstrap: str, connect_url: str) -> dict[str, object]:
    cfg = platform.cfg
    return {
        "enableServiceLinks": False,
        "affinity": anti_affinity(labels(platform, "ksqldb")),
        "containers": [{
            "name": "ksqldb",
            "image": cfg.ksqldb_image,
            "ports": [{"name": "http", "containerPort": PORT}],
            "env": ksqldb_env(platform, bootstrap, connect_url),
            "resources": jvm_resources(cfg.ksqldb_heap),
            # ready = can serve statements; alive = the REST server answers (a Kafka outage makes
            # /healthcheck fail on every server, and restarting them all would not help)
            "readinessProbe": http_probe("/healthcheck", PORT, initial_delay=30),
            "livenessProbe": http_probe("/info", PORT, initial_delay=90, failure_threshold=10),
        }],
    }


class KsqldbService(ServiceComponent):
    """ksqlDB: ``internal_url`` is the in-cluster REST URL; ``admin_url`` from the admin access."""

    def __init__(self, name: str, platform: Platform, kafka: KafkaService, connect: ConnectService,
                 admin_url: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:kubernetes:Ksqldb", name, None, opts)
        self.deployment = deployment(platform, "ksqldb", platform.cfg.ksqldb_servers,
                                     pod_spec(platform, kafka.bootstrap, connect.url), self,
                                     depends_on=[kafka.cluster])
        self.service = service(platform, "ksqldb", PORT, self)
        self.pdb = disruption_budget(platform, "ksqldb", self)
        url = f"http://{platform.service_host(platform.name('ksqldb'))}:{PORT}"
        self.publish(once_ready(url, self.deployment, self.service),
                     once_ready(admin_url, self.deployment, self.service))
