"""Unit tier: how ``clickstream status`` judges each link from the services' answers (canned answers in the
shapes ksqlDB 8.2.1, Elasticsearch 8 and Grafana 12 send), the report, the declared chain, the stack
outputs and secrets read through the Pulumi CLI (a stand-in script), ``--watch`` and the exit codes."""
from __future__ import annotations

import argparse
import json
import pathlib
import socket
import stat
import sys

import pytest

from clickstream.__main__ import main
from clickstream.content import connectors
from clickstream.operations import declared_links, stack_outputs, status, status_links
from clickstream.operations.status_links import (
    BROKEN,
    LAGGING,
    OK,
    Limits,
    Link,
    alert_rule_links,
    panel_datasources,
    query_link,
    source_link,
)
from clickstream.stack.analytics import KSQL_DIR, ksql_variables
from clickstream.stack.logins import logins
from providers.ksqldb import load_sql_dir, parse_sources
from stackconfig import StackConfig

NOW = 1_800_000_000.0  # seconds
HOST = "ksqldb:8088"


def description(name="CLICKSTREAM", topic="clickstream", end=500, consumed=500, last_ms=(NOW - 2) * 1000,
                readers=("CSAS_A_1",), failed=0):
    offsets = [{"partition": 0, "logStartOffset": 0, "logEndOffset": end, "consumerOffset": consumed}]
    return {
        "name": name, "topic": topic, "readQueries": [{"id": q} for q in readers], "writeQueries": [],
        "queryOffsetSummaries": [{"groupId": f"_confluent-ksql-default_query_{q}",
                                  "topicSummaries": [{"kafkaTopic": topic, "offsets": offsets}]} for q in readers],
        "clusterStatistics": [{"name": "consumer-total-messages", "host": HOST, "value": float(consumed),
                               "timestamp": last_ms}] if consumed else [],
        "clusterErrorStats": [{"name": "consumer-failed-messages", "host": HOST, "value": float(failed),
                               "timestamp": last_ms}] if failed else [],
    }


def query(query_id="CSAS_A_1", sink="A", **counts):
    counts = counts or {"RUNNING": 1}
    return {"id": query_id, "sinks": [sink], "queryType": "PERSISTENT", "statusCount": counts,
            "state": "ERROR" if counts.get("ERROR") else "RUNNING"}


# sources ------------------------------------------------------------------------------------------------
def test_source_with_recent_records_and_no_lag_is_ok_with_counts_as_evidence():
    link = source_link("CLICKSTREAM", description(), Limits(), NOW, "datagen-clickstream")
    assert link.state == OK
    assert "'clickstream': 500 records" in link.evidence and "(2 s ago)" in link.evidence
    assert "0 records behind" in link.evidence


def test_missing_source_or_empty_topic_is_broken_naming_what_to_do():
    missing = source_link("CLICKSTREAM", None, Limits(), NOW)
    assert missing.state == BROKEN and "make up" in missing.action
    empty = source_link("CLICKSTREAM", description(end=0, consumed=0), Limits(), NOW, "datagen-clickstream")
    assert empty.state == BROKEN
    assert "datagen-clickstream" in empty.evidence and "RUNNING" in empty.action


def test_source_lagging_when_stale_or_far_behind():
    stale = source_link("CLICKSTREAM", description(last_ms=(NOW - 900) * 1000), Limits(stale_after=300), NOW)
    assert stale.state == LAGGING and "nothing new for over 300 s" in stale.evidence
    behind = source_link("CLICKSTREAM", description(end=50_000, consumed=100), Limits(lag_records=1000), NOW)
    assert behind.state == LAGGING and "49900 records behind" in behind.evidence


# queries ------------------------------------------------------------------------------------------------
def test_running_query_is_ok_and_shows_processing_log_failures():
    link = query_link("A", [query()], {"CLICKSTREAM": description(failed=7)})
    assert link.state == OK
    assert "CSAS_A_1 RUNNING" in link.evidence and "7 records failed" in link.evidence


@pytest.mark.parametrize("counts, expected, action", [
    ({"PAUSED": 1}, BROKEN, "RESUME CSAS_A_1;"),
    ({"ERROR": 1, "RUNNING": 1}, BROKEN, "KSQL_PROCESSING_LOG"),
    ({"RUNNING": 1, "UNRESPONSIVE": 1}, LAGGING, "ksqlDB servers"),
])
def test_query_states_other_than_running(counts, expected, action):
    link = query_link("A", [query(**counts)], {})
    assert link.state == expected and action in link.action


def test_terminated_query_is_broken():
    link = query_link("A", [query(sink="B")], {})
    assert link.state == BROKEN and "no persistent query writes A" in link.evidence


