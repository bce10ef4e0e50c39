"""Provider tier, the connector links of ``clickstream status`` on the FAKE and the REAL Kafka Connect (same
test bodies; the real worker is Apache Kafka's, from tests/harness): a RUNNING connector is OK, a FAILED
task is BROKEN with the first line of its trace and the restart to run, a paused one is LAGGING, a
missing one BROKEN — and the whole report exits 1."""
from __future__ import annotations

import pytest
import requests

from clickstream.operations import declared_links, stack_outputs, status
from clickstream.operations.status_links import BROKEN, LAGGING, OK, Link, connector_link
from clickstream.stack.logins import logins
from providers.http import Endpoint, wait_until
from stackconfig import StackConfig
from tests.fakes.connect import error_body

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
TIMEOUT = 120  # seconds for any one wait on the real worker


def wait_for_state(url: str, stage: str, name: str, state: str, saying: str = ""):
    """The connector's status line once it is ``state`` and its evidence contains ``saying``."""
    seen: list[Link] = []

    def reached() -> bool:
        seen[:] = [connector_link(Endpoint(url, timeout=10, ready_timeout=10), stage, name)]
        return seen[0].state == state and saying in seen[0].evidence

    wait_until(reached, timeout=TIMEOUT, description=f"status line of {name} to say {state} {saying}",
               last_seen=lambda: str(seen[0]) if seen else "nothing yet")
    return seen[0]


def only_connectors(sources: tuple[str, ...], sinks: tuple[str, ...]) -> declared_links.Chain:
    return declared_links.Chain(source_connectors=sources, sources={}, queries=(), sink_connectors=sinks, indexes={},
                        datasources=(), dashboards=())


def targets(url: str) -> stack_outputs.Targets:
    unused = "http://127.0.0.1:9"  # the chain below has no links on the other services
    return stack_outputs.Targets.from_outputs({"connectUrl": url, "ksqldbUrl": unused, "elasticsearchUrl": unused,
                                        "grafanaUrl": unused}, logins(StackConfig(), lambda key: None), timeout=10)


def test_connector_links_running_failed_paused_missing(connect_backend):
    url = connect_backend.url
    running, failing = connect_backend.name("status-source"), connect_backend.name("status-sink")
    assert connect_backend.put_config(running, {"connector.class": SOURCE, "tasks.max": "1", "topic": running,
                                                "file": connect_backend.file("in")}) == 201
    assert connect_backend.put_config(failing, {"connector.class": SINK, "tasks.max": "1", "topics": running,
                                                "file": "/nonexistent-dir/status/out.txt"}) == 201

    ok = wait_for_state(url, "source connector", running, OK)  # right after the PUT: no status yet, then RUNNING
    assert ok.evidence == "connector RUNNING; tasks: 0=RUNNING"
    broken = wait_for_state(url, "sink connector", failing, BROKEN, saying="FAILED")
    assert broken.evidence.startswith("task 0 FAILED on ")
    assert "Couldn't find or create file '/nonexistent-dir/status/out.txt'" in broken.evidence
    assert broken.action.endswith(f"/connectors/{failing}/restart?includeTasks=true&onlyFailed=true'`")

    reports: list[status.Report] = []

    def settled() -> bool:
        reports[:] = [status.check(targets(url), only_connectors((running,), (failing,)))]
        return [(link.name, link.state) for link in reports[0].links] == [(running, OK), (failing, BROKEN)]

    wait_until(settled, timeout=TIMEOUT, description="the report to show the source OK and the sink BROKEN",
               last_seen=lambda: reports[0].render() if reports else "nothing yet")
    report = reports[0]
    assert report.exit_code == 1
    assert report.summary() == f"Data stops at sink connector {failing} (1 OK, 1 BROKEN)."

    assert requests.put(f"{url}/connectors/{running}/pause", timeout=30).status_code == 202
    paused = wait_for_state(url, "source connector", running, LAGGING, saying="0=PAUSED: paused")
    assert paused.evidence == "connector PAUSED; tasks: 0=PAUSED: paused, no records move"
    assert f"/connectors/{running}/resume" in paused.action

    missing = connector_link(Endpoint(url, timeout=10, ready_timeout=10), "source connector", "no-such-connector")
    assert missing.state == BROKEN and missing.evidence == "Kafka Connect has no such connector"



@pytest.mark.fake
def test_connector_created_a_moment_ago_without_a_status_yet_is_lagging(fake_connect):
    name = "datagen-clickstream"
    assert requests.put(f"{fake_connect.url}/connectors/{name}/config", timeout=10,
                        json={"connector.class": SOURCE, "topic": "t", "file": "/tmp/in.txt"}).status_code == 201
    fake_connect.fail_next("GET", f"/connectors/{name}/status", 404,
                           error_body(404, f"No status found for connector {name}"))
    link = connector_link(Endpoint(fake_connect.url, timeout=5, ready_timeout=5), "source connector", name)
    assert (link.state, link.evidence) == (LAGGING, "connector created, no status reported yet")
