"""Unit tier: deletion is a decision, not a side effect (issue 26).

The REAL ``__main__.py`` under Pulumi mocks (nothing is contacted) with a copy of ``ksql/`` and
``dashboards/``: sinks, datasources and the index template follow what the SQL declares; a dashboard panel or
alert rule reading the datasource of a table no file declares is refused, naming it. And the
``KsqlDirectory``'s check, called as the engine calls it (old inputs, new inputs): a deployed stream or table
no file declares any more is refused, naming its file and statement as deployed and what read it, unless
``retire`` lists it; with ``protect`` on, even an unread one. The check sends nothing for these refusals
(its ksqlDB URL answers nothing).
"""
from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from clickstream.content import connectors
from clickstream.stack import analytics
from clickstream.stack.analytics import ContentError
from providers.ksqldb.directory import KsqlDirectoryProvider
from stackconfig import ConfigError, parse_config
from tests.pulumi_mocks import Graph, run_stack

NOWHERE = "http://127.0.0.1:9"  # the discard port: a check that tried to reach ksqlDB would say so
TRAFFIC = ("EVENTS_PER_MIN", "PAGES_PER_MIN")  # what 10_traffic.sql declares


@pytest.fixture
def content(tmp_path, monkeypatch) -> pathlib.Path:
    """Copies of ``ksql/`` and ``dashboards/`` that the program reads instead."""
    for name, folder in (("KSQL_DIR", analytics.KSQL_DIR), ("DASHBOARD_DIR", analytics.DASHBOARD_DIR)):
        shutil.copytree(folder, tmp_path / folder.name)
        monkeypatch.setattr(analytics, name, tmp_path / folder.name)
    return tmp_path


def without_panels(folder: pathlib.Path, tables: tuple[str, ...]) -> None:
    """Take every panel that reads one of ``tables``' datasources out of the dashboards in ``folder``."""
    keys = {f"${{{connectors.datasource_key(t)}}}" for t in tables}
    for path in folder.glob("*.json"):
        body = json.loads(path.read_text())
        body["panels"] = [p for p in body["panels"] if (p.get("datasource") or {}).get("uid") not in keys]
        path.write_text(json.dumps(body))


def directory(g: Graph) -> dict:
    (found,) = [r for r in g.resources if r.type == "pulumi-python:dynamic/ksqldb:Directory"]
    return found.inputs


def test_removing_a_file_is_refused_naming_each_panel_its_datasource_and_the_undeclared_table(content):
    (content / "ksql" / "10_traffic.sql").unlink()
    with pytest.raises(ContentError) as refused:
        run_stack("dev", preview=True)
    message = str(refused.value)
    assert "clickstream.json: panels[1] ('Clicks per minute by user'), panels[2] ('Active visitors per minute') " \
           "read ${DS_EVENTS_PER_MIN}: the datasource of ksqlDB table EVENTS_PER_MIN's index, and no SQL file in " \
           "ksql/ declares that table (CREATE TABLE EVENTS_PER_MIN AS SELECT ...)" in message, message
    assert "panels[3] ('HTML pages per minute by user (5 s hop)') reads ${DS_PAGES_PER_MIN}" in message, message
    assert message.count("\n") == 1, "one line per datasource, nothing else"


def test_emptying_ksql_is_refused_naming_every_dashboard_and_alert_rule(content):
    for path in (content / "ksql").glob("*.sql"):
        path.unlink()
    with pytest.raises(ContentError) as refused:
        run_stack("dev", preview=True)
    message = str(refused.value)
    for table in connectors.derived_tables(_project_statements()):
        assert f"${{DS_{table}}}: the datasource of ksqlDB table {table}'s index" in message, table
    assert "high_bandwidth_sessions.json: panels[1]" in message
    assert "clickstream/content/alerting.py: alert rule clickstream-error-burst ('Error burst') reads datasource " \
           "es-errors-per-min-alert, the datasource of ksqlDB table ERRORS_PER_MIN_ALERT's index" in message
    assert "alert rule clickstream-high-bandwidth-session" in message


