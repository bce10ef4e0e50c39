"""Integration tier, REAL software in Docker (testcontainers): the whole dev pipeline.

Kafka (KRaft), Kafka Connect (datagen + Elasticsearch sink installed from Confluent Hub at start),
ksqlDB, Elasticsearch 8 and Grafana run on one Docker network with the dev stack's images and container
settings (``StackConfig`` defaults, ``components.docker.*`` environments). The application layer is
exactly what ``clickstream.stack.analytics.declare_analytics`` declares (under Pulumi mocks), applied through its
dynamic providers the way the Pulumi engine applies it (``tests.provider.pulumi_engine.Deployment``).
The tests assert that data flows from the datagen connectors through ksqlDB into the Elasticsearch indexes
and that Grafana answers queries on the datasources, and compare per-user tables with
``tests.reference_model`` for clicks the test inserts.
Skipped with the reason when no Docker engine answers. Logs: test-logs/integration/.
"""
from __future__ import annotations

import dataclasses
import secrets
import time
import types
from typing import Any

import pulumi
import pytest
from testcontainers.core.container import DockerContainer

from clickstream.content import connectors
from clickstream.operations import declared_links, stack_outputs, status
from clickstream.stack.analytics import FOLDER_UID, declare_analytics
from clickstream.stack.logins import logins
from components.base import Services
from components.docker.connect import connect_env, install_and_run_command
from components.docker.elasticsearch import elasticsearch_env
from components.docker.grafana import PASSWORD_FILE, grafana_env
from components.service_settings import ksqldb_settings
from providers.connect import ConnectClient
from providers.http import Endpoint, HttpClient, wait_until
from providers.ksqldb import KsqlClient
from providers.ksqldb.client import KSQL_MEDIA_TYPE
from stackconfig import Secrets, StackConfig
from tests import reference_model
from tests.app_layer import registered
from tests.harness.backends import LOG_ROOT, docker_unavailable
from tests.harness.docker import (
    CONNECT_ALIAS,
    KAFKA_INTERNAL_BOOTSTRAP,
    DockerKafkaConnect,
)
from tests.provider.pulumi_engine import Deployment
from tests.pulumi_mocks import run_program

DOCKER_PROBLEM = docker_unavailable()
pytestmark = pytest.mark.skipif(DOCKER_PROBLEM is not None, reason=DOCKER_PROBLEM or "")


LOG_DIR = LOG_ROOT.parent / "integration"
TIMEOUT = 600  # seconds: image pulls, plugin downloads and the first windows take minutes
ES_ALIAS, ES_PORT = "elasticsearch", 9200
KSQLDB_ALIAS, KSQLDB_PORT = "ksqldb", 8088
GRAFANA_PORT = 3000
# Tables that fill within minutes at the dev rates (the HAVING/threshold ones may stay empty longer).
PROMPT_TABLES = ("EVENTS_PER_MIN", "PAGES_PER_MIN", "ERRORS_PER_MIN", "BANDWIDTH_PER_MIN",
                 "USER_BANDWIDTH_PER_MIN", "CLICK_USER_SESSIONS", "SESSION_BANDWIDTH")


@dataclasses.dataclass
class Pipeline:
    connect_url: str
    ksqldb_url: str
    elasticsearch_url: str
    grafana_url: str
    grafana_password: str
    connector_names: list[str]
    dashboard_uids: list[str]


def _service(cfg_image: str, alias: str, port: int, env: dict[str, str], network) -> DockerContainer:
    return (DockerContainer(cfg_image).with_network(network).with_network_aliases(alias)
            .with_exposed_ports(port).with_envs(**env))


def _url(container: DockerContainer, port: int) -> str:
    return f"http://{container.get_container_host_ip()}:{container.get_exposed_port(port)}"


