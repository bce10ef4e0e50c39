"""Kafka Connect on Docker: one distributed-mode cp-kafka-connect worker with the datagen source and
Elasticsearch sink plugins installed from Confluent Hub when the container first starts.

The versions are part of the container command, so changing one replaces the container (whose
filesystem, and so the installed plugins, is fresh); a restart of the same container skips the
download because the plugin directories already exist.
"""
from __future__ import annotations

import shlex

import pulumi
import pulumi_docker as docker

from clickstream.config import StackConfig
from components.base import ServiceComponent
from components.docker.common import Health, Spec, container_name, env_list, heap_opts, run_container
from components.docker.kafka import KafkaService

PORT = 8083
PLUGIN_DIR = "/usr/share/confluent-hub-components"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


def plugins(cfg: StackConfig) -> list[str]:
    """Confluent Hub ids (``owner/name:version``) of the plugins the pipeline needs."""
    return [f"confluentinc/kafka-connect-datagen:{cfg.datagen_version}",
            f"confluentinc/kafka-connect-elasticsearch:{cfg.elasticsearch_sink_version}"]


def install_and_run_command(cfg: StackConfig) -> list[str]:
    """Install each missing plugin (stop on the first failure), then exec the image's own entry point."""
    steps = ["set -euo pipefail"]
    for plugin in plugins(cfg):
        directory = f"{PLUGIN_DIR}/{plugin.split(':')[0].replace('/', '-')}"
        steps.append(f"[ -d {directory} ] || confluent-hub install --no-prompt "
                     f"--component-dir {PLUGIN_DIR} {shlex.quote(plugin)}")
    steps.append("exec /etc/confluent/docker/run")
    return ["bash", "-c", "; ".join(steps)]


def connect_env(cfg: StackConfig, bootstrap: str, host: str) -> dict[str, str]:
    prefix = cfg.name_prefix
    rf = str(cfg.replication_factor)
    return {
        "CONNECT_BOOTSTRAP_SERVERS": bootstrap,
        "CONNECT_LISTENERS": f"http://0.0.0.0:{PORT}",
        "CONNECT_REST_ADVERTISED_HOST_NAME": host,
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
                          start_period="120s", timeout_s=600),
        )
        self.container = run_container(cfg, spec, network, parent=self, depends_on=[kafka.container]).container
        self.publish(self.container.name.apply(lambda h: f"http://{h}:{PORT}"),
                     f"http://localhost:{cfg.connect_port}")