def test_a_removed_table_takes_its_sink_datasource_and_index_pattern_with_it(content):
    (content / "ksql" / "10_traffic.sql").unlink()
    without_panels(content / "dashboards", TRAFFIC)
    g = run_stack("dev")
    dynamic = [r for r in g.resources if r.type.startswith("pulumi-python:dynamic")]
    topics = {r.inputs["config"]["topics"] for r in dynamic if "connector_name" in r.inputs
              and r.inputs["config"]["connector.class"] == connectors.ELASTICSEARCH_SINK_CLASS}
    indexes = {r.inputs["datasource"]["jsonData"]["index"] for r in dynamic if "datasource" in r.inputs}
    (template,) = [r for r in dynamic if "template_name" in r.inputs]
    assert len(topics) == 10 and not topics & set(TRAFFIC)
    assert indexes == {t.lower() for t in topics}
    assert set(template.inputs["body"]["index_patterns"]) == {f"{t.lower()}_v*" for t in topics}  # every build's index
    assert {r.inputs["alias"] for r in dynamic if "alias" in r.inputs} == indexes
    assert set(directory(g)["readers"]) == topics


def test_the_directory_is_told_what_reads_each_table_and_the_stacks_retire_and_protect():
    dev, prod = directory(run_stack("dev")), directory(run_stack("prod", {"retire": '["PAGES_PER_MIN"]'}))
    assert dev["readers"]["EVENTS_PER_MIN"] == [
        "Elasticsearch sink connector es-sink-events-per-min (index events_per_min)",
        "Grafana datasource es-events-per-min", "dashboard clickstream-analysis (dashboards/clickstream.json)"]
    assert dev["readers"]["HIGH_BANDWIDTH_SESSIONS"][2:] == [
        "dashboard clickstream-analysis (dashboards/clickstream.json)",
        "dashboard clickstream-high-bandwidth (dashboards/high_bandwidth_sessions.json)",
        "alert rule clickstream-high-bandwidth-session (clickstream/content/alerting.py)"]
    assert (dev["retire"], dev["protect"]) == ([], False)
    assert (prod["retire"], prod["protect"]) == (["PAGES_PER_MIN"], True)


def test_retire_is_checked_like_every_key():
    assert parse_config("dev", {"retire": '["EVENTS_PER_MIN", "PAGES_PER_MIN"]'}).retire == TRAFFIC
    for value, why in (('["events per min"]', "entry 1 'events per min' is not such a name"),
                       ('["A", "A"]', "entry 2 'A' is listed twice"), ("[1]", "entry 1 1 is not such a name"),
                       ("EVENTS_PER_MIN", "")):
        with pytest.raises(ConfigError) as refused:
            parse_config("dev", {"retire": value})
        assert f"clickstream:retire = {value!r}: must be a list of ksqlDB stream and table names as ksqlDB knows " \
               f"them (a bare name in upper case), each once, e.g. [EVENTS_PER_MIN, PAGES_PER_MIN]" \
               in str(refused.value)
        assert why in str(refused.value)


# --- the directory's check, as the engine calls it ----------------------------------------------------------

@pytest.fixture(scope="module")
def deployed() -> dict:
    """The directory's inputs as the dev stack deploys them (what a later check gets as ``olds``)."""
    return {**directory(run_stack("dev")), "ksqldb_url": NOWHERE}


def check(olds: dict, *, drop_files: tuple[str, ...] = (), **changes) -> list[tuple[str, str]]:
    news = {**olds, "statements": [e for e in olds["statements"] if e["file"] not in drop_files], **changes}
    news["readers"] = {k: v for k, v in olds["readers"].items()
                       if k in {_name(e) for e in news["statements"]}}
    result = KsqlDirectoryProvider().check(olds, news)
    return [(f.property, f.reason) for f in result.failures]


def _name(entry: dict) -> str:
    from providers.ksqldb.parser import statement_of
    return statement_of(entry).name


def _project_statements():
    from providers.ksqldb import load_sql_dir, parse_sources
    return parse_sources(load_sql_dir(analytics.KSQL_DIR), analytics.ksql_variables(parse_config("dev", {})))


def test_a_removed_file_is_refused_naming_each_object_its_file_and_what_read_it(deployed):
    failures = check(deployed, drop_files=("10_traffic.sql",))
    assert [key for key, _ in failures] == ["statements"] * 3
    events, pages, advice = (reason for _, reason in failures)
    assert events == (
        "TABLE EVENTS_PER_MIN (10_traffic.sql: statement 1 ('CREATE TABLE EVENTS_PER_MIN AS'), as last deployed) is "
        "declared in no SQL file any more, so `pulumi up` would drop it and delete its Kafka topic; it is read by "
        "Elasticsearch sink connector es-sink-events-per-min (index events_per_min); Grafana datasource "
        "es-events-per-min; dashboard clickstream-analysis (dashboards/clickstream.json)")
    assert pages.startswith("TABLE PAGES_PER_MIN (10_traffic.sql: statement 2 ('CREATE TABLE PAGES_PER_MIN AS')")
    assert advice.startswith("nothing was changed: restore the statements of EVENTS_PER_MIN, PAGES_PER_MIN") \
        and "clickstream:retire (`pulumi config set --path 'retire[0]' EVENTS_PER_MIN`" in advice