# what to do next names the stack's own command ----------------------------------------------------------
@pytest.mark.parametrize("stack, up", [(None, "`make up`"), ("dev", "`make up`"),
                                       ("staging", "`make up STACK=staging`"), ("prod", "`make up STACK=prod`")])
def test_every_hint_names_make_up_as_the_makefile_takes_the_stack(stack, up):
    missing = source_link("CLICKSTREAM", None, Limits(), NOW, stack=stack)
    gone = query_link("A", [], {}, stack=stack)
    failed = query_link("A", [query(ERROR=1)], {}, stack=stack)
    down = status_links.unreachable("index", "a", "Elasticsearch", "http://es:9200", OSError("refused"), stack=stack)
    for link in (missing, gone, failed, down):
        assert up in link.action, link


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_check_hands_the_targets_stack_to_every_look():
    """Nothing answers: every link says how to start the stack the status was asked about."""
    url = f"http://127.0.0.1:{closed_port()}"
    targets = stack_outputs.Targets.from_outputs({key: url for key in stack_outputs.OUTPUT_KEYS.values()},
                                                 logins(StackConfig(), lambda key: None), timeout=0.5,
                                                 stack="staging")
    chain = declared_links.Chain(source_connectors=("datagen-a",), sources={"A": "datagen-a"}, queries=("B",),
                                 sink_connectors=("es-sink-b",), indexes={"b": "es-sink-b"}, datasources=("ds-b",),
                                 dashboards=("board",), alert_rules=("rule",))
    links = status.check(targets, chain).links
    assert len(links) == 8 and all(link.state == BROKEN for link in links)
    assert all("`make up STACK=staging` starts" in link.action for link in links), links


def test_a_missing_alert_rule_names_the_stacks_command(monkeypatch):
    monkeypatch.setattr(status_links.GrafanaClient, "get_or_none", lambda self, path: {"data": {"groups": []}})
    endpoint = stack_outputs.Targets.from_outputs(OUTPUTS, logins(StackConfig(), lambda key: None)).grafana
    [link] = alert_rule_links(endpoint, ["rule"], stack="prod")
    assert link.state == BROKEN and link.action == "`make up STACK=prod` creates it"


# dashboards ---------------------------------------------------------------------------------------------
def test_panel_datasources_walk_rows_and_targets_and_skip_builtins():
    panels = [{"title": "row", "type": "row", "panels": [
        {"title": "inner", "datasource": {"uid": "es-a"}, "targets": [{"datasource": {"uid": "es-b"}}]}]},
        {"title": "text", "datasource": {"uid": "-- Grafana --"}},
        {"title": "templated", "datasource": {"uid": "${DS_X}"}}]
    assert sorted(panel_datasources(panels)) == [("inner", "es-a"), ("inner", "es-b")]


# report -------------------------------------------------------------------------------------------------
def report(*states: str) -> status.Report:
    links = tuple(Link(stage, f"link{i}", state, f"evidence {i}", "do this" if state != OK else "")
                  for i, (stage, state) in enumerate(zip(status.STAGES, states)))
    return status.Report(links, NOW, 0.25)


def test_report_exit_code_summary_and_json():
    healthy = report(OK, OK, OK)
    assert healthy.exit_code == 0 and "all 3 links OK" in healthy.summary()
    broken = report(OK, LAGGING, BROKEN, BROKEN)
    assert broken.exit_code == 1
    assert broken.summary() == "Data stops at ksqlDB query link2 (1 OK, 1 LAGGING, 2 BROKEN)."
    assert report(OK, LAGGING).summary().startswith("Data is slow at source topic link1")
    document = broken.as_json()
    assert document["ok"] is False and document["counts"] == {OK: 1, LAGGING: 1, BROKEN: 2}
    assert document["links"][2] == {"stage": "ksqlDB query", "name": "link2", "state": BROKEN,
                                    "evidence": "evidence 2", "action": "do this"}
    assert json.loads(json.dumps(document)) == document


def test_rendered_lines_carry_state_evidence_and_next_step():
    text = report(OK, BROKEN).render()
    lines = text.splitlines()
    assert lines[1].startswith("OK       source connector")
    assert lines[2].startswith("BROKEN   source topic") and lines[2].endswith("evidence 1")
    assert lines[3].strip() == "next: do this"
    assert "\x1b[" not in text and "\x1b[31mBROKEN" in report(BROKEN).render(color=True)


