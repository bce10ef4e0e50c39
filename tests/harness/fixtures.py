"""pytest fixtures for the real services (registered in tests/conftest.py).

``kafka_connect`` (session): an object with ``.kind`` ("docker" or "jvm"), ``.bootstrap_servers``,
``.connect_url``, ``.work_dir`` and ``stop_connect/start_connect/restart_connect``; served by
testcontainers when a Docker engine answers, else by JVMs from Maven Central jars, else the test is
skipped with the reason. ``connect_worker`` (function): the same object for a test that stops or
restarts the worker; the worker is running again after the test. ``elasticsearch_node`` (session): an
object with ``.kind`` and ``.url`` of a real Elasticsearch node, chosen the same way. A failed test using
them gets a report section naming the log folder.

SIGTERM and SIGHUP stop the session like Ctrl-C, so the services are stopped and their folders removed;
see tests/harness/processes.py for what happens when pytest is killed outright.
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests.harness.backends import choose_backend, choose_elasticsearch
from tests.harness.processes import interrupt_on_termination

_BACKENDS = pytest.StashKey[dict]()  # fixture name -> started backend
_TITLES = {"kafka_connect": "Kafka / Kafka Connect logs", "elasticsearch_node": "Elasticsearch logs"}


def pytest_sessionstart(session):
    interrupt_on_termination()


def _serve(request, backend):
    if isinstance(backend, str):
        if os.environ.get("REQUIRE_REAL_SERVICES"):
            pytest.fail(f"REQUIRE_REAL_SERVICES is set, but {backend}", pytrace=False)
        pytest.skip(backend)
    shutil.rmtree(backend.log_dir, ignore_errors=True)  # logs of this session only
    request.config.stash.setdefault(_BACKENDS, {})[request.fixturename] = backend
    backend.start()
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="session")
def kafka_connect(request):
    yield from _serve(request, choose_backend())


@pytest.fixture(scope="session")
def elasticsearch_node(request):
    yield from _serve(request, choose_elasticsearch())


@pytest.fixture
def connect_worker(kafka_connect):
    yield kafka_connect
    if not kafka_connect.connect_running():
        kafka_connect.start_connect()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for name, backend in item.config.stash.get(_BACKENDS, {}).items():
        if name in getattr(item, "fixturenames", ()):
            report.sections.append((_TITLES[name], f"{backend.kind} backend logs: {backend.save_logs()}"))
