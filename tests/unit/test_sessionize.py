"""Unit tier: ``python -m clickstream sessionize`` against a FAKE Kafka Connect worker (tests/fakes/connect.py,
in-process HTTP) through the real providers.connect.ConnectClient. Waiting between phases goes through an
injected ``sleep`` that records the requested durations instead of waiting."""
from __future__ import annotations

import argparse
import json
import os
import signal

import pytest

from clickstream.__main__ import main as cli_main
from clickstream.operations import sessionize
from providers.connect import ConnectClient
from providers.http import Endpoint
from stackconfig import StackConfig
from tests.fakes.connect import FakeConnect

CONNECTOR = sessionize.DEFAULT_CONNECTOR


@pytest.fixture
def connect():
    with FakeConnect(settle_polls=0) as fake:
        with ConnectClient(Endpoint(fake.url)) as client:  # the fake has no datagen plugin; any source will do
            client.put_config(CONNECTOR, {"connector.class": "FileStreamSource", "topic": "clickstream",
                                          "file": os.devnull})
        fake.reset_calls()
        yield fake


@pytest.fixture(autouse=True)
def default_stack_config(request, monkeypatch):
    """No test reads a real Pulumi stack: the stack config is the defaults unless a test says otherwise."""
    if "stack_config_reads" not in request.node.name:
        monkeypatch.setattr(sessionize, "stack_config", StackConfig)


