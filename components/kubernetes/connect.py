"""Kafka Connect on Kubernetes: a Deployment of ``cp-kafka-connect`` workers in one distributed group.

Why a typed Deployment and not Strimzi's KafkaConnect CR: Strimzi adds plugins by building a new image
and pushing it to a registry the cluster can pull from; here an init container installs the two
pinned plugins from Confluent Hub into a shared volume, so staging/prod run the same image and plugin
versions as the Docker dev stack and need no registry.
"""
from __future__ import annotations

from typing import Any

import pulumi

from components.base import ServiceComponent
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
from components.service_settings import CONNECT_PORT as PORT
from components.service_settings import PLUGIN_DIR, connect_settings, plugin_install_steps


def install_command(platform: Platform) -> list[str]:
    """The init container's command: install the plugins into the (fresh, emptyDir) plugin volume."""
    return ["bash", "-ec", " && ".join(plugin_install_steps(platform.cfg, skip_installed=False))]


def connect_env(platform: Platform, bootstrap: str) -> list[dict[str, Any]]:
    plain = connect_settings(platform.cfg, bootstrap)
    # each worker advertises its pod IP so the group can forward REST requests to the leader
    pod_ip: dict[str, Any] = {"name": "CONNECT_REST_ADVERTISED_HOST_NAME",
              "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    return [pod_ip, *({"name": k, "value": v} for k, v in sorted(plain.items()))]


def pod_spec(platform: Platform, bootstrap: str) -> dict[str, object]:
    cfg = platform.cfg
    plugins_volume = {"name": "plugins", "mountPath": PLUGIN_DIR}
    return {
        # a Service named like a Kafka env var (KAFKA_PORT...) would otherwise break Confluent images
        "enableServiceLinks": False,
        "affinity": anti_affinity(labels(platform, "connect")),
        "initContainers": [{"name": "install-plugins", "image": cfg.connect_image,
                            "command": install_command(platform), "volumeMounts": [plugins_volume],
                            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                          "limits": {"memory": "512Mi"}}}],
        "containers": [{
            "name": "connect",
            "image": cfg.connect_image,
            "ports": [{"name": "http", "containerPort": PORT}],
            "env": connect_env(platform, bootstrap),
            "volumeMounts": [plugins_volume],
            "resources": jvm_resources(cfg.connect_heap),
            "readinessProbe": http_probe("/", PORT, initial_delay=30),
            "livenessProbe": http_probe("/", PORT, initial_delay=120, failure_threshold=10),
        }],
        "volumes": [{"name": "plugins", "emptyDir": {}}],
    }


class ConnectService(ServiceComponent):
    """Kafka Connect: ``internal_url`` is the in-cluster REST URL; ``admin_url`` comes from the
    configured admin access (port-forward or ingress)."""

    def __init__(self, name: str, platform: Platform, kafka: KafkaService, admin_url: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:kubernetes:Connect", name, None, opts)
        self.deployment = deployment(platform, "connect", platform.cfg.connect_workers,
                                     pod_spec(platform, kafka.bootstrap), self, depends_on=[kafka.cluster])
        self.service = service(platform, "connect", PORT, self)
        self.pdb = disruption_budget(platform, "connect", self)
        self.url = f"http://{platform.service_host(platform.name('connect'))}:{PORT}"
        self.publish(once_ready(self.url, self.deployment, self.service),
                     once_ready(admin_url, self.deployment, self.service))
