"""Provider tier, against FAKES and a port where nothing listens: what preview and refresh do when a
service does not answer (a short, bounded wait, then a message naming the service, its URL and the likely
cause; a refresh keeps the recorded state so that `pulumi up --refresh` gets past a stopped container),
and rejected credentials, which end every wait at once, naming the service and whose credentials.
"""
from __future__ import annotations

import time

import pulumi
import pytest

from providers.connect import ConnectorProvider
from providers.contract import refreshed
from providers.elasticsearch.index_template import IndexTemplateProvider
from providers.grafana.folder import FolderProvider
from providers.http import ApiError, Endpoint, ServiceUnreachable
from providers.ksqldb import KsqlClient
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.pulumi_engine import Deployed, refresh

pytestmark = pytest.mark.fake

READY_TIMEOUT = 60  # what creates and updates would wait; preview and refresh must not
PROBE_TIMEOUT = 1


@pytest.fixture
def warnings(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda msg, *a, **k: said.append(msg))
    return said


EACH_READ_BACK_KIND = pytest.mark.parametrize("provider, url_input, service, props", [
    (ConnectorProvider(), "connect_url", "Kafka Connect",
     {"connector_name": "src", "config": {"connector.class": "X"}, "state": "running"}),
    (IndexTemplateProvider(), "elasticsearch_url", "Elasticsearch", {"template_name": "t", "body": {}}),
    (FolderProvider(), "grafana_url", "Grafana", {"uid": "f", "title": "F"}),
], ids=["connector", "index-template", "grafana-folder"])


def recorded(provider, url_input: str, url: str, **props) -> Deployed:
    outs = {url_input: url, "ready_timeout": READY_TIMEOUT, "probe_timeout": PROBE_TIMEOUT, **props}
    return Deployed("the-id", dict(outs), outs)


@EACH_READ_BACK_KIND
def test_refresh_of_an_unreachable_service_keeps_the_state_after_a_short_wait_and_says_why(
        unanswered_url, warnings, provider, url_input, service, props):
    deployed = recorded(provider, url_input, unanswered_url, **props)
    started = time.monotonic()
    kept = refresh(provider, deployed)
    assert time.monotonic() - started < READY_TIMEOUT / 4
    assert kept is not None and kept.id == deployed.id and kept.outs == deployed.outs
    (warning,) = warnings
    assert f"{service} at {unanswered_url} did not answer within 1 s" in warning
    assert "nothing listens there" in warning and "Kept the recorded state of the-id" in warning


@EACH_READ_BACK_KIND
def test_refresh_of_a_service_that_takes_connections_but_never_answers_waits_only_probe_timeout(
        silent_url, warnings, provider, url_input, service, props):
    """A hung service: each request of the probe is cut to what is left of probe_timeout, whatever the
    client's own per-request timeout (Kafka Connect's is 30 s, the others' 10 s)."""
    deployed = recorded(provider, url_input, silent_url, **props)
    started = time.monotonic()
    kept = refresh(provider, deployed)
    assert time.monotonic() - started < PROBE_TIMEOUT + 4
    assert kept is not None and kept.outs == deployed.outs
    (warning,) = warnings
    assert f"{service} at {silent_url} did not answer within 1 s" in warning and "no answer in time" in warning


def test_ksqldb_probe_names_the_service_url_and_likely_cause_after_a_short_wait(unanswered_url, warnings):
    endpoint = Endpoint(unanswered_url, ready_timeout=READY_TIMEOUT, probe_timeout=PROBE_TIMEOUT)
    started = time.monotonic()
    with KsqlClient(endpoint) as client, pytest.raises(ServiceUnreachable) as err:
        client.probe()
    assert time.monotonic() - started < READY_TIMEOUT / 4
    assert f"ksqlDB at {unanswered_url} did not answer within 1 s: nothing listens there" in str(err.value)
    with KsqlClient(endpoint) as client:  # what the ksqlDB objects' read is to return
        kept = refreshed(client, "q", {"ksqldb_url": unanswered_url}, lambda: pytest.fail("read while unreachable"))
    assert kept.outs == {"ksqldb_url": unanswered_url} and len(warnings) == 1


def test_wrong_ksqldb_credentials_fail_at_once_naming_the_service_and_user():
    with FakeKsqlDb(username="ksql", password="right") as fake:
        fake.echo_credentials = True  # a leak of the rejected password into the error would show
        started = time.monotonic()
        with KsqlClient(Endpoint(fake.url, "ksql", "wrong", ready_timeout=READY_TIMEOUT)) as client, \
                pytest.raises(ApiError) as err:
            client.wait_ready()
        assert time.monotonic() - started < READY_TIMEOUT / 4
        assert err.value.status == 401
        assert "ksqlDB rejected the credentials of user 'ksql'" in str(err.value)
        assert "the ksqlDB username/password" in str(err.value) and "wrong" not in str(err.value)
        with KsqlClient(Endpoint(fake.url, "ksql", "right")) as client:
            client.wait_ready()
        assert [c.status for c in fake.calls_to("GET", "/info")] == [401, 200]


def test_wrong_credentials_end_a_refresh_at_once_instead_of_keeping_the_state():
    with FakeKsqlDb(username="ksql", password="right") as fake:
        endpoint = Endpoint(fake.url, "ksql", "wrong", ready_timeout=READY_TIMEOUT, probe_timeout=30)
        with KsqlClient(endpoint) as client, pytest.raises(ApiError, match="rejected the credentials"):
            refreshed(client, "q", {}, lambda: pytest.fail("read with rejected credentials"))
