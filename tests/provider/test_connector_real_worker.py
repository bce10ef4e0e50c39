"""Provider tier, REAL Kafka Connect only: what the fake cannot show.

Every test here runs against a real Apache Kafka broker + distributed Kafka Connect worker (the session
fixture ``kafka_connect`` from tests/harness: JVMs from Maven Central jars, or testcontainers when Docker
answers; skipped with the reason when neither can run). They use the connectors that ship with Kafka
(FileStreamSource/Sink) and check real data flow, the plugin's own validation, a task failing after it
ran, state surviving a worker restart, a worker going down mid-apply, and that the in-process fake
(tests/fakes/connect.py) answers error cases exactly as the real worker does.
"""
from __future__ import annotations

import pathlib
import threading
import uuid
from typing import Any

import pytest
import requests

from providers.connect import ConnectClient, ConnectorError, ConnectorProvider
from providers.connect import client as connect_client
from providers.http import Endpoint, wait_until
from providers.kafka.offsets import KafkaOffsets
from tests.fakes.connect import FakeConnect

pytestmark = pytest.mark.real

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
STRING = "org.apache.kafka.connect.storage.StringConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
MISSING_TOPIC = 'topic: Missing required configuration "topic" which has no default value.'
TIMEOUT = 120  # seconds for any one wait on the real worker


def unique(label: str) -> str:
    return f"real-{label}-{uuid.uuid4().hex[:8]}"


