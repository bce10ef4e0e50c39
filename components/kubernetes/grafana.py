"""Grafana on Kubernetes: the grafana-community chart with its database (SQLite) on a PVC.

The admin user and password come from a Secret the chart references (never from Helm values).
"""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from clickstream.config import Secrets
from components.base import ServiceComponent
from components.kubernetes import charts
from components.kubernetes.platform import Platform, helm_release, once_ready

PORT = 3000
USER_KEY, PASSWORD_KEY = "admin-user", "admin-password"


def split_image(image: str) -> dict[str, str]:
    """The chart's ``image`` values (registry, repository, tag) of a pinned image reference."""
    name, tag = image.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return {"registry": first, "repository": rest, "tag": tag}
    return {"registry": "docker.io", "repository": name, "tag": tag}


def grafana_values(platform: Platform, admin_secret: str) -> dict[str, object]:
    """Per-stack overrides of ``helm-values/grafana.yaml``."""
    cfg = platform.cfg
    persistence: dict[str, object] = {"size": cfg.grafana_storage}
    if cfg.storage_class:
        persistence["storageClassName"] = cfg.storage_class
    if cfg.protect:
        # keep the database volume even if the release is ever uninstalled
        persistence["annotations"] = {"helm.sh/resource-policy": "keep"}
    return {
        "fullnameOverride": platform.name("grafana"),
        "image": split_image(cfg.grafana_image),
        "admin": {"existingSecret": admin_secret, "userKey": USER_KEY, "passwordKey": PASSWORD_KEY},
        "persistence": persistence,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    }


class GrafanaService(ServiceComponent):
    """Grafana: ``internal_url`` is the in-cluster URL; ``admin_url`` from the admin access."""

    def __init__(self, name: str, platform: Platform, secrets: Secrets, admin_url: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:kubernetes:Grafana", name, None, opts)
        admin_secret = platform.name("grafana-admin")
        self.admin_secret = k8s.core.v1.Secret(
            admin_secret,
            metadata={"name": admin_secret, "namespace": platform.ns},
            type="Opaque",
            string_data={USER_KEY: platform.cfg.grafana_admin_user,
                         PASSWORD_KEY: secrets.grafana_admin_password},
            opts=platform.opts(self))
        self.release = helm_release(platform, "grafana-chart", charts.GRAFANA, platform.name("grafana"),
                                    charts.GRAFANA.values(grafana_values(platform, admin_secret)),
                                    self, stateful=True, depends_on=[self.admin_secret])
        url = f"http://{platform.service_host(platform.name('grafana'))}:{PORT}"
        self.publish(once_ready(url, self.release), once_ready(admin_url, self.release))
