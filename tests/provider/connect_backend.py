"""The ``connect_backend`` fixture: the same Connect test bodies run against the FAKE and the REAL worker.

``fake``: tests.fakes.connect.FakeConnect, one per test. ``real``: the session fixture ``kafka_connect``
(tests/harness: Apache Kafka + Kafka Connect from Maven Central on the JVM, or testcontainers) — skipped
with the reason when it is not registered or cannot start. Connector names are unique per test and every
connector a test names is deleted afterwards. ``http_calls`` records every HTTP request the code under
test sends (both backends), so tests can assert "zero mutating calls".
"""
from __future__ import annotations

import dataclasses
import pathlib
import uuid
from typing import Any

import pytest
import requests

from tests.fakes.connect import FakeConnect
from tests.fakes.server import MUTATING_METHODS


@dataclasses.dataclass
class ConnectBackend:
    url: str
    kind: str  # "fake" | "real"
    work_dir: pathlib.Path  # a folder the worker sees at the same path (file connectors)
    fake: FakeConnect | None = None
    harness: Any = None
    names: list[str] = dataclasses.field(default_factory=list)

    def name(self, label: str) -> str:
        """A connector name unique to this test run; deleted at teardown."""
        name = f"pytest-{label}-{uuid.uuid4().hex[:8]}"
        self.names.append(name)
        return name

    def file(self, label: str) -> str:
        return str(self.work_dir / f"{label}-{uuid.uuid4().hex[:8]}.txt")

    # Out-of-band changes, as an operator would make them with curl.
    def put_config(self, name: str, config: dict[str, str]) -> int:
        return requests.put(f"{self.url}/connectors/{name}/config", json=config, timeout=30).status_code

    def delete(self, name: str) -> int:
        return requests.delete(f"{self.url}/connectors/{name}", timeout=30).status_code

    def cleanup(self) -> None:
        for name in self.names:
            self.delete(name)


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.fake), pytest.param("real", marks=pytest.mark.real)])
def connect_backend(request, tmp_path):
    if request.param == "fake":
        with FakeConnect() as fake:
            yield ConnectBackend(fake.url, "fake", tmp_path, fake=fake)
        return
    try:
        harness = request.getfixturevalue("kafka_connect")
    except pytest.FixtureLookupError:
        pytest.skip("REAL Kafka Connect: the session fixture 'kafka_connect' (tests/harness) is not registered")
    work_dir = pathlib.Path(getattr(harness, "work_dir", "/tmp"))
    work_dir.mkdir(parents=True, exist_ok=True)
    backend = ConnectBackend(harness.connect_url, "real", work_dir, harness=harness)
    yield backend
    backend.cleanup()


@pytest.fixture
def fake_connect():
    """A FAKE worker for fault-injection tests that only a fake can stage."""
    with FakeConnect() as fake:
        yield fake


@pytest.fixture
def http_calls(monkeypatch):
    """Every ``(method, url)`` sent through requests while the test runs."""
    calls: list[tuple[str, str]] = []
    original = requests.Session.request

    def recording(self, method, url, *args, **kwargs):
        calls.append((method.upper(), url))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    return calls


def mutating(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [call for call in calls if call[0] in MUTATING_METHODS]