class Worker:
    """The session's real worker for one test: unique names, files in the shared folder, cleanup."""

    def __init__(self, harness):
        self.harness, self.url = harness, harness.connect_url
        self.names: list[str] = []

    def name(self, label: str) -> str:
        """A connector name unique to this test; the connector is deleted after the test."""
        self.names.append(unique(label))
        return self.names[-1]

    def path(self, label: str) -> pathlib.Path:
        return pathlib.Path(self.harness.work_dir) / f"{label}-{uuid.uuid4().hex[:8]}.txt"

    def client(self) -> ConnectClient:
        return ConnectClient(Endpoint(self.url, ready_timeout=TIMEOUT))

    def inputs(self, name: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Checked provider inputs, as the engine passes them to create/update."""
        news = {"connect_url": self.url, "connector_name": name, "config": config, "ready_timeout": TIMEOUT, **extra}
        result = ConnectorProvider().check({}, news)
        assert not result.failures, [failure.reason for failure in result.failures]
        return result.inputs

    def cleanup(self) -> None:
        with self.client() as client:
            for name in self.names:
                client.delete_connector(name)


@pytest.fixture
def worker(kafka_connect):
    real = Worker(kafka_connect)
    yield real
    real.cleanup()


@pytest.fixture
def restartable_worker(connect_worker):
    """Like ``worker``, for tests that stop the worker: it runs again before the cleanup."""
    real = Worker(connect_worker)
    yield real
    if not connect_worker.connect_running():
        connect_worker.start_connect()
    real.cleanup()


def source(path: pathlib.Path, topic: str) -> dict[str, str]:
    """A file source whose topic Connect creates with the broker's defaults (-1), as the stack's sources do:
    the broker creates no topic by itself (``auto.create.topics.enable=false``, as the project's brokers)."""
    return {"connector.class": SOURCE, "tasks.max": "1", "file": str(path), "topic": topic,
            "topic.creation.default.partitions": "-1", "topic.creation.default.replication.factor": "-1"}


def sink(path: pathlib.Path, topic: str) -> dict[str, str]:
    return {"connector.class": SINK, "tasks.max": "1", "file": str(path), "topics": topic}


def append(path: pathlib.Path, *lines: str) -> None:
    with path.open("a") as handle:
        handle.writelines(f"{line}\n" for line in lines)


def wait_for_lines(path: pathlib.Path, expected: list[str]) -> None:
    """Wait until the sink file holds exactly ``expected`` (in order)."""
    def read() -> list[str]:
        return path.read_text().splitlines() if path.exists() else []

    wait_until(lambda: read() == expected, timeout=TIMEOUT, description=f"{path} to contain {expected}",
               last_seen=lambda: str(read()))


def task_states(client: ConnectClient, name: str) -> set[str]:
    status = client.status(name)
    assert status is not None, f"connector {name!r} is gone"
    return {status["connector"]["state"], *(task["state"] for task in status["tasks"])}


def test_real_plugin_rejects_a_config_at_preview_and_at_up_and_nothing_is_written(worker):
    name = worker.name("invalid")
    config = {"connector.class": SOURCE, "file": str(worker.path("in"))}  # no topic
    with worker.client() as client:
        assert client.validate({**config, "name": name}).errors == [MISSING_TOPIC]
    checked = ConnectorProvider().check({}, {"connect_url": worker.url, "connector_name": name, "config": config,
                                             "ready_timeout": TIMEOUT})
    (refused,) = checked.failures  # preview: the worker's validate endpoint, a read
    assert refused.property == "config" and MISSING_TOPIC in refused.reason and worker.url in refused.reason
    with pytest.raises(ConnectorError) as failure:  # up, had the worker not answered at preview
        ConnectorProvider().create(checked.inputs)
    assert MISSING_TOPIC in str(failure.value) and worker.url in str(failure.value)
    with worker.client() as client:
        assert client.get_config(name) is None and name not in client.get_or_none("/connectors")


def test_data_flows_file_to_topic_to_file_and_waits_while_the_sink_is_paused(worker):
    provider, topic = ConnectorProvider(), unique("topic")
    source_file, sink_file = worker.path("in"), worker.path("out")
    append(source_file, "one", "two")
    provider.create(worker.inputs(worker.name("source"), source(source_file, topic)))
    sink_name = worker.name("sink")
    sink_inputs = worker.inputs(sink_name, sink(sink_file, topic))
    created = provider.create(sink_inputs)
    wait_for_lines(sink_file, ["one", "two"])

    paused = provider.update(sink_name, created.outs, {**sink_inputs, "state": "paused"})
    assert paused.outs["state"] == "paused"
    with worker.client() as client:
        assert task_states(client, sink_name) == {"PAUSED"}
    append(source_file, "three")
    assert sink_file.read_text().splitlines() == ["one", "two"]

    provider.update(sink_name, paused.outs, sink_inputs)
    wait_for_lines(sink_file, ["one", "two", "three"])


def test_a_source_has_connect_create_its_topic_with_the_partitions_it_names(worker):
    """The datagen sources' topic creation (KIP-158 ``topic.creation.default.*``) on a real worker and broker:
    the harness broker creates no topic itself and its default is 1 partition, so a topic of 3 partitions is
    Connect's; replication factor -1 (the broker's default) is accepted, and the records reach a sink."""
    provider, topic = ConnectorProvider(), unique("topic")
    source_file, sink_file = worker.path("in"), worker.path("out")
    append(source_file, "one")  # one record: the order of records across partitions is not kept
    provider.create(worker.inputs(worker.name("source"), {**source(source_file, topic),
                                                          "topic.creation.default.partitions": "3"}))
    kafka = KafkaOffsets(worker.harness.bootstrap_servers, timeout=30)
    wait_until(lambda: len(kafka.partitions(topic)) == 3, timeout=TIMEOUT,
               description=f"Connect to create {topic} with 3 partitions",
               last_seen=lambda: str(kafka.partitions(topic)))
    provider.create(worker.inputs(worker.name("sink"), sink(sink_file, topic)))
    wait_for_lines(sink_file, ["one"])


def test_a_sink_reads_in_the_group_its_config_names_and_a_new_group_reads_the_topic_from_its_start(worker):
    """The stack's sinks name their group (``consumer.override.group.id``, one per query that fills the topic):
    the worker commits there and not in ``connect-<name>``, and changing it in place makes the running sink
    read the topic again from its start (what a table rebuilt under the same build needs)."""
    provider, topic = ConnectorProvider(), unique("topic")
    source_file, sink_file = worker.path("in"), worker.path("out")
    append(source_file, "one", "two")
    provider.create(worker.inputs(worker.name("source"), source(source_file, topic)))
    name, groups = worker.name("grouped"), [unique("group") for _ in range(2)]
    inputs = worker.inputs(name, {**sink(sink_file, topic), "consumer.override.group.id": groups[0]})
    created = provider.create(inputs)
    wait_for_lines(sink_file, ["one", "two"])
    kafka = KafkaOffsets(worker.harness.bootstrap_servers, timeout=30)
    wait_until(lambda: kafka.committed(groups[0]) == {(topic, 0): 2}, timeout=TIMEOUT,
               description=f"the sink to commit in {groups[0]}", last_seen=lambda: str(kafka.committed(groups[0])))
    assert kafka.committed(f"connect-{name}") == {}
    regrouped = {**inputs["config"], "consumer.override.group.id": groups[1]}
    provider.update(name, created.outs, worker.inputs(name, regrouped))
    wait_for_lines(sink_file, ["one", "two", "one", "two"])


def test_bad_records_go_to_a_dead_letter_topic_created_with_the_brokers_replication_factor(worker):
    """The error-handling settings the Elasticsearch sinks use (``errors.tolerance=all`` and a dead-letter
    topic with replication factor -1 = the broker's ``default.replication.factor``), on a real worker."""
    provider, topic, dead_letters = ConnectorProvider(), unique("topic"), unique("dead-letters")
    source_file, good_file, dead_file = worker.path("in"), worker.path("out"), worker.path("dead")
    append(source_file, '{"n": 1}', "not json", '{"n": 2}')
    provider.create(worker.inputs(worker.name("source"), {**source(source_file, topic), "value.converter": STRING}))
    provider.create(worker.inputs(worker.name("tolerant"), {
        **sink(good_file, topic), "value.converter": JSON_CONVERTER, "value.converter.schemas.enable": "false",
        "errors.tolerance": "all", "errors.deadletterqueue.topic.name": dead_letters,
        "errors.deadletterqueue.topic.replication.factor": "-1"}))
    provider.create(worker.inputs(worker.name("dead"), {**sink(dead_file, dead_letters), "value.converter": STRING}))
    wait_for_lines(good_file, ["{n=1}", "{n=2}"])  # the sink went on past the bad record
    wait_for_lines(dead_file, ["not json"])


def test_task_failing_after_it_ran_is_seen_by_refresh_and_restarted_by_up(worker):
    provider, name = ConnectorProvider(), worker.name("sink-fails")
    out_dir = pathlib.Path(worker.harness.work_dir) / name
    out_dir.mkdir()
    inputs = worker.inputs(name, sink(out_dir / "out.txt", unique("topic")))
    created = provider.create(inputs)
    (out_dir / "out.txt").unlink()
    out_dir.rmdir()  # the running task keeps its open file; a restarted task cannot create it
    with worker.client() as client:
        requests.post(f"{worker.url}/connectors/{name}/restart", params={"includeTasks": "true"},
                      timeout=30).raise_for_status()
        wait_until(lambda: connect_client.has_failed(client.status(name)), timeout=TIMEOUT,
                   description=f"the task of {name} to fail", last_seen=lambda: str(client.status(name)))
        trace = client.status(name)["tasks"][0]["trace"]
    assert "Couldn't find or create file" in trace and "NoSuchFileException" in trace

    refreshed = provider.read(name, created.outs)
    assert refreshed.outs["state"] == "failed"
    assert provider.diff(name, refreshed.outs, inputs).changes  # declared running, live failed
    out_dir.mkdir()
    provider.update(name, refreshed.outs, inputs)  # restarts the failed task and waits for RUNNING
    with worker.client() as client:
        assert task_states(client, name) == {"RUNNING"}


def test_out_of_band_delete_is_drift_and_up_recreates_resuming_from_stored_offsets(worker):
    provider, topic = ConnectorProvider(), unique("topic")
    source_file, sink_file = worker.path("in"), worker.path("out")
    append(source_file, "a", "b")
    source_name = worker.name("source")
    source_inputs = worker.inputs(source_name, source(source_file, topic))
    created = provider.create(source_inputs)
    provider.create(worker.inputs(worker.name("sink"), sink(sink_file, topic)))
    wait_for_lines(sink_file, ["a", "b"])

    assert requests.delete(f"{worker.url}/connectors/{source_name}", timeout=30).status_code == 204
    assert provider.read(source_name, created.outs).id == ""  # gone: refresh drops it from state
    provider.create(source_inputs)
    append(source_file, "c")
    # Connect keeps a deleted connector's offsets: the recreated source goes on after "b", no duplicates
    wait_for_lines(sink_file, ["a", "b", "c"])


def test_connectors_and_a_paused_state_survive_a_worker_restart_without_drift(restartable_worker):
    worker, provider = restartable_worker, ConnectorProvider()
    running_name, paused_name = worker.name("running"), worker.name("paused")
    declared = {running_name: worker.inputs(running_name, source(worker.path("in"), running_name)),
                paused_name: worker.inputs(paused_name, source(worker.path("in"), paused_name), state="paused")}
    created = {name: provider.create(inputs).outs for name, inputs in declared.items()}

    worker.harness.restart_connect()

    with worker.client() as client:
        client.wait_for_state(running_name, "RUNNING", TIMEOUT)
        client.wait_for_state(paused_name, "PAUSED", TIMEOUT)
    for name, inputs in declared.items():
        refreshed = provider.read(name, created[name])
        assert refreshed.outs == created[name]
        assert not provider.diff(name, refreshed.outs, inputs).changes


def wait_for_http_answer(url: str) -> None:
    """Wait until something answers HTTP at ``url`` (any status: a starting worker answers 404 first)."""
    def answers() -> bool:
        try:
            requests.get(url, timeout=2)
        except requests.RequestException:
            return False
        return True

    wait_until(answers, timeout=TIMEOUT, description=f"an HTTP answer at {url}")


def test_worker_restarting_right_after_the_config_write_converges(restartable_worker, monkeypatch):
    """Mid-apply: the PUT succeeds, then the worker restarts; the provider goes on while it is starting
    (its port open, its REST resources not yet registered) and must still converge."""
    worker, name = restartable_worker, restartable_worker.name("mid-apply")
    original = connect_client.ConnectClient.put_config

    def put_then_restart_worker(self, connector: str, config):
        created = original(self, connector, config)
        worker.harness.stop_connect()
        worker.harness.start_connect(wait=False)
        wait_for_http_answer(worker.url)
        return created

    monkeypatch.setattr(connect_client.ConnectClient, "put_config", put_then_restart_worker)
    try:
        created = ConnectorProvider().create(worker.inputs(name, source(worker.path("in"), name)))
    finally:
        worker.harness.wait_connect()
    assert created.outs["state"] == "running"
    with worker.client() as client:
        assert task_states(client, name) == {"RUNNING"}


def test_writes_to_a_worker_that_is_still_starting_wait_for_its_rest_resources(restartable_worker):
    """Right after a restart the port answers before Connect's resources exist (Jetty's own 404 page):
    validate, the config PUT and DELETE must wait for the worker instead of failing or misreading it."""
    worker, name = restartable_worker, restartable_worker.name("starting")
    config = {**source(worker.path("in"), name), "name": name}
    worker.harness.stop_connect()
    worker.harness.start_connect(wait=False)
    try:
        wait_for_http_answer(worker.url)
        with worker.client() as client:
            assert client.validate(config).errors == []
            client.put_config(name, config)  # a retried PUT may find it created: 201 or 200 both do
            assert client.get_config(name)["topic"] == name
            client.delete_connector(name)
            assert client.get_config(name) is None and client.status(name) is None
    finally:
        worker.harness.wait_connect()


def test_worker_down_when_the_apply_starts_waits_for_it(restartable_worker):
    worker, name = restartable_worker, restartable_worker.name("late-worker")
    inputs = worker.inputs(name, source(worker.path("in"), name))
    worker.harness.stop_connect()
    result: dict[str, Any] = {}

    def apply() -> None:
        try:
            result["outs"] = ConnectorProvider().create(inputs).outs
        except Exception as exc:  # surfaced by the assertion below
            result["error"] = exc

    applying = threading.Thread(target=apply)
    applying.start()  # nothing listens yet: create can only succeed by waiting for the worker
    worker.harness.start_connect()
    applying.join(timeout=TIMEOUT)
    assert "error" not in result, result.get("error")
    assert result["outs"]["state"] == "running"


# ---- the fake answers as the real worker does -------------------------------------------------------

ERROR_CASES = [
    pytest.param("GET", "/connectors/nope/config", None, id="config-of-unknown"),
    pytest.param("GET", "/connectors/nope/status", None, id="status-of-unknown"),
    pytest.param("DELETE", "/connectors/nope", None, id="delete-unknown"),
    pytest.param("PUT", "/connectors/nope/config", {"connector.class": SOURCE}, id="put-invalid-config"),
    pytest.param("PUT", "/connectors/nope/pause", None, id="pause-unknown"),
    pytest.param("PUT", "/connector-plugins/com.example.Nope/config/validate", {"connector.class": "com.example.Nope"},
                 id="validate-unknown-plugin"),
]


@pytest.mark.parametrize("method, path, body", ERROR_CASES)
def test_fake_error_answers_match_the_real_worker(worker, method, path, body):
    with FakeConnect() as fake:
        answers = [requests.request(method, base + path, json=body, timeout=30) for base in (worker.url, fake.url)]
    real, faked = ((answer.status_code, answer.json().get("error_code"), answer.json().get("message"))
                   for answer in answers)
    assert faked == real


def test_fake_validation_matches_the_real_plugin(worker):
    config = {"connector.class": SOURCE, "name": "x", "tasks.max": "0", "batch.size": "lots"}
    with FakeConnect() as fake:
        found = []
        for url in (worker.url, fake.url):
            with ConnectClient(Endpoint(url)) as client:
                found.append(sorted(client.validate(config).errors))
    assert found[1] == found[0]
    assert MISSING_TOPIC in found[0]


BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter"
DEFINITION_CASES = [
    pytest.param({"connector.class": SOURCE, "topic": "t", "tasks.maxx": "1", "value.converter": JSON_CONVERTER,
                  "value.converter.bogus": "1", "producer.override.linger.ms": "5", "admin.override.x": "1"},
                 id="source-with-converter-and-overrides"),
    pytest.param({"connector.class": SINK, "topics": "t", "batch.size": "5", "key.converter": STRING,
                  "header.converter": BYTES, "consumer.override.max.poll.records": "5",
                  "producer.override.linger.ms": "1"}, id="sink-without-dead-letter-topic"),
    pytest.param({"connector.class": SINK, "topics": "t", "errors.deadletterqueue.topic.name": "dlq",
                  "errors.deadletterqueue.topic.replication.factor": "-1", "producer.override.linger.ms": "1",
                  "admin.override.retries": "1"}, id="sink-with-dead-letter-topic"),
    pytest.param({"connector.class": SOURCE, "topic": "t", "topic.creation.groups": "compacted",
                  "topic.creation.default.partitions": "3", "topic.creation.default.replication.factor": "-1",
                  "topic.creation.default.cleanup.policy": "delete", "topic.creation.compacted.include": "t.*",
                  "topic.creation.compacted.partitions": "1", "topic.creation.compacted.cleanup.policy": "compact"},
                 id="source-with-topic-creation"),
]


@pytest.mark.parametrize("config", DEFINITION_CASES)
def test_fake_validation_defines_the_keys_the_real_worker_defines(worker, config):
    with FakeConnect() as fake:
        answers = [requests.put(f"{url}/connector-plugins/{config['connector.class']}/config/validate",
                                json={**config, "name": "x"}, timeout=30).json() for url in (worker.url, fake.url)]
    real, faked = ({entry["definition"]["name"] for entry in answer["configs"]} for answer in answers)
    assert faked == real
