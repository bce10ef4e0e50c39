"""Issue 26: deletion is a decision, not a side effect — through the REAL Pulumi engine (CLI 3.274.1,
Automation API, the application layer as the dev stack declares it) over the real Elasticsearch node and
the fakes of Connect, ksqlDB and Grafana, every request counted. Ordered steps on one stack.

1. Removing ``10_traffic.sql`` is refused at preview naming the dashboard panels that read its tables'
   datasources; with those panels gone, the ksqlDB directory refuses naming each table, its file and
   statement as deployed and what read it (sink, datasource, dashboard). Nothing is written to any server.
   With both tables in the stack config ``retire``, the same preview shows the drops, and ``up`` performs
   them (the tables with their topics, their sinks and datasources); the next ``up`` sends nothing.
2. ``protect`` on: an unread derived stream whose file is removed is refused too, until retired.
3. Emptying ``ksql/`` is refused the same way, for every object, until every one is retired.
"""
from __future__ import annotations

import json
import pathlib
import shutil
from typing import Iterator

import pytest
import requests
from pulumi import automation as auto

from clickstream.content import alerting, connectors
from clickstream.stack import analytics
from tests.engine.conftest import KsqlDir, Pipeline
from tests.engine.declared import KSQL_PREFIX
from tests.engine.workspace import EngineFailed, EngineStack

TRAFFIC = ("EVENTS_PER_MIN", "PAGES_PER_MIN")
EXTRA = "CREATE STREAM EXTRA_CLICKS AS SELECT USERID, REQUEST FROM CLICKSTREAM EMIT CHANGES;\n"


@pytest.fixture(scope="module")
def services(pipeline) -> Pipeline:
    return pipeline


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> Iterator[tuple[KsqlDir, pathlib.Path]]:
    """Copies of ``ksql/`` and ``dashboards/`` the program reads instead, for the whole module."""
    folder = tmp_path_factory.mktemp("content")
    dashboards = folder / "dashboards"
    shutil.copytree(analytics.DASHBOARD_DIR, dashboards)
    with pytest.MonkeyPatch.context() as patch:
        ksql = KsqlDir(folder / "ksql")
        patch.setattr(analytics, "KSQL_DIR", ksql.folder)
        patch.setattr(analytics, "DASHBOARD_DIR", dashboards)
        yield ksql, dashboards


@pytest.fixture(scope="module")
def stack(services, content, tmp_path_factory) -> EngineStack:
    return EngineStack(tmp_path_factory.mktemp("retire-stack"), services.endpoints())


def without_panels(dashboards: pathlib.Path, tables: tuple[str, ...]) -> None:
    keys = {f"${{{connectors.datasource_key(t)}}}" for t in tables}
    for path in dashboards.glob("*.json"):
        body = json.loads(path.read_text())
        body["panels"] = [p for p in body["panels"] if (p.get("datasource") or {}).get("uid") not in keys]
        path.write_text(json.dumps(body))


def refused(stack: EngineStack, services: Pipeline, *expected: str) -> str:
    """The preview's refusal, once it names every ``expected`` text and nothing was written anywhere."""
    services.reset_calls()
    with pytest.raises(EngineFailed) as failed:
        stack.preview()
    message = str(failed.value)
    missing = [text for text in expected if text not in message]
    assert not missing, (missing, message)
    writes = {name: calls for name, calls in services.writes().items() if name != "ksqldb"}
    assert services.ksqldb.mutations == [] and writes == {}, writes
    return message


def retire(stack: EngineStack, *names: str) -> None:
    stack.stack.set_config("clickstream:retire", auto.ConfigValue(json.dumps(list(names))))


def planned(outcome) -> dict[str, set[str]]:
    return outcome.changed()


def test_the_first_up_deploys_the_pipeline(stack, services):
    assert stack.up().all_ops() == {"create"}
    assert set(TRAFFIC) <= set(services.ksqldb.user_sources)


def test_removing_a_file_is_refused_naming_the_dashboard_panels_that_read_its_tables(stack, services, content):
    ksql, _ = content
    (ksql.folder / "10_traffic.sql").rename(ksql.folder.parent / "10_traffic.sql.removed")
    refused(stack, services,
            "clickstream.json: panels[1] ('Clicks per minute by user'), panels[2] ('Active visitors per minute') "
            "read ${DS_EVENTS_PER_MIN}: the datasource of ksqlDB table EVENTS_PER_MIN's index, and no SQL file in "
            "ksql/ declares that table",
            "panels[3] ('HTML pages per minute by user (5 s hop)') reads ${DS_PAGES_PER_MIN}")


