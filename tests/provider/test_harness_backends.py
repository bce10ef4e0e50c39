"""How the harness picks a backend for a real service, what a test sees when none can run, and how its
processes are started."""
from __future__ import annotations

import threading
import uuid

import pytest

from tests.harness import fixtures, jvm
from tests.harness.backends import choose_elasticsearch
from tests.harness.processes import supervised


def test_a_forced_backend_must_be_docker_or_jvm(monkeypatch):
    monkeypatch.setenv("ELASTICSEARCH_HARNESS", "podman")
    assert choose_elasticsearch() == "ELASTICSEARCH_HARNESS must be 'docker' or 'jvm', not 'podman'"


def test_no_backend_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("REQUIRE_REAL_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Elasticsearch backend: Docker: none; JVM: none"):
        next(fixtures._serve(None, "no Elasticsearch backend: Docker: none; JVM: none"))


def test_no_backend_fails_when_real_services_are_required(monkeypatch):
    monkeypatch.setenv("REQUIRE_REAL_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_REAL_SERVICES is set, but no Elasticsearch backend"):
        next(fixtures._serve(None, "no Elasticsearch backend: Docker: none; JVM: none"))


def test_the_parent_death_watchdog_is_set_only_from_the_main_thread():
    """The kernel ties the watchdog to the starting thread: a process started from another thread would be
    killed when that thread ends."""
    assert supervised(["java"])[1:] == ["--pdeathsig", "KILL", "java"]
    from_thread: list[list[str]] = []
    worker = threading.Thread(target=lambda: from_thread.append(supervised(["java"], (65534, 65534))))
    worker.start()
    worker.join()
    assert from_thread[0][1:] == ["--reuid=65534", "--regid=65534", "--clear-groups", "java"]


def test_a_kraft_cluster_id_never_starts_with_a_dash(monkeypatch):
    """``kafka-storage format -t <id>`` reads an id starting with '-' as an option (1 id in 64), so the
    harness draws again, as Kafka's own ``Uuid.randomUuid`` does."""
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x04" + bytes(15))])
    monkeypatch.setattr(jvm.uuid, "uuid4", lambda: next(drawn))
    assert jvm._cluster_id() == "BAAAAAAAAAAAAAAAAAAAAA"
