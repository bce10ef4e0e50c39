"""pytest fixtures for real Kafka + Kafka Connect (registered in tests/conftest.py).

``kafka_connect`` (session): an object with ``.kind`` ("docker" or "jvm"), ``.bootstrap_servers``,
``.connect_url``, ``.work_dir`` and ``stop_connect/start_connect/restart_connect``; served by
testcontainers when a Docker engine answers, else by JVMs from Maven Central jars, else the test is
skipped with the reason. ``connect_worker`` (function): the same object for a test that stops or
restarts the worker; the worker is running again after the test. A failed test using them gets a
report section naming the log folder.
"""
from __future__ import annotations

import shutil

import pytest

from tests.harness.backends import choose_backend

_BACKEND = pytest.StashKey()


@pytest.fixture(scope="session")
def kafka_connect(request):
    backend = choose_backend()
    if isinstance(backend, str):
        pytest.skip(backend)
    shutil.rmtree(backend.log_dir, ignore_errors=True)  # logs of this session only
    request.config.stash[_BACKEND] = backend
    backend.start()
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def connect_worker(kafka_connect):
    yield kafka_connect
    if not kafka_connect.connect_running():
        kafka_connect.start_connect()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    backend = item.config.stash.get(_BACKEND, None)
    if report.failed and backend is not None and "kafka_connect" in getattr(item, "fixturenames", ()):
        report.sections.append(("Kafka / Kafka Connect logs",
                                f"{backend.kind} backend logs: {backend.save_logs()}"))