def _save_logs(containers: dict[str, DockerContainer]) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for name, container in containers.items():
        try:
            stdout, stderr = container.get_logs()
        except Exception:  # never started: nothing to keep
            continue
        (LOG_DIR / f"{name}.log").write_bytes(stdout + stderr)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    cfg = StackConfig()
    connect_internal = f"http://{CONNECT_ALIAS}:8083"
    es_internal = f"http://{ES_ALIAS}:{ES_PORT}"
    kafka_connect = DockerKafkaConnect(
        LOG_DIR, config=cfg, connect_env=connect_env(cfg, KAFKA_INTERNAL_BOOTSTRAP, CONNECT_ALIAS),
        connect_command=install_and_run_command(cfg), start_timeout=TIMEOUT,
        required_plugins=(connectors.DATAGEN_CLASS, connectors.ELASTICSEARCH_SINK_CLASS))
    password = secrets.token_urlsafe(18)
    # Grafana reads its admin password from a file, as on the dev stack (readable by the image's user)
    password_file = tmp_path_factory.mktemp("grafana-secret") / "admin-password"
    password_file.write_text(password)
    password_file.chmod(0o444)
    password_file.parent.chmod(0o755)
    services: dict[str, DockerContainer] = {}
    kafka_connect.start()
    try:
        network = kafka_connect.network
        services["elasticsearch"] = _service(cfg.elasticsearch_image, ES_ALIAS, ES_PORT, elasticsearch_env(cfg),
                                             network)
        services["ksqldb"] = _service(cfg.ksqldb_image, KSQLDB_ALIAS, KSQLDB_PORT,
                                      ksqldb_settings(cfg, KAFKA_INTERNAL_BOOTSTRAP, connect_internal), network)
        services["grafana"] = _service(cfg.grafana_image, "grafana", GRAFANA_PORT, grafana_env(cfg),
                                       network).with_volume_mapping(password_file, PASSWORD_FILE)
        for container in services.values():
            container.start()
        pipeline = Pipeline(kafka_connect.connect_url, _url(services["ksqldb"], KSQLDB_PORT),
                            _url(services["elasticsearch"], ES_PORT), _url(services["grafana"], GRAFANA_PORT),
                            password, [], [])
        _apply_everything(cfg, pipeline, {"kafka": KAFKA_INTERNAL_BOOTSTRAP, "connect": connect_internal,
                                          "ksqldb": f"http://{KSQLDB_ALIAS}:{KSQLDB_PORT}",
                                          "elasticsearch": es_internal,
                                          "grafana": f"http://grafana:{GRAFANA_PORT}"})
        yield pipeline
    finally:
        _save_logs(services)
        for container in services.values():
            container.stop()
        kafka_connect.close()


def _apply_everything(cfg: StackConfig, pipeline: Pipeline, internal: dict[str, str]) -> None:
    """Exactly what ``clickstream.stack.analytics.declare_analytics`` declares for these services, declared under
    Pulumi mocks and applied the way the engine applies it (``Deployment``)."""
    admin = {"kafka": internal["kafka"], "connect": pipeline.connect_url, "ksqldb": pipeline.ksqldb_url,
             "elasticsearch": pipeline.elasticsearch_url, "grafana": pipeline.grafana_url}

    def service(name: str) -> Any:
        return types.SimpleNamespace(internal_url=pulumi.Output.from_input(internal[name]),
                                     admin_url=pulumi.Output.from_input(admin[name]),
                                     revision=pulumi.Output.from_input(""))

    def program() -> dict[str, Any]:
        services = Services(*(service(name) for name in ("kafka", "connect", "ksqldb", "elasticsearch", "grafana")))
        secrets = Secrets(grafana_admin_password=pulumi.Output.secret(pipeline.grafana_password))
        return {"analytics": declare_analytics(cfg, secrets, services)}

    resources = [dataclasses.replace(r, inputs={**r.inputs, "ready_timeout": TIMEOUT}) if "ready_timeout" in r.inputs
                 else r for r in registered(run_program(program, stack="dev"))]
    Deployment().up(resources)
    pipeline.connector_names.extend(r.inputs["connector_name"] for r in resources if "connector_name" in r.inputs)
    pipeline.dashboard_uids.extend(r.inputs["dashboard"]["uid"] for r in resources if "dashboard" in r.inputs)


def test_status_waits_for_data_first_and_records_time_to_first_data(pipeline):
    """``clickstream status --wait-for-data`` over the real services: every link OK (indexes: the
    PROMPT_TABLES ones, which fill within minutes), time to readiness per link kept in the logs."""
    declared = declared_links.declared_chain()
    prompt = {connectors.index_name(t) for t in PROMPT_TABLES}
    chain = dataclasses.replace(declared, indexes={i: c for i, c in declared.indexes.items() if i in prompt})
    targets = stack_outputs.Targets.from_outputs(
        {"connectUrl": pipeline.connect_url, "ksqldbUrl": pipeline.ksqldb_url,
         "elasticsearchUrl": pipeline.elasticsearch_url, "grafanaUrl": pipeline.grafana_url},
        logins(StackConfig(), {"grafanaAdminPassword": pipeline.grafana_password}.get), timeout=30)
    lines: list[str] = []
    started = time.monotonic()
    report = status.wait_for_data(targets, chain, timeout=TIMEOUT, out=lines.append)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / "time-to-first-data.txt").write_text(
        f"time to first data: {time.monotonic() - started:.1f} s\n" + "\n".join(lines) + "\n" + report.render() + "\n")
    assert report.ok, report.render()


def test_every_connector_and_its_tasks_run(pipeline):
    with ConnectClient(Endpoint(pipeline.connect_url)) as client:
        for name in pipeline.connector_names:
            client.wait_for_state(name, "RUNNING", timeout=60)


