"""Unit tier (Pulumi mocks, no cluster): the ``staging`` and ``prod`` stacks on the Kubernetes platform.

Runs the real ``__main__.py`` under mocks (tests/pulumi_mocks.run_stack) and checks the declared
resource graph: operators and charts, custom resources, Deployments, Services, PDBs, Secrets, sizing,
replication, probes, anti-affinity, protection, secret handling and admin access.
"""
from __future__ import annotations

import json
import shlex

import pytest
from pulumi.runtime import rpc

from components.kubernetes import charts
from stackconfig import ConfigError, parse_config
from tests.k8s_cluster_scope import deep_merge, release_values
from tests.pulumi_mocks import Graph, base_config, run_stack

PASSWORDS = ("test-grafana-pw", "test-es-pw")
STATEFUL = {"namespace", "clickstream-kafka", "clickstream-kafka-dual-role", "clickstream-elasticsearch",
            "grafana-chart"}
OPERATORS = {"strimzi-operator", "eck-operator"}
DEPLOYMENTS = {"connect": "clickstream-connect", "ksqldb": "clickstream-ksqldb"}


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    graphs = {stack: run_stack(stack) for stack in ("staging", "prod", "operators")}
    graphs["own-operators"] = run_stack("prod", {"installOperators": "true"})
    return graphs


def k8s_resources(graph: Graph):
    return [r for r in graph.resources if r.type.startswith("kubernetes:")]


def pod_spec(graph: Graph, deployment: str) -> dict:
    return graph.named(deployment).inputs["spec"]["template"]["spec"]


def env(graph: Graph, deployment: str) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in pod_spec(graph, deployment)["containers"][0]["env"]}


