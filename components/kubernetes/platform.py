"""The cluster connection and the building blocks every Kubernetes component shares.

``Platform`` carries the provider, the namespace and the stack config; the helpers build the pieces
each service repeats (labels, JVM-sized resources, probes, anti-affinity, Services, PDBs), so the
service modules only say what is specific to them.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.charts import Chart
from stackconfig import StackConfig, mebibytes

PART_OF = "clickstream"
CPU_REQUEST = "250m"
# how long `pulumi up` waits for an operator-managed cluster (Kafka, Elasticsearch) to report ready
CLUSTER_READY_TIMEOUT_S = 900


@dataclasses.dataclass(frozen=True)
class Platform:
    """Where the components are declared: the provider (context + default namespace) and namespace."""

    cfg: StackConfig
    provider: k8s.Provider
    namespace: k8s.core.v1.Namespace

    @property
    def ns(self) -> str:
        return self.cfg.namespace

    def name(self, service: str) -> str:
        """``<namePrefix>-<service>``: the Kubernetes object name (and Service DNS name) of a service."""
        return f"{self.cfg.name_prefix}-{service}"

    def service_host(self, service: str) -> str:
        """The in-cluster DNS name of the Service called ``service``."""
        return f"{service}.{self.ns}.svc"

    def opts(self, parent: pulumi.Resource, *, stateful: bool = False,
             depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        """Options of a child resource; ``stateful`` ones get ``protect`` from the config."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider,
                                      depends_on=[self.namespace, *depends_on],
                                      protect=self.cfg.protect if stateful else None)


def open_platform(cfg: StackConfig) -> Platform:
    """The Kubernetes provider for ``kubeContext`` (required: never whatever context is current) and the
    stack namespace."""
    provider = k8s.Provider("kubernetes", context=cfg.kube_context, namespace=cfg.namespace)
    namespace = k8s.core.v1.Namespace(
        "namespace",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=cfg.namespace, labels={"app.kubernetes.io/part-of": PART_OF}),
        opts=pulumi.ResourceOptions(provider=provider, protect=cfg.protect))
    return Platform(cfg, provider, namespace)


def await_annotations(condition: str) -> dict[str, str]:
    """Make ``pulumi up`` wait until a custom resource's status satisfies ``condition`` (``kubectl
    wait --for`` syntax), bounded by :data:`CLUSTER_READY_TIMEOUT_S`."""
    return {"pulumi.com/waitFor": condition, "pulumi.com/timeoutSeconds": str(CLUSTER_READY_TIMEOUT_S)}


def once_ready(url: str, *resources: pulumi.CustomResource) -> pulumi.Output[str]:
    """``url`` as an Output that resolves only after ``resources`` are created (and awaited), so the
    application layer using it starts once the service is up."""
    return pulumi.Output.all(*(r.id for r in resources)).apply(lambda _: url)


def labels(platform: Platform, component: str) -> dict[str, str]:
    """Selector labels of one service's pods (stable: never change them on a running Deployment)."""
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": platform.cfg.name_prefix,
            "app.kubernetes.io/part-of": PART_OF}


def jvm_resources(heap: str) -> dict[str, Any]:
    """Requests/limits for a JVM with a fixed ``heap``: memory = 2 x heap (metaspace, threads, page
    cache for Kafka/Elasticsearch), requested = limit so the scheduler reserves all of it and node
    memory pressure never evicts the pod for exceeding its request. No CPU limit: throttled JVMs
    stall (GC pauses) instead of degrading gracefully."""
    memory = f"{2 * mebibytes(heap)}Mi"
    return {"requests": {"cpu": CPU_REQUEST, "memory": memory}, "limits": {"memory": memory}}


def anti_affinity(match_labels: Mapping[str, str]) -> dict[str, Any]:
    """Spread a service's pods over nodes (preferred, so small clusters can still schedule them)."""
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100,
        "podAffinityTerm": {"labelSelector": {"matchLabels": dict(match_labels)},
                            "topologyKey": "kubernetes.io/hostname"}}]}}


def http_probe(path: str, port: int, *, initial_delay: int, period: int = 10,
               failure_threshold: int = 6) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": initial_delay,
            "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": failure_threshold}


def deployment(platform: Platform, component: str, replicas: int, pod_spec: Mapping[str, Any],
               parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()) -> k8s.apps.v1.Deployment:
    """A Deployment ``<prefix>-<component>`` of ``replicas`` pods labelled for the component."""
    name = platform.name(component)
    pod_labels = labels(platform, component)
    metadata: Any = {"name": name, "namespace": platform.ns, "labels": pod_labels}
    spec: Any = {"replicas": replicas, "selector": {"matchLabels": pod_labels},
                            "template": {"metadata": {"labels": pod_labels}, "spec": dict(pod_spec)}}
    return k8s.apps.v1.Deployment(name, metadata=metadata, spec=spec, opts=platform.opts(parent, depends_on=depends_on))


def service(platform: Platform, component: str, port: int, parent: pulumi.Resource) -> k8s.core.v1.Service:
    """A ClusterIP Service ``<prefix>-<component>`` in front of the component's pods."""
    name = platform.name(component)
    metadata: Any = {"name": name, "namespace": platform.ns, "labels": labels(platform, component)}
    spec: Any = {"type": "ClusterIP", "selector": labels(platform, component),
                            "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}]}
    return k8s.core.v1.Service(f"{name}-service", metadata=metadata, spec=spec, opts=platform.opts(parent))


def disruption_budget(platform: Platform, component: str,
                      parent: pulumi.Resource) -> k8s.policy.v1.PodDisruptionBudget:
    """At most one pod of the component voluntarily evicted at a time (node drains, upgrades)."""
    name = platform.name(component)
    metadata: Any = {"name": name, "namespace": platform.ns, "labels": labels(platform, component)}
    spec: Any = {"maxUnavailable": 1, "selector": {"matchLabels": labels(platform, component)}}
    return k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", metadata=metadata, spec=spec, opts=platform.opts(parent))


def helm_release(platform: Platform, resource_name: str, chart: Chart, release_name: str,
                 overrides: Mapping[str, Any], parent: pulumi.Resource, *, stateful: bool = False,
                 depends_on: Sequence[pulumi.Resource] = ()) -> k8s.helm.v3.Release:
    """A Helm release of a pinned chart into the stack namespace, with the chart's base values file and
    ``overrides`` on top; waits until its workloads are ready."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=platform.ns,
        value_yaml_files=[pulumi.FileAsset(chart.values_file)],
        values=dict(overrides),
        atomic=False,
        timeout=600,
        opts=platform.opts(parent, stateful=stateful, depends_on=depends_on))
