"""Elasticsearch on Docker: one node (``discovery.type=single-node``) with its data on a named volume.

``elasticsearchSecurity`` on Docker means authentication: the built-in ``elastic`` user with the
``elasticsearchPassword`` secret. HTTP stays plain on the private network and the loopback port (TLS is
the Kubernetes platform's job), so the URLs stay ``http://``. The password reaches the container only as
a file (``ELASTIC_PASSWORD_FILE``, which the image's entry point reads and the Elasticsearch docker docs
describe), never in its configuration; the healthcheck reads the same file.
"""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.base import ServiceComponent
from components.docker.common import (
    Health,
    SecretFile,
    Spec,
    container_name,
    env_list,
    once_healthy,
    run_container,
    shell_check,
)
from components.service_settings import heap_opts
from stackconfig import Secrets, StackConfig

PORT = 9200
DATA_PATH = "/usr/share/elasticsearch/data"
USER = "elastic"
HEALTH_PATH = "_cluster/health?wait_for_status=yellow&timeout=5s"
PASSWORD_FILE = "/run/secrets/elastic-password"
IMAGE_UID = 1000  # the user the Elasticsearch image runs as


def elasticsearch_env(cfg: StackConfig) -> dict[str, str]:
    env = {
        "cluster.name": cfg.name_prefix,
        "node.name": container_name(cfg, "elasticsearch"),
        "discovery.type": "single-node",
        "xpack.security.enabled": str(cfg.elasticsearch_security).lower(),
        "ES_JAVA_OPTS": heap_opts(cfg.elasticsearch_heap),
    }
    if cfg.elasticsearch_security:
        # explicit TLS settings switch off the image's security auto-configuration (self-signed TLS)
        env["xpack.security.http.ssl.enabled"] = "false"
        env["xpack.security.transport.ssl.enabled"] = "false"
        env["ELASTIC_PASSWORD_FILE"] = PASSWORD_FILE
    return env


def healthcheck(cfg: StackConfig) -> list[str]:
    credentials = f'-u "{USER}:$(cat {PASSWORD_FILE})" ' if cfg.elasticsearch_security else ""
    return shell_check(f"curl -fsS -o /dev/null {credentials}'http://localhost:{PORT}/{HEALTH_PATH}'")


class ElasticsearchService(ServiceComponent):
    """Elasticsearch: URLs are ``http://host:port``."""

    def __init__(self, name: str, cfg: StackConfig, secrets: Secrets, network: docker.Network,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:docker:Elasticsearch", name, None, opts)
        password = ([SecretFile(PASSWORD_FILE, secrets.elasticsearch_password, IMAGE_UID)]
                    if cfg.elasticsearch_security else [])
        spec = Spec(
            service="elasticsearch",
            image=cfg.elasticsearch_image,
            env=env_list(elasticsearch_env(cfg)),
            secret_files=password,
            ports={PORT: cfg.elasticsearch_port},
            data_path=DATA_PATH,
            health=Health(test=healthcheck(cfg), start_period=60, wait_timeout=300),
        )
        deployed = run_container(cfg, spec, network, parent=self)
        self.container = deployed.container
        self.volume = deployed.volume
        self.publish(self.container.name.apply(lambda h: f"http://{h}:{PORT}"),
                     once_healthy(f"http://localhost:{cfg.elasticsearch_port}", self.container))