def args(url: str | None, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sessionize.add_arguments(parser)
    return parser.parse_args((["--connect-url", url] if url else []) + list(extra))


class Recorder:
    """Stands in for time.sleep and print: records durations and lines; can interrupt on a given call."""

    def __init__(self, interrupt_on: int | None = None, action=None):
        self.sleeps: list[float] = []
        self.lines: list[str] = []
        self.interrupt_on, self.action = interrupt_on, action

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.interrupt_on is not None and len(self.sleeps) == self.interrupt_on:
            (self.action or _raise_keyboard_interrupt)()

    def out(self, line: str) -> None:
        self.lines.append(line)


def _raise_keyboard_interrupt() -> None:
    raise KeyboardInterrupt


def state(fake: FakeConnect) -> str:
    return fake.connectors[CONNECTOR].target


def pause_resume_calls(fake: FakeConnect) -> list[str]:
    return [c.path.rsplit("/", 1)[-1] for c in fake.mutating_calls if c.method == "PUT"]


def test_runs_the_requested_cycles_with_durations_from_the_arguments(connect):
    rec = Recorder()
    code = sessionize.run(args(connect.url, "--cycles", "2", "--pause", "45", "--run", "20"),
                          sleep=rec.sleep, out=rec.out)
    assert code == 0
    assert rec.sleeps == [20, 45, 20, 45]
    assert pause_resume_calls(connect) == ["pause", "resume", "pause", "resume"]
    assert state(connect) == "STARTED"
    assert any("[1/2] paused for 45 s" in line for line in rec.lines)
    assert rec.lines[-1] == "done: 2 cycle(s)"


def test_ctrl_c_during_a_pause_resumes_the_connector_before_exiting(connect):
    rec = Recorder(interrupt_on=2)  # the 2nd wait is the first pause
    code = sessionize.run(args(connect.url), sleep=rec.sleep, out=rec.out)
    assert code == 130
    assert pause_resume_calls(connect) == ["pause", "resume"]
    assert state(connect) == "STARTED"
    assert "stopping: resuming the connector first" in rec.lines
    assert rec.lines[-1] == "interrupted"


def test_sigterm_is_handled_like_ctrl_c(connect):
    rec = Recorder(interrupt_on=2, action=lambda: os.kill(os.getpid(), signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    code = sessionize.run(args(connect.url, "--cycles", "3"), sleep=rec.sleep, out=rec.out)
    assert code == 130 and state(connect) == "STARTED"
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is restored


def test_ctrl_c_while_clicks_flow_leaves_the_connector_running_without_extra_calls(connect):
    rec = Recorder(interrupt_on=1)
    assert sessionize.run(args(connect.url), sleep=rec.sleep, out=rec.out) == 130
    assert pause_resume_calls(connect) == [] and state(connect) == "STARTED"


def test_a_connector_left_paused_is_resumed_first(connect):
    connect.connectors[CONNECTOR].target = "PAUSED"
    rec = Recorder()
    assert sessionize.run(args(connect.url, "--cycles", "1"), sleep=rec.sleep, out=rec.out) == 0
    assert pause_resume_calls(connect) == ["resume", "pause", "resume"]


def test_missing_connector_is_an_error_saying_what_to_do(connect):
    rec = Recorder()
    assert sessionize.run(args(connect.url, "--connector", "nope"), sleep=rec.sleep, out=rec.out) == 1
    assert "connector 'nope' does not exist" in rec.lines[-1] and "make up" in rec.lines[-1]
    assert rec.sleeps == []


def test_a_pause_not_longer_than_the_session_gap_is_rejected_before_any_request(connect):
    rec = Recorder()
    assert sessionize.run(args(connect.url, "--pause", "30"), sleep=rec.sleep, out=rec.out) == 2
    assert "longer than the 30 s session gap" in rec.lines[-1]
    assert connect.calls == []


def test_connect_url_defaults_to_the_stack_output(connect):
    rec = Recorder()
    code = sessionize.run(args(None, "--cycles", "1"), sleep=rec.sleep, out=rec.out,
                          connect_url=lambda: connect.url)
    assert code == 0 and rec.lines[0] == f"Kafka Connect at {connect.url}"


def test_stack_connect_url_reads_pulumi_stack_output(tmp_path, monkeypatch):
    fake_pulumi = tmp_path / "pulumi"
    fake_pulumi.write_text('#!/bin/sh\n[ "$*" = "stack output connectUrl" ] && echo http://127.0.0.1:18083\n')
    fake_pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sessionize.stack_connect_url() == "http://127.0.0.1:18083"


def test_without_pulumi_there_is_no_stack_url(monkeypatch):
    monkeypatch.setattr(sessionize.shutil, "which", lambda name: None)
    assert sessionize.stack_connect_url() is None


def test_cli_rejects_zero_cycles():
    with pytest.raises(SystemExit) as exc:
        cli_main(["sessionize", "--cycles", "0"])
    assert exc.value.code == 2


def test_an_unreachable_worker_is_reported_with_what_to_do():
    with FakeConnect() as fake:
        url = fake.url  # the port is free again once the fake has stopped
    rec = Recorder()
    assert sessionize.run(args(url, "--timeout", "0.5"), sleep=rec.sleep, out=rec.out) == 1
    assert rec.lines[-2].startswith("error: timed out") and "make up" in rec.lines[-1]
    assert rec.sleeps == []


def test_durations_default_to_the_stack_config_that_sizes_the_threshold(connect):
    """One config source: without --run/--pause the cycle is the stack's sessionizeRunSeconds /
    sessionizePauseSeconds, the values clickstream.content.rates derives the high-bandwidth threshold from."""
    rec = Recorder()
    cfg = StackConfig(sessionizeRunSeconds=75, sessionizePauseSeconds=35)
    assert sessionize.run(args(connect.url, "--cycles", "1"), sleep=rec.sleep, out=rec.out,
                          config=lambda: cfg) == 0
    assert rec.sleeps == [75, 35]
    rec = Recorder()
    assert sessionize.run(args(connect.url, "--cycles", "1", "--run", "20"), sleep=rec.sleep, out=rec.out,
                          config=lambda: cfg) == 0
    assert any("differs from the stack's sessionizeRunSeconds (75)" in line for line in rec.lines)


def test_stack_config_reads_pulumi_config_without_secrets(tmp_path, monkeypatch):
    entries = {"clickstream:sessionizeRunSeconds": {"value": "90", "secret": False},
               "clickstream:grafanaAdminPassword": {"secret": True}, "aws:region": {"value": "x", "secret": False}}
    fake_pulumi = tmp_path / "pulumi"
    fake_pulumi.write_text(f"#!/bin/sh\n[ \"$*\" = \"config --json\" ] && echo '{json.dumps(entries)}'\n")
    fake_pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sessionize.stack_config().sessionize_run_seconds == 90
    monkeypatch.setattr(sessionize.shutil, "which", lambda name: None)
    assert sessionize.stack_config() == StackConfig()
