"""How ``pulumi up`` (the application layer) reaches the admin APIs from outside the cluster.

``adminAccess: port-forward`` — each API on a fixed local port (``connectPort``, ``ksqldbPort``,
``elasticsearchPort``, ``grafanaPort``); the ``kubectl port-forward`` commands are a stack output.
``adminAccess: ingress`` — one Ingress per API at ``<api>.<ingressDomain>`` (TLS at the ingress
controller, its default certificate unless the cluster issues one), admin URLs ``https://…``.
"""
from __future__ import annotations

import dataclasses

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import connect, elasticsearch, grafana, ksqldb
from components.kubernetes.platform import Platform


@dataclasses.dataclass(frozen=True)
class Target:
    """One admin API: its short name (host label), Service, Service port and local port."""

    api: str
    service: str
    port: int
    local_port: int


def targets(platform: Platform) -> dict[str, Target]:
    cfg = platform.cfg
    return {t.api: t for t in (
        Target("connect", platform.name("connect"), connect.PORT, cfg.connect_port),
        Target("ksqldb", platform.name("ksqldb"), ksqldb.PORT, cfg.ksqldb_port),
        Target("elasticsearch", elasticsearch.http_service(platform), elasticsearch.PORT,
               cfg.elasticsearch_port),
        Target("grafana", platform.name("grafana"), grafana.PORT, cfg.grafana_port),
    )}


def host(platform: Platform, target: Target) -> str:
    return f"{target.api}.{platform.cfg.ingress_domain}"


def admin_url(platform: Platform, target: Target) -> str:
    if platform.cfg.admin_access == "ingress":
        return f"https://{host(platform, target)}"
    return f"http://localhost:{target.local_port}"


def port_forward_command(platform: Platform, target: Target) -> str:
    context = f" --context {platform.cfg.kube_context}" if platform.cfg.kube_context else ""
    return (f"kubectl{context} --namespace {platform.ns} port-forward service/{target.service} "
            f"{target.local_port}:{target.port}")


def ingress(platform: Platform, target: Target, parent: pulumi.Resource) -> k8s.networking.v1.Ingress:
    """An Ingress routing ``https://<api>.<ingressDomain>/`` to the API's Service."""
    cfg = platform.cfg
    name = platform.name(f"{target.api}-admin")
    spec: dict[str, object] = {
        "tls": [{"hosts": [host(platform, target)]}],
        "rules": [{"host": host(platform, target), "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": target.service, "port": {"number": target.port}}}}]}}],
    }
    if cfg.ingress_class:
        spec["ingressClassName"] = cfg.ingress_class
    return k8s.networking.v1.Ingress(
        name, metadata={"name": name, "namespace": platform.ns}, spec=spec, opts=platform.opts(parent))
