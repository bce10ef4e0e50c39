"""Unit tier (Pulumi mocks, no cluster): every typed Kubernetes object the staging/prod stacks declare
validates against the REAL Kubernetes OpenAPI schema (kubernetes-validate, strict: unknown fields are
errors) for the pinned Kubernetes version; custom resources and Helm values are checked on the fields
their operators and charts rely on.
"""
from __future__ import annotations

import pathlib
import re

import kubernetes_validate
import pytest
import yaml
from pulumi.runtime import rpc

from components.kubernetes import charts
from tests.pulumi_mocks import Declared, Graph, run_stack

TYPED_GROUPS = ("kubernetes:core/v1:", "kubernetes:apps/v1:", "kubernetes:policy/v1:",
                "kubernetes:networking.k8s.io/v1:")
VARIANTS = {
    "staging": ("staging", {}),
    "prod": ("prod", {}),
    "prod-ingress": ("prod", {"adminAccess": "ingress", "ingressDomain": "example.com",
                              "ingressClass": "nginx", "storageClass": "fast-ssd",
                              "ingressAllowList": "203.0.113.0/24"}),
    "staging-own-operators-traefik": ("staging", {"installOperators": "true", "adminAccess": "ingress",
                                                  "ingressDomain": "example.com", "ingressController": "traefik",
                                                  "ingressAllowList": "10.0.0.0/8"}),
}


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {variant: run_stack(stack, config) for variant, (stack, config) in VARIANTS.items()}


