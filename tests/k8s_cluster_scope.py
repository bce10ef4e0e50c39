"""A model of the cluster-scoped objects the pinned Helm charts create, for the shared-cluster tests.

The chart archives cannot be had from a package registry on this machine, so this module MODELS what
``helm template`` renders for the values a stack passes, from the charts' templates at their tags:

- ``strimzi-kafka-operator`` 1.0.1 (strimzi/strimzi-kafka-operator, packaging/helm-charts/helm3/):
  CRDs in ``crds/``; ``templates/02x``-``03x`` cluster roles and bindings under ``rbac.create`` and
  ``createGlobalResources`` (defaults true), the ``-namespaced``/``-watched``/entity-operator bindings
  turned into ClusterRoleBindings by ``watchAnyNamespace``; ``strimzi-admin``/``strimzi-view`` under
  ``createAggregateRoles`` (default false).
- ``eck-operator`` 3.3.0 (elastic/cloud-on-k8s, deploy/eck-operator/): the 12 CRDs of the
  ``eck-operator-crds`` subchart (``installCRDs``, Helm-owned templates); ``templates/cluster-roles.yaml``
  and ``role-bindings.yaml`` under ``createClusterScopedResources``; ``templates/webhook.yaml`` (a
  ValidatingWebhookConfiguration ``<name>.<release namespace>.k8s.elastic.co`` whose
  ``namespaceSelector`` is ``webhook.namespaceSelector``, all namespaces when empty). ``<name>`` is
  ``nameOverride`` (default ``elastic-operator``), ``<fullname>`` is ``fullnameOverride``.
- ``grafana`` 11.6.1 (grafana-community/helm-charts, charts/grafana/): ``templates/clusterrole.yaml``
  and ``clusterrolebinding.yaml`` (``<fullname>-clusterrole``/``-clusterrolebinding``) when
  ``rbac.create`` and (not ``rbac.namespaced`` or ``rbac.extraClusterRoleRules``).

The model was checked once against ``helm template`` (Helm 3.19 built from the Go module proxy) of the
charts' sources at those tags, for the values the staging, prod and operators stacks pass: same names.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import yaml

from components.kubernetes import charts
from tests.pulumi_mocks import ROOT, Declared, Graph

STRIMZI_CRDS = tuple(f"{plural}.kafka.strimzi.io" for plural in (
    "kafkas", "kafkaconnects", "kafkatopics", "kafkausers", "kafkanodepools", "kafkabridges",
    "kafkaconnectors", "kafkamirrormaker2s", "kafkarebalances")) + ("strimzipodsets.core.strimzi.io",)
STRIMZI_GLOBAL_ROLES = ("strimzi-cluster-operator-namespaced", "strimzi-cluster-operator-global",
                        "strimzi-cluster-operator-leader-election", "strimzi-cluster-operator-watched",
                        "strimzi-kafka-broker", "strimzi-entity-operator", "strimzi-kafka-client")
STRIMZI_GLOBAL_BINDINGS = ("strimzi-cluster-operator", "strimzi-cluster-operator-kafka-broker-delegation",
                           "strimzi-cluster-operator-kafka-client-delegation")
STRIMZI_ANY_NAMESPACE_BINDINGS = ("strimzi-cluster-operator-namespaced", "strimzi-cluster-operator-watched",
                                  "strimzi-cluster-operator-entity-operator-delegation")
ECK_CRDS = ("agents.agent.k8s.elastic.co", "apmservers.apm.k8s.elastic.co",
            "autoopsagentpolicies.autoops.k8s.elastic.co", "beats.beat.k8s.elastic.co",
            "elasticmapsservers.maps.k8s.elastic.co", "elasticsearchautoscalers.autoscaling.k8s.elastic.co",
            "elasticsearches.elasticsearch.k8s.elastic.co", "enterprisesearches.enterprisesearch.k8s.elastic.co",
            "kibanas.kibana.k8s.elastic.co", "logstashes.logstash.k8s.elastic.co",
            "packageregistries.packageregistry.k8s.elastic.co",
            "stackconfigpolicies.stackconfigpolicy.k8s.elastic.co")
ALL_NAMESPACES = "*"


@dataclasses.dataclass(frozen=True)
class OperatorScope:
    """Which namespaces one operator installation acts on (``ALL_NAMESPACES`` = every one)."""

    operator: str
    stack: str
    namespaces: frozenset[str]


@dataclasses.dataclass
class ClusterView:
    """Everything the stacks put into one cluster: cluster-scoped (kind, name) -> declaring stacks, and
    the scope of every operator (what Strimzi watches, what ECK manages, what ECK's webhook selects)."""

    objects: dict[tuple[str, str], list[str]] = dataclasses.field(default_factory=dict)
    scopes: list[OperatorScope] = dataclasses.field(default_factory=list)

    def add(self, stack: str, kind: str, name: str) -> None:
        self.objects.setdefault((kind, name), []).append(stack)

    def collisions(self) -> dict[tuple[str, str], list[str]]:
        return {key: stacks for key, stacks in self.objects.items() if len(stacks) > 1}

    def covering(self, operator: str, namespace: str) -> list[str]:
        """The stacks whose ``operator`` acts on ``namespace``."""
        return [s.stack for s in self.scopes if s.operator == operator
                and (ALL_NAMESPACES in s.namespaces or namespace in s.namespaces)]


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """How Helm coalesces values: nested mappings key by key, anything else in ``overrides`` replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def release_values(release: Declared) -> dict[str, Any]:
    """The values Helm gets from a declared Release: its values files, then its inline values."""
    merged: dict[str, Any] = {}
    for asset in release.inputs.get("valueYamlFiles", []):
        merged = deep_merge(merged, yaml.safe_load((ROOT / asset.path).read_text()) or {})
    return deep_merge(merged, release.inputs.get("values", {}))


def add_stack(view: ClusterView, stack: str, graph: Graph) -> None:
    """Add what ``graph`` (one stack under mocks) puts into the cluster."""
    for namespace in graph.of_type("kubernetes:core/v1:Namespace"):
        view.add(stack, "Namespace", namespace.inputs["metadata"]["name"])
    for release in graph.of_type("kubernetes:helm.sh/v3:Release"):
        values, namespace = release_values(release), release.inputs["namespace"]
        render = {charts.STRIMZI.name: _strimzi, charts.ECK.name: _eck, charts.GRAFANA.name: _grafana}
        render[release.inputs["chart"]](view, stack, namespace, values)


def _strimzi(view: ClusterView, stack: str, namespace: str, values: Mapping[str, Any]) -> None:
    for crd in STRIMZI_CRDS:
        view.add(stack, "CustomResourceDefinition", crd)
    rbac = values.get("rbac", {}).get("create", True)
    if rbac and values.get("createGlobalResources", True):
        for role in STRIMZI_GLOBAL_ROLES:
            view.add(stack, "ClusterRole", role)
        for binding in STRIMZI_GLOBAL_BINDINGS:
            view.add(stack, "ClusterRoleBinding", binding)
    if rbac and values.get("createAggregateRoles", False):
        for role in ("strimzi-admin", "strimzi-view"):
            view.add(stack, "ClusterRole", role)
    if values.get("watchAnyNamespace", False):
        if rbac:
            for binding in STRIMZI_ANY_NAMESPACE_BINDINGS:
                view.add(stack, "ClusterRoleBinding", binding)
        watched = frozenset({ALL_NAMESPACES})
    else:
        watched = frozenset(values.get("watchNamespaces") or []) | {namespace}
    view.scopes.append(OperatorScope("strimzi", stack, watched))


def _eck(view: ClusterView, stack: str, namespace: str, values: Mapping[str, Any]) -> None:
    name = values.get("nameOverride") or "elastic-operator"
    fullname = values["fullnameOverride"]
    if values.get("installCRDs", True):
        for crd in ECK_CRDS:
            view.add(stack, "CustomResourceDefinition", crd)
    if values.get("createClusterScopedResources", True):
        view.add(stack, "ClusterRole", fullname)
        view.add(stack, "ClusterRole", f"{name}-view")
        view.add(stack, "ClusterRole", f"{name}-edit")
        view.add(stack, "ClusterRoleBinding", fullname)
    managed = frozenset(values.get("managedNamespaces") or [ALL_NAMESPACES])
    view.scopes.append(OperatorScope("eck", stack, managed))
    webhook = values.get("webhook", {})
    if webhook.get("enabled", True):
        view.add(stack, "ValidatingWebhookConfiguration", f"{name}.{namespace}.k8s.elastic.co")
        selected = webhook.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        view.scopes.append(OperatorScope("eck-webhook", stack,
                                         frozenset({selected} if selected else {ALL_NAMESPACES})))


def _grafana(view: ClusterView, stack: str, namespace: str, values: Mapping[str, Any]) -> None:
    rbac = values.get("rbac", {})
    if rbac.get("create", True) and (not rbac.get("namespaced", False) or rbac.get("extraClusterRoleRules")):
        view.add(stack, "ClusterRole", f"{values['fullnameOverride']}-clusterrole")
        view.add(stack, "ClusterRoleBinding", f"{values['fullnameOverride']}-clusterrolebinding")
