"""Choose how to run the real services here: Docker (testcontainers), else local JVMs, else a reason to skip.

``KAFKA_HARNESS=docker|jvm`` forces the Kafka + Connect backend and ``ELASTICSEARCH_HARNESS=docker|jvm``
the Elasticsearch one (e.g. the JVM ones on a machine that also has Docker).
"""
from __future__ import annotations

import os
import pathlib
import shutil
from typing import Any, Callable

from tests.harness.maven import ROOT, cached_classpath
from tests.harness.processes import HarnessError, java_executable

LOG_ROOT = ROOT / "test-logs" / "kafka-harness"
ES_LOG_ROOT = ROOT / "test-logs" / "elasticsearch-harness"


def docker_unavailable() -> str | None:
    """None when a Docker engine answers a ping, else the reason."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:  # DockerException, connection errors, missing SDK: all mean "no engine here"
        return f"Docker engine not available: {exc}"
    return None


def jvm_unavailable() -> str | None:
    """None when Java and (unless the jars are cached) Maven are installed, else the reason."""
    missing = []
    try:
        java_executable()
    except HarnessError:
        missing.append("java")
    if shutil.which("mvn") is None and cached_classpath() is None:
        missing.append("mvn")
    if missing:
        return f"{' and '.join(missing)} not installed (needed to run Apache Kafka from Maven Central jars)"
    return None


def _forced(variable: str) -> tuple[str, str | None]:
    forced = os.environ.get(variable, "").lower()
    return forced, None if forced in ("", "docker", "jvm") else f"{variable} must be 'docker' or 'jvm', not {forced!r}"


def choose_backend(log_root: pathlib.Path = LOG_ROOT):
    """An unstarted Kafka + Connect backend, or a str with the reason none can run here."""
    def docker() -> Any:
        from tests.harness.docker import DockerKafkaConnect

        return DockerKafkaConnect(log_root / "docker")

    def jvm() -> Any:
        from tests.harness.jvm import JvmKafkaConnect

        return JvmKafkaConnect(log_root / "jvm")

    return _choose("KAFKA_HARNESS", "Kafka/Connect", docker, jvm_unavailable, jvm)


def choose_elasticsearch(log_root: pathlib.Path = ES_LOG_ROOT):
    """An unstarted Elasticsearch backend, or a str with the reason none can run here."""
    from tests.harness import elasticsearch

    return _choose("ELASTICSEARCH_HARNESS", "Elasticsearch",
                   lambda: elasticsearch.DockerElasticsearch(log_root / "docker"),
                   elasticsearch.jvm_unavailable, lambda: elasticsearch.JvmElasticsearch(log_root / "jvm"))


def _choose(variable: str, what: str, docker: Callable[[], Any], jvm_problem: Callable[[], str | None],
            jvm: Callable[[], Any]):
    """Docker when it answers, else the JVM when it can run, unless ``variable`` forces one; else the reasons."""
    forced, bad = _forced(variable)
    if bad:
        return bad
    docker_reason = docker_unavailable() if forced in ("", "docker") else f"not chosen ({variable}=jvm)"
    if docker_reason is None:
        return docker()
    jvm_reason = jvm_problem() if forced in ("", "jvm") else f"not chosen ({variable}=docker)"
    if jvm_reason is None:
        return jvm()
    return f"no {what} backend: Docker: {docker_reason}; JVM: {jvm_reason}"
