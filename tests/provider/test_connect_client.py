"""Provider tier: ``ConnectClient`` against the FAKE worker and a REAL Kafka Connect worker (same bodies via
``connect_backend``); tests named ``*_fake_*`` stage faults only the fake can produce."""
from __future__ import annotations

import pytest

from providers.connect import ConnectClient, ConnectorFailed, PluginNotInstalled
from providers.http import ApiError, Endpoint, ServerError, ServiceTimeout
from tests.fakes.connect import JETTY_NOT_FOUND, FakeConnect, error_body

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
JSON = "org.apache.kafka.connect.json.JsonConverter"


def client_for(backend) -> ConnectClient:
    return ConnectClient(Endpoint(backend.url, ready_timeout=10 if backend.kind == "fake" else 120))


def test_put_config_creates_then_updates_and_reads_back(connect_backend):
    name = connect_backend.name("client")
    config = {"connector.class": SOURCE, "topic": name, "file": connect_backend.file("in")}
    with client_for(connect_backend) as client:
        client.wait_ready()
        assert client.get_config(name) is None and client.status(name) is None
        assert client.put_config(name, config) is True
        assert client.put_config(name, {**config, "batch.size": "10"}) is False
        live = client.get_config(name)
        assert live["batch.size"] == "10" and live["name"] == name  # Connect adds the name key
        assert name in client.get_or_none("/connectors")
        client.wait_for_state(name, "RUNNING", timeout=client.endpoint.ready_timeout)


def test_pause_resume_restart_and_delete(connect_backend):
    name = connect_backend.name("lifecycle")
    with client_for(connect_backend) as client:
        client.put_config(name, {"connector.class": SOURCE, "topic": name, "file": connect_backend.file("in")})
        client.wait_for_state(name, "RUNNING", timeout=client.endpoint.ready_timeout)
        client.pause(name)
        client.wait_for_state(name, "PAUSED", timeout=client.endpoint.ready_timeout)
        client.resume(name)
        client.restart(name)
        client.wait_for_state(name, "RUNNING", timeout=client.endpoint.ready_timeout)
        assert client.delete_connector(name) is True
        assert client.delete_connector(name) is False
        assert client.get_config(name) is None


def test_validate_lists_every_error_with_its_key(connect_backend):
    with client_for(connect_backend) as client:
        valid = {"connector.class": SOURCE, "name": "v", "topic": "t"}
        assert client.validate(valid).errors == []
        errors = client.validate({"connector.class": SOURCE, "name": "v", "tasks.max": "0"}).errors
    assert any(error.startswith("topic: ") for error in errors)
    assert any(error.startswith("tasks.max: ") for error in errors)


NOT_A_CONVERTER = "org.apache.kafka.connect.file.FileStreamSinkConnector"  # a class the worker has, not a Converter


def test_validate_refuses_a_converter_class_that_does_not_exist_or_is_not_a_converter(connect_backend):
    config = {"connector.class": SINK, "name": "v", "topics": "t", "file": "/tmp/x",
              "key.converter": "com.example.NoSuchConverter", "value.converter": NOT_A_CONVERTER,
              "header.converter": NOT_A_CONVERTER}
    with client_for(connect_backend) as client:
        errors = client.validate(config).errors
        assert client.validate({**config, "key.converter": JSON, "value.converter": JSON,
                                "header.converter": "org.apache.kafka.connect.storage.SimpleHeaderConverter"}
                               ).errors == []
    assert errors == [
        "key.converter: Invalid value com.example.NoSuchConverter for configuration key.converter: "
        "Class com.example.NoSuchConverter could not be found.",
        f"value.converter: Class class {NOT_A_CONVERTER} does not implement the Converter interface",
        f"header.converter: Class class {NOT_A_CONVERTER} does not implement the HeaderConverter interface"]


def test_validate_tells_keys_no_definition_knows(connect_backend):
    config = {"connector.class": SOURCE, "name": "v", "topic": "t", "tasks.maxx": "2", "batch.size": "5",
              "value.converter": JSON, "value.converter.schemas.enable": "false", "value.converter.bogus": "1",
              "key.converter.schemas.enable": "false",  # no key.converter set: the worker judges none of these
              "producer.override.linger.ms": "5", "consumer.override.max.poll.records": "5"}
    with client_for(connect_backend) as client:
        validation = client.validate(config)
    assert validation.errors == []
    # a source uses a producer, not a consumer: the worker validates no consumer override, so none is judged
    assert validation.unknown_keys(config) == ["tasks.maxx", "value.converter.bogus"]


