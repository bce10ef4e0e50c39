"""The project as a user runs it, through the REAL Pulumi engine: its own ``__main__.py``, ``Pulumi.yaml`` and
``Pulumi.external.yaml`` (the external platform: services that already run), driven by ``tools/stack.py``
(the program inline through the Automation API, so the CLI needs no language plugin), against the harness's
real Elasticsearch node and Kafka broker and the fakes of Connect, ksqlDB and Grafana, every HTTP request
counted by a proxy. The stack file's addresses are pointed at those services with config, as a user
points them at theirs.

Ordered steps on ONE stack (module fixtures), as a user's successive runs: preview, up, a second preview
with no changes, ``python -m clickstream status``, destroy. Run the module as a whole.
"""
from __future__ import annotations

import json

import pytest

from clickstream.operations import declared_links
from tests.engine.conftest import Pipeline
from tests.engine.workspace import GRAFANA_PASSWORD, PASSPHRASE, ProjectStack

STACK = "external"
# a login for every service that has one on the external platform (the fakes and the real node, which has no
# security, accept any; Kafka's is the broker's SASL listener's, `kafka_login`): each must stay a secret through
# the engine, the state and `status`
LOGINS = {"clickstream:connectUser": "connect-user", "clickstream:ksqldbUser": "KSQLDBAPIKEY",
          "clickstream:elasticsearchUser": "sink-writer"}
SECRETS = {"clickstream:grafanaAdminPassword": GRAFANA_PASSWORD, "clickstream:connectPassword": "connect-Secret-1",
           "clickstream:ksqldbPassword": "ksqldb-Api-Secret-2", "clickstream:elasticsearchPassword": "es-Secret-3"}
# the stages whose links hold once the application layer is deployed (the others need data to flow)
DEPLOYED_STAGES = ("source connector", "ksqlDB query", "sink connector", "datasource", "dashboard", "alert rule")


@pytest.fixture(scope="module")
def kafka_login(kafka_connect) -> tuple[dict[str, str], dict[str, str]]:
    """Kafka as the stack reaches it (plain config, secrets): the JVM broker's SASL listener with its login;
    the Docker backend's broker has no such listener (nothing of it then)."""
    if not hasattr(kafka_connect, "sasl_bootstrap_servers"):
        return {}, {}
    user, password = kafka_connect.sasl_login
    return ({"clickstream:kafkaBootstrap": kafka_connect.sasl_bootstrap_servers,
             "clickstream:kafkaSecurityProtocol": "SASL_PLAINTEXT", "clickstream:kafkaUser": user},
            {"clickstream:kafkaPassword": password})


@pytest.fixture(scope="module")
def secrets(kafka_login) -> dict[str, str]:
    return {**SECRETS, **kafka_login[1]}


@pytest.fixture(scope="module")
def project_stack(pipeline: Pipeline, kafka_login, secrets, tmp_path_factory) -> ProjectStack:
    urls = pipeline.endpoints()
    config = {"clickstream:kafkaBootstrap": urls["kafka"], "clickstream:connectUrl": urls["connect"],
              "clickstream:ksqldbUrl": urls["ksqldb"], "clickstream:elasticsearchUrl": urls["elasticsearch"],
              "clickstream:grafanaUrl": urls["grafana"]}
    return ProjectStack(tmp_path_factory.mktemp("project-stack"), STACK, {**config, **LOGINS, **kafka_login[0]},
                        secrets)


def test_preview_of_the_project_plans_the_application_layer_on_the_given_services_and_writes_nothing(
        project_stack, pipeline):
    preview = project_stack.preview()
    assert preview.all_ops() == {"create"}, preview.changed()
    types = {step.type for step in preview.steps}
    assert {f"clickstream:external:{kind}" for kind in ("Kafka", "Connect", "Ksqldb", "Elasticsearch", "Grafana")} \
        <= types
    assert not [t for t in types if t.startswith(("docker:", "kubernetes:"))], "an external stack runs no service"
    assert pipeline.ksqldb.mutations == [] and pipeline.writes().keys() <= {"ksqldb"}  # its reads are POSTs


def test_up_deploys_the_application_layer_and_exports_the_given_urls(project_stack, pipeline, kafka_login):
    up = project_stack.up()
    assert up.all_ops() == {"create"} and up.summary == {"create": len(up.steps) + 1}  # + the stack
    assert len(pipeline.connect.connectors) == 3 + len(declared_links.declared_chain().indexes)
    assert pipeline.ksqldb.user_sources and pipeline.template_exists()
    sink = next(c for name, c in pipeline.connect.connectors.items() if name.startswith("es-sink-"))
    assert sink.config["connection.username"] == "sink-writer"  # the login the sinks write with
    assert set(pipeline.grafana.dashboards) == {"clickstream-analysis", "clickstream-high-bandwidth"}
    outputs = project_stack.stack.outputs()
    urls = pipeline.endpoints()
    assert {key: outputs[key].value for key in ("connectUrl", "ksqldbUrl", "elasticsearchUrl", "grafanaUrl",
                                                "kafkaBootstrap")} == {
        "connectUrl": urls["connect"], "ksqldbUrl": urls["ksqldb"], "elasticsearchUrl": urls["elasticsearch"],
        "grafanaUrl": urls["grafana"],
        "kafkaBootstrap": kafka_login[0].get("clickstream:kafkaBootstrap", urls["kafka"])}


def test_a_second_preview_has_no_changes_and_sends_no_request(project_stack, pipeline):
    pipeline.reset_calls()
    preview = project_stack.preview()
    assert preview.all_ops() == {"same"}, preview.changed()
    assert pipeline.requests() == {"connect": 0, "ksqldb": 0, "elasticsearch": 0, "grafana": 0}


def test_status_reads_the_stack_and_reports_every_declared_link(project_stack, pipeline, secrets):
    ran = project_stack.python("-m", "clickstream", "status", "--stack", STACK, "--cwd",
                               str(project_stack.work_dir), "--json")
    assert ran.returncode in (0, 1), ran.stderr  # 1: no data flows yet (the generator is a fake)
    report = json.loads(ran.stdout)
    chain = declared_links.declared_chain()
    names = {(link["stage"], link["name"]) for link in report["links"]}
    assert {("sink connector", name) for name in chain.sink_connectors} <= names
    assert {("dashboard", uid) for uid in chain.dashboards} <= names
    deployed = [link for link in report["links"] if link["stage"] in DEPLOYED_STAGES]
    assert deployed and [link for link in deployed if link["state"] != "OK"] == []
    assert not [key for key, value in secrets.items() if value in ran.stdout + ran.stderr]


def test_state_holds_no_credential_in_plain_text(project_stack, secrets):
    exported = project_stack.cli("stack", "export")
    assert exported.returncode == 0, exported.stderr
    assert not [key for key, value in secrets.items() if value in exported.stdout]
    assert PASSPHRASE not in exported.stdout and '"ciphertext"' in exported.stdout


def test_destroy_leaves_nothing(project_stack, pipeline):
    destroyed = project_stack.destroy()
    assert destroyed.all_ops() == {"delete"}
    assert pipeline.connect.connectors == {}
    assert pipeline.ksqldb.user_sources == {} and pipeline.ksqldb.queries == {}
    assert not pipeline.template_exists()
    assert pipeline.grafana.datasources == {} and pipeline.grafana.dashboards == {} and pipeline.grafana.folders == {}
    assert project_stack.stack.export_stack().deployment.get("resources") in (None, [])
