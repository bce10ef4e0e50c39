"""Who may open a connection to which service of a Kubernetes pipeline stack (NetworkPolicies, ingress).

Kafka Connect and ksqlDB have no authentication of their own (Connect runs whatever connector class it
is given), so each service's pods admit, port by port, only the pods that need them:

- Connect REST 8083: Connect workers (a worker forwards requests to the group leader), ksqlDB servers
  (``ksql.connect.url``), the admin path;
- ksqlDB REST 8088: ksqlDB servers (a server forwards pull queries to the others at its advertised
  listener), the admin path;
- Elasticsearch HTTP 9200: Connect workers (the sinks), Grafana (its datasources query from the server),
  the ECK operator, the admin path; transport 9300: the cluster's Elasticsearch nodes;
- Kafka 9092: Connect workers and ksqlDB servers, as the listener's ``networkPolicyPeers``
  (:mod:`.kafka`); Strimzi writes the Kafka pods' NetworkPolicy from them, with its own rules for its
  operator and the brokers' replication and controller ports.

Grafana authenticates every request and stays open to the cluster. Egress is not restricted.

The **admin path** is how ``pulumi up`` reaches the APIs (:mod:`.access`):

- ``port-forward``: the kubelet's container runtime dials the port inside the pod's own network namespace
  (containerd, ``internal/cri/server/sandbox_portforward_linux.go``: ``localhost`` first, else the pod IP
  from the node), and Kubernetes documents that a pod can block neither its localhost nor its node
  ("What you can't do with network policies"): nothing to admit, no pod of the cluster gains access.
- ``ingress``: the ingress controller's pods, selected by the labels their Helm charts give them
  (ingress-nginx: ``app.kubernetes.io/name: ingress-nginx`` + ``app.kubernetes.io/component: controller``;
  Traefik: ``app.kubernetes.io/name: traefik``) in any namespace; ``ingressAllowList`` then limits who
  reaches Connect and ksqlDB through them.

The ECK operator is admitted by its Helm chart's pod label (``app.kubernetes.io/name: elastic-operator``,
Elastic's "Kubernetes network policies" page, which also lists 9200 from the operator and 9300 between
nodes) in any namespace: the stack's own operator runs in its namespace, the shared one in the
``operators`` stack's.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import elasticsearch, grafana
from components.kubernetes.platform import PART_OF, Platform, labels
from components.service_settings import CONNECT_PORT, KSQLDB_PORT

Peer = k8s.networking.v1.NetworkPolicyPeerArgs

INGRESS_CONTROLLER_PODS = {
    "ingress-nginx": {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
    "traefik": {"app.kubernetes.io/name": "traefik"},
}
ECK_OPERATOR_PODS = {"app.kubernetes.io/name": "elastic-operator"}


def pods(match_labels: Mapping[str, str], *, any_namespace: bool = False) -> Peer:
    """The pods carrying ``match_labels``, in the stack's namespace or (``any_namespace``) in any."""
    return Peer(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(match_labels)),
                namespace_selector=k8s.meta.v1.LabelSelectorArgs() if any_namespace else None)


def admin_path(platform: Platform) -> list[Peer]:
    """The pods ``pulumi up`` reaches the admin APIs through: none with port-forward (see above), the
    ingress controller's with ingress."""
    cfg = platform.cfg
    if cfg.admin_access == "port-forward":
        return []
    return [pods(INGRESS_CONTROLLER_PODS[cfg.ingress_controller], any_namespace=True)]


def admit_only(platform: Platform, service: str, selected: Mapping[str, str],
               allowed: Mapping[int, Sequence[Peer]], parent: pulumi.Resource) -> k8s.networking.v1.NetworkPolicy:
    """A NetworkPolicy ``<prefix>-<service>-ingress``: the pods with the ``selected`` labels accept a
    connection only on the ports of ``allowed``, each from its peers (and from nothing else)."""
    for port, peers in allowed.items():
        if not peers:  # an empty `from` would admit every pod of the cluster
            raise ValueError(f"NetworkPolicy of {service}: port {port} needs at least one peer")
    name = platform.name(f"{service}-ingress")
    rules = [k8s.networking.v1.NetworkPolicyIngressRuleArgs(
        from_=list(peers), ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP")])
        for port, peers in allowed.items()]
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=platform.ns,
                                            labels={"app.kubernetes.io/part-of": PART_OF}),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selected)),
            policy_types=["Ingress"], ingress=rules),
        opts=platform.opts(parent))


def restrict(platform: Platform, connect: pulumi.Resource, ksqldb: pulumi.Resource,
             es: pulumi.Resource) -> list[k8s.networking.v1.NetworkPolicy]:
    """The NetworkPolicies of Connect, ksqlDB and Elasticsearch (table above), each a child of its service."""
    connect_pods, ksqldb_pods = pods(labels(platform, "connect")), pods(labels(platform, "ksqldb"))
    es_pods = elasticsearch.pod_labels(platform)
    admins = admin_path(platform)
    return [
        admit_only(platform, "connect", labels(platform, "connect"),
                   {CONNECT_PORT: [connect_pods, ksqldb_pods, *admins]}, connect),
        admit_only(platform, "ksqldb", labels(platform, "ksqldb"), {KSQLDB_PORT: [ksqldb_pods, *admins]}, ksqldb),
        admit_only(platform, "elasticsearch", es_pods, {
            elasticsearch.PORT: [connect_pods, pods(grafana.pod_labels(platform)),
                                 pods(ECK_OPERATOR_PODS, any_namespace=True), *admins],
            elasticsearch.TRANSPORT_PORT: [pods(es_pods)]}, es),
    ]
