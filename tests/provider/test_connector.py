"""Provider tier: the ``Connector`` dynamic provider driven as the Pulumi engine drives it.

Tests taking ``connect_backend`` run twice: against the FAKE worker (tests/fakes/connect.py) and against a
REAL Kafka Connect worker (tests/harness, skipped with a reason when it cannot start). Tests named
``*_fake_*`` stage faults only a fake can produce; the check/diff tests need no network at all.
"""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from clickstream.content import connectors
from providers.connect import ConnectClient, ConnectorError, ConnectorFailed, ConnectorProvider
from providers.contract import secret_hash
from providers.http import Endpoint, ServiceTimeout
from stackconfig import StackConfig
from tests.fakes.connect import DATAGEN, ELASTICSEARCH_SINK, JETTY_NOT_FOUND, REBALANCE_MESSAGE, FakeConnect, error_body
from tests.provider.connect_backend import mutating
from tests.provider.pulumi_engine import CheckFailed, check, dill_round_trip, refresh, up

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
SECRET = "pa55-Very-Secret-Value"
SINK_INDEXES = {t: f"{t.lower()}_v0123456789abcdef" for t in ("EVENTS_PER_MIN", "HIGH_BANDWIDTH_SESSIONS")}
SINK_GROUPS = {t: connectors.sink_group(f"{connectors.sink_name(t)}-v0123456789abcdef", f"CTAS_{t}_1")
               for t in SINK_INDEXES}


def source_inputs(backend, name: str, **overrides: Any) -> dict[str, Any]:
    timeout = 10 if backend.kind == "fake" else 120
    inputs = {"connect_url": backend.url, "connector_name": name, "ready_timeout": timeout,
              "config": {"connector.class": SOURCE, "tasks.max": 1, "file": backend.file("in"), "topic": name}}
    inputs.update(overrides)
    return inputs


def live(backend, name: str) -> tuple[dict | None, dict | None]:
    with ConnectClient(Endpoint(backend.url)) as client:
        return client.get_config(name), client.status(name)


def states(status: dict) -> set[str]:
    return {status["connector"]["state"], *(task["state"] for task in status["tasks"])}


# ---- against the fake and the real worker --------------------------------------------------------------

