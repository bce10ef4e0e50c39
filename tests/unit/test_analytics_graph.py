"""Unit tier: the application layer in the stack's resource graph. Runs the REAL ``__main__.py`` under
Pulumi mocks (FAKE engine: no provider method runs, nothing is contacted) for the dev (Docker, no ES
security) and prod (Kubernetes, ES security on) stacks, and checks the declared dynamic resources:
connectors, ksqlDB statements, index template, sinks, datasources, folder and dashboards."""
from __future__ import annotations

import functools
import json
import types
from typing import Any

import pulumi
import pytest
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from clickstream.content import alerting, connectors
from clickstream.stack.analytics import KSQL_DIR, declare_analytics, ksql_variables
from components.base import Services
from providers.ksqldb import load_sql_dir, parse_sources
from providers.ksqldb.parser import builds
from stackconfig import Secrets, StackConfig
from tests.pulumi_mocks import Declared, Graph, RecordingMocks, is_secret, run_stack


@functools.lru_cache(maxsize=None)
def graph(stack: str) -> Graph:
    return run_stack(stack)


def app_layer(g: Graph) -> list[Declared]:
    return [r for r in g.resources if r.type.startswith("pulumi-python:dynamic")]


def with_input(g: Graph, key: str) -> list[Declared]:
    return [r for r in app_layer(g) if key in r.inputs]


def connectors_of(g: Graph) -> dict[str, Declared]:
    return {r.inputs["connector_name"]: r for r in with_input(g, "connector_name")}


def datasources(g: Graph) -> dict[str, Declared]:
    return {r.inputs["uid"]: r for r in with_input(g, "datasource")}


def dashboards(g: Graph) -> dict[str, Declared]:
    return {r.inputs["dashboard"]["uid"]: r for r in with_input(g, "dashboard")}


def sinks(g: Graph) -> dict[str, Declared]:
    return {c.inputs["config"]["topics"]: c for c in connectors_of(g).values()
            if c.inputs["config"]["connector.class"] == connectors.ELASTICSEARCH_SINK_CLASS}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_derived_table_has_one_sink_one_datasource_and_a_panel(stack):
    g = graph(stack)
    tables = set(connectors.derived_tables(parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(StackConfig()))))
    assert len(tables) == 12
    by_topic = sinks(g)
    assert set(by_topic) == tables and len(by_topic) == len(tables)
    by_index = {d.inputs["datasource"]["jsonData"]["index"]: d for d in datasources(g).values()}
    assert set(by_index) == {t.lower() for t in tables} and len(datasources(g)) == len(tables)
    placeholders = set()
    for dashboard in dashboards(g).values():
        placeholders |= {p["datasource"]["uid"] for p in dashboard.inputs["dashboard"]["panels"] if p["type"] != "row"}
    assert placeholders >= {"${%s}" % connectors.datasource_key(t) for t in tables}


def test_each_sink_writes_its_tables_versioned_index_and_readers_keep_the_alias():
    """Per table: the build's index ``<table>_v<build digest of the files>`` (after its ksqlDB table, refilled
    when the query that fills it changes), the sink of that build (named with the version, after the index,
    reading in a group of that query), and the alias readers use (after the sink), which waits for that query
    and that group; the datasources read the alias, the name the index always had."""
    g = graph("dev")
    indexes = {r.inputs["alias"]: r for r in with_input(g, "alias") if "sink" not in r.inputs}
    aliases = {r.inputs["alias"]: r for r in with_input(g, "sink")}
    ksql_tables = {r.inputs["object_name"]: r for r in with_input(g, "object_name")}
    by_index = {d.inputs["datasource"]["jsonData"]["index"] for d in datasources(g).values()}
    statements = parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(StackConfig()))
    tables, versions = connectors.derived_tables(statements), builds(statements)
    assert set(indexes) == set(aliases) == by_index == {t.lower() for t in tables}
    for table, sink in sinks(g).items():
        index, alias = indexes[table.lower()], aliases[table.lower()]
        name = connectors.sink_connector_name(table, versions[table])
        assert index.inputs["index"] == alias.inputs["index"] == connectors.versioned_index_name(table, versions[table])
        assert sink.inputs["connector_name"] == alias.inputs["sink"] == name
        assert sink.inputs["config"]["topic.to.external.resource.mapping"] == f"{table}:{index.inputs['index']}"
        assert sink.inputs["config"]["consumer.override.group.id"] == alias.inputs["sink_group"] == \
            connectors.sink_group(name, f"CTAS_{table}_0")
        assert alias.inputs["query_id"] == index.inputs["build"] == f"CTAS_{table}_0" and alias.inputs["topic"] == table
        assert alias.inputs["kafka_bootstrap"] and alias.inputs["source_topics"]
        assert index.urn in sink.dependencies and ksql_tables[table].urn in index.dependencies
        assert {index.urn, sink.urn} <= set(alias.dependencies)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_panel_datasource_is_mapped_to_a_declared_datasource(stack):
    g = graph(stack)
    declared = set(datasources(g))
    assert set(dashboards(g)) == {"clickstream-analysis", "clickstream-high-bandwidth"}
    for dashboard in dashboards(g).values():
        mapping = dashboard.inputs["datasource_uids"]
        assert set(mapping.values()) <= declared
        used = {p["datasource"]["uid"][2:-1] for p in dashboard.inputs["dashboard"]["panels"] if p["type"] != "row"}
        assert used <= set(mapping), used - set(mapping)
        assert dashboard.inputs["folder_uid"] == "clickstream"