def test_validate_judges_no_topic_creation_group_key_so_none_is_unknown(connect_backend):
    """A source's topic creation settings (what the datagen sources declare) are defined only when the
    connector starts: validate accepts them unjudged, and they are no typo."""
    config = {"connector.class": SOURCE, "name": "v", "topic": "t", "topic.creation.default.partitions": "3",
              "topic.creation.default.replication.factor": "-1", "topic.creation.groups": "compacted",
              "topic.creation.compacted.include": "t.*", "topic.creation.compacted.cleanup.policy": "compact"}
    with client_for(connect_backend) as client:
        validation = client.validate(config)
    assert validation.errors == [] and validation.unknown_keys(config) == []
    assert "topic.creation.groups" in validation.defined
    assert not {key for key in validation.defined if key.startswith("topic.creation.")} - {"topic.creation.groups"}


def test_validate_of_a_plugin_not_installed_names_the_class_worker_and_installed_plugins(connect_backend):
    with client_for(connect_backend) as client, pytest.raises(PluginNotInstalled) as error:
        client.validate({"connector.class": "io.example.MissingConnector", "name": "v"})
    message = str(error.value)
    assert "'io.example.MissingConnector' is not installed" in message and connect_backend.url in message
    assert f"installed connector plugins: {SINK}, {SOURCE}" in message


def test_delete_returns_once_the_worker_has_forgotten_the_connector(connect_backend):
    name = connect_backend.name("forget")
    with client_for(connect_backend) as client:
        client.put_config(name, {"connector.class": SOURCE, "topic": name, "file": connect_backend.file("in")})
        client.wait_for_state(name, "RUNNING", timeout=client.endpoint.ready_timeout)
        assert client.delete_connector(name) is True
        assert client.status(name) is None and client.get_config(name) is None
        assert name not in client.get_or_none("/connectors")


def test_pause_of_an_unknown_connector_raises_connects_404(connect_backend):
    with client_for(connect_backend) as client, pytest.raises(ApiError) as error:
        client.pause(connect_backend.name("missing"))
    assert error.value.status == 404


def test_wait_for_state_refuses_states_it_cannot_wait_for():
    with ConnectClient(Endpoint("http://127.0.0.1:9")) as client, pytest.raises(ValueError):
        client.wait_for_state("x", "STOPPED", timeout=1)


def test_fake_failed_task_raises_with_trace_summary(fake_connect, tmp_path):
    with ConnectClient(Endpoint(fake_connect.url)) as client:
        client.put_config("sink", {"connector.class": "FileStreamSink", "topics": "t",
                                   "file": str(tmp_path / "missing" / "out.txt")})
        with pytest.raises(ConnectorFailed, match=r"task 0 FAILED .*Couldn't find or create file.*"
                                                  r"Caused by: java\.nio\.file\.NoSuchFileException"):
            client.wait_for_state("sink", "RUNNING", timeout=5)


def test_fake_reads_retry_500_rebalance_expected(fake_connect, tmp_path):
    fake_connect.fail_next("GET", ".*", 500, error_body(500, "Request cannot be completed because a rebalance "
                                                        "is expected"), times=2)
    with ConnectClient(Endpoint(fake_connect.url)) as client:
        assert client.get_config("absent") is None
    assert [c.status for c in fake_connect.calls] == [500, 500, 404]


def test_fake_after_the_deadline_a_request_is_sent_once_without_retry(fake_connect):
    """One deadline bounds every retry of a client's operation: once it has passed (ready_timeout 0 here),
    a transient answer is not retried but raised, with the server's words."""
    fake_connect.fail_next("GET", ".*", 500, error_body(500, "Request cannot be completed because a rebalance "
                                                             "is expected"))
    with ConnectClient(Endpoint(fake_connect.url, ready_timeout=0)) as client, \
            pytest.raises(ServerError, match="rebalance is expected"):
        client.get_config("absent")
    assert [c.status for c in fake_connect.calls] == [500]


