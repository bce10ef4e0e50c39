"""Unit tier (Pulumi mocks, no cluster): ``staging`` and ``prod`` on one cluster, beside the ``operators``
stack, create no cluster-scoped object twice, and every pipeline namespace is run by exactly one Strimzi
and one ECK (whose admission webhook is the only one selecting it).

The stacks are the REAL ``__main__.py`` under mocks; the objects the Helm charts create are a MODEL of the
pinned charts' templates (tests/k8s_cluster_scope.py says which files and how it was checked).
"""
from __future__ import annotations

import pytest

from tests.k8s_cluster_scope import ClusterView, add_stack
from tests.pulumi_mocks import run_stack

PIPELINES = {"staging": "clickstream-staging", "prod": "clickstream-prod"}


def cluster(*stacks: tuple[str, dict[str, str]]) -> ClusterView:
    view = ClusterView()
    for stack, config in stacks:
        add_stack(view, stack, run_stack(stack, config))
    return view


@pytest.fixture(scope="module")
def shared() -> ClusterView:
    """The documented layout: the operators stack, then staging and prod from their stack files."""
    return cluster(("operators", {}), ("staging", {}), ("prod", {}))


def test_no_cluster_scoped_name_is_declared_twice(shared):
    assert shared.collisions() == {}


def test_the_model_holds_what_the_charts_create_once(shared):
    kinds = {}
    for kind, _ in shared.objects:
        kinds[kind] = kinds.get(kind, 0) + 1
    # 10 Strimzi + 12 ECK CRDs; 7 Strimzi + 3 ECK cluster roles; 6 Strimzi + 1 ECK bindings; ECK's webhook;
    # the three stacks' namespaces; no Grafana cluster role (rbac.namespaced)
    assert kinds == {"CustomResourceDefinition": 22, "ClusterRole": 10, "ClusterRoleBinding": 7,
                     "ValidatingWebhookConfiguration": 1, "Namespace": 3}
    assert not [name for kind, name in shared.objects if "grafana" in name]


@pytest.mark.parametrize("operator", ["strimzi", "eck", "eck-webhook"])
@pytest.mark.parametrize("stack", PIPELINES)
def test_each_pipeline_namespace_is_run_by_exactly_one_operator(shared, operator, stack):
    assert shared.covering(operator, PIPELINES[stack]) == ["operators"]


def test_two_stacks_with_their_own_operators_collide():
    """The model catches the collision the shared layout removes (one stack per cluster in that mode)."""
    view = cluster(("staging", {"installOperators": "true"}), ("prod", {"installOperators": "true"}))
    collisions = view.collisions()
    crds = {name for kind, name in collisions if kind == "CustomResourceDefinition"}
    assert "elasticsearches.elasticsearch.k8s.elastic.co" in crds and "kafkas.kafka.strimzi.io" in crds
    assert ("ClusterRole", "strimzi-cluster-operator-global") in collisions
    assert ("ClusterRoleBinding", "clickstream-eck-operator") in collisions
    assert len(collisions) == 36


def test_own_operators_are_limited_to_the_stack_namespace():
    view = cluster(("staging", {"installOperators": "true"}))
    for operator in ("strimzi", "eck", "eck-webhook"):
        assert view.covering(operator, "clickstream-staging") == ["staging"]
        assert view.covering(operator, "clickstream-prod") == []


def test_a_pipeline_without_the_operators_stack_is_run_by_nobody():
    view = cluster(("staging", {}))
    assert view.covering("strimzi", "clickstream-staging") == []
    assert not [kind for kind, _ in view.objects if kind != "Namespace"]


def test_grafana_cluster_roles_are_modelled(monkeypatch):
    """Without ``rbac.namespaced`` the Grafana chart's ClusterRole and binding would collide."""
    from components.kubernetes import grafana

    original = grafana.grafana_values
    monkeypatch.setattr(grafana, "grafana_values",
                        lambda *args, **kw: {**original(*args, **kw), "rbac": {"namespaced": False}})
    collisions = cluster(("staging", {}), ("prod", {})).collisions()
    assert set(collisions) == {("ClusterRole", "clickstream-grafana-clusterrole"),
                               ("ClusterRoleBinding", "clickstream-grafana-clusterrolebinding")}