def without_secrets(value):
    """``value`` with every secret-marked subtree replaced by a placeholder."""
    if rpc.is_rpc_secret(value):
        return "<secret>"
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_platform_dispatch_declares_kubernetes_resources_only(graphs, stack):
    graph = graphs[stack]
    assert not [r for r in graph.resources if r.type.startswith("docker:")]
    provider = graph.named("kubernetes")
    assert provider.type == "pulumi:providers:kubernetes"
    assert provider.inputs["namespace"] == f"clickstream-{stack}"
    for resource in k8s_resources(graph):
        assert resource.provider and resource.provider.startswith(provider.urn), resource.name


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_resource_graph(graphs, stack):
    declared = {(r.type, r.name) for r in graphs[stack].resources}
    expected = {
        ("kubernetes:core/v1:Namespace", "namespace"),
        ("kubernetes:helm.sh/v3:Release", "grafana-chart"),
        ("kubernetes:kafka.strimzi.io/v1:Kafka", "clickstream-kafka"),
        ("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "clickstream-kafka-dual-role"),
        ("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "clickstream-elasticsearch"),
        ("kubernetes:apps/v1:Deployment", "clickstream-connect"),
        ("kubernetes:apps/v1:Deployment", "clickstream-ksqldb"),
        ("kubernetes:core/v1:Service", "clickstream-connect-service"),
        ("kubernetes:core/v1:Service", "clickstream-ksqldb-service"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "clickstream-connect-pdb"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "clickstream-ksqldb-pdb"),
        ("kubernetes:core/v1:Secret", "clickstream-grafana-admin"),
        ("kubernetes:core/v1:Secret", "clickstream-es-elastic-credentials"),
    }
    assert expected <= declared, sorted(expected - declared)
    # the operators come from the cluster's shared installation (stack `operators`)
    assert not {name for _, name in declared} & OPERATORS
    for component in ("kafka", "connect", "ksqldb", "elasticsearch", "grafana"):
        assert graphs[stack].named(component).type.startswith("clickstream:kubernetes:")


def test_operators_stack_declares_only_the_shared_operators(graphs):
    graph = graphs["operators"]
    assert {(r.type, r.name) for r in graph.resources} == {
        ("pulumi:providers:kubernetes", "kubernetes"),
        ("clickstream:kubernetes:ClusterOperators", "operators"),
        ("kubernetes:core/v1:Namespace", "namespace"),
        ("kubernetes:helm.sh/v3:Release", "strimzi-operator"),
        ("kubernetes:helm.sh/v3:Release", "eck-operator"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "clickstream-eck-webhook-ingress"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "clickstream-default-deny")}
    assert graph.named("namespace").inputs["metadata"]["name"] == "clickstream-operators"
    assert graph.named("kubernetes").inputs["context"] == "clickstream-operators"
    assert {r.name for r in graph.resources if r.protect} == {"namespace", *OPERATORS}
    assert graph.exports == {}


def test_operators_stack_watches_every_namespace(graphs):
    graph = graphs["operators"]
    assert graph.named("strimzi-operator").inputs["values"] == {"watchAnyNamespace": True}
    eck = graph.named("eck-operator").inputs["values"]
    assert eck == {"fullnameOverride": "clickstream-eck-operator"}  # managedNamespaces [] = all


def test_own_operators_are_declared_in_the_stack(graphs):
    graph = graphs["own-operators"]
    assert OPERATORS <= {r.name for r in graph.of_type("kubernetes:helm.sh/v3:Release")}
    assert {r.name for r in k8s_resources(graph) if r.protect} == STATEFUL | OPERATORS


def test_custom_resources_wait_for_their_operator(graphs):
    graph = graphs["own-operators"]
    assert {"strimzi-operator", "clickstream-kafka-dual-role"} <= graph.dependency_names("clickstream-kafka")
    assert "strimzi-operator" in graph.dependency_names("clickstream-kafka-dual-role")
    assert {"eck-operator", "clickstream-es-elastic-credentials"} <= \
        graph.dependency_names("clickstream-elasticsearch")
    assert "clickstream-grafana-admin" in graph.dependency_names("grafana-chart")
    for deployment in DEPLOYMENTS.values():
        assert "clickstream-kafka" in graph.dependency_names(deployment)


def test_shared_operators_leave_custom_resources_without_operator_dependency(graphs):
    graph = graphs["prod"]
    assert graph.dependency_names("clickstream-kafka-dual-role") == {"namespace"}
    assert graph.dependency_names("clickstream-elasticsearch") == {"namespace", "clickstream-es-elastic-credentials"}


def test_operator_clusters_are_awaited_until_ready(graphs):
    graph = graphs["prod"]
    kafka = graph.named("clickstream-kafka").inputs["metadata"]["annotations"]
    es = graph.named("clickstream-elasticsearch").inputs["metadata"]["annotations"]
    assert kafka["pulumi.com/waitFor"] == "condition=Ready"
    assert es["pulumi.com/waitFor"] == "jsonpath={.status.phase}=Ready"
    assert kafka["pulumi.com/timeoutSeconds"] == es["pulumi.com/timeoutSeconds"] == "900"


@pytest.mark.parametrize("app_resource, infrastructure", [
    ("clickstream-datagen-clickstream", "clickstream-connect"),
    ("clickstream-ksql-clickstream", "clickstream-ksqldb"),
    ("clickstream-index-template", "clickstream-elasticsearch"),
    ("clickstream-grafana-folder", "grafana-chart"),
])
def test_application_layer_starts_after_its_service_is_ready(graphs, app_resource, infrastructure):
    assert infrastructure in graphs["prod"].dependency_names(app_resource)


@pytest.mark.parametrize("stack, brokers, workers, servers, es_nodes", [
    ("staging", 3, 1, 1, 1),
    ("prod", 3, 2, 2, 3),
])
def test_replica_counts(graphs, stack, brokers, workers, servers, es_nodes):
    graph = graphs[stack]
    assert graph.named("clickstream-kafka-dual-role").inputs["spec"]["replicas"] == brokers
    assert graph.named("clickstream-connect").inputs["spec"]["replicas"] == workers
    assert graph.named("clickstream-ksqldb").inputs["spec"]["replicas"] == servers
    node_sets = graph.named("clickstream-elasticsearch").inputs["spec"]["nodeSets"]
    assert [n["count"] for n in node_sets] == [es_nodes]


def test_prod_kafka_is_kraft_with_replication_three_and_min_isr_two(graphs):
    graph = graphs["prod"]
    pool = graph.named("clickstream-kafka-dual-role").inputs
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "clickstream-kafka"
    volume = pool["spec"]["storage"]["volumes"][0]
    assert volume["type"] == "persistent-claim" and volume["size"] == "50Gi" and volume["deleteClaim"] is False
    kafka = graph.named("clickstream-kafka").inputs["spec"]["kafka"]
    assert kafka["version"] == charts.STRIMZI_KAFKA_VERSION
    config = kafka["config"]
    assert config["default.replication.factor"] == 3 and config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2 and config["transaction.state.log.min.isr"] == 2
    assert config["num.partitions"] == 6


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_brokers_never_create_a_topic_by_themselves(graphs, stack):
    """A topic dropped by hand while a consumer reads it would come back with the broker's defaults and block
    the table's recreation; every writer creates its own topics (docs/architecture.md, "Kafka topics")."""
    config = graphs[stack].named("clickstream-kafka").inputs["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False


def test_connect_and_ksqldb_replicate_their_internal_topics(graphs):
    graph = graphs["prod"]
    connect = env(graph, "clickstream-connect")
    for topic in ("CONFIG", "OFFSET", "STATUS"):
        assert connect[f"CONNECT_{topic}_STORAGE_REPLICATION_FACTOR"] == "3"
    assert connect["CONNECT_BOOTSTRAP_SERVERS"] == "clickstream-kafka-kafka-bootstrap.clickstream-prod.svc:9092"
    ksqldb = env(graph, "clickstream-ksqldb")
    assert ksqldb["KSQL_KSQL_SERVICE_ID"] == "clickstream_ksql_"
    assert ksqldb["KSQL_KSQL_INTERNAL_TOPIC_REPLICAS"] == "3"
    assert ksqldb["KSQL_KSQL_INTERNAL_TOPIC_MIN_INSYNC_REPLICAS"] == "2"
    assert ksqldb["KSQL_KSQL_CONNECT_URL"] == "http://clickstream-connect.clickstream-prod.svc:8083"


def test_connect_installs_the_pinned_plugins_before_starting(graphs):
    spec = pod_spec(graphs["prod"], "clickstream-connect")
    (init,) = spec["initContainers"]
    (plugin_dir,) = {m["mountPath"] for m in init["volumeMounts"]}
    assert plugin_dir in {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert plugin_dir in env(graphs["prod"], "clickstream-connect")["CONNECT_PLUGIN_PATH"].split(",")
    cfg = parse_config("prod", base_config("prod"))
    commands = [shlex.split(step) for step in init["command"][-1].split(" && ")]
    assert commands == [
        ["confluent-hub", "install", "--no-prompt", "--component-dir", plugin_dir, plugin]
        for plugin in (f"confluentinc/kafka-connect-datagen:{cfg.datagen_version}",
                       f"confluentinc/kafka-connect-elasticsearch:{cfg.elasticsearch_sink_version}")]


@pytest.mark.parametrize("deployment, readiness, liveness, port", [
    ("clickstream-connect", "/", "/", 8083),
    ("clickstream-ksqldb", "/healthcheck", "/info", 8088),
])
def test_probes_and_service_links(graphs, deployment, readiness, liveness, port):
    spec = pod_spec(graphs["prod"], deployment)
    assert spec["enableServiceLinks"] is False
    container = spec["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": readiness, "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": liveness, "port": port}
    assert container["livenessProbe"]["initialDelaySeconds"] > container["readinessProbe"]["initialDelaySeconds"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS.values())
def test_resources_are_sized_from_the_heap(graphs, deployment):
    resources = pod_spec(graphs["prod"], deployment)["containers"][0]["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == "4096Mi"  # heap 2g
    assert resources["requests"]["cpu"]


@pytest.mark.parametrize("component", DEPLOYMENTS)
def test_pdb_and_service_select_the_deployment_pods(graphs, component):
    graph = graphs["prod"]
    pod_labels = graph.named(DEPLOYMENTS[component]).inputs["spec"]["template"]["metadata"]["labels"]
    pdb = graph.named(f"clickstream-{component}-pdb").inputs["spec"]
    assert pdb == {"maxUnavailable": 1, "selector": {"matchLabels": pod_labels}}
    assert graph.named(f"clickstream-{component}-service").inputs["spec"]["selector"] == pod_labels


def test_every_pod_template_spreads_over_nodes(graphs):
    graph = graphs["prod"]
    affinities = [pod_spec(graph, d)["affinity"] for d in DEPLOYMENTS.values()]
    affinities.append(graph.named("clickstream-kafka-dual-role").inputs["spec"]["template"]["pod"]["affinity"])
    es_pod = graph.named("clickstream-elasticsearch").inputs["spec"]["nodeSets"][0]["podTemplate"]["spec"]
    affinities.append(es_pod["affinity"])
    for affinity in affinities:
        (term,) = affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]


def test_prod_protects_stateful_resources_only(graphs):
    graph = graphs["prod"]
    protected = {r.name for r in k8s_resources(graph) if r.protect}
    assert protected == STATEFUL


def test_staging_protects_nothing(graphs):
    assert not [r.name for r in k8s_resources(graphs["staging"]) if r.protect]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_passwords_only_in_secret_marked_kubernetes_secrets(graphs, stack):
    graph = graphs[stack]
    for resource in graph.resources:
        plain = json.dumps(without_secrets(resource.inputs), default=str)
        for password in PASSWORDS:
            assert password not in plain, f"{resource.type} {resource.name} has a plaintext password"
    grafana = graph.named("clickstream-grafana-admin").inputs["stringData"]
    assert rpc.is_rpc_secret(grafana) and rpc.unwrap_rpc_secret(grafana)["admin-password"] == "test-grafana-pw"
    elastic = graph.named("clickstream-es-elastic-credentials").inputs
    assert elastic["type"] == "kubernetes.io/basic-auth" and rpc.is_rpc_secret(elastic["stringData"])
    assert rpc.unwrap_rpc_secret(elastic["stringData"])["password"] == "test-es-pw"
    for release in graph.of_type("kubernetes:helm.sh/v3:Release"):
        assert json.dumps(release.inputs["values"]) == json.dumps(without_secrets(release.inputs["values"]))
    for deployment in DEPLOYMENTS.values():
        assert "PASSWORD" not in json.dumps(pod_spec(graph, deployment)).upper()


def test_grafana_reads_its_admin_from_the_secret(graphs):
    release = graphs["prod"].named("grafana-chart")
    values = release_values(release)
    assert values["admin"] == {"existingSecret": "clickstream-grafana-admin", "userKey": "admin-user",
                               "passwordKey": "admin-password"}
    assert "adminPassword" not in values
    assert values["persistence"]["enabled"] is True and values["persistence"]["size"] == "5Gi"
    assert values["persistence"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert values["deploymentStrategy"] == {"type": "Recreate"}  # from helm-values/grafana.yaml
    assert [a.path for a in release.inputs["valueYamlFiles"]] == ["helm-values/grafana.yaml"]


def test_grafana_resets_the_admin_password_from_the_secret_on_every_start(graphs):
    values = graphs["prod"].named("grafana-chart").inputs["values"]
    (init,) = values["extraInitContainers"]
    assert init["image"] == parse_config("prod", base_config("prod")).grafana_image
    (password,) = init["env"]
    assert password == {"name": "GF_SECURITY_ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "clickstream-grafana-admin", "key": "admin-password"}}}
    script = init["command"][-1]
    # the password travels on stdin (never in argv); the first start (no database yet) is left to Grafana
    assert "admin reset-admin-password --password-from-stdin" in script and "$GF_SECURITY_ADMIN_PASSWORD" in script
    assert script.startswith('if [ -f "/var/lib/grafana/grafana.db" ]; then ')
    assert {m["name"]: m["mountPath"] for m in init["volumeMounts"]} == {
        "storage": "/var/lib/grafana", "config": "/etc/grafana/grafana.ini"}


def test_a_new_admin_secret_rolls_grafana(graphs):
    """The Secret's resourceVersion (changed by every update) is a pod annotation: a rotated password
    restarts the pod, whose init container then applies it."""
    release = graphs["prod"].named("grafana-chart")
    assert "clickstream/admin-secret-version" in release.inputs["values"]["podAnnotations"]
    assert "clickstream-grafana-admin" in graphs["prod"].dependency_names("grafana-chart")


def test_elasticsearch_uses_the_configured_password_and_version(graphs):
    spec = graphs["prod"].named("clickstream-elasticsearch").inputs["spec"]
    cfg = parse_config("prod", base_config("prod"))
    assert spec["image"] == cfg.elasticsearch_image and cfg.elasticsearch_image.endswith(":" + spec["version"])
    assert spec["auth"]["fileRealm"] == [{"secretName": "clickstream-es-elastic-credentials"}]
    claim = spec["nodeSets"][0]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "elasticsearch-data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"


@pytest.mark.parametrize("stack, resource, chart, namespace", [
    ("operators", "strimzi-operator", charts.STRIMZI, "clickstream-operators"),
    ("operators", "eck-operator", charts.ECK, "clickstream-operators"),
    ("own-operators", "strimzi-operator", charts.STRIMZI, "clickstream-prod"),
    ("prod", "grafana-chart", charts.GRAFANA, "clickstream-prod")])
def test_charts_are_pinned(graphs, stack, resource, chart, namespace):
    inputs = graphs[stack].named(resource).inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == \
        (chart.name, chart.version, chart.repository)
    assert inputs["namespace"] == namespace
    assert [a.path for a in inputs["valueYamlFiles"]] == [chart.values_file]


def test_own_eck_operator_and_its_webhook_act_on_the_stack_namespace_only(graphs):
    values = graphs["own-operators"].named("eck-operator").inputs["values"]
    assert values["managedNamespaces"] == ["clickstream-prod"]
    assert values["webhook"] == {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "clickstream-prod"}}}
    assert values["fullnameOverride"] == "clickstream-eck-operator"
    assert graphs["own-operators"].named("strimzi-operator").inputs["values"] == {}  # its own namespace


PROD_FORWARD = "kubectl --context clickstream-prod --namespace clickstream-prod port-forward"
KAFKA_FORWARDS = [f"{PROD_FORWARD} pod/clickstream-kafka-dual-role-{node} {9092 + node}:9094" for node in range(3)]


def test_port_forward_admin_urls_and_commands(graphs):
    exports = graphs["prod"].exports
    assert (exports["connectUrl"], exports["ksqldbUrl"], exports["elasticsearchUrl"], exports["grafanaUrl"]) == \
        ("http://localhost:8083", "http://localhost:8088", "http://localhost:9200", "http://localhost:3000")
    assert exports["kafkaBootstrap"] == "localhost:9092,localhost:9093,localhost:9094"
    assert exports["portForwardCommands"] == [
        *(f"{PROD_FORWARD} service/{service} {port}:{port}"
          for service, port in (("clickstream-connect", 8083), ("clickstream-ksqldb", 8088),
                                ("clickstream-es-http", 9200), ("clickstream-grafana", 3000))),
        *KAFKA_FORWARDS]
    assert not graphs["prod"].of_type("kubernetes:networking.k8s.io/v1:Ingress")


def listeners(graph: Graph, cluster: str = "clickstream-kafka") -> dict[str, dict]:
    """The Kafka resource's listeners by name."""
    return {listener["name"]: listener for listener in graph.named(cluster).inputs["spec"]["kafka"]["listeners"]}


def test_the_services_use_the_plain_listener_and_pulumi_up_the_forward_one(graphs):
    """The in-cluster bootstrap stays the services' address; the forwarded brokers are the application
    layer's (the IndexAlias swap reads consumer-group offsets there)."""
    graph = graphs["prod"]
    plain, forward = listeners(graph)["plain"], listeners(graph)["forward"]
    assert (plain["port"], plain["type"], plain["tls"]) == (9092, "internal", False)
    assert (forward["port"], forward["type"], forward["tls"]) == (9094, "internal", False)
    assert forward["configuration"] == {"brokers": [
        {"broker": node, "advertisedHost": "localhost", "advertisedPort": 9092 + node} for node in range(3)]}
    assert env(graph, "clickstream-connect")["CONNECT_BOOTSTRAP_SERVERS"] == \
        env(graph, "clickstream-ksqldb")["KSQL_BOOTSTRAP_SERVERS"] == \
        "clickstream-kafka-kafka-bootstrap.clickstream-prod.svc:9092"
    sinks = graph.of_type("pulumi-python:dynamic/elasticsearch:IndexAlias")
    assert sinks and {s.inputs["kafka_bootstrap"] for s in sinks} == {"localhost:9092,localhost:9093,localhost:9094"}


def test_the_forward_listener_admits_no_pod(graphs):
    """Strimzi writes each listener's peers as the `from` of its port's rule; an empty list would admit every
    pod, so the peer selects no pod (a label both present and absent); port-forwards pass no policy."""
    (peer,) = listeners(graphs["prod"])["forward"]["networkPolicyPeers"]
    (selector,) = peer.values()
    assert set(peer) == {"podSelector"}
    assert sorted((r["key"], r["operator"]) for r in selector["matchExpressions"]) == [
        ("strimzi.io/cluster", "DoesNotExist"), ("strimzi.io/cluster", "Exists")]
    assert "matchLabels" not in selector


def test_each_broker_is_forwarded_from_its_own_local_port():
    graph = run_stack("staging", {"kafkaBrokers": "5", "kafkaHostPort": "19092", "namePrefix": "cs"})
    forward = listeners(graph, "cs-kafka")["forward"]
    assert [(b["broker"], b["advertisedPort"]) for b in forward["configuration"]["brokers"]] == \
        [(node, 19092 + node) for node in range(5)]
    assert graph.named("cs-kafka-dual-role").inputs["spec"]["replicas"] == 5
    assert graph.exports["kafkaBootstrap"] == ",".join(f"localhost:{19092 + node}" for node in range(5))
    kafka = [shlex.split(c) for c in graph.exports["portForwardCommands"] if " pod/" in c]
    assert [c[-2:] for c in kafka] == [[f"pod/cs-kafka-dual-role-{node}", f"{19092 + node}:9094"] for node in range(5)]


def test_internal_urls_use_service_dns(graphs):
    graph = graphs["staging"]
    assert graph.named("clickstream-ksqldb-service").inputs["metadata"]["name"] == "clickstream-ksqldb"
    assert env(graph, "clickstream-ksqldb")["KSQL_BOOTSTRAP_SERVERS"] == \
        "clickstream-kafka-kafka-bootstrap.clickstream-staging.svc:9092"
    sink_urls = {r.inputs["config"].get("connection.url")
                 for r in graph.of_type("pulumi-python:dynamic/connect:Connector")} - {None}
    assert sink_urls == {"http://clickstream-es-http.clickstream-staging.svc:9200"}


def test_ingress_admin_access():
    graph = run_stack("staging", {"adminAccess": "ingress", "ingressDomain": "example.com",
                                  "ingressClass": "nginx", "kubeContext": "staging-ctx",
                                  "storageClass": "fast-ssd", "ingressAllowList": "203.0.113.0/24"})
    ingresses = graph.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    hosts = {i.inputs["spec"]["rules"][0]["host"]: i.inputs["spec"] for i in ingresses}
    assert set(hosts) == {"connect.example.com", "ksqldb.example.com", "elasticsearch.example.com",
                          "grafana.example.com"}
    es = hosts["elasticsearch.example.com"]
    assert es["ingressClassName"] == "nginx"
    assert es["rules"][0]["http"]["paths"][0]["backend"]["service"] == \
        {"name": "clickstream-es-http", "port": {"number": 9200}}
    assert graph.exports["grafanaUrl"] == "https://grafana.example.com"
    # Kafka is no ingress: its brokers are port-forwarded in this mode too, and only they are
    assert graph.exports["portForwardCommands"] == [
        f"kubectl --context staging-ctx --namespace clickstream-staging port-forward "
        f"pod/clickstream-kafka-dual-role-{node} {9092 + node}:9094" for node in range(3)]
    assert graph.exports["kafkaBootstrap"] == "localhost:9092,localhost:9093,localhost:9094"
    assert graph.named("kubernetes").inputs["context"] == "staging-ctx"
    pool = graph.named("clickstream-kafka-dual-role").inputs["spec"]["storage"]["volumes"][0]
    assert pool["class"] == "fast-ssd"
    claim = graph.named("clickstream-elasticsearch").inputs["spec"]["nodeSets"][0]["volumeClaimTemplates"][0]
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert graph.named("grafana-chart").inputs["values"]["persistence"]["storageClassName"] == "fast-ssd"


@pytest.mark.parametrize("controller, annotation", [
    ("ingress-nginx", {"nginx.ingress.kubernetes.io/whitelist-source-range": "203.0.113.0/24,198.51.100.7/32"}),
    ("traefik", {"traefik.ingress.kubernetes.io/router.middlewares":
                 "clickstream-staging-clickstream-admin-allow-list@kubernetescrd"}),
])
def test_connect_and_ksqldb_ingresses_admit_only_the_allow_list(controller, annotation):
    graph = run_stack("staging", {"adminAccess": "ingress", "ingressDomain": "example.com",
                                  "ingressController": controller,
                                  "ingressAllowList": "203.0.113.0/24, 198.51.100.7"})
    annotations = {i.inputs["spec"]["rules"][0]["host"].split(".")[0]: i.inputs["metadata"].get("annotations")
                   for i in graph.of_type("kubernetes:networking.k8s.io/v1:Ingress")}
    assert annotations == {"connect": annotation, "ksqldb": annotation, "elasticsearch": None, "grafana": None}
    middlewares = graph.of_type("kubernetes:traefik.io/v1alpha1:Middleware")
    if controller == "traefik":
        (middleware,) = middlewares
        assert middleware.inputs["metadata"] == {"name": "clickstream-admin-allow-list",
                                                 "namespace": "clickstream-staging"}
        assert middleware.inputs["spec"]["ipAllowList"]["sourceRange"] == ["203.0.113.0/24", "198.51.100.7/32"]
    else:
        assert middlewares == []


def test_port_forward_commands_name_the_configured_context():
    graph = run_stack("staging", {"kubeContext": "staging-ctx"})
    assert all(c.startswith("kubectl --context staging-ctx --namespace clickstream-staging port-forward ")
               for c in graph.exports["portForwardCommands"])


@pytest.mark.parametrize("context", ["ops's cluster", "prod; rm -rf ~", "$(id)", "a  b"])
def test_port_forward_commands_quote_every_argument(context):
    """A shell splits each command back into exactly the arguments meant, whatever kubeContext holds."""
    graph = run_stack("staging", {"kubeContext": context})
    commands = [shlex.split(c) for c in graph.exports["portForwardCommands"]]
    assert ["kubectl", "--context", context, "--namespace", "clickstream-staging", "port-forward",
            "service/clickstream-connect", "8083:8083"] in commands
    assert ["kubectl", "--context", context, "--namespace", "clickstream-staging", "port-forward",
            "pod/clickstream-kafka-dual-role-2", "9094:9094"] in commands
    assert all(c[:3] == ["kubectl", "--context", context] and len(c) == 8 for c in commands)


def test_prod_must_be_replicated_secured_and_protected():
    raw = {**base_config("prod"), "replicationFactor": "1", "minInsyncReplicas": "1", "protect": "false"}
    with pytest.raises(ConfigError) as error:
        parse_config("prod", raw)
    message = str(error.value)
    assert "replicationFactor must be >= 3 and minInsyncReplicas >= 2, got 1 and 1" in message
    assert "protect must be true" in message


def test_kubernetes_requires_elasticsearch_security():
    with pytest.raises(ConfigError, match="ECK, which always enables security"):
        parse_config("staging", {**base_config("staging"), "elasticsearchSecurity": "false"})


def test_deep_merge_keeps_base_keys_and_lets_overrides_win():
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    assert deep_merge(base, {"a": {"c": 3}, "d": [2]}) == {"a": {"b": 1, "c": 3}, "d": [2]}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1]}