def test_fake_a_state_wait_absorbs_transient_status_answers_as_failed_polls(fake_connect, tmp_path):
    """The wait is the only retry layer of its path: each poll is one status request."""
    with ConnectClient(Endpoint(fake_connect.url)) as client:
        client.put_config("src", {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")})
        fake_connect.reset_calls()
        fake_connect.fail_next("GET", "/connectors/src/status", 409,
                               error_body(409, "Cannot complete request because of a conflicting operation"), times=2)
        client.wait_for_state("src", "RUNNING", timeout=30)
    statuses = [c.status for c in fake_connect.calls if c.path == "/connectors/src/status"]
    assert statuses[:2] == [409, 409] and set(statuses[2:]) == {200}


def test_fake_older_worker_without_health_endpoint_is_ready_on_root():
    with FakeConnect(health_endpoint=False) as fake, ConnectClient(Endpoint(fake.url, ready_timeout=5)) as client:
        client.wait_ready()
        assert [(c.path, c.status) for c in fake.calls] == [("/health", 404), ("/", 200)]


def test_fake_reads_wait_through_jettys_html_404_while_a_worker_restarts(fake_connect):
    fake_connect.fail_next("*", ".*", 404, JETTY_NOT_FOUND, times=2)
    with ConnectClient(Endpoint(fake_connect.url)) as client:
        assert client.get_config("absent") is None  # Connect's own JSON 404, not Jetty's page
    assert [c.status for c in fake_connect.calls] == [404, 404, 404]


def test_fake_writes_wait_through_jettys_html_404_while_a_worker_restarts(fake_connect, tmp_path):
    fake_connect.fail_next("*", ".*", 404, JETTY_NOT_FOUND, times=2)
    config = {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")}
    with ConnectClient(Endpoint(fake_connect.url)) as client:
        assert client.put_config("restarting", config) is True
        fake_connect.fail_next("*", ".*", 404, JETTY_NOT_FOUND)
        assert client.delete_connector("restarting") is True  # Jetty's 404 is not "already gone"
    assert [(c.method, c.status) for c in fake_connect.mutating_calls] == \
        [("PUT", 404), ("PUT", 404), ("PUT", 201), ("DELETE", 404), ("DELETE", 204)]


def test_fake_jetty_404_that_never_ends_times_out_naming_the_url(fake_connect):
    fake_connect.fail_next("*", ".*", 404, JETTY_NOT_FOUND, times=1000)
    with ConnectClient(Endpoint(fake_connect.url, ready_timeout=1)) as client, \
            pytest.raises(ServiceTimeout, match=r"PUT .*/connectors/x/config.*worker starting"):
        client.put_config("x", {"connector.class": SOURCE, "topic": "t"})


def test_fake_delete_waits_while_the_worker_still_reports_the_connector(tmp_path):
    with FakeConnect(forget_polls=3) as fake, ConnectClient(Endpoint(fake.url)) as client:
        client.put_config("slow", {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")})
        assert client.delete_connector("slow") is True
        assert client.status("slow") is None
        polls = [c.status for c in fake.calls_to("GET", "/connectors/slow/status")]
    assert polls == [200, 200, 200, 404, 404]  # UNASSIGNED three times, then forgotten


def test_fake_delete_that_the_worker_never_forgets_times_out_with_the_last_status(tmp_path):
    with FakeConnect(forget_polls=10_000) as fake, ConnectClient(Endpoint(fake.url, ready_timeout=1)) as client:
        client.put_config("stuck", {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")})
        with pytest.raises(ServiceTimeout, match=r"forget deleted connector 'stuck'.*last seen: connector UNASSIGNED"):
            client.delete_connector("stuck")


def test_fake_stale_failed_state_after_restart_is_tolerated_within_the_grace(fake_connect, tmp_path):
    out_dir = tmp_path / "out"
    with ConnectClient(Endpoint(fake_connect.url)) as client:
        client.put_config("sink", {"connector.class": "FileStreamSink", "topics": "t", "file": str(out_dir / "o.txt")})
        with pytest.raises(ConnectorFailed):
            client.wait_for_state("sink", "RUNNING", timeout=5)
        out_dir.mkdir()
        client.restart("sink")  # the next status still shows the old FAILED task, as a real worker's does
        client.wait_for_state("sink", "RUNNING", timeout=5, failed_grace=2)


def test_fake_wait_for_state_polls_through_unassigned_until_running(tmp_path):
    with FakeConnect(settle_polls=3) as fake, ConnectClient(Endpoint(fake.url)) as client:
        client.put_config("slow", {"connector.class": SOURCE, "topic": "t", "file": str(tmp_path / "in.txt")})
        client.wait_for_state("slow", "RUNNING", timeout=10)
        polls = fake.calls_to("GET", "/connectors/slow/status")
    assert len(polls) == 4  # UNASSIGNED, UNASSIGNED, UNASSIGNED with its task, then RUNNING
