"""How ``pulumi up`` (the application layer) reaches the admin APIs from outside the cluster.

``adminAccess: port-forward`` — each API on a fixed local port (``connectPort``, ``ksqldbPort``,
``elasticsearchPort``, ``grafanaPort``); the ``kubectl port-forward`` commands are a stack output.
``adminAccess: ingress`` — one Ingress per API at ``<api>.<ingressDomain>`` (TLS at the ingress
controller, its default certificate unless the cluster issues one), admin URLs ``https://…``. Kafka
Connect and ksqlDB have no authentication of their own, so their ingresses admit only the networks of
``ingressAllowList`` (the config refuses an ingress without it): an annotation for ingress-nginx, an
``ipAllowList`` Middleware for Traefik. Grafana and Elasticsearch authenticate every request themselves.

Kafka, where the application layer reads consumer-group offsets, is reached through port-forwards in both
modes (their commands in the same stack output): one per broker pod, from ``kafkaHostPort`` + node id to its
``forward`` listener (:mod:`.kafka`), so no ingress and no network exposes it.
"""
from __future__ import annotations

import dataclasses
import shlex
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import connect, elasticsearch, grafana, kafka, ksqldb
from components.kubernetes.platform import Platform
from stackconfig import allow_list

# the APIs with no authentication of their own
UNAUTHENTICATED = ("connect", "ksqldb")
NGINX_ALLOW_LIST = "nginx.ingress.kubernetes.io/whitelist-source-range"
TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares"
TRAEFIK_API = "traefik.io/v1alpha1"


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


def forward_command(platform: Platform, resource: str, local_port: int, port: int) -> str:
    """The ``kubectl port-forward`` command line from ``local_port`` to ``port`` of ``resource``
    (``service/<name>``, ``pod/<name>``), every argument shell-quoted (``kubeContext`` may hold any printable
    character)."""
    context = ["--context", platform.cfg.kube_context] if platform.cfg.kube_context else []
    return shlex.join(["kubectl", *context, "--namespace", platform.ns, "port-forward",
                       resource, f"{local_port}:{port}"])


def port_forward_command(platform: Platform, target: Target) -> str:
    """The port-forward to an admin API's Service."""
    return forward_command(platform, f"service/{target.service}", target.local_port, target.port)


def kafka_forward_commands(platform: Platform) -> tuple[str, ...]:
    """One port-forward per broker pod (a client must reach each broker, not any one behind a Service), to
    the listener whose advertised addresses are these local ports."""
    return tuple(forward_command(platform, f"pod/{kafka.pod_name(platform, node)}", kafka.local_port(platform, node),
                                 kafka.FORWARD_PORT) for node in kafka.node_ids(platform))


def allow_list_annotations(platform: Platform, parent: pulumi.Resource) -> dict[str, str]:
    """Ingress annotations admitting only ``ingressAllowList`` (for Traefik, with the Middleware they name)."""
    cfg = platform.cfg
    networks = allow_list(cfg.ingress_allow_list)
    if cfg.ingress_controller == "ingress-nginx":
        return {NGINX_ALLOW_LIST: ",".join(networks)}
    name = platform.name("admin-allow-list")
    k8s.apiextensions.CustomResource(
        name, api_version=TRAEFIK_API, kind="Middleware", metadata={"name": name, "namespace": platform.ns},
        spec={"ipAllowList": {"sourceRange": networks}}, opts=platform.opts(parent))
    return {TRAEFIK_MIDDLEWARES: f"{platform.ns}-{name}@kubernetescrd"}


def ingress(platform: Platform, target: Target, parent: pulumi.Resource,
            annotations: dict[str, str] | None = None) -> k8s.networking.v1.Ingress:
    """An Ingress routing ``https://<api>.<ingressDomain>/`` to the API's Service."""
    cfg = platform.cfg
    name = platform.name(f"{target.api}-admin")
    spec: Any = {  # a NetworkingV1 IngressSpec
        "tls": [{"hosts": [host(platform, target)]}],
        "rules": [{"host": host(platform, target), "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": target.service, "port": {"number": target.port}}}}]}}],
    }
    if cfg.ingress_class:
        spec["ingressClassName"] = cfg.ingress_class
    metadata: Any = {"name": name, "namespace": platform.ns}
    if annotations:
        metadata["annotations"] = annotations
    return k8s.networking.v1.Ingress(name, metadata=metadata, spec=spec, opts=platform.opts(parent))
