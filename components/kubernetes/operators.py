"""The Strimzi and ECK operators: the cluster-wide part of the Kubernetes platform.

Both charts install cluster-scoped objects with fixed names (Strimzi's cluster roles and bindings, ECK's
CRDs, cluster roles and admission webhook), so a cluster holds ONE installation of each. Two layouts:

- **shared** (``installOperators: false`` on the pipeline stacks): the ``operators`` stack
  (``role: operators``) installs both once, watching every namespace; ``staging`` and ``prod`` only
  declare their ``Kafka`` and ``Elasticsearch`` resources and share the cluster.
- **per stack** (``installOperators: true``, the default): a pipeline stack installs both into its own
  namespace, watching only that namespace (ECK's webhook limited to it too); one stack per cluster.
"""
from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import charts
from components.kubernetes.platform import Platform, helm_release

STRIMZI_RESOURCE, ECK_RESOURCE = "strimzi-operator", "eck-operator"


def strimzi_values(cluster_wide: bool) -> dict[str, Any]:
    """Overrides of ``helm-values/strimzi-kafka-operator.yaml``: Strimzi watches every namespace (shared
    layout) or only the one it runs in (the chart's default)."""
    return {"watchAnyNamespace": True} if cluster_wide else {}


def eck_values(platform: Platform, cluster_wide: bool) -> dict[str, Any]:
    """Overrides of ``helm-values/eck-operator.yaml``: ECK manages every namespace (shared layout) or only
    the stack's; in the latter case its validating webhook is limited to that namespace too (the chart's
    default selects all namespaces)."""
    overrides: dict[str, Any] = {"fullnameOverride": platform.name("eck-operator")}
    if not cluster_wide:
        overrides["managedNamespaces"] = [platform.ns]
        overrides["webhook"] = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": platform.ns}}}
    return overrides


def strimzi_release(platform: Platform, parent: pulumi.Resource, *, cluster_wide: bool) -> k8s.helm.v3.Release:
    return helm_release(platform, STRIMZI_RESOURCE, charts.STRIMZI, platform.name("strimzi"),
                        strimzi_values(cluster_wide), parent, stateful=True)


def eck_release(platform: Platform, parent: pulumi.Resource, *, cluster_wide: bool) -> k8s.helm.v3.Release:
    # stateful: uninstalling the chart deletes ECK's CRDs, and with them every Elasticsearch cluster
    return helm_release(platform, ECK_RESOURCE, charts.ECK, platform.name("eck"),
                        eck_values(platform, cluster_wide), parent, stateful=True)


class ClusterOperators(pulumi.ComponentResource):
    """The cluster's shared Strimzi and ECK installation (stack ``operators``)."""

    def __init__(self, name: str, platform: Platform, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:kubernetes:ClusterOperators", name, None, opts)
        self.strimzi = strimzi_release(platform, self, cluster_wide=True)
        self.eck = eck_release(platform, self, cluster_wide=True)
        self.register_outputs({"namespace": platform.ns})
