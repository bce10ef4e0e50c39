"""Unit tier (Pulumi mocks, no cluster): who may connect to which service of the staging/prod stacks.

The NetworkPolicies the REAL ``__main__.py`` declares (and the Kafka listener's ``networkPolicyPeers``, from
which Strimzi writes the Kafka pods' policy) are evaluated by a small model of the NetworkPolicy rules
(``networking.k8s.io/v1``: a pod selected by no policy accepts everything; a selected pod accepts a connection
that one of the policies selecting it admits on that port; a rule without ``from`` admits every source, a
peer's pod selector applies in the policy's namespace unless it has a namespace selector, ``{}`` being every
namespace; a selector's ``matchLabels`` and ``matchExpressions`` must all hold; a source that is no pod, the
Kubernetes API server calling a webhook, is admitted only by a rule without ``from``; the kubelet's probes
come from the node, which a policy never blocks, so they are not modelled). The labels of the pods come from
the declared Deployments, the Elasticsearch resource (the labels ECK gives its nodes), the Grafana release
(the chart's selector labels) and the operators' charts (Strimzi's ``strimzi.io/kind: cluster-operator``,
ECK's ``app.kubernetes.io/name: elastic-operator``). Every manifest is also schema-validated in
``test_k8s_manifests.py``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import pytest

from components.kubernetes import charts, kafka, network_policy
from tests.pulumi_mocks import Graph, run_stack
from tests.unit.test_k8s_manifests import manifest

NAMESPACE = "clickstream-prod"
INGRESS = {"adminAccess": "ingress", "ingressDomain": "example.com", "ingressAllowList": "203.0.113.0/24"}


OPERATORS_NAMESPACE = "clickstream-operators"


@dataclasses.dataclass(frozen=True)
class Pod:
    namespace: str | None  # None: not a pod (the API server)
    labels: Mapping[str, str]


API_SERVER = Pod(None, {})


def requirement_met(requirement: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """One ``matchExpressions`` entry (``meta/v1`` LabelSelectorRequirement): ``Exists``/``DoesNotExist`` take no
    values, ``In``/``NotIn`` at least one; ``NotIn`` is met by a pod without the label."""
    key, operator, values = requirement["key"], requirement["operator"], requirement.get("values") or []
    assert (operator in ("Exists", "DoesNotExist")) == (not values), f"invalid requirement: {requirement}"
    return {"Exists": key in labels, "DoesNotExist": key not in labels,
            "In": labels.get(key) in values, "NotIn": labels.get(key) not in values}[operator]


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A label selector: every ``matchLabels`` pair and every ``matchExpressions`` requirement (ANDed)."""
    assert set(selector) <= {"matchLabels", "matchExpressions"}, selector
    return (all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())
            and all(requirement_met(r, labels) for r in selector.get("matchExpressions") or []))


def peer_admits(peer: Mapping[str, Any], policy_namespace: str, source: Pod) -> bool:
    assert "ipBlock" not in peer, "no policy of the stack admits by address"
    if source.namespace is None:
        return False  # pod and namespace selectors select pods only
    if "namespaceSelector" in peer:
        # the only namespace selector the stack uses is {} (every namespace)
        assert peer["namespaceSelector"] == {}, peer
    elif source.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), source.labels)


def admitted(policies: list[dict], target: Pod, port: int, source: Pod) -> bool:
    selecting = [p for p in policies if p["metadata"]["namespace"] == target.namespace
                 and selects(p["spec"]["podSelector"], target.labels)]
    if not selecting:
        return True
    for policy in selecting:
        assert policy["spec"].get("policyTypes", ["Ingress"]) == ["Ingress"]
        for rule in policy["spec"].get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            peers = rule.get("from")
            if (not ports or port in ports) and (not peers or any(
                    peer_admits(peer, policy["metadata"]["namespace"], source) for peer in peers)):
                return True
    return False


def declared_policies(graph: Graph) -> list[dict]:
    return [manifest(r.inputs) for r in graph.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]