# the declared chain -------------------------------------------------------------------------------------
def test_declared_chain_follows_the_project_content():
    chain = declared_links.declared_chain()
    assert chain.source_connectors == tuple(s.name for s in connectors.datagen_sources(StackConfig()))
    assert chain.sources == {"CLICKSTREAM": "datagen-clickstream", "CLICKSTREAM_CODES": "datagen-clickstream-codes",
                             "WEB_USERS": "datagen-clickstream-users"}
    derived = connectors.derived_tables(parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(StackConfig())))
    assert len(derived) == 12 and set(derived) <= set(chain.queries)
    assert list(chain.indexes) == [t.lower() for t in derived]
    assert chain.datasources == tuple(connectors.datasource_uid(t) for t in derived)
    assert chain.indexes["events_per_min"] == "es-sink-events-per-min"
    assert chain.dashboards == ("clickstream-analysis", "clickstream-high-bandwidth")


# stack outputs and secrets --------------------------------------------------------------------------------
EXTERNAL_URLS = {"kafkaBootstrap": "broker.example.com:9092", "connectUrl": "https://connect.example.com",
                 "ksqldbUrl": "https://ksqldb.example.com", "elasticsearchUrl": "https://es.example.com",
                 "grafanaUrl": "https://grafana.example.com"}
OUTPUTS = {"connectUrl": "http://localhost:8083", "ksqldbUrl": "http://localhost:8088",
           "elasticsearchUrl": "http://localhost:9200", "grafanaUrl": "http://localhost:3000"}


def test_targets_need_every_url_output_and_keep_passwords_out_of_repr():
    secured = StackConfig(elasticsearchSecurity=True)
    secrets = {"grafanaAdminPassword": "s3cret-pw", "elasticsearchPassword": "es-pw"}.get
    with pytest.raises(stack_outputs.StatusError, match="no output ksqldbUrl, grafanaUrl.*make up"):
        stack_outputs.Targets.from_outputs({"connectUrl": "x", "elasticsearchUrl": "y"}, logins(secured, secrets))
    with pytest.raises(stack_outputs.StatusError, match="deploy it first \\(`make up STACK=prod`\\)"):
        stack_outputs.Targets.from_outputs({}, logins(secured, secrets), stack="prod")
    targets = stack_outputs.Targets.from_outputs(OUTPUTS, logins(secured, secrets))
    assert targets.grafana.password == "s3cret-pw" and targets.elasticsearch.username == "elastic"
    assert "s3cret-pw" not in repr(targets) and "es-pw" not in repr(targets)


def test_stack_targets_of_an_external_stack_use_its_logins(tmp_path, monkeypatch):
    """Basic auth for Connect and ksqlDB, the Elasticsearch API key (scheme ApiKey) and the Grafana token."""
    config = {"clickstream:platform": {"value": "external", "secret": False},
              **{f"clickstream:{key}": {"value": value, "secret": False} for key, value in EXTERNAL_URLS.items()},
              "clickstream:connectUser": {"value": "connect-user", "secret": False},
              "clickstream:connectPassword": {"value": "connect-secret", "secret": True},
              "clickstream:ksqldbUser": {"value": "APIKEY1", "secret": False},
              "clickstream:ksqldbPassword": {"value": "ksql-secret", "secret": True},
              "clickstream:elasticsearchApiKey": {"value": "ZXMta2V5", "secret": True},
              "clickstream:grafanaToken": {"value": "glsa_token", "secret": True}}
    monkeypatch.setenv("PULUMI_BIN", fake_pulumi(tmp_path, OUTPUTS, config))
    targets = stack_outputs.stack_targets("external")
    assert (targets.connect.username, targets.connect.password) == ("connect-user", "connect-secret")
    assert (targets.ksqldb.username, targets.ksqldb.password) == ("APIKEY1", "ksql-secret")
    assert (targets.elasticsearch.api_key, targets.elasticsearch.api_key_scheme) == ("ZXMta2V5", "ApiKey")
    assert (targets.grafana.api_key, targets.grafana.api_key_scheme, targets.grafana.username) == \
        ("glsa_token", "Bearer", None)


