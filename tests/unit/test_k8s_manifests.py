"""Unit tier (Pulumi mocks, no cluster): every typed Kubernetes object the staging/prod stacks declare
validates against the REAL Kubernetes OpenAPI schema (kubernetes-validate, strict: unknown fields are
errors) for the pinned Kubernetes version; custom resources and Helm values are checked on the fields
their operators and charts rely on.
"""
from __future__ import annotations

import pathlib

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
                              "ingressClass": "nginx", "storageClass": "fast-ssd"}),
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
    expected = {"Namespace", "Deployment", "Service", "PodDisruptionBudget", "Secret"}
    assert expected <= kinds
    if variant == "prod-ingress":
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
    assert listeners and all({"name", "port", "type", "tls"} <= set(listener) for listener in listeners)
    assert all(isinstance(v, (str, int, bool)) for v in kafka["spec"]["kafka"]["config"].values())


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
    assert isinstance(values, dict) and values
    assert chart.version[0].isdigit() and chart.repository.startswith("https://")


def test_values_files_belong_to_pinned_charts():
    pinned = {c.name for c in (charts.STRIMZI, charts.ECK, charts.GRAFANA)}
    assert {p.stem for p in pathlib.Path(charts.VALUES_DIR).glob("*.yaml")} == pinned