def manifest(value):
    """Mock inputs back to a manifest: secrets unwrapped, integral floats (protobuf numbers) as ints."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: manifest(v) for k, v in value.items()}
    if isinstance(value, list):
        return [manifest(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def typed(graph: Graph) -> list[Declared]:
    return [r for r in graph.resources if r.type.startswith(TYPED_GROUPS)]


def validation_errors(resources: list[Declared]) -> list[str]:
    errors = []
    for resource in resources:
        try:
            kubernetes_validate.validate(manifest(resource.inputs), charts.KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{resource.type} {resource.name}: {'.'.join(map(str, exc.path))}: {exc.message}")
    return errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_typed_manifest_validates_against_the_kubernetes_schema(graphs, variant):
    resources = typed(graphs[variant])
    kinds = {r.inputs["kind"] for r in resources}
    expected = {"Namespace", "Deployment", "Service", "PodDisruptionBudget", "Secret", "NetworkPolicy"}
    assert expected <= kinds
    if "ingress" in variant or "traefik" in variant:
        assert "Ingress" in kinds
    assert validation_errors(resources) == []


def test_the_validator_rejects_an_invalid_manifest(graphs):
    deployment = next(r for r in typed(graphs["prod"]) if r.inputs["kind"] == "Deployment")
    broken = Declared(deployment.type, deployment.name,
                      {**deployment.inputs, "spec": {**deployment.inputs["spec"], "replicas": "two"}},
                      deployment.provider, True)
    (error,) = validation_errors([broken])
    assert "spec.replicas" in error


def test_pinned_kubernetes_version_is_shipped_by_kubernetes_validate():
    assert charts.KUBERNETES_VERSION in {v.rsplit(".", 1)[0] for v in kubernetes_validate.utils.all_versions()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_strimzi_resources_have_the_fields_the_operator_needs(graphs, variant):
    graph = graphs[variant]
    kafka = manifest(graph.named("clickstream-kafka").inputs)
    pool = manifest(graph.named("clickstream-kafka-dual-role").inputs)
    for resource in (kafka, pool):
        assert resource["apiVersion"] == charts.STRIMZI_API
        assert resource["metadata"]["namespace"] == graph.named("namespace").inputs["metadata"]["name"]
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert set(pool["spec"]["roles"]) <= {"controller", "broker"} and pool["spec"]["replicas"] >= 1
    assert pool["spec"]["storage"]["type"] in {"jbod", "persistent-claim"}
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert listeners and [error for listener in listeners for error in listener_errors(listener)] == []
    assert len({listener["name"] for listener in listeners}) == len({listener["port"] for listener in listeners}) \
        == len(listeners)  # ListenersValidator: every listener needs a name and a port of its own
    assert all(isinstance(v, (str, int, bool)) for v in kafka["spec"]["kafka"]["config"].values())


# Strimzi 1.0.1's Kafka CRD (v1, packaging/helm-charts/helm3/strimzi-kafka-operator/crds/040-Crd-kafka.yaml):
# the fields of a listener, of its `configuration` this project sets, of `configuration.brokers[]`, and the
# listener types; ListenersValidator adds the ports it refuses (below 9092, 9404, 9999)
LISTENER_FIELDS = {"name", "port", "type", "tls", "authentication", "configuration", "networkPolicyPeers"}
LISTENER_TYPES = {"internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"}
BROKER_FIELDS = {"broker": int, "advertisedHost": str, "advertisedPort": int}
FORBIDDEN_PORTS = {9404, 9999}


def listener_errors(listener: dict) -> list[str]:
    """What Strimzi 1.0.1 refuses in a listener this project writes (the CRD's schema, ListenersValidator), and
    whether its peers are valid Kubernetes NetworkPolicy peers (Strimzi copies them into a NetworkPolicy)."""
    name = listener.get("name", "?")
    errors = [f"{name}: unknown field {key}" for key in set(listener) - LISTENER_FIELDS]
    errors += [f"{name}: {key} missing" for key in ("name", "port", "type", "tls") if key not in listener]
    if not re.fullmatch(r"[a-z0-9]{1,11}", str(listener.get("name"))):
        errors.append(f"{name}: name must match ^[a-z0-9]{{1,11}}$")
    port = listener.get("port")
    if not isinstance(port, int) or port < 9092 or port in FORBIDDEN_PORTS:
        errors.append(f"{name}: port {port} is forbidden")
    if listener.get("type") not in LISTENER_TYPES or not isinstance(listener.get("tls"), bool):
        errors.append(f"{name}: type {listener.get('type')} / tls {listener.get('tls')}")
    configuration = listener.get("configuration", {})
    errors += [f"{name}: configuration.{key} is not checked here" for key in set(configuration) - {"brokers"}]
    for broker in configuration.get("brokers", []):
        if "broker" not in broker or any(key not in BROKER_FIELDS or not isinstance(value, BROKER_FIELDS[key])
                                         for key, value in broker.items()):
            errors.append(f"{name}: brokers[] entry {broker}")
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "strimzi"},
              "spec": {"podSelector": {}, "ingress": [{"from": listener.get("networkPolicyPeers", []),
                                                       "ports": [{"port": port, "protocol": "TCP"}]}]}}
    try:
        kubernetes_validate.validate(policy, charts.KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        errors.append(f"{name}: networkPolicyPeers: {exc.message}")
    return errors


def test_the_listener_check_refuses_what_strimzi_refuses():
    good = {"name": "forward", "port": 9094, "type": "internal", "tls": False,
            "configuration": {"brokers": [{"broker": 0, "advertisedHost": "localhost", "advertisedPort": 9092}]},
            "networkPolicyPeers": [{"podSelector": {"matchLabels": {"a": "b"}}}]}
    assert listener_errors(good) == []
    for broken in ({**good, "name": "port-forward"}, {**good, "port": 9999}, {**good, "port": 9091},
                   {**good, "type": "clusterip"}, {**good, "advertisedHost": "localhost"},
                   {**good, "configuration": {"brokers": [{"advertisedHost": "localhost"}]}},
                   {**good, "configuration": {"brokers": [{"broker": 0, "advertisedPort": "9092"}]}},
                   {**good, "networkPolicyPeers": [{"podSelector": {"matchLabels": {"a": 1}}}]},
                   {**good, "networkPolicyPeers": [{"podSelector": {"matchExpressions": [{"key": "a"}]}}]}):
        assert listener_errors(broken), broken


@pytest.mark.parametrize("variant", VARIANTS)
def test_elasticsearch_resource_has_the_fields_eck_needs(graphs, variant):
    graph = graphs[variant]
    es = manifest(graph.named("clickstream-elasticsearch").inputs)
    assert es["apiVersion"] == charts.ECK_API and es["kind"] == "Elasticsearch"
    assert es["spec"]["version"].startswith("8.")
    secret = manifest(graph.named("clickstream-es-elastic-credentials").inputs)
    assert es["spec"]["auth"]["fileRealm"] == [{"secretName": secret["metadata"]["name"]}]
    assert secret["type"] == "kubernetes.io/basic-auth" and secret["stringData"]["username"] == "elastic"
    for node_set in es["spec"]["nodeSets"]:
        assert node_set["count"] >= 1
        assert [c["name"] for c in node_set["podTemplate"]["spec"]["containers"]] == ["elasticsearch"]
        # ECK only mounts the data volume under this exact claim name
        assert [t["metadata"]["name"] for t in node_set["volumeClaimTemplates"]] == ["elasticsearch-data"]


@pytest.mark.parametrize("chart", [charts.STRIMZI, charts.ECK, charts.GRAFANA])
def test_each_pinned_chart_has_a_base_values_file(chart):
    path = charts.VALUES_DIR / f"{chart.name}.yaml"
    values = yaml.safe_load(path.read_text())
    assert isinstance(values, dict) and values == chart.base_values()
    assert chart.values_file == f"helm-values/{chart.name}.yaml"
    assert chart.version[0].isdigit() and chart.repository.startswith("https://")


@pytest.mark.parametrize("chart", [charts.STRIMZI, charts.ECK])
def test_operator_values_remove_the_charts_cpu_limit(chart):
    """``null`` in a values file deletes the chart default (Strimzi 1000m, ECK 1): no CPU limit anywhere."""
    limits = chart.base_values()["resources"]["limits"]
    assert "cpu" in limits and limits["cpu"] is None and limits["memory"]


def test_grafana_values_name_only_settings_the_packaged_chart_reads():
    values = charts.GRAFANA.base_values()
    # the packaged 11.6.1 chart leaves templates/tests/ out (.helmignore), so testFramework did nothing
    assert "testFramework" not in values
    assert values["rbac"] == {"namespaced": True}


@pytest.mark.parametrize("variant", VARIANTS)
def test_grafana_password_reset_container_validates(graphs, variant):
    """The init container the chart adds to Grafana's pod is a valid container (inside a Pod)."""
    values = graphs[variant].named("grafana-chart").inputs["values"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "grafana"},
           "spec": {"initContainers": manifest(values["extraInitContainers"]),
                    "containers": [{"name": "grafana", "image": "grafana/grafana:12.4.10"}]}}
    kubernetes_validate.validate(pod, charts.KUBERNETES_VERSION, strict=True)


def test_traefik_allow_list_middleware_has_the_fields_traefik_needs(graphs):
    graph = graphs["staging-own-operators-traefik"]
    (middleware,) = graph.of_type("kubernetes:traefik.io/v1alpha1:Middleware")
    assert manifest(middleware.inputs)["spec"] == {"ipAllowList": {"sourceRange": ["10.0.0.0/8"]}}


def test_values_files_belong_to_pinned_charts():
    pinned = {c.name for c in (charts.STRIMZI, charts.ECK, charts.GRAFANA)}
    assert {p.stem for p in pathlib.Path(charts.VALUES_DIR).glob("*.yaml")} == pinned