def strimzi_policy(graph: Graph) -> dict:
    """The rules Strimzi 1.0.1 writes for the listeners (``KafkaCluster.generateNetworkPolicy``): one per
    listener, its port from its ``networkPolicyPeers`` (an empty list or none admits every pod), selecting the
    brokers by ``strimzi.io/cluster``."""
    kafka = manifest(graph.named("clickstream-kafka").inputs)
    rules = []
    for listener in kafka["spec"]["kafka"]["listeners"]:
        rule: dict[str, Any] = {"ports": [{"port": listener["port"], "protocol": "TCP"}]}
        if listener.get("networkPolicyPeers"):
            rule["from"] = listener["networkPolicyPeers"]
        rules.append(rule)
    return {"metadata": {"namespace": kafka["metadata"]["namespace"]},
            "spec": {"podSelector": {"matchLabels": {"strimzi.io/cluster": kafka["metadata"]["name"]}},
                     "ingress": rules}}


def pods(graph: Graph) -> dict[str, Pod]:
    def template_labels(name: str) -> dict[str, str]:
        return graph.named(name).inputs["spec"]["template"]["metadata"]["labels"]

    es = graph.named("clickstream-elasticsearch").inputs["metadata"]["name"]
    return {
        "connect": Pod(NAMESPACE, template_labels("clickstream-connect")),
        "ksqldb": Pod(NAMESPACE, template_labels("clickstream-ksqldb")),
        "elasticsearch": Pod(NAMESPACE, {"elasticsearch.k8s.elastic.co/cluster-name": es,
                                         "common.k8s.elastic.co/type": "elasticsearch"}),
        "grafana": Pod(NAMESPACE, {"app.kubernetes.io/name": "grafana",
                                   "app.kubernetes.io/instance": graph.named("grafana-chart").inputs["name"]}),
        "kafka": Pod(NAMESPACE, {"strimzi.io/cluster": "clickstream-kafka", "strimzi.io/kind": "Kafka"}),
        "eck-operator": Pod(OPERATORS_NAMESPACE, {"app.kubernetes.io/name": "elastic-operator"}),
        "kube-apiserver": API_SERVER,
        "other pod in the namespace": Pod(NAMESPACE, {"app": "debug"}),
        "pod of another namespace": Pod("team-x", {"app": "debug"}),
        "ingress-nginx": Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx",
                                               "app.kubernetes.io/component": "controller"}),
        "traefik": Pod("traefik", {"app.kubernetes.io/name": "traefik"}),
    }


# service, port -> who must reach it on every pipeline stack
NEEDED = {
    ("connect", 8083): {"connect", "ksqldb"},
    ("ksqldb", 8088): {"ksqldb"},
    ("elasticsearch", 9200): {"connect", "grafana", "eck-operator"},
    ("elasticsearch", 9300): {"elasticsearch"},
    ("kafka", 9092): {"connect", "ksqldb"},
    ("kafka", 9094): set(),  # the forward listener: `pulumi up` reaches it through port-forwards only
    ("grafana", 3000): set(),  # people reach it through the admin path only
    ("grafana", 6060): set(),  # ports the chart declares that nothing needs
    ("grafana", 9094): set(),
    ("other pod in the namespace", 8080): set(),  # what no rule names is denied
}
ADMIN_APIS = {("connect", 8083), ("ksqldb", 8088), ("elasticsearch", 9200), ("grafana", 3000)}


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {"port-forward": run_stack("prod"),
            "ingress-nginx": run_stack("prod", INGRESS),
            "traefik": run_stack("prod", {**INGRESS, "ingressController": "traefik"})}


@pytest.mark.parametrize("admin", ["port-forward", "ingress-nginx", "traefik"])
@pytest.mark.parametrize("service, port", list(NEEDED))
def test_each_service_admits_exactly_what_needs_it(graphs, admin, service, port):
    graph = graphs[admin]
    policies = [*declared_policies(graph), strimzi_policy(graph)]
    everyone = pods(graph)
    needed = set(NEEDED[(service, port)])
    if admin != "port-forward" and (service, port) in ADMIN_APIS:
        needed.add(admin)  # the ingress controller is the admin path
    got = {name for name, source in everyone.items() if admitted(policies, everyone[service], port, source)}
    assert got == needed


def test_strimzi_writes_the_kafka_policy_from_the_listener_peers():
    """Kafka's only policy is Strimzi's: the operator values keep its generation on."""
    assert charts.STRIMZI.base_values()["generateNetworkPolicy"] is True


