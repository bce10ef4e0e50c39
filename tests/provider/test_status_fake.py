"""Provider tier, FAKES: ``clickstream status`` against the dev stack's whole application layer applied to
the in-process fakes of Kafka Connect, ksqlDB, Elasticsearch and Grafana (tests/status_chain.py).

A healthy chain exits 0; each break (a FAILED task, a paused or terminated query, an empty or missing
index, a datasource with a wrong URL, a dashboard whose datasource is gone, a service that is down) turns
exactly the right line BROKEN and the exit code 1. Every call ``status`` makes is read-only. The pipeline
is deployed once for the module; each test undoes its break.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import socket
import time

import pytest

from clickstream.operations import status
from clickstream.operations.status_links import BROKEN, LAGGING, OK, datasource_link
from providers.http import Endpoint, ServiceTimeout
from tests.app_layer import GRAFANA_PASSWORD
from tests.status_chain import Pipeline, deployed_pipeline, make_data_flow

pytestmark = pytest.mark.fake


@pytest.fixture(scope="module")
def pipeline():
    with deployed_pipeline() as deployed:
        yield deployed


def args(**overrides) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    status.add_arguments(parser)
    return argparse.Namespace(**{**vars(parser.parse_args([])), **overrides})


def run(pipeline: Pipeline, **options) -> tuple[int, str]:
    shown: list[str] = []
    code = status.run(args(**options), targets=pipeline.targets, chain=pipeline.chain, out=shown.append)
    return code, "\n".join(shown)


def not_ok(report: status.Report) -> dict[tuple[str, str], str]:
    return {(link.stage, link.name): link.state for link in report.links if link.state != OK}


def link(report: status.Report, stage: str, name: str):
    return next(item for item in report.links if (item.stage, item.name) == (stage, name))


def test_healthy_chain_exits_0_with_one_ok_line_per_link_in_data_flow_order(pipeline):
    code, text = run(pipeline)
    assert code == 0
    lines = text.splitlines()
    assert lines[-1] == "Data flows from the generator to the dashboards: all 60 links OK."
    stages = [line.split()[1] for line in lines[1:-1]]
    order = [s.split()[0] for s in status.STAGES]
    assert stages == sorted(stages, key=order.index), "lines are not in data-flow order"
    assert all(line.startswith("OK ") for line in lines[1:-1])
    assert GRAFANA_PASSWORD not in text


def test_json_output_for_scripts(pipeline):
    code, text = run(pipeline, json=True)
    document = json.loads(text)
    assert code == 0 and document["ok"] is True and document["counts"] == {"OK": 60, "LAGGING": 0, "BROKEN": 0}
    assert {entry["stage"] for entry in document["links"]} == set(status.STAGES)


def test_status_only_reads(pipeline):
    fakes = pipeline.fakes
    for fake in (fakes.connect, fakes.ksqldb, fakes.elasticsearch, fakes.grafana):
        fake.reset_calls()
    status.check(pipeline.targets, pipeline.chain)
    assert [fake.mutating_calls for fake in (fakes.connect, fakes.ksqldb, fakes.elasticsearch, fakes.grafana)] == \
        [[], [], [], []]
    assert fakes.ksqldb.mutations == [] and all(s.upper().startswith("SHOW ") for s in fakes.ksqldb.statements)
    assert fakes.ksqldb.calls_to("POST", "/ksql/terminate") == []


@contextlib.contextmanager
def failed_task(pipeline: Pipeline, name: str):
    connector = pipeline.fakes.connect.connectors[name]
    connector.trace = ("org.apache.kafka.connect.errors.ConnectException: Failed to connect to Elasticsearch\n"
                       "\tat io.confluent.connect.elasticsearch.ElasticsearchClient.<init>"
                       "(ElasticsearchClient.java:95)\n"
                       "Caused by: java.net.UnknownHostException: elasticsearch\n")
    try:
        yield
    finally:
        connector.trace = None


def test_failed_sink_task_is_broken_with_the_trace_and_a_restart(pipeline):
    # the sink of the table's current build: es-sink-<table>-v<version>
    (sink,) = [n for n in pipeline.fakes.connect.connectors if n.startswith("es-sink-events-per-min-v")]
    with failed_task(pipeline, sink):
        report = status.check(pipeline.targets, pipeline.chain)
    assert report.exit_code == 1
    assert not_ok(report) == {("sink connector", "es-sink-events-per-min"): BROKEN}
    broken = link(report, "sink connector", "es-sink-events-per-min")
    assert broken.evidence.startswith(f"{sink}: ") and "task 0 FAILED" in broken.evidence
    assert "Failed to connect to Elasticsearch" in broken.evidence
    assert "Caused by: java.net.UnknownHostException" in broken.evidence
    assert f"/connectors/{sink}/restart?includeTasks=true&onlyFailed=true'" in broken.action
    assert report.summary().startswith("Data stops at sink connector es-sink-events-per-min")


def test_a_table_without_its_sink_connector_is_broken(pipeline):
    connectors = pipeline.fakes.connect.connectors
    (sink,) = [n for n in connectors if n.startswith("es-sink-pages-per-min-v")]
    saved = connectors.pop(sink)
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        connectors[sink] = saved
    missing = link(report, "sink connector", "es-sink-pages-per-min")
    assert missing.state == BROKEN
    assert "no sink connector of this table (es-sink-pages-per-min-v...)" in missing.evidence


def test_paused_query_is_broken_and_says_how_to_resume(pipeline):
    query_id = next(q.id for q in pipeline.fakes.ksqldb.queries.values() if q.sink == "EVENTS_PER_MIN")
    pipeline.fakes.ksqldb.set_query_state(query_id, "PAUSED")
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        pipeline.fakes.ksqldb.set_query_state(query_id, "RUNNING")
    assert not_ok(report) == {("ksqlDB query", "EVENTS_PER_MIN"): BROKEN}
    assert f"RESUME {query_id};" in link(report, "ksqlDB query", "EVENTS_PER_MIN").action


def test_terminated_query_is_broken(pipeline):
    queries = pipeline.fakes.ksqldb.queries
    query_id, query = next((i, q) for i, q in queries.items() if q.sink == "PAGES_PER_MIN")
    del queries[query_id]
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        queries[query_id] = query
    assert not_ok(report) == {("ksqlDB query", "PAGES_PER_MIN"): BROKEN}
    assert "no persistent query writes PAGES_PER_MIN" in link(report, "ksqlDB query", "PAGES_PER_MIN").evidence


def test_empty_and_missing_indexes_are_broken(pipeline):
    documents = pipeline.fakes.elasticsearch.documents
    saved = {index: documents[index] for index in ("errors_per_min", "session_bandwidth")}
    documents["errors_per_min"] = []
    del documents["session_bandwidth"]
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        documents.update(saved)
    assert not_ok(report) == {("index", "errors_per_min"): BROKEN, ("index", "session_bandwidth"): BROKEN}
    assert "is empty" in link(report, "index", "errors_per_min").evidence
    missing = link(report, "index", "session_bandwidth")
    assert "no index 'session_bandwidth'" in missing.evidence and "es-sink-session-bandwidth" in missing.action


def test_stale_index_and_lagging_source_are_lagging(pipeline):
    fakes = pipeline.fakes
    saved = fakes.elasticsearch.documents["clicks_per_city"]
    fakes.elasticsearch.documents["clicks_per_city"] = [{"EVENT_TS": 1_000_000_000_000}]
    fakes.ksqldb.record_traffic("clickstream", records=90_000, last_ms=int(1e3 * time.time()), consumed=100)
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        fakes.elasticsearch.documents["clicks_per_city"] = saved
        make_data_flow_sources(pipeline)
    assert not_ok(report) == {("index", "clicks_per_city"): LAGGING, ("source topic", "CLICKSTREAM"): LAGGING}
    assert report.exit_code == 1 and report.summary().startswith("Data is slow at source topic CLICKSTREAM")


def make_data_flow_sources(pipeline: Pipeline) -> None:
    for topic in ("clickstream", "clickstream_codes", "clickstream_users"):
        pipeline.fakes.ksqldb.record_traffic(topic, records=1000, last_ms=int(1e3 * time.time()))


def test_datasource_with_a_wrong_url_is_broken_by_grafanas_own_health_check(pipeline):
    source = pipeline.fakes.grafana.datasources["es-errors-per-min"]
    good = source["url"]
    source["url"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        source["url"] = good
    assert not_ok(report) == {("datasource", "es-errors-per-min"): BROKEN}
    broken = link(report, "datasource", "es-errors-per-min")
    assert "Plugin health check failed" in broken.evidence and "'http://127.0.0.1:9'" in broken.evidence
    assert "make up" in broken.action


def test_deleted_datasource_breaks_it_and_the_dashboard_panels_using_it(pipeline):
    grafana = pipeline.fakes.grafana
    saved = grafana.datasources.pop("es-events-per-min")
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        grafana.datasources["es-events-per-min"] = saved
    assert not_ok(report) == {("datasource", "es-events-per-min"): BROKEN,
                              ("dashboard", "clickstream-analysis"): BROKEN}
    assert "no such datasource" in link(report, "datasource", "es-events-per-min").evidence
    assert "use a missing datasource (es-events-per-min)" in link(report, "dashboard", "clickstream-analysis").evidence


def test_each_alert_rule_shows_normal_firing_or_error_and_a_missing_or_failing_one_is_broken(pipeline):
    grafana = pipeline.fakes.grafana
    burst, bandwidth = pipeline.chain.alert_rules
    report = status.check(pipeline.targets, pipeline.chain)
    assert link(report, "alert rule", burst).evidence == "'Error burst': normal"
    grafana.rule_states[burst] = ("firing", "ok", "")
    grafana.rule_states[bandwidth] = ("inactive", "error", "[sse.dataQueryError] failed to execute query A")
    try:
        report = status.check(pipeline.targets, pipeline.chain)
        saved = grafana.alert_rules.pop(burst)
        try:
            missing = status.check(pipeline.targets, pipeline.chain)
        finally:
            grafana.alert_rules[burst] = saved
    finally:
        grafana.rule_states.clear()
    firing = link(report, "alert rule", burst)
    assert (firing.state, firing.evidence) == (OK, "'Error burst': FIRING")
    failing = link(report, "alert rule", bandwidth)
    assert failing.state == BROKEN and "failed to execute query A" in failing.evidence
    assert "datasource" in failing.action
    assert not_ok(missing) == {("alert rule", burst): BROKEN, ("alert rule", bandwidth): BROKEN}
    assert link(missing, "alert rule", burst).evidence == "Grafana has no such alert rule"


def test_a_service_that_does_not_answer_breaks_its_links_quickly(pipeline):
    forward = "kubectl port-forward -n clickstream svc/elasticsearch 9200:9200"
    dead = dataclasses.replace(pipeline.targets, port_forward_commands=(forward,), elasticsearch=dataclasses.replace(
        pipeline.targets.elasticsearch, url="http://127.0.0.1:9", timeout=1.0, ready_timeout=1.0))
    report = status.check(dead, pipeline.chain)
    assert set(not_ok(report)) == {("index", index) for index in pipeline.chain.indexes}
    broken = link(report, "index", "events_per_min")
    assert "Elasticsearch at http://127.0.0.1:9 did not answer" in broken.evidence
    assert broken.action == f"start the stack's port-forwards: {forward}"


def test_wait_for_data_ends_when_every_index_has_documents_and_prints_time_per_link():
    with deployed_pipeline(flowing=False) as fresh:
        shown: list[str] = []

        def out(line: str) -> None:
            shown.append(line)
            if len(shown) == 1:  # the first check saw the connectors ready: now the data arrives
                make_data_flow(fresh.fakes, fresh.chain)

        report = status.wait_for_data(fresh.targets, fresh.chain, timeout=60, out=out)
    assert report.ok
    ready = [line for line in shown if line.startswith("ready after")]
    assert len(ready) == 60 and any(line.endswith("index events_per_min") for line in ready)
    assert shown[-1].startswith("data reached every link after")


def test_wait_for_data_times_out_naming_the_links_without_data():
    with deployed_pipeline(flowing=False) as fresh:
        with pytest.raises(ServiceTimeout) as caught:
            status.wait_for_data(fresh.targets, fresh.chain, timeout=0.5, out=lambda line: None)
    message = str(caught.value)
    assert message.startswith("timed out after 0.5 s waiting for data to reach every link")
    assert "source topic CLICKSTREAM BROKEN" in message and "more)" in message


def test_red_elasticsearch_fails_grafanas_health_check(pipeline):
    pipeline.fakes.elasticsearch.health = "red"
    try:
        report = status.check(pipeline.targets, pipeline.chain)
    finally:
        pipeline.fakes.elasticsearch.health = "green"
    assert {key for key, state in not_ok(report).items() if state == BROKEN} == \
        {("datasource", uid) for uid in pipeline.chain.datasources}
    assert "(ERROR: Elasticsearch cluster is not healthy)" in link(report, "datasource", "es-events-per-min").evidence


def test_health_check_that_does_not_finish_in_time_says_why():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = Endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3, ready_timeout=0.3)
        broken = datasource_link(endpoint, "es-events-per-min")
    assert broken.state == BROKEN
    assert broken.evidence.startswith("Grafana's health check did not finish within 0.3 s")