def test_datagen_sources_and_ksql_statements():
    g = graph("dev")
    cfg = StackConfig()
    by_name = connectors_of(g)
    for name, topic, interval in (("datagen-clickstream", "clickstream", cfg.clickstream_interval_ms),
                                  ("datagen-clickstream-codes", "clickstream_codes", cfg.codes_interval_ms),
                                  ("datagen-clickstream-users", "clickstream_users", cfg.users_interval_ms)):
        config = by_name[name].inputs["config"]
        declared = next(s for s in connectors.datagen_sources(cfg) if s.name == name)
        assert config["kafka.topic"] == topic and config == declared.config
        assert config["max.interval"] == str(interval)
        assert by_name[name].inputs["connect_url"] == "http://localhost:8083"
    objects = with_input(g, "object_name")
    expected = parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(cfg))
    assert sorted(o.inputs["object_name"] for o in objects) == sorted(s.name for s in expected)
    assert len(connectors.derived_tables(expected)) == 12
    (component,) = g.of_type("clickstream:ksqldb:Pipeline")
    for declared in objects:
        assert declared.inputs["streams_properties"] == {"auto.offset.reset": "earliest"}
        assert g.parent_name(declared.name) == component.name
        assert declared.type in ("pulumi-python:dynamic/ksqldb:Stream", "pulumi-python:dynamic/ksqldb:Table")
        statement = next(s for s in expected if s.name == declared.inputs["object_name"])
        assert declared.inputs["statement"] == statement.text
        assert set(declared.inputs["upstream"]) == set(statement.depends_on)
        upstream_urns = {o.urn for o in objects if o.inputs["object_name"] in statement.depends_on}
        assert set(declared.property_dependencies.get("upstream", ())) == upstream_urns


def test_high_bandwidth_threshold_comes_from_stack_config():
    g = run_stack("dev", {"highBandwidthPercent": "200"})
    expected = ksql_variables(StackConfig(high_bandwidth_percent=200))["highBandwidthBytes"]
    (table,) = [o for o in with_input(g, "object_name") if o.inputs["object_name"] == "HIGH_BANDWIDTH_SESSIONS"]
    assert f"> {expected}" in table.inputs["statement"] and expected == "501893"


def test_dev_stack_reaches_elasticsearch_without_credentials():
    g = graph("dev")
    for sink in sinks(g).values():
        assert sink.inputs["config"]["connection.url"].startswith("http://")
        assert "connection.username" not in sink.inputs["config"] and not sink.inputs.get("secret_config")
    (template,) = with_input(g, "template_name")
    assert template.inputs["body"]["template"]["settings"]["number_of_replicas"] == 0
    assert "password" not in template.inputs or template.inputs["password"] is None


def test_prod_stack_passes_elasticsearch_credentials_as_secrets_only():
    g = graph("prod")
    for sink in sinks(g).values():
        assert sink.inputs["config"]["connection.username"] == "elastic"
        assert is_secret(sink.inputs["secret_config"])
        assert "test-es-pw" not in json.dumps(sink.inputs["config"])
    for datasource in datasources(g).values():
        assert datasource.inputs["datasource"]["basicAuth"] is True
        assert is_secret(datasource.inputs["secure_json_data"])
        assert is_secret(datasource.inputs["password"])  # the Grafana admin password
    (template,) = with_input(g, "template_name")
    assert is_secret(template.inputs["password"])
    assert template.inputs["body"]["template"]["settings"]["number_of_replicas"] == 1


def test_datasources_use_event_ts_and_the_internal_elasticsearch_url():
    g = graph("dev")
    urls = {d.inputs["datasource"]["url"] for d in datasources(g).values()}
    assert len(urls) == 1 and not urls.pop().startswith("http://localhost")  # Grafana -> ES in the network
    for uid, datasource in datasources(g).items():
        body = datasource.inputs["datasource"]
        assert body["type"] == "elasticsearch" and body["jsonData"]["timeField"] == "EVENT_TS"
        assert uid == f"es-{body['jsonData']['index'].replace('_', '-')}"


