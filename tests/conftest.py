"""Shared pytest set-up: the project root on sys.path and tier markers from the test's folder."""
import pathlib
import socket
import sys

import pulumi
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# real Kafka + Kafka Connect fixtures (kafka_connect, connect_worker): see tests/harness/fixtures.py;
# connect_backend (fake + real), fake_connect, http_calls: see tests/provider/connect_backend.py
pytest_plugins = ["tests.harness.fixtures", "tests.provider.connect_backend"]

_TIER_BY_FOLDER = {"unit": "unit", "provider": "provider", "engine": "engine", "integration": "integration"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = pathlib.Path(str(item.fspath)).parent.name
        if folder in _TIER_BY_FOLDER:
            item.add_marker(getattr(pytest.mark, _TIER_BY_FOLDER[folder]))


@pytest.fixture
def unanswered_url():
    """A URL on 127.0.0.1 whose port is bound but never listens: every connection is refused, and no other
    process can take the port while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def silent_url():
    """A URL on 127.0.0.1 that takes connections (the kernel's listen queue) but never answers: a hung
    service, or a firewall that swallows packets after the handshake."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def messages(monkeypatch):
    """What the providers told the user through ``pulumi.log`` (warnings prefixed ``warning: ``)."""
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda msg, *a, **k: said.append(msg))
    monkeypatch.setattr(pulumi.log, "warn", lambda msg, *a, **k: said.append("warning: " + msg))
    return said