def test_emptying_ksql_is_refused_for_every_stream_and_table_naming_its_ksqldb_readers(deployed):
    failures = dict.fromkeys(reason for _, reason in check(deployed, statements=[]))
    objects = [s for s in _project_statements() if s.kind != "INSERT"]
    assert len(failures) == len(objects) + 1 == 18
    (clickstream,) = [f for f in failures if f.startswith("STREAM CLICKSTREAM ")]
    assert "(01_sources.sql: statement 1 ('CREATE STREAM CLICKSTREAM ('), as last deployed)" in clickstream
    assert "so `pulumi up` would drop it; it is read by STREAM USER_CLICKSTREAM (02_enriched.sql: statement 1" \
        in clickstream, "a source's drop keeps its connector's topic"
    assert "TABLE EVENTS_PER_MIN (10_traffic.sql" in clickstream


def test_retired_objects_pass_and_a_retired_object_still_declared_is_refused(deployed):
    names = [s.name for s in _project_statements()]
    with pytest.MonkeyPatch.context() as patch:  # the proof of what stays would ask ksqlDB: not this test's subject
        patch.setattr("providers.ksqldb.directory._refused_change", lambda *args: [])
        assert check(deployed, drop_files=("10_traffic.sql",), retire=list(TRAFFIC)) == []
        assert check(deployed, statements=[], retire=names) == []
        assert check(deployed, retire=["EVENTS_PER_MIN"]) == [(
            "retire", "retire lists EVENTS_PER_MIN, which 10_traffic.sql: statement 1 ('CREATE TABLE EVENTS_PER_MIN "
                      "AS') still declares: take it out of retire (the stack config key clickstream:retire), or "
                      "remove its statement")]


def test_an_unread_object_goes_unless_the_stack_protects_it(deployed):
    extra = {"file": "60_extra.sql", "index": 1,
             "statement": "CREATE STREAM EXTRA AS SELECT USERID FROM CLICKSTREAM EMIT CHANGES;"}
    insert = {"file": "60_extra.sql", "index": 2,
              "statement": "INSERT INTO USER_CLICKSTREAM SELECT USERID, 'x' AS USERNAME, IP, 'x' AS CITY, REQUEST, "
                           "STATUS, BYTES FROM CLICKSTREAM EMIT CHANGES;"}
    olds = {**deployed, "statements": [*deployed["statements"], extra, insert]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("providers.ksqldb.directory._refused_change", lambda *args: [])
        assert check(olds, drop_files=("60_extra.sql",)) == []
        protected = check(olds, drop_files=("60_extra.sql",), protect=True)
        assert [reason for _, reason in protected][0] == (
            "STREAM EXTRA (60_extra.sql: statement 1 ('CREATE STREAM EXTRA AS SELECT USERID FROM CLICKSTREAM EMIT "
            "CHANGES;'), as last deployed) is declared in no SQL file any more, so `pulumi up` would drop it and "
            "delete its Kafka topic; this stack protects its streams and tables (protect, the stack config key "
            "clickstream:protect, is true)")
        assert len(protected) == 2, "the INSERT query holds no data: it just goes"
        assert check(olds, drop_files=("60_extra.sql",), protect=True, retire=["EXTRA"]) == []


def test_a_stack_deployed_before_readers_were_recorded_counts_every_removed_object_as_read(deployed):
    news = {**deployed, "statements": [e for e in deployed["statements"] if e["file"] != "50_sessions.sql"],
            "readers": {}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("providers.ksqldb.directory._refused_change", lambda *args: [])
        assert KsqlDirectoryProvider().check({**deployed, "readers": {}}, news).failures == [], \
            "recorded as read by nothing outside ksqlDB: they just go"
        unrecorded = {key: value for key, value in deployed.items() if key != "readers"}
        reasons = [f.reason for f in KsqlDirectoryProvider().check(unrecorded, news).failures]
    assert len(reasons) == 4 and all("which that deployment did not record" in r for r in reasons[:3]), reasons
