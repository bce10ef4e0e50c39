"""Who may open a connection to which pod of a Kubernetes stack (NetworkPolicies, ingress).

Every namespace a stack owns denies by default (``<prefix>-default-deny``: every pod, ingress, no rule),
and each component's pods admit, port by port, only the pods that need them:

- Connect REST 8083: Connect workers (a worker forwards requests to the group leader), ksqlDB servers
  (``ksql.connect.url``), the admin path (Kafka Connect and ksqlDB have no authentication of their own;
  Connect runs whatever connector class it is given);
- ksqlDB REST 8088: ksqlDB servers (a server forwards pull queries to the others at its advertised
  listener), the admin path;
- Elasticsearch HTTP 9200: Connect workers (the sinks), Grafana (its datasources query from the server),
  the ECK operator, the admin path; transport 9300: the cluster's Elasticsearch nodes;
- Grafana 3000: the admin path only (people reach it through it; nothing in the cluster calls Grafana);
  the other ports its chart declares (6060, 9094) admit nothing;
- Kafka 9092: Connect workers and ksqlDB servers, as the listener's ``networkPolicyPeers``
  (:mod:`.kafka`); Strimzi writes the Kafka pods' NetworkPolicies from them, with its own rules for its
  operator, the entity operator and the brokers' replication and controller ports (policies add up: the
  default deny takes nothing from them); Kafka 9094 (the ``forward`` listener): no pod, its one peer
  selecting none (``pulumi up`` reaches it through port-forwards in both admin modes);
- the operators (in the stack's namespace with ``installOperators``, else in the ``operators`` stack's,
  which denies by default too): ECK's validating webhook 9443 admits every source, as the Kubernetes API
  server that calls it is no pod and has no address a policy could portably name (Elastic's "Kubernetes
  network policies" page does the same); nothing else of theirs admits anything (Strimzi's 8080 serves
  the kubelet's probes, which come from the node, and a policy never blocks the node).

Egress is not restricted: the operators reach their pods and the API server, the services each other,
through the rules above. The kubelet's probes come from the node and are never blocked.

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
ECK_WEBHOOK_PORT = 9443  # the eck-operator chart's webhook.port


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
    rules = [k8s.networking.v1.NetworkPolicyIngressRuleArgs(
        from_=list(peers), ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP")])
        for port, peers in allowed.items()]
    return _policy(platform, f"{service}-ingress", selected, rules, platform.opts(parent))


def _policy(platform: Platform, suffix: str, selected: Mapping[str, str],
            rules: list[k8s.networking.v1.NetworkPolicyIngressRuleArgs],
            opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    """The ingress NetworkPolicy ``<prefix>-<suffix>`` of the pods with the ``selected`` labels (all: {})."""
    name = platform.name(suffix)
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=platform.ns,
                                            labels={"app.kubernetes.io/part-of": PART_OF}),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selected)),
            policy_types=["Ingress"], ingress=rules),
        opts=opts)


def deny_by_default(platform: Platform,
                    after: Sequence[k8s.networking.v1.NetworkPolicy]) -> k8s.networking.v1.NetworkPolicy:
    """``<prefix>-default-deny``: every pod of the namespace accepts only what another policy admits. It is
    applied ``after`` the policies that admit what is needed, so no needed connection is cut meanwhile."""
    opts = platform.opts(platform.namespace, depends_on=list(after))
    return _policy(platform, "default-deny", {}, [], pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(protect=False)))  # a policy, not data: not protected as its namespace is


def eck_webhook(platform: Platform, parent: pulumi.Resource) -> k8s.networking.v1.NetworkPolicy:
    """``<prefix>-eck-webhook-ingress``: ECK's operator pods accept the API server's webhook calls on 9443,
    from any source (the API server is no pod; see above), and nothing else."""
    rule = k8s.networking.v1.NetworkPolicyIngressRuleArgs(
        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=ECK_WEBHOOK_PORT, protocol="TCP")])
    return _policy(platform, "eck-webhook-ingress", ECK_OPERATOR_PODS, [rule], platform.opts(parent))


def restrict_operators(platform: Platform, operators: pulumi.Resource) -> list[k8s.networking.v1.NetworkPolicy]:
    """The policies of a namespace that holds the operators only (the ``operators`` stack)."""
    webhook = eck_webhook(platform, operators)
    return [webhook, deny_by_default(platform, [webhook])]


def restrict(platform: Platform, connect: pulumi.Resource, ksqldb: pulumi.Resource, es: pulumi.Resource,
             grafana_service: pulumi.Resource) -> list[k8s.networking.v1.NetworkPolicy]:
    """The NetworkPolicies of a pipeline stack (table above), each a child of its service, the ECK webhook's
    when the stack installs its own operators, and the namespace's default deny after them."""
    connect_pods, ksqldb_pods = pods(labels(platform, "connect")), pods(labels(platform, "ksqldb"))
    es_pods = elasticsearch.pod_labels(platform)
    admins = admin_path(platform)
    admitted = [
        admit_only(platform, "connect", labels(platform, "connect"),
                   {CONNECT_PORT: [connect_pods, ksqldb_pods, *admins]}, connect),
        admit_only(platform, "ksqldb", labels(platform, "ksqldb"), {KSQLDB_PORT: [ksqldb_pods, *admins]}, ksqldb),
        admit_only(platform, "elasticsearch", es_pods, {
            elasticsearch.PORT: [connect_pods, pods(grafana.pod_labels(platform)),
                                 pods(ECK_OPERATOR_PODS, any_namespace=True), *admins],
            elasticsearch.TRANSPORT_PORT: [pods(es_pods)]}, es),
    ]
    if admins:  # with port-forward nothing is to reach Grafana: the default deny is its whole policy
        admitted.append(admit_only(platform, "grafana", grafana.pod_labels(platform), {grafana.PORT: admins},
                                   grafana_service))
    if platform.cfg.install_operators:
        admitted.append(eck_webhook(platform, es))
    return [*admitted, deny_by_default(platform, admitted)]