@pytest.mark.parametrize("table", PROMPT_TABLES)
def test_data_reaches_the_elasticsearch_index(pipeline, table):
    index = connectors.index_name(table)
    with HttpClient(Endpoint(pipeline.elasticsearch_url)) as client:
        counted = ["no answer yet"]

        def has_documents() -> bool:
            answer = client.get_or_none(f"/{index}/_count")
            counted[0] = "index missing" if answer is None else f"{answer['count']} documents"
            return answer is not None and answer["count"] > 0

        wait_until(has_documents, timeout=TIMEOUT, description=f"documents in index {index!r}",
                   last_seen=lambda: counted[0])
        mapping = client.get_json(f"/{index}/_mapping")[index]["mappings"]["properties"]
    assert mapping[connectors.TIME_FIELD]["type"] == "date"  # the index template applied


@pytest.mark.parametrize("table", ("EVENTS_PER_MIN", "ERRORS_PER_MIN"))
def test_grafana_answers_a_query_on_the_datasource(pipeline, table):
    uid = connectors.datasource_uid(table)
    query = {"from": "now-15m", "to": "now", "queries": [{
        "refId": "A", "datasource": {"type": "elasticsearch", "uid": uid}, "query": "*",
        "timeField": connectors.TIME_FIELD, "metrics": [{"id": "1", "type": "count"}],
        "bucketAggs": [{"id": "2", "type": "date_histogram", "field": connectors.TIME_FIELD,
                        "settings": {"interval": "auto"}}]}]}
    endpoint = Endpoint(pipeline.grafana_url, username=StackConfig().grafana_admin_user,
                        password=pipeline.grafana_password)
    seen = ["no answer yet"]
    with HttpClient(endpoint) as client:
        def counts_documents() -> bool:
            result = client.request("POST", "/api/ds/query", json=query).json()["results"]["A"]
            values = [value for frame in result.get("frames", []) for value in frame["data"]["values"][-1]]
            seen[0] = f"status {result.get('status')}, values {values[:5]}"
            return result.get("status") == 200 and sum(v or 0 for v in values) > 0

        wait_until(counts_documents, timeout=TIMEOUT, description=f"Grafana to count documents through {uid}",
                   last_seen=lambda: seen[0])


def test_dashboards_are_saved_in_the_folder(pipeline):
    endpoint = Endpoint(pipeline.grafana_url, username=StackConfig().grafana_admin_user,
                        password=pipeline.grafana_password)
    with HttpClient(endpoint) as client:
        for uid in pipeline.dashboard_uids:
            saved = client.get_json(f"/api/dashboards/uid/{uid}")
            assert saved["meta"]["folderUid"] == FOLDER_UID


REFERENCE_USERS = 1000  # added to the model's user ids, far above the ids datagen's quickstart generates
COUNT_COLUMN = {"EVENTS_PER_MIN": "EVENTS", "PAGES_PER_MIN": "PAGES"}


def _pull_counts(client: HttpClient, table: str, user: int) -> dict[int, int]:
    """Window start -> count of one user in a windowed table (a ksqlDB pull query)."""
    body = {"ksql": f"SELECT WINDOWSTART, {COUNT_COLUMN[table]} FROM {table} WHERE USER_KEY = {user};",
            "streamsProperties": {}}
    rows = client.request("POST", "/query", json=body, ok=(200,)).json()
    return {item["row"]["columns"][0]: item["row"]["columns"][1] for item in rows if "row" in item}


def test_per_user_tables_match_the_reference_model(pipeline):
    """Clicks from the reference model, for users datagen never uses, are inserted through ksqlDB stamped
    from 2 s ahead (120 clicks span at most 12 s: never late for the 10 s grace periods, and pushing stream
    time ahead of datagen's clicks by seconds only); each window of EVENTS_PER_MIN and PAGES_PER_MIN for
    those users must then hold exactly the model's count."""
    start = int(time.time() * 1000) + 2000
    clicks = [dataclasses.replace(click, userid=click.userid + REFERENCE_USERS)
              for click in reference_model.generate_clicks(7, 120, start_ms=start, users=3)]
    with KsqlClient(Endpoint(pipeline.ksqldb_url)) as ksql:
        ksql.execute(" ".join(
            "INSERT INTO CLICKSTREAM (ROWTIME, USERID, IP, REQUEST, STATUS, BYTES) VALUES "
            f"({c.ts}, {c.userid}, '{c.ip}', '{c.request}', {c.status}, {c.bytes});" for c in clicks))
    expected = {"EVENTS_PER_MIN": reference_model.events_per_min(clicks),
                "PAGES_PER_MIN": reference_model.pages_per_min(clicks)}
    endpoint = Endpoint(pipeline.ksqldb_url)
    with HttpClient(endpoint, default_headers={"Accept": KSQL_MEDIA_TYPE, "Content-Type": KSQL_MEDIA_TYPE}) as client:
        for table, counts in expected.items():
            for user in sorted({click.userid for click in clicks}):
                want = {window: n for (key, window), n in counts.items() if key == user}
                seen: list[dict[int, int]] = [{}]

                def matches() -> bool:
                    seen[0] = _pull_counts(client, table, user)
                    return seen[0] == want

                wait_until(matches, timeout=120, description=f"{table} for user {user} to equal {want}",
                           last_seen=lambda: str(seen[0]))