def fake_pulumi(tmp_path: pathlib.Path, outputs: dict, config: dict, fail: str = "") -> str:
    """A stand-in ``pulumi`` that prints canned JSON for ``stack output`` and ``config``."""
    script = tmp_path / "pulumi"
    script.write_text(f"""#!{sys.executable}
import json, sys
args = sys.argv[1:]
if {fail!r}:
    print({fail!r}, file=sys.stderr); sys.exit(255)
assert "--json" in args and "--show-secrets" in args, args
print(json.dumps({outputs!r} if args[:2] == ["stack", "output"] else {config!r}))
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_stack_targets_read_urls_and_secrets_through_the_cli(tmp_path, monkeypatch):
    config = {"clickstream:grafanaAdminPassword": {"value": "gf-secret", "secret": True},
              "clickstream:elasticsearchSecurity": {"value": "true", "secret": False},
              "clickstream:elasticsearchPassword": {"value": "es-secret", "secret": True}}
    monkeypatch.setenv("PULUMI_BIN", fake_pulumi(tmp_path, {**OUTPUTS, "portForwardCommands": ["kubectl pf"]}, config))
    targets = stack_outputs.stack_targets("staging")
    assert targets.grafana.url == "http://localhost:3000" and targets.grafana.password == "gf-secret"
    assert (targets.elasticsearch.username, targets.elasticsearch.password) == ("elastic", "es-secret")
    assert targets.port_forward_commands == ("kubectl pf",)
    assert targets.stack == "staging", "the stack the status was asked about, for the commands it suggests"


@pytest.mark.parametrize("url, hinted", [("http://localhost:8088", True), ("http://127.0.0.1:8088", True),
                                         ("http://[::1]:8088", True), ("https://ksqldb.example.com", False),
                                         ("http://10.0.0.7:8088", False)])
def test_port_forwards_are_the_hint_only_where_the_apis_are_forwarded(url, hinted):
    """With an ingress the stack still exports its Kafka brokers' port-forwards; they would not bring back an
    API that does not answer at its ingress."""
    forwards = ("kubectl port-forward pod/clickstream-kafka-dual-role-0 9092:9094",)
    apis = {key: f"https://{key}.example.com" for key in ("connectUrl", "elasticsearchUrl", "grafanaUrl")}
    targets = stack_outputs.Targets.from_outputs(
        {**OUTPUTS, **apis, "ksqldbUrl": url, "portForwardCommands": list(forwards)},
        logins(StackConfig(), lambda key: None))
    assert status._hint(targets) == (f"start the stack's port-forwards: {forwards[0]}" if hinted else "")


def test_an_unreadable_stack_exits_2_with_the_cli_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PULUMI_BIN", fake_pulumi(tmp_path, {}, {}, fail="error: no stack named 'nope' found"))
    assert main(["status", "--stack", "nope"]) == 2
    err = capsys.readouterr().err
    assert "pulumi stack output --show-secrets --stack nope" in err and "no stack named 'nope'" in err
    assert "run it through `make status STACK=nope`" in err  # the command the user runs again, stack included


def test_missing_pulumi_cli_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("PULUMI_BIN", raising=False)
    monkeypatch.setattr(stack_outputs, "PULUMI_IN_PROJECT", pathlib.Path("/nonexistent/pulumi"))
    monkeypatch.setenv("PATH", "")
    with pytest.raises(stack_outputs.StatusError, match="make pulumi-cli.*installs it"):
        stack_outputs.pulumi_binary()


# watch --------------------------------------------------------------------------------------------------
class Ticks:
    """Stands in for the refresh pause of ``watch``: the first pause passes at once, the second is Ctrl-C-free
    stop (``wait`` returns True, as an ``Event`` that was set does)."""

    def __init__(self):
        self.pauses: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.pauses.append(seconds)
        return len(self.pauses) > 1


def test_watch_redraws_in_place_and_is_bounded():
    shown: list[str] = []
    runs = iter([report(BROKEN), report(OK)])
    ticks = Ticks()
    code = status.watch(lambda: next(runs), interval=5, duration=3600, render=lambda r: r.summary(),
                        out=shown.append, stop=ticks)
    assert code == 0 and len(shown) == 2 and ticks.pauses == [5, 5]
    assert all(frame.startswith("\x1b[H\x1b[2J") for frame in shown)
    assert "Data stops at source connector link0" in shown[0] and "all 1 links OK" in shown[1]
    assert status.watch(lambda: report(BROKEN), interval=60, duration=0, render=str, out=shown.append) == 1
    lines: list[str] = []
    status.watch(lambda: report(OK), interval=60, duration=0, render=lambda r: json.dumps(r.as_json()),
                 out=lines.append, in_place=False)
    assert json.loads(lines[0])["ok"] is True, "--watch --json prints plain JSON lines"


def test_watch_stops_cleanly_on_ctrl_c():
    shown: list[str] = []

    def interrupted() -> status.Report:
        raise KeyboardInterrupt

    assert status.watch(interrupted, interval=1, duration=10, render=str, out=shown.append) == 130
    assert shown == ["\nstopped"]


def test_status_command_line_options():
    parser = argparse.ArgumentParser()
    status.add_arguments(parser)
    args = parser.parse_args(["--stack", "dev", "--json", "--wait-for-data", "--timeout", "30", "--stale-after", "60"])
    assert (args.stack, args.json, args.wait_for_data, args.timeout, args.stale_after) == ("dev", True, True, 30, 60)
    assert (args.watch, args.interval, args.duration) == (False, 5.0, 3600.0)


def test_the_help_texts_show_no_rest_markup(capsys):
    for argv in (["--help"], ["status", "--help"], ["sessionize", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "``" not in capsys.readouterr().out, argv
