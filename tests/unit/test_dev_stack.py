"""Unit tier: the ``dev`` stack's Docker graph.

Runs the REAL ``__main__.py`` and ``components.docker`` under Pulumi mocks (a FAKE engine and Docker
provider: nothing is pulled or started), then checks every declared Docker resource. Only
``docker:*`` and ``clickstream:docker:*`` types are inspected; the application layer adds its own
resources to the same graph.
"""
from __future__ import annotations

import base64
import functools
import re
from typing import Any

import pytest

from components.docker.common import go_duration
from stackconfig import StackConfig
from tests.pulumi_mocks import Graph, is_secret, run_stack

GRAFANA_PW = "test-grafana-pw"
ES_PW = "test-es-pw"
DEFAULTS = StackConfig()
SERVICES = ("kafka", "connect", "ksqldb", "elasticsearch", "grafana")
IMAGES = {"kafka": DEFAULTS.kafka_image, "connect": DEFAULTS.connect_image, "ksqldb": DEFAULTS.ksqldb_image,
          "elasticsearch": DEFAULTS.elasticsearch_image, "grafana": DEFAULTS.grafana_image}
CONTAINER = "docker:index/container:Container"


@functools.lru_cache(maxsize=None)
def graph(**config: str) -> Graph:
    """The dev stack's graph with ``config`` on top of Pulumi.dev.yaml (each variant runs once)."""
    return run_stack("dev", config)


def unwrap(value: Any) -> Any:
    return value["value"] if is_secret(value) else value


def container(name: str, g: Graph | None = None):
    return (g or graph()).named(f"{name}-container")


def env(name: str, g: Graph | None = None) -> dict[str, str]:
    return dict(item.split("=", 1) for item in unwrap(container(name, g).inputs["envs"]))


def plain_strings(value: Any):
    """Every string in ``value`` that is NOT inside a secret."""
    if is_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from plain_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from plain_strings(item)


def docker_resources(g: Graph):
    return [r for r in g.resources if r.type.startswith(("docker:", "clickstream:docker:"))]


# --- every service container ---------------------------------------------------------------------

@pytest.mark.parametrize("service", SERVICES)
def test_container_runs_the_pinned_image_pulled_by_its_own_image_resource(service):
    image = graph().named(f"{service}-image")
    assert image.inputs["name"] == IMAGES[service]
    assert image.inputs["keepLocally"] is True
    assert container(service).inputs["image"].endswith(IMAGES[service])  # the image resource's imageId
    assert f"{service}-image" in graph().dependency_names(f"{service}-container")


@pytest.mark.parametrize("service", SERVICES)
def test_container_is_named_after_the_prefix_and_restarts(service):
    inputs = container(service).inputs
    assert inputs["name"] == inputs["hostname"] == f"clickstream-{service}"
    assert inputs["restart"] == "unless-stopped"
    assert inputs["destroyGraceSeconds"] >= 10  # stopped cleanly before removal


@pytest.mark.parametrize("service", SERVICES)
def test_container_joins_the_stack_network_with_its_service_alias(service):
    (network,) = graph().of_type("docker:index/network:Network")
    assert network.inputs["name"] == "clickstream-net" and network.inputs["driver"] == "bridge"
    assert container(service).inputs["networksAdvanced"] == [{"name": "clickstream-net", "aliases": [service]}]
    assert "network" in graph().dependency_names(f"{service}-container")


