"""Grafana on Kubernetes: the grafana-community chart with its database (SQLite) on a PVC.

The admin user and password come from a Secret the chart references (never from Helm values).
Grafana applies ``GF_SECURITY_ADMIN_PASSWORD`` only when it creates its database, which lives on the
PVC, so a rotated ``grafanaAdminPassword`` would never reach it: an init container resets the admin
password to the Secret's value (``grafana cli admin reset-admin-password``, password on stdin) on
every start of the pod, before Grafana opens the database, and a change of the Secret rolls the pod.
"""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.base import ServiceComponent
from components.kubernetes import charts
from components.kubernetes.platform import Platform, helm_release, once_ready
from stackconfig import Secrets

PORT = 3000
USER_KEY, PASSWORD_KEY = "admin-user", "admin-password"
# the chart's volume names and mount paths (templates/_pod.tpl of chart 11.6.1)
STORAGE_VOLUME, DATA_DIR = "storage", "/var/lib/grafana"
CONFIG_VOLUME, CONFIG_FILE = "config", "/etc/grafana/grafana.ini"
SECRET_VERSION_ANNOTATION = "clickstream/admin-secret-version"
# the first start has no database yet: Grafana then creates the admin itself from the Secret;
# user id 1 (the CLI's default) is that admin
RESET_SCRIPT = (f'if [ -f "{DATA_DIR}/grafana.db" ]; then '
                'printf \'%s\\n\' "$GF_SECURITY_ADMIN_PASSWORD" | '
                f'grafana cli --homepath "$GF_PATHS_HOME" --config {CONFIG_FILE} '
                'admin reset-admin-password --password-from-stdin; fi')


def pod_labels(platform: Platform) -> dict[str, str]:
    """The selector labels the chart gives Grafana's pod (``grafana.selectorLabels``: chart name, release)."""
    return {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": platform.name("grafana")}


def split_image(image: str) -> dict[str, str]:
    """The chart's ``image`` values (registry, repository, tag) of a pinned image reference."""
    name, tag = image.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return {"registry": first, "repository": rest, "tag": tag}
    return {"registry": "docker.io", "repository": name, "tag": tag}


def password_reset_container(platform: Platform, admin_secret: str) -> dict[str, object]:
    """An init container setting the admin password stored on the PVC to the one in ``admin_secret``."""
    return {
        "name": "reset-admin-password",
        "image": platform.cfg.grafana_image,
        "command": ["sh", "-ec", RESET_SCRIPT],
        "env": [{"name": "GF_SECURITY_ADMIN_PASSWORD",
                 "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": PASSWORD_KEY}}}],
        "volumeMounts": [{"name": STORAGE_VOLUME, "mountPath": DATA_DIR},
                         {"name": CONFIG_VOLUME, "mountPath": CONFIG_FILE, "subPath": "grafana.ini"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    }


def grafana_values(platform: Platform, admin_secret: str,
                   secret_version: pulumi.Input[str] = "") -> dict[str, object]:
    """Per-stack overrides of ``helm-values/grafana.yaml``; ``secret_version`` (the admin Secret's
    resourceVersion) in a pod annotation rolls the pod, and so resets the password, when it changes."""
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
        "extraInitContainers": [password_reset_container(platform, admin_secret)],
        "podAnnotations": {SECRET_VERSION_ANNOTATION: secret_version},
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
        secret_version = self.admin_secret.metadata.apply(lambda meta: (meta and meta.resource_version) or "")
        self.release = helm_release(platform, "grafana-chart", charts.GRAFANA, platform.name("grafana"),
                                    grafana_values(platform, admin_secret, secret_version),
                                    self, stateful=True, depends_on=[self.admin_secret])
        url = f"http://{platform.service_host(platform.name('grafana'))}:{PORT}"
        self.publish(once_ready(url, self.release), once_ready(admin_url, self.release))