def test_each_policy_selects_its_service_pods_only(graphs):
    graph = graphs["ingress-nginx"]
    everyone = pods(graph)
    selected = {p["metadata"]["name"]: {n for n, pod in everyone.items() if pod.namespace == NAMESPACE
                                        and selects(p["spec"]["podSelector"], pod.labels)}
                for p in declared_policies(graph)}
    in_namespace = {name for name, pod in everyone.items() if pod.namespace == NAMESPACE}
    assert selected == {"clickstream-connect-ingress": {"connect"}, "clickstream-ksqldb-ingress": {"ksqldb"},
                        "clickstream-elasticsearch-ingress": {"elasticsearch"},
                        "clickstream-grafana-ingress": {"grafana"}, "clickstream-default-deny": in_namespace}


def operator_pods(namespace: str) -> dict[str, Pod]:
    return {"strimzi-operator": Pod(namespace, {"name": "strimzi-cluster-operator",
                                                "strimzi.io/kind": "cluster-operator"}),
            "eck-operator": Pod(namespace, {"app.kubernetes.io/name": "elastic-operator",
                                            "control-plane": "elastic-operator"}),
            "other pod of the operators' namespace": Pod(namespace, {"app": "debug"}),
            "pipeline pod": Pod(NAMESPACE, {"app": "debug"}), "kube-apiserver": API_SERVER}


@pytest.mark.parametrize("layout", ["own-operators", "operators"])
def test_the_operators_admit_only_the_api_server_to_ecks_webhook(layout):
    """ECK's validating webhook (9443) must stay reachable for the API server, which is no pod and has no
    portable address, so its rule names the port only; Strimzi's operator needs no connection in (its
    probes come from the node; it reaches its pods itself, and egress is not restricted)."""
    graph = run_stack("prod", {"installOperators": "true"}) if layout == "own-operators" else run_stack("operators")
    namespace = NAMESPACE if layout == "own-operators" else OPERATORS_NAMESPACE
    policies = declared_policies(graph)
    everyone = operator_pods(namespace)
    assert admitted(policies, everyone["eck-operator"], 9443, API_SERVER)
    for target, port in (("eck-operator", 8080), ("strimzi-operator", 8080),
                         ("other pod of the operators' namespace", 9443)):
        assert not {name for name, source in everyone.items() if admitted(policies, everyone[target], port, source)}
    assert all(p["spec"]["policyTypes"] == ["Ingress"] for p in policies)  # egress stays open


def test_policies_are_children_of_their_services(graphs):
    graph = graphs["port-forward"]
    assert {name: graph.parent_name(name) for name in ("clickstream-connect-ingress", "clickstream-ksqldb-ingress",
                                                       "clickstream-elasticsearch-ingress")} == {
        "clickstream-connect-ingress": "connect", "clickstream-ksqldb-ingress": "ksqldb",
        "clickstream-elasticsearch-ingress": "elasticsearch"}


def test_a_port_without_peers_is_refused():
    """An empty `from` admits every pod of the cluster: the helper never writes one."""
    with pytest.raises(ValueError, match="NetworkPolicy of connect: port 8083 needs at least one peer"):
        network_policy.admit_only(None, "connect", {"a": "b"}, {8083: []}, None)  # type: ignore[arg-type]


def test_the_model_reads_label_selector_requirements(graphs):
    """The evaluator itself: ``matchExpressions`` AND each other and ``matchLabels``; the forward listener's
    peer (the label both present and absent) selects no pod, whatever its labels."""
    assert selects({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"})
    assert not selects({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["2"]}]}, {"a": "2"})
    assert selects({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["2"]}]}, {})
    assert not selects({"matchLabels": {"b": "1"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]},
                       {"b": "1"})
    no_pod = kafka.NO_POD["podSelector"]
    assert not any(selects(no_pod, pod.labels) for pod in [*pods(graphs["port-forward"]).values(),
                                                           Pod(NAMESPACE, {"strimzi.io/cluster": "x"})])


def test_the_model_admits_everything_without_policies(graphs):
    """The evaluator itself: a pod no policy selects accepts every connection (why the stack needs them)."""
    everyone = pods(graphs["port-forward"])
    assert all(admitted([], everyone["connect"], 8083, source) for source in everyone.values())