@pytest.mark.parametrize("service, test", [
    ("kafka", ["CMD", "env", "KAFKA_HEAP_OPTS=-Xms16m -Xmx64m", "KAFKA_OPTS=", "kafka-broker-api-versions",
               "--bootstrap-server", "localhost:29092"]),
    ("connect", ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://localhost:8083/connectors"]),
    ("ksqldb", ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://localhost:8088/healthcheck"]),
    ("elasticsearch", ["CMD-SHELL", "curl -fsS -o /dev/null "
                       "'http://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=5s'"]),
    ("grafana", ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:3000/api/health"]),
])
def test_container_has_a_healthcheck_pulumi_waits_for(service, test):
    inputs = container(service).inputs
    check = inputs["healthcheck"]
    assert check["tests"] == test
    assert check["retries"] >= 3 and check["interval"] and check["timeout"] and check["startPeriod"]
    assert inputs["wait"] is True and inputs["waitTimeout"] >= 120


# What Go's time.Duration.String() prints for durations given to time.ParseDuration (printed by Go 1.26).
GO_DURATIONS = {"0s": "0s", "5s": "5s", "30s": "30s", "59s": "59s", "60s": "1m0s", "90s": "1m30s",
                "120s": "2m0s", "600s": "10m0s", "3599s": "59m59s", "3600s": "1h0m0s", "3661s": "1h1m1s",
                "1m": "1m0s", "1h": "1h0m0s"}
GO_UNITS = {"h": 3600, "m": 60, "s": 1}


def go_parse(text: str) -> int:
    """Whole seconds of a Go duration such as ``1m30s`` (the subset healthchecks use)."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert match and text, f"{text!r} is not a Go duration in h/m/s"
    return sum(int(part) * unit for part, unit in zip(match.groups(), GO_UNITS.values()) if part)


@pytest.mark.parametrize("written, printed", GO_DURATIONS.items())
def test_durations_are_written_as_go_prints_them(written, printed):
    assert go_duration(go_parse(written)) == printed


def test_durations_refuse_what_go_would_print_differently():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="whole, non-negative number of seconds"):
            go_duration(bad)


@pytest.mark.parametrize("service", SERVICES)
def test_refresh_reads_back_every_healthcheck_duration_unchanged(service):
    """pulumi-docker 5.x reads durations back with Go's Duration.String(): any other spelling of the same
    time (``120s`` for ``2m0s``) is a diff on every refresh and every up after it."""
    check = container(service).inputs["healthcheck"]
    for field in ("interval", "timeout", "startPeriod", "startInterval"):
        if field in check:
            assert check[field] == go_duration(go_parse(check[field])), (service, field, check[field])
    assert float(check["retries"]).is_integer()  # Docker keeps an int; a fraction would read back changed


def test_kafka_healthcheck_runs_a_small_jvm_not_one_with_the_broker_heap():
    test = container("kafka").inputs["healthcheck"]["tests"]
    assert "KAFKA_HEAP_OPTS=-Xms16m -Xmx64m" in test and "KAFKA_OPTS=" in test
    assert env("kafka")["KAFKA_HEAP_OPTS"] == "-Xms1g -Xmx1g"  # the broker keeps its own heap


@pytest.mark.parametrize("service, inner, outer", [
    ("kafka", 9092, 9092), ("connect", 8083, 8083), ("ksqldb", 8088, 8088),
    ("elasticsearch", 9200, 9200), ("grafana", 3000, 3000),
])
def test_container_publishes_its_port_on_loopback(service, inner, outer):
    assert container(service).inputs["ports"] == [{"internal": inner, "external": outer, "ip": "127.0.0.1"}]


@pytest.mark.parametrize("service, path", [("kafka", "/var/lib/kafka/data"),
                                           ("elasticsearch", "/usr/share/elasticsearch/data")])
def test_stateful_services_keep_data_on_a_named_volume(service, path):
    volume = graph().named(f"{service}-data")
    assert volume.inputs["name"] == f"clickstream-{service}-data" and volume.protect is False
    assert container(service).inputs["volumes"] == [{"volumeName": f"clickstream-{service}-data",
                                                     "containerPath": path}]


@pytest.mark.parametrize("service", ["connect", "ksqldb", "grafana"])
def test_stateless_services_have_no_volume(service):
    assert not container(service).inputs.get("volumes")


@pytest.mark.parametrize("service, component", [
    ("kafka", "clickstream:docker:Kafka"), ("connect", "clickstream:docker:Connect"),
    ("ksqldb", "clickstream:docker:Ksqldb"), ("elasticsearch", "clickstream:docker:Elasticsearch"),
    ("grafana", "clickstream:docker:Grafana"),
])
def test_each_service_is_a_component_owning_its_image_and_container(service, component):
    assert graph().named(service).type == component
    assert graph().parent_name(f"{service}-container") == service
    assert graph().parent_name(f"{service}-image") == service


# --- order ---------------------------------------------------------------------------------------

def test_connect_waits_for_kafka_and_ksqldb_for_kafka_and_connect():
    g = graph()
    assert "kafka-container" in g.dependency_names("connect-container")
    assert {"kafka-container", "connect-container"} <= g.dependency_names("ksqldb-container")


@pytest.mark.parametrize("service", ["kafka", "elasticsearch", "grafana"])
def test_independent_services_wait_for_no_other_container(service):
    others = {f"{other}-container" for other in SERVICES}
    assert not graph().dependency_names(f"{service}-container") & others


# --- Kafka (KRaft) -------------------------------------------------------------------------------

def test_kafka_is_a_single_combined_kraft_node():
    e = env("kafka")
    assert e["KAFKA_PROCESS_ROLES"] == "broker,controller" and e["KAFKA_NODE_ID"] == "1"
    assert e["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@clickstream-kafka:9093"
    assert e["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert len(base64.urlsafe_b64decode(e["CLUSTER_ID"] + "==")) == 16 and len(e["CLUSTER_ID"]) == 22


def test_kafka_listeners_serve_containers_and_the_host():
    e = env("kafka")
    assert e["KAFKA_LISTENERS"].split(",") == ["INTERNAL://0.0.0.0:29092", "EXTERNAL://0.0.0.0:9092",
                                               "CONTROLLER://clickstream-kafka:9093"]
    assert e["KAFKA_ADVERTISED_LISTENERS"].split(",") == ["INTERNAL://clickstream-kafka:29092",
                                                          "EXTERNAL://localhost:9092"]
    assert set(e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")) == {
        "INTERNAL:PLAINTEXT", "EXTERNAL:PLAINTEXT", "CONTROLLER:PLAINTEXT"}
    assert e["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"


def test_kafka_replication_and_sizing_come_from_config():
    e = env("kafka")
    for key in ("KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_NUM_PARTITIONS"):
        assert e[key] == "1", key
    assert e["KAFKA_HEAP_OPTS"] == "-Xms1g -Xmx1g" and e["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert env("kafka", graph(kafkaPartitions="4", kafkaHeap="768m"))["KAFKA_NUM_PARTITIONS"] == "4"
    assert env("kafka", graph(kafkaPartitions="4", kafkaHeap="768m"))["KAFKA_HEAP_OPTS"] == "-Xms768m -Xmx768m"


def test_the_broker_never_creates_a_topic_by_itself():
    """cp-kafka turns ``KAFKA_AUTO_CREATE_TOPICS_ENABLE`` into ``auto.create.topics.enable``; every writer
    creates its own topics (docs/architecture.md, "Kafka topics")."""
    assert env("kafka")["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_kafka_never_gets_variables_that_make_the_image_exit():
    forbidden = {"KAFKA_PORT", "KAFKA_HOST", "KAFKA_ADVERTISED_PORT", "KAFKA_ADVERTISED_HOST"}
    for service in SERVICES:
        assert not forbidden & set(env(service)), service


def test_kafka_cluster_id_is_stable_and_per_prefix():
    assert env("kafka")["CLUSTER_ID"] == env("kafka", run_stack("dev"))["CLUSTER_ID"]
    assert env("kafka")["CLUSTER_ID"] != env("kafka", graph(namePrefix="other"))["CLUSTER_ID"]


# --- Connect -------------------------------------------------------------------------------------

def test_connect_worker_settings():
    e = env("connect")
    assert e["CONNECT_BOOTSTRAP_SERVERS"] == "clickstream-kafka:29092"
    assert e["CONNECT_GROUP_ID"] == "clickstream-connect"
    assert e["CONNECT_REST_ADVERTISED_HOST_NAME"] == "clickstream-connect"
    topics = [e[f"CONNECT_{kind}_STORAGE_TOPIC"] for kind in ("CONFIG", "OFFSET", "STATUS")]
    assert topics == ["_clickstream-connect-configs", "_clickstream-connect-offsets", "_clickstream-connect-status"]
    assert all(e[f"CONNECT_{kind}_STORAGE_REPLICATION_FACTOR"] == "1" for kind in ("CONFIG", "OFFSET", "STATUS"))
    assert e["CONNECT_VALUE_CONVERTER"] == "org.apache.kafka.connect.json.JsonConverter"
    assert e["CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE"] == "false"
    assert "/usr/share/confluent-hub-components" in e["CONNECT_PLUGIN_PATH"].split(",")
    assert e["KAFKA_HEAP_OPTS"] == "-Xms1g -Xmx1g"


def test_connect_installs_the_pinned_plugins_then_starts_the_worker():
    shell, flag, script = container("connect").inputs["command"]
    assert (shell, flag) == ("bash", "-c")
    steps = script.split("; ")
    assert steps[0] == "set -euo pipefail" and steps[-1] == "exec /etc/confluent/docker/run"
    installs = [step.split(" || ")[1] for step in steps[1:-1]]
    assert [step.split()[-1] for step in installs] == [
        f"confluentinc/kafka-connect-datagen:{DEFAULTS.datagen_version}",
        f"confluentinc/kafka-connect-elasticsearch:{DEFAULTS.elasticsearch_sink_version}"]
    assert all(step.startswith("confluent-hub install --no-prompt") for step in installs)


def test_plugin_versions_come_from_config():
    script = container("connect", graph(datagenVersion="0.7.1"))
    assert "confluentinc/kafka-connect-datagen:0.7.1" in script.inputs["command"][2]


# --- ksqlDB --------------------------------------------------------------------------------------

def test_ksqldb_points_at_kafka_and_connect():
    e = env("ksqldb")
    assert e["KSQL_BOOTSTRAP_SERVERS"] == "clickstream-kafka:29092"
    assert e["KSQL_KSQL_CONNECT_URL"] == "http://clickstream-connect:8083"
    assert e["KSQL_LISTENERS"] == "http://0.0.0.0:8088"
    assert e["KSQL_KSQL_SERVICE_ID"] == "clickstream_ksql_"
    assert e["KSQL_KSQL_INTERNAL_TOPIC_REPLICAS"] == e["KSQL_KSQL_STREAMS_REPLICATION_FACTOR"] == "1"
    assert "KSQL_KSQL_SINK_REPLICAS" not in e  # a property ksqlDB no longer has; sinks use the broker default
    assert e["KSQL_KSQL_LOGGING_PROCESSING_STREAM_AUTO_CREATE"] == "true"
    assert e["KSQL_HEAP_OPTS"] == "-Xms1g -Xmx1g"


# --- Elasticsearch -------------------------------------------------------------------------------

def test_elasticsearch_is_a_single_node_without_security_by_default():
    e = env("elasticsearch")
    assert e["discovery.type"] == "single-node" and e["xpack.security.enabled"] == "false"
    assert e["ES_JAVA_OPTS"] == "-Xms1g -Xmx1g" and "ELASTIC_PASSWORD" not in e


def uploads(name: str, g: Graph | None = None) -> dict[str, dict]:
    """The files uploaded into a container before it starts, by path (the list is a Pulumi secret)."""
    declared = container(name, g).inputs["uploads"]
    assert is_secret(declared)
    return {u["file"]: u for u in unwrap(declared)}


def test_elasticsearch_security_uses_the_secret_password_file_and_authenticated_healthcheck():
    g = graph(elasticsearchSecurity="true")
    inputs = container("elasticsearch", g).inputs
    e = env("elasticsearch", g)
    assert e["xpack.security.enabled"] == "true" and "ELASTIC_PASSWORD" not in e
    assert e["ELASTIC_PASSWORD_FILE"] == "/run/secrets/elastic-password"
    password = uploads("elasticsearch", g)["/run/secrets/elastic-password"]
    assert password["content"] == ES_PW
    # read by the image's user (uid 1000) only
    assert (password["owner"], password["group"], password["permissions"]) == ("1000", "0", "0400")
    assert e["xpack.security.http.ssl.enabled"] == "false"  # auth on Docker; TLS is the Kubernetes platform's
    assert '-u "elastic:$(cat /run/secrets/elastic-password)"' in inputs["healthcheck"]["tests"][1]
    assert g.exports["elasticsearchUrl"] == "http://localhost:9200"


# --- Grafana -------------------------------------------------------------------------------------

def test_grafana_admin_credentials_come_from_config():
    e = env("grafana")
    assert e["GF_SECURITY_ADMIN_USER"] == "admin" and "GF_SECURITY_ADMIN_PASSWORD" not in e
    assert e["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana-admin-password"
    password = uploads("grafana")["/run/secrets/grafana-admin-password"]
    assert password["content"] == GRAFANA_PW
    assert (password["owner"], password["group"], password["permissions"]) == ("472", "0", "0400")
    assert e["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env("grafana", graph(grafanaAdminUser="ops"))["GF_SECURITY_ADMIN_USER"] == "ops"


# --- secrets -------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", [{}, {"elasticsearchSecurity": "true"}])
def test_passwords_appear_only_inside_secret_inputs(config):
    g = graph(**config)
    for resource in g.resources:
        leaked = [s for s in plain_strings(resource.inputs) if GRAFANA_PW in s or ES_PW in s]
        assert not leaked, f"{resource.type} {resource.name} has a password in a plain input"
    assert not [s for s in plain_strings(g.exports) if GRAFANA_PW in s or ES_PW in s]


@pytest.mark.parametrize("config", [{}, {"elasticsearchSecurity": "true"}])
def test_no_password_in_what_docker_inspect_shows(config):
    """Environment, command, healthcheck and labels are the container's configuration (``docker inspect``):
    no password there, not even inside a Pulumi secret; only the uploaded files hold them."""
    g = graph(**config)
    for resource in g.of_type(CONTAINER):
        inspected = {k: unwrap(v) for k, v in resource.inputs.items() if k != "uploads"}
        assert GRAFANA_PW not in repr(inspected) and ES_PW not in repr(inspected), resource.name


# --- outputs and config wiring -------------------------------------------------------------------

def test_stack_outputs_are_the_admin_urls():
    exports = graph().exports
    assert exports["grafanaUrl"] == "http://localhost:3000"
    assert exports["ksqldbUrl"] == "http://localhost:8088"
    assert exports["connectUrl"] == "http://localhost:8083"
    assert exports["elasticsearchUrl"] == "http://localhost:9200"
    assert exports["kafkaBootstrap"] == "localhost:9092"


def test_ports_and_prefix_flow_from_config():
    g = graph(namePrefix="cs", kafkaHostPort="19092", grafanaPort="13000")
    assert container("kafka", g).inputs["name"] == "cs-kafka"
    assert g.of_type("docker:index/network:Network")[0].inputs["name"] == "cs-net"
    assert "EXTERNAL://localhost:19092" in env("kafka", g)["KAFKA_ADVERTISED_LISTENERS"]
    assert container("kafka", g).inputs["ports"][0]["external"] == 19092
    assert env("connect", g)["CONNECT_BOOTSTRAP_SERVERS"] == "cs-kafka:29092"
    assert g.exports["grafanaUrl"] == "http://localhost:13000" and g.exports["kafkaBootstrap"] == "localhost:19092"


def test_images_come_from_config():
    g = graph(grafanaImage="grafana/grafana:12.4.9")
    assert g.named("grafana-image").inputs["name"] == "grafana/grafana:12.4.9"


def test_protect_guards_the_data_volumes():
    g = graph(protect="true")
    assert g.named("kafka-data").protect and g.named("elasticsearch-data").protect


def test_preview_declares_the_same_docker_resources():
    preview = run_stack("dev", preview=True)
    assert sorted((r.type, r.name) for r in docker_resources(preview)) == \
        sorted((r.type, r.name) for r in docker_resources(graph()))


@pytest.mark.parametrize("service, internal, admin", [
    ("kafka", "clickstream-kafka:29092", "localhost:9092"),
    ("connect", "http://clickstream-connect:8083", "http://localhost:8083"),
    ("ksqldb", "http://clickstream-ksqldb:8088", "http://localhost:8088"),
    ("elasticsearch", "http://clickstream-elasticsearch:9200", "http://localhost:9200"),
    ("grafana", "http://clickstream-grafana:3000", "http://localhost:3000"),
])
def test_components_publish_internal_and_admin_urls(service, internal, admin):
    g = graph()
    component = getattr(g.namespace["services"], service)
    assert (g.resolve(component.internal_url), g.resolve(component.admin_url)) == (internal, admin)


@pytest.mark.parametrize("service, url_input", [
    ("connect", "connect_url"), ("ksqldb", "ksqldb_url"), ("elasticsearch", "elasticsearch_url"),
    ("grafana", "grafana_url"),
])
def test_the_application_layer_reaches_a_service_only_once_its_container_is_healthy(service, url_input):
    """The admin URL waits for the container (``wait=True``: healthy), so a container re-created by
    ``pulumi up --refresh`` is back before anything of the application layer is checked or applied."""
    g = graph()
    users = [r for r in g.resources if url_input in r.inputs]
    assert users, url_input
    for resource in users:
        assert container(service, g).urn in resource.property_dependencies.get(url_input, ()), resource.name