def test_create_runs_connector_and_records_declared_outputs(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("create")
    applied = up(provider, source_inputs(connect_backend, name))
    assert applied.id == name
    assert applied.outs["connector_class"] == SOURCE
    assert applied.outs["config"]["tasks.max"] == "1"  # normalised to Connect's string values
    assert applied.outs["state"] == "running"
    config, status = live(connect_backend, name)
    assert config["topic"] == name
    assert states(status) == {"RUNNING"}


def test_second_apply_with_unchanged_inputs_makes_no_mutating_call(connect_backend, http_calls):
    provider, name = ConnectorProvider(), connect_backend.name("noop")
    inputs = source_inputs(connect_backend, name, secret_config={"producer.override.client.id": SECRET})
    first = up(provider, inputs)
    http_calls.clear()
    assert up(provider, inputs, first) is first
    assert http_calls == []  # diff alone decides: no request at all, hence no mutating one
    refreshed = refresh(provider, first)
    assert mutating(http_calls) == []
    assert up(provider, inputs, refreshed) is refreshed
    assert mutating(http_calls) == []


def test_config_change_updates_in_place(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("update")
    first = up(provider, source_inputs(connect_backend, name))
    inputs = source_inputs(connect_backend, name, config={**first.inputs["config"], "batch.size": 50})
    diff = provider.diff(first.id, first.outs, provider.check({}, inputs).inputs)
    assert diff.changes and not diff.replaces
    second = up(provider, inputs, first)
    assert second.id == first.id
    config, status = live(connect_backend, name)
    assert config["batch.size"] == "50" and states(status) == {"RUNNING"}


def test_name_change_replaces_the_connector(connect_backend):
    provider = ConnectorProvider()
    old_name, new_name = connect_backend.name("old"), connect_backend.name("new")
    first = up(provider, source_inputs(connect_backend, old_name))
    second = up(provider, {**first.inputs, "connector_name": new_name}, first)
    assert second.id == new_name
    assert live(connect_backend, old_name) == (None, None)
    assert live(connect_backend, new_name)[0]["connector.class"] == SOURCE


def test_delete_removes_and_tolerates_already_gone(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("delete")
    applied = up(provider, source_inputs(connect_backend, name))
    provider.delete(applied.id, applied.outs)
    assert live(connect_backend, name) == (None, None)
    provider.delete(applied.id, applied.outs)  # 404 is success


def test_create_adopts_an_existing_connector_and_says_so(connect_backend, monkeypatch):
    provider, name = ConnectorProvider(), connect_backend.name("adopt")
    inputs = source_inputs(connect_backend, name)
    assert connect_backend.put_config(name, {**provider.check({}, inputs).inputs["config"], "batch.size": "7"}) == 201
    messages: list[str] = []
    monkeypatch.setattr("pulumi.log.info", lambda msg, *a, **k: messages.append(msg))
    applied = up(provider, inputs)
    assert any("adopted" in message and name in message for message in messages)
    config, _ = live(connect_backend, name)
    assert "batch.size" not in config  # the declared config replaced the hand-made one
    assert applied.outs["config"] == applied.inputs["config"]


def test_refresh_sees_a_connector_deleted_out_of_band_and_up_recreates_it(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("gone")
    applied = up(provider, source_inputs(connect_backend, name))
    assert connect_backend.delete(name) == 204
    assert refresh(provider, applied) is None
    recreated = up(provider, applied.inputs)  # after refresh the engine creates it again
    assert states(live(connect_backend, recreated.id)[1]) == {"RUNNING"}


def test_refresh_sees_config_edited_out_of_band_and_up_restores_it(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("drift")
    applied = up(provider, source_inputs(connect_backend, name))
    edited = {**applied.inputs["config"], "topic": f"{name}-edited", "added.by.hand": "x"}
    assert connect_backend.put_config(name, edited) == 200
    refreshed = refresh(provider, applied)
    assert refreshed.outs["config"]["topic"] == f"{name}-edited"
    assert "added.by.hand" not in refreshed.outs["config"]  # undeclared keys never show up as drift
    restored = up(provider, applied.inputs, refreshed)
    assert restored is not refreshed
    assert live(connect_backend, name)[0]["topic"] == name


def test_pause_and_resume_declaratively(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("pause")
    running = up(provider, source_inputs(connect_backend, name))
    paused = up(provider, {**running.inputs, "state": "paused"}, running)
    assert paused.outs["state"] == "paused"
    assert states(live(connect_backend, name)[1]) == {"PAUSED"}
    assert refresh(provider, paused).outs["state"] == "paused"
    up(provider, {**paused.inputs, "state": "running"}, paused)
    assert states(live(connect_backend, name)[1]) == {"RUNNING"}


def test_create_paused_from_the_start(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("born-paused")
    applied = up(provider, source_inputs(connect_backend, name, state="paused"))
    assert applied.outs["state"] == "paused"
    assert states(live(connect_backend, name)[1]) == {"PAUSED"}


def test_failed_task_is_reported_with_its_trace(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("failing")
    inputs = source_inputs(connect_backend, name, config={
        "connector.class": SINK, "tasks.max": "1", "topics": name, "file": "/nonexistent-dir-pytest/out.txt"})
    with pytest.raises(ConnectorFailed) as failure:
        up(provider, inputs)
    message = str(failure.value)
    assert "task 0 FAILED" in message and "Couldn't find or create file" in message
    assert connect_backend.url in message


def test_invalid_config_is_reported_key_by_key_before_anything_is_written(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("invalid")
    inputs = source_inputs(connect_backend, name, config={"connector.class": SOURCE, "tasks.max": "1",
                                                          "batch.size": "lots"})
    with pytest.raises(CheckFailed) as failure:  # refused at preview by the worker's validate endpoint
        up(provider, inputs)
    message = str(failure.value)
    assert "refuses the config" in message and "topic:" in message and "batch.size:" in message
    inputs["config"]["tasks.max"] = "0"
    with pytest.raises(CheckFailed, match=r"config\['tasks.max'\] must be a whole number >= 1, not '0'"):
        up(provider, inputs)  # no worker needed for this one
    with pytest.raises(ConnectorError) as failure:  # and at up, should the preview have found no worker
        provider.create(provider.normalised(inputs))
    message = str(failure.value)
    assert "rejects the config" in message
    for key in ("topic:", "tasks.max:", "batch.size:"):
        assert key in message
    assert live(connect_backend, name) == (None, None)


def test_unknown_config_keys_are_warned_about_by_name(connect_backend, monkeypatch):
    provider, name = ConnectorProvider(), connect_backend.name("typo")
    warnings: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda msg, *a, **k: warnings.append(msg))
    inputs = source_inputs(connect_backend, name)
    up(provider, {**inputs, "config": {**inputs["config"], "tasks.maxx": 2, "batch.size": 10}})
    assert len(warnings) == 1
    assert "'tasks.maxx'" in warnings[0] and "batch.size" not in warnings[0] and name in warnings[0]
    assert connect_backend.url in warnings[0]


def test_a_plugin_that_is_not_installed_is_named_with_the_installed_ones(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("no-plugin")
    inputs = source_inputs(connect_backend, name, config={"connector.class": "io.example.MissingConnector"})
    with pytest.raises(CheckFailed) as failure:  # at preview
        up(provider, inputs)
    assert "connector plugin 'io.example.MissingConnector' is not installed" in str(failure.value)
    with pytest.raises(ConnectorError) as failure:  # and at up, should the preview have found no worker
        provider.create(provider.normalised(inputs))
    message = str(failure.value)
    assert f"connector plugin 'io.example.MissingConnector' is not installed on the Kafka Connect worker at " \
           f"{connect_backend.url}" in message
    assert SOURCE in message and SINK in message and "PluginDesc" not in message
    assert live(connect_backend, name) == (None, None)


def test_secrets_never_appear_in_outputs_logs_or_errors(connect_backend, monkeypatch):
    provider, name = ConnectorProvider(), connect_backend.name("secret")
    messages: list[str] = []
    monkeypatch.setattr("pulumi.log.info", lambda msg, *a, **k: messages.append(msg))
    inputs = source_inputs(connect_backend, name, secret_config={"producer.override.client.id": SECRET})
    applied = up(provider, inputs)
    assert live(connect_backend, name)[0]["producer.override.client.id"] in (SECRET, "[hidden]")
    refreshed = refresh(provider, applied)
    for outs in (applied.outs, refreshed.outs):
        assert SECRET not in json.dumps(outs)
    # A secret the plugin rejects: Connect echoes the value in its error, the provider masks it.
    bad = source_inputs(connect_backend, connect_backend.name("secret-bad"), secret_config={"batch.size": SECRET})
    with pytest.raises(CheckFailed) as refused:  # at preview
        up(provider, bad)
    assert SECRET not in str(refused.value) and "[secret]" in str(refused.value)
    with pytest.raises(ConnectorError) as failure:  # and at up, should the preview have found no worker
        provider.create(provider.normalised(bad))
    assert SECRET not in str(failure.value) and "[secret]" in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    assert not any(SECRET in message for message in messages)


def test_secret_change_is_detected_by_hash_and_applied(connect_backend):
    provider, name = ConnectorProvider(), connect_backend.name("rotate")
    first = up(provider, source_inputs(connect_backend, name, secret_config={"producer.override.client.id": "one"}))
    same = provider.check({}, {**first.inputs, "secret_config": {"producer.override.client.id": "one"}})
    assert not provider.diff(first.id, first.outs, same.inputs).changes
    second = up(provider, {**first.inputs, "secret_config": {"producer.override.client.id": "two"}}, first)
    assert second.outs["secret_config_hash"] != first.outs["secret_config_hash"]
    assert live(connect_backend, name)[0]["producer.override.client.id"] in ("two", "[hidden]")


# ---- fault injection: FAKE only -----------------------------------------------------------------------

def test_fake_worker_down_then_up_create_waits_for_readiness(fake_connect, tmp_path):
    fake_connect.drop_next(2)  # not listening yet
    fake_connect.unavailable(1)
    provider = ConnectorProvider()
    inputs = {"connect_url": fake_connect.url, "connector_name": "late", "ready_timeout": 10,
              "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}}
    applied = up(provider, inputs)
    assert applied.outs["state"] == "running"
    assert [c.status for c in fake_connect.calls_to("GET", "/health")][:2] == [503, 200]


def test_fake_a_create_whose_answer_was_lost_is_reported_created_not_adopted(fake_connect, tmp_path, monkeypatch):
    said: list[str] = []
    monkeypatch.setattr("pulumi.log.info", lambda msg, *a, **k: said.append(msg))
    fake_connect.drop_answer_next("PUT", "/connectors/lost/config")
    inputs = {"connect_url": fake_connect.url, "connector_name": "lost", "ready_timeout": 10,
              "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}}
    applied = up(ConnectorProvider(), inputs)
    assert applied.outs["state"] == "running"
    assert [c.status for c in fake_connect.calls_to("PUT", "/connectors/lost/config")] == [201]
    assert not any("adopted" in message for message in said), said


def test_fake_rebalance_409_is_retried_with_backoff(fake_connect, tmp_path):
    fake_connect.fail_next("PUT", ".*", 409, error_body(409, REBALANCE_MESSAGE), times=2)
    provider = ConnectorProvider()
    inputs = {"connect_url": fake_connect.url, "connector_name": "rebalanced", "ready_timeout": 10,
              "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}}
    up(provider, inputs)
    # the check's validate meets the rebalance (and retries it within probe_timeout), then up's validate and PUT
    assert [c.status for c in fake_connect.calls if c.method == "PUT"] == [409, 409, 200, 200, 201]
    assert "rebalanced" in fake_connect.connectors


def test_fake_worker_restarting_during_create_answers_writes_with_jetty_404_and_create_converges(
        fake_connect, tmp_path):
    fake_connect.fail_next("PUT", ".*", 404, JETTY_NOT_FOUND, times=2)  # writes meet a worker registering its resources
    inputs = {"connect_url": fake_connect.url, "connector_name": "restarting", "ready_timeout": 10,
              "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}}
    applied = up(ConnectorProvider(), inputs)
    assert applied.outs["state"] == "running"
    assert [(c.path.rsplit("/", 1)[-1], c.status) for c in fake_connect.calls if c.method == "PUT"] == \
        [("validate", 404), ("validate", 404), ("validate", 200), ("validate", 200), ("config", 201)]


def test_content_connectors_use_only_settings_their_plugins_define():
    specs = connectors.datagen_sources(StackConfig()) + connectors.elasticsearch_sinks(
        "http://elasticsearch:9200", SINK_INDEXES, SINK_GROUPS, username="elastic", password="pw")
    with FakeConnect(extra_plugins=(DATAGEN, ELASTICSEARCH_SINK)) as fake, \
            ConnectClient(Endpoint(fake.url)) as client:
        for spec in specs:
            body = {**spec.config, **spec.secret_config, "name": spec.name}
            validation = client.validate(body)
            assert validation.errors == [] and validation.unknown_keys(body) == [], spec.name


def test_elasticsearch_sinks_ride_out_a_restart_and_dead_letter_what_they_cannot_write():
    (sink, *_) = connectors.elasticsearch_sinks("http://elasticsearch:9200", SINK_INDEXES, SINK_GROUPS)
    retries, backoff_ms = int(sink.config["max.retries"]), int(sink.config["retry.backoff.ms"])
    # attempt n waits a random time in [0, backoff * 2**n): the longest possible and the mean total wait
    longest_s = sum(backoff_ms * 2 ** n for n in range(1, retries + 1)) / 1000
    assert longest_s >= 600 and longest_s / 2 >= 240  # a restart of about a minute is ridden out
    assert sink.config["behavior.on.malformed.documents"] != "fail" and sink.config["errors.tolerance"] == "all"
    assert sink.config["errors.deadletterqueue.topic.name"] == connectors.DEAD_LETTER_TOPIC


def test_fake_rebalance_that_never_ends_fails_with_connects_message(fake_connect, tmp_path):
    fake_connect.fail_next("PUT", ".*", 409, error_body(409, REBALANCE_MESSAGE), times=1000)
    inputs = {"connect_url": fake_connect.url, "connector_name": "stuck", "ready_timeout": 1,
              "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}}
    with pytest.raises(Exception, match="HTTP 409: Cannot complete request momentarily"):
        up(ConnectorProvider(), inputs)


def test_readiness_timeout_names_the_url_with_no_worker_listening():
    with ConnectClient(Endpoint("http://127.0.0.1:9", ready_timeout=0.5)) as client:
        with pytest.raises(ServiceTimeout, match=r"http://127\.0\.0\.1:9/health.*last seen: ConnectionError"):
            client.wait_ready()


def test_fake_state_wait_timeout_names_the_url_and_last_status(tmp_path):
    with FakeConnect(settle_polls=10_000) as fake:
        inputs = {"connect_url": fake.url, "connector_name": "slow", "ready_timeout": 0.5,
                  "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}}
        with pytest.raises(ServiceTimeout) as timeout:
            up(ConnectorProvider(), inputs)
    message = str(timeout.value)
    assert f"{fake.url}/connectors/slow/status" in message and "last seen: connector UNASSIGNED" in message


def test_fake_masked_secret_values_cause_no_diff_but_a_removed_secret_key_does(fake_connect, tmp_path):
    provider = ConnectorProvider()
    inputs = {"connect_url": fake_connect.url, "connector_name": "masked", "ready_timeout": 10,
              "config": {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")},
              "secret_config": {"sasl.password": SECRET}}
    applied = up(provider, inputs)
    assert fake_connect.connectors["masked"].config["sasl.password"] == SECRET  # sent to Connect
    refreshed = refresh(provider, applied)  # GET config answers "[hidden]"
    assert not provider.diff(applied.id, refreshed.outs, applied.inputs).changes
    del fake_connect.connectors["masked"].config["sasl.password"]
    drifted = refresh(provider, applied)
    assert provider.diff(applied.id, drifted.outs, applied.inputs).changes
    up(provider, inputs, drifted)
    assert fake_connect.connectors["masked"].config["sasl.password"] == SECRET


def test_fake_failed_connector_seen_on_refresh_is_restarted_by_the_next_up(fake_connect, tmp_path):
    provider = ConnectorProvider()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    inputs = {"connect_url": fake_connect.url, "connector_name": "heal", "ready_timeout": 10,
              "config": {"connector.class": SINK, "topics": "t", "file": str(out_dir / "o.txt")}}
    applied = up(provider, inputs)
    out_dir.rmdir()  # the task now fails, as the real FileStreamSinkTask does when it restarts
    fake_connect.restart_tasks_out_of_band("heal")
    refreshed = refresh(provider, applied)
    assert refreshed.outs["state"] == "failed"
    out_dir.mkdir()
    fake_connect.reset_calls()
    up(provider, inputs, refreshed)
    assert [c.status for c in fake_connect.calls_to("POST", "/connectors/heal/restart")] == [202]
    assert not any(c.method == "PUT" and c.path.endswith("/config") for c in fake_connect.calls)


# ---- check and diff: no network (a valid config is also shown to the worker: the preview tests) ------

def _check(**news: Any) -> list[str]:
    base = {"connect_url": "http://connect:8083", "connector_name": "c", "config": {"connector.class": SOURCE}}
    return [f"{f.property}: {f.reason}" for f in ConnectorProvider().check({}, {**base, **news}).failures]


@pytest.mark.parametrize("news, expected", [
    ({"connector_name": ""}, "connector_name must be a non-empty string"),
    ({"connector_name": " padded"}, "must not start or end with whitespace"),
    ({"connector_name": "a\nb"}, "control characters"),
    ({"connector_name": "a/b"}, "must not contain '/'"),
    ({"config": {"topic": "t"}}, "must contain 'connector.class'"),
    ({"config": {"connector.class": SOURCE, "name": "other"}}, "config['name'] must equal connector_name"),
    ({"config": {"connector.class": SOURCE, "x": {"nested": 1}}}, "config['x'] must be a string"),
    ({"config": {"connector.class": SOURCE, "connection.password": "pw"}}, "declare it in secret_config"),
    ({"secret_config": {"connector.class": SOURCE}}, "'connector.class' belongs in config"),
    ({"config": {"connector.class": SOURCE, "k": "1"}, "secret_config": {"k": "2"}}, "both config and secret_config"),
    ({"state": "stopped"}, "state must be 'running' or 'paused'"),
    ({"ready_timeout": 0}, "ready_timeout must be a positive number"),
    ({"connect_url": "connect:8083"}, "connect_url must be the http(s) base URL"),
])
def test_check_rejects_bad_inputs_with_a_readable_reason(news, expected):
    failures = _check(**news)
    assert len(failures) == 1 and expected in failures[0], failures


def test_check_never_puts_secret_values_in_reasons():
    failures = _check(secret_config={"pw": {"nested": SECRET}})
    assert failures and not any(SECRET in failure for failure in failures)


def test_check_normalises_values_and_defaults(unanswered_url):
    result = ConnectorProvider().check({}, {"connect_url": unanswered_url, "connector_name": "c", "probe_timeout": 1,
                                            "config": {"connector.class": SOURCE, "tasks.max": 2, "flag": True},
                                            "state": "PAUSED"})
    assert not result.failures
    assert result.inputs["config"] == {"connector.class": SOURCE, "tasks.max": "2", "flag": "true"}
    assert result.inputs["state"] == "paused" and result.inputs["ready_timeout"] == 300.0
    assert result.inputs["secret_config"] == {}


@pytest.mark.parametrize("unknown", [Unknown(), rpc.UNKNOWN], ids=["Unknown", "wire-sentinel"])
def test_check_and_diff_accept_unknowns_during_preview(unknown):
    provider = ConnectorProvider()
    news = {"connect_url": unknown, "connector_name": "c", "state": unknown,
            "config": {"connector.class": unknown, "topic": unknown}, "secret_config": {"pw": unknown}}
    checked = provider.check({}, news)
    assert checked.failures == []
    olds = {"connect_url": "http://c:8083", "connector_name": "c", "config": {"connector.class": SOURCE, "topic": "t"},
            "state": "running", "secret_salt": "s", "secret_config_hash": "h"}
    diff = provider.diff("c", olds, checked.inputs)
    assert diff.changes and not diff.replaces


def test_diff_marks_only_the_name_as_a_replacement():
    provider = ConnectorProvider()
    olds = {"connect_url": "http://c:8083", "connector_name": "c", "config": {"connector.class": SOURCE},
            "state": "running", "secret_salt": "s"}
    olds["secret_config_hash"] = secret_hash({}, "s")
    news = provider.check({}, dict(olds, secret_config={})).inputs
    assert not provider.diff("c", olds, news).changes
    assert provider.diff("c", olds, dict(news, connector_name="d")).replaces == ["connector_name"]
    state_change = provider.diff("c", olds, dict(news, state="paused"))
    assert state_change.changes and not state_change.replaces


def test_provider_survives_the_dill_round_trip_pulumi_uses():
    loaded = dill_round_trip(ConnectorProvider())
    assert type(loaded).__name__ == "ConnectorProvider"
    assert loaded.check({}, {"connect_url": "http://c:8083", "connector_name": "c",
                             "config": {"connector.class": SOURCE}}).failures == []


# ---- a Connect REST API behind basic auth (the external platform's connectUser/connectPassword) --------

@pytest.mark.fake
def test_connector_logs_in_with_basic_auth_and_keeps_the_password_a_secret_output(tmp_path):
    with FakeConnect(username="connect-user", password=SECRET) as connect:
        inputs = {"connect_url": connect.url, "connector_name": "authed", "ready_timeout": 10,
                  "username": "connect-user", "password": SECRET,
                  "config": {"connector.class": SOURCE, "tasks.max": 1, "file": str(tmp_path / "in"), "topic": "t"}}
        provider = ConnectorProvider()
        deployed = up(provider, inputs)
        assert connect.connectors["authed"].config["topic"] == "t"
        assert deployed.outs["password"] == SECRET and "password" in provider.contract.secret_outputs
        assert refresh(provider, deployed) is not None  # read with the login kept in state
        with pytest.raises(Exception) as caught:
            up(provider, {**inputs, "connector_name": "other", "password": "wrong-pw-456"})
        provider.delete("authed", deployed.outs)
        assert "authed" not in connect.connectors
    message = str(caught.value)
    assert "rejected the credentials of user 'connect-user'" in message and "User cannot access the resource" in message
    assert "wrong-pw-456" not in message and SECRET not in message


# --- preview: what the worker would refuse at up is refused at check ---------------------------------------

def sink_inputs(backend, name: str, **config: Any) -> dict[str, Any]:
    return {"connect_url": backend.url, "connector_name": name, "probe_timeout": 10 if backend.kind == "fake" else 60,
            "config": {"connector.class": SINK, "tasks.max": 1, "topics": name, "file": backend.file("out"),
                       **config}}


def test_check_refuses_what_the_workers_validate_endpoint_refuses_and_changes_nothing(connect_backend, http_calls):
    provider, name = ConnectorProvider(), connect_backend.name("preview")
    inputs = sink_inputs(connect_backend, name, **{"value.converter": SOURCE})
    with pytest.raises(CheckFailed) as refused:
        check(provider, inputs)
    assert f"config: Kafka Connect at {connect_backend.url} refuses the config of connector {name!r}: " \
           f"value.converter: Class class {SOURCE} does not implement the Converter interface" in str(refused.value)
    assert [method for method, _ in mutating(http_calls)] == ["PUT"]  # the validate request, which only reads
    assert all(url.endswith("/config/validate") for _, url in mutating(http_calls))
    if connect_backend.fake is not None:
        assert connect_backend.fake.mutating_calls == []
    assert live(connect_backend, name) == (None, None)
    assert check(provider, sink_inputs(connect_backend, name))["config"]["tasks.max"] == "1"


def test_check_of_an_unchanged_config_sends_nothing(fake_connect, http_calls):
    provider = ConnectorProvider()
    inputs = {"connect_url": fake_connect.url, "connector_name": "c",
              "config": {"connector.class": SINK, "topics": "t", "file": "/tmp/x"}}
    olds = provider.check({}, inputs).inputs
    http_calls.clear()
    assert provider.check(olds, inputs).failures == [] and http_calls == []


def test_check_when_connect_does_not_answer_says_so_and_leaves_validation_to_up(unanswered_url, monkeypatch):
    said: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda msg, *a, **k: said.append(msg))
    inputs = {"connect_url": unanswered_url, "connector_name": "c", "probe_timeout": 1,
              "config": {"connector.class": SINK, "topics": "t", "value.converter": "com.example.Unchecked"}}
    started = time.monotonic()
    assert ConnectorProvider().check({}, inputs).failures == []
    assert time.monotonic() - started < 6
    (warning,) = said
    assert f"Kafka Connect at {unanswered_url} did not answer within 1 s" in warning
    assert "connector 'c': its config is validated by Kafka Connect at `up`" in warning


@pytest.mark.parametrize("config, expected", [
    ({"tasks.max": 0}, "config['tasks.max'] must be a whole number >= 1, not '0'"),
    ({"tasks.max": "two"}, "config['tasks.max'] must be a whole number >= 1, not 'two'"),
    ({"value.converter": "JsonConverter()"},
     "config['value.converter'] must name a Java class (e.g. org.apache.kafka.connect.json.JsonConverter), "
     "not 'JsonConverter()'"),
    ({"header.converter": " "}, "config['header.converter'] must name a Java class"),
])
def test_check_refuses_without_any_server_what_no_worker_accepts(unanswered_url, config, expected, monkeypatch):
    monkeypatch.setattr("pulumi.log.warn", lambda msg, *a, **k: pytest.fail(f"Connect was asked: {msg}"))
    inputs = {"connect_url": unanswered_url, "connector_name": "c", "probe_timeout": 1,
              "config": {"connector.class": SINK, "topics": "t", **config}}
    (failure,) = ConnectorProvider().check({}, inputs).failures
    assert failure.property == "config" and failure.reason.startswith(expected)
