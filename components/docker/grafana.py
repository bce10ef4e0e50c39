"""Grafana on Docker: admin credentials from the stack config (the password is a secret), sign-up off.

The password reaches the container only as a file, named by ``GF_SECURITY_ADMIN_PASSWORD__FILE`` (Grafana
reads any setting from the file a ``__FILE`` variable names), never in its configuration.

No volume: everything in Grafana (datasources, dashboards) is declared by the application layer, and the
container id is published as the service ``revision`` so a re-created (empty) Grafana gets it all again.
"""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.base import ServiceComponent
from components.docker.common import Health, SecretFile, Spec, env_list, once_healthy, run_container
from stackconfig import Secrets, StackConfig

PORT = 3000
PASSWORD_FILE = "/run/secrets/grafana-admin-password"
IMAGE_UID = 472  # the user the Grafana image runs as


def grafana_env(cfg: StackConfig) -> dict[str, str]:
    """Every setting; the admin password is read from PASSWORD_FILE."""
    return {
        "GF_SECURITY_ADMIN_USER": cfg.grafana_admin_user,
        "GF_SECURITY_ADMIN_PASSWORD__FILE": PASSWORD_FILE,
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_AUTH_ANONYMOUS_ENABLED": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
        "GF_SERVER_HTTP_PORT": str(PORT),
    }


class GrafanaService(ServiceComponent):
    """Grafana: URLs are ``http://host:port``."""

    def __init__(self, name: str, cfg: StackConfig, secrets: Secrets, network: docker.Network,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:docker:Grafana", name, None, opts)
        spec = Spec(
            service="grafana",
            image=cfg.grafana_image,
            env=env_list(grafana_env(cfg)),
            secret_files=[SecretFile(PASSWORD_FILE, secrets.grafana_admin_password, IMAGE_UID)],
            ports={PORT: cfg.grafana_port},
            health=Health(test=["CMD", "wget", "-q", "-O", "/dev/null", f"http://localhost:{PORT}/api/health"],
                          start_period=30, wait_timeout=180),
        )
        self.container = run_container(cfg, spec, network, parent=self).container
        self.publish(self.container.name.apply(lambda h: f"http://{h}:{PORT}"),
                     once_healthy(f"http://localhost:{cfg.grafana_port}", self.container), revision=self.container.id)