def test_without_those_panels_the_directory_refuses_naming_each_table_its_file_and_readers(stack, services, content):
    _, dashboards = content
    without_panels(dashboards, TRAFFIC)
    refused(stack, services,
            "TABLE EVENTS_PER_MIN (10_traffic.sql: statement 1 ('CREATE TABLE EVENTS_PER_MIN AS'), as last deployed) "
            "is declared in no SQL file any more, so `pulumi up` would drop it and delete its Kafka topic; it is read "
            "by Elasticsearch sink connector es-sink-events-per-min (index events_per_min); Grafana datasource "
            "es-events-per-min; dashboard clickstream-analysis (dashboards/clickstream.json)",
            "TABLE PAGES_PER_MIN (10_traffic.sql: statement 2",
            "nothing was changed: restore the statements of EVENTS_PER_MIN, PAGES_PER_MIN")
    assert set(TRAFFIC) <= set(services.ksqldb.user_sources)


def test_retired_the_same_preview_shows_the_drops_and_up_performs_them(stack, services):
    retire(stack, *TRAFFIC)
    services.reset_calls()
    preview = stack.preview()
    drops = {f"{KSQL_PREFIX}-events-per-min", f"{KSQL_PREFIX}-pages-per-min",
             "clickstream-es-sink-events-per-min", "clickstream-es-sink-pages-per-min",
             "clickstream-index-events-per-min", "clickstream-index-pages-per-min",
             "clickstream-alias-events-per-min", "clickstream-alias-pages-per-min",
             "clickstream-datasource-es-events-per-min", "clickstream-datasource-es-pages-per-min"}
    assert {name for name, ops in planned(preview).items() if ops == {"delete"}} == drops, planned(preview)
    assert services.ksqldb.mutations == [] and set(TRAFFIC) <= set(services.ksqldb.user_sources)
    up = stack.up()
    assert {name for name, ops in planned(up).items() if ops == {"delete"}} == drops
    assert not set(TRAFFIC) & set(services.ksqldb.user_sources)
    assert not set(TRAFFIC) & set(services.ksqldb.topics), "their topics went with them"
    assert not [name for name in services.connect.connectors
                if name.startswith(("es-sink-events-per-min-v", "es-sink-pages-per-min-v"))]
    assert requests.get(f"{services.elasticsearch_url}/events_per_min*,pages_per_min*/_alias",
                        timeout=30).json() == {}, "their indexes and aliases went with them"
    assert not {"es-events-per-min", "es-pages-per-min"} & set(services.grafana.datasources)
    services.reset_calls()
    assert stack.up().all_ops() == {"same"} and sum(services.requests().values()) == 0


def test_with_protect_on_even_an_unread_object_is_kept_until_retired(stack, services, content):
    ksql, _ = content
    (ksql.folder / "60_extra.sql").write_text(EXTRA)
    assert planned(stack.up()) == {f"{KSQL_PREFIX}-extra-clicks": {"create"}}
    stack.stack.set_config("clickstream:protect", auto.ConfigValue("true"))
    (ksql.folder / "60_extra.sql").unlink()
    refused(stack, services, "STREAM EXTRA_CLICKS (60_extra.sql: statement 1", "this stack protects its streams "
            "and tables (protect, the stack config key clickstream:protect, is true)")
    retire(stack, *TRAFFIC, "EXTRA_CLICKS")
    assert planned(stack.preview()) == {f"{KSQL_PREFIX}-extra-clicks": {"delete"}}
    stack.up()
    assert "EXTRA_CLICKS" not in services.ksqldb.user_sources


def test_emptying_ksql_is_refused_for_every_object_until_each_is_retired(stack, services, content):
    ksql, dashboards = content
    for path in ksql.folder.glob("*.sql"):
        path.rename(ksql.folder.parent / f"{path.name}.removed")
    refused(stack, services, "clickstream/content/alerting.py: alert rule clickstream-error-burst ('Error burst') "
            "reads datasource es-errors-per-min-alert, the datasource of ksqlDB table ERRORS_PER_MIN_ALERT's index")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alerting, "ALERTS", ())
        for path in dashboards.glob("*.json"):
            path.unlink()
        remaining = sorted(services.ksqldb.user_sources)
        assert len(remaining) == 15
        message = refused(stack, services, "STREAM CLICKSTREAM (01_sources.sql: statement 1", "it is read by STREAM "
                          "USER_CLICKSTREAM (02_enriched.sql: statement 1")
        assert all(f" {name} (" in message for name in remaining), message
        retire(stack, *TRAFFIC, "EXTRA_CLICKS", *remaining)
        preview = stack.preview()
        deleted = {name for name, ops in planned(preview).items() if ops == {"delete"}}
        objects = {name for name in deleted if name.startswith(f"{KSQL_PREFIX}-")}
        assert objects == {f"{KSQL_PREFIX}-{n.lower().replace('_', '-')}" for n in remaining}
        assert services.ksqldb.mutations == []
        stack.up()
        assert services.ksqldb.user_sources == {} and services.ksqldb.queries == {}
        services.reset_calls()
        assert stack.up().all_ops() == {"same"} and sum(services.requests().values()) == 0