def test_dashboard_urls_are_grafana_base_plus_dashboard_path():
    """declare_analytics on stub services under the same mocks; the dashboards' ``url`` output is
    unknown under mocks (nothing runs), so the URL falls back to Grafana's ``/d/<uid>`` route."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="clickstream", stack="dev")
    SETTINGS.outputs.clear()
    captured: dict[str, pulumi.Output] = {}

    def service(url: str) -> Any:
        return types.SimpleNamespace(internal_url=pulumi.Output.from_input(url),
                                     admin_url=pulumi.Output.from_input(url),
                                     revision=pulumi.Output.from_input(""))

    def program() -> None:
        services = Services(kafka=service("http://kafka:1"), connect=service("http://connect:1"),
                            ksqldb=service("http://ksqldb:1"), elasticsearch=service("http://es:1"),
                            grafana=service("http://grafana.example:3000/"))
        secrets = Secrets(grafana_admin_password=pulumi.Output.secret("pw"))
        captured["urls"] = declare_analytics(StackConfig(), secrets, services).dashboard_urls

    _sync_await(run_pulumi_func(program))
    urls = _sync_await(captured["urls"].future())
    assert sorted(urls) == ["http://grafana.example:3000/d/clickstream-analysis",
                            "http://grafana.example:3000/d/clickstream-high-bandwidth"]


def test_dev_grafana_objects_follow_the_grafana_container():
    """Docker's Grafana has no volume: every Grafana object carries the container id, so a re-created
    container (an empty Grafana) makes the next ``pulumi up`` apply them all again."""
    g = graph("dev")
    grafana_objects = with_input(g, "grafana_url")
    assert len(grafana_objects) >= 3
    container = g.named("grafana-container")
    assert {r.inputs["service_revision"] for r in grafana_objects} == {f"{container.name}-id"}


def test_each_alert_rule_queries_its_tables_datasource_in_the_dashboards_folder():
    g = graph("dev")
    rules = {r.inputs["uid"]: r for r in app_layer(g) if r.type == "pulumi-python:dynamic/grafana:AlertRule"}
    assert sorted(rules) == sorted(a.uid for a in alerting.ALERTS)
    for alert in alerting.ALERTS:
        rule = rules[alert.uid].inputs["rule"]
        assert rule["folderUID"] == "clickstream" and rule["condition"] == "C"
        assert rule["data"][0]["datasourceUid"] == datasources(g)[connectors.datasource_uid(alert.table)].inputs["uid"]
        assert {g.by_urn(urn).name for urn in g.named(rules[alert.uid].name).dependencies} >= {
            "clickstream-grafana-folder", f"clickstream-datasource-{connectors.datasource_uid(alert.table)}"}


def test_without_a_webhook_no_contact_point_or_policy_is_declared():
    kinds = {r.type for r in app_layer(graph("dev"))}
    assert "pulumi-python:dynamic/grafana:ContactPoint" not in kinds
    assert "pulumi-python:dynamic/grafana:NotificationPolicy" not in kinds


def test_a_webhook_is_a_secret_contact_point_that_the_policy_routes_every_alert_to():
    url = "https://hooks.example.com/alerts/t0ken"
    g = run_stack("dev", secrets={"grafanaAdminPassword": "test-grafana-pw", "alertWebhookUrl": url})
    (contact,) = [r for r in app_layer(g) if r.type == "pulumi-python:dynamic/grafana:ContactPoint"]
    (policy,) = [r for r in app_layer(g) if r.type == "pulumi-python:dynamic/grafana:NotificationPolicy"]
    assert is_secret(contact.inputs["secure_settings"]) and url not in json.dumps(
        {k: v for k, v in contact.inputs.items() if k != "secure_settings"})
    assert policy.inputs["policy"]["receiver"] == contact.inputs["name"] == alerting.CONTACT_POINT_NAME
    assert g.dependency_names(policy.name) >= {contact.name}


def test_index_retention_is_off_by_default_and_on_with_days_a_policy_the_template_names():
    assert with_input(graph("dev"), "policy_name") == []
    (template,) = with_input(graph("dev"), "template_name")
    assert "lifecycle" not in template.inputs["body"]["template"]["settings"]
    g = run_stack("dev", {"elasticsearchRetentionDays": "14"})
    (policy,) = with_input(g, "policy_name")
    assert policy.type == "pulumi-python:dynamic/elasticsearch:IndexLifecyclePolicy"
    assert policy.inputs["policy_name"] == connectors.RETENTION_POLICY_NAME
    assert policy.inputs["policy"]["phases"]["delete"]["min_age"] == "14d"
    (template,) = with_input(g, "template_name")
    assert template.inputs["body"]["template"]["settings"]["lifecycle"] == {"name": connectors.RETENTION_POLICY_NAME}
    assert policy.name in g.dependency_names(template.name)
