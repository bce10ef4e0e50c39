"""Kafka Connect on Docker: one distributed-mode cp-kafka-connect worker with the datagen source and
Elasticsearch sink plugins installed from Confluent Hub when the container first starts.

The versions are part of the container command, so changing one replaces the container (whose
filesystem, and so the installed plugins, is fresh); a restart of the same container skips the
download because the plugin directories already exist.
"""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.base import ServiceComponent
from components.docker.common import Health, Spec, container_name, env_list, once_healthy, run_container
from components.docker.kafka import KafkaService
from components.service_settings import CONNECT_PORT as PORT
from components.service_settings import connect_settings, plugin_install_steps
from stackconfig import StackConfig


def install_and_run_command(cfg: StackConfig) -> list[str]:
    """Install each missing plugin (stop on the first failure), then exec the image's own entry point."""
    steps = ["set -euo pipefail", *plugin_install_steps(cfg, skip_installed=True), "exec /etc/confluent/docker/run"]
    return ["bash", "-c", "; ".join(steps)]


def connect_env(cfg: StackConfig, bootstrap: str, host: str) -> dict[str, str]:
    """The worker's settings; it advertises its container name to the other workers."""
    return {**connect_settings(cfg, bootstrap), "CONNECT_REST_ADVERTISED_HOST_NAME": host}


class ConnectService(ServiceComponent):
    """Kafka Connect: URLs are ``http://host:port`` of the REST API."""

    def __init__(self, name: str, cfg: StackConfig, network: docker.Network, kafka: KafkaService,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:docker:Connect", name, None, opts)
        host = container_name(cfg, "connect")
        env = kafka.internal_url.apply(lambda bootstrap: env_list(connect_env(cfg, bootstrap, host)))
        spec = Spec(
            service="connect",
            image=cfg.connect_image,
            env=env,
            ports={PORT: cfg.connect_port},
            command=install_and_run_command(cfg),
            # the first start downloads both plugins before the worker starts
            health=Health(test=["CMD", "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{PORT}/connectors"],
                          start_period=120, wait_timeout=600),
        )
        self.container = run_container(cfg, spec, network, parent=self, depends_on=[kafka.container]).container
        self.publish(self.container.name.apply(lambda h: f"http://{h}:{PORT}"),
                     once_healthy(f"http://localhost:{cfg.connect_port}", self.container))
