"""Bounded readiness waits shared by the JVM and Docker backends (no fixed sleeps)."""
from __future__ import annotations

from typing import Callable, Iterable

import requests

from providers.http import ApiError, Endpoint, HttpClient, wait_until
from tests.harness.kafka_protocol import broker_ids

FILE_AND_MIRROR_PLUGINS = ("org.apache.kafka.connect.file.FileStreamSourceConnector",
                           "org.apache.kafka.connect.file.FileStreamSinkConnector",
                           "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector")


def wait_for_broker(host: str, port: int, *, timeout: float, check_alive: Callable[[], None], logs: str) -> None:
    """Wait until the broker at ``host:port`` answers Metadata listing a broker."""
    last = ["no answer yet"]

    def serving() -> bool:
        check_alive()
        try:
            ids = broker_ids(host, port)
        except OSError as exc:
            last[0] = f"{type(exc).__name__}: {exc}"
            return False
        last[0] = f"Metadata lists brokers {ids}"
        return bool(ids)

    wait_until(serving, timeout=timeout, last_seen=lambda: last[0],
               description=f"the Kafka broker at {host}:{port} to serve Metadata (logs: {logs})")


def wait_for_connect(url: str, plugins: Iterable[str], *, timeout: float, check_alive: Callable[[], None],
                     logs: str) -> None:
    """Wait until the worker at ``url`` is healthy (``GET /health``) and lists every class in ``plugins``."""
    plugins = tuple(plugins)
    last = ["no answer yet"]
    with HttpClient(Endpoint(url, timeout=5)) as client:
        def ready() -> bool:
            check_alive()
            try:
                client.request("GET", "/health", ok=(200,), attempts=1)
                listed = {plugin["class"] for plugin in client.get_json("/connector-plugins", attempts=1)}
            except (requests.RequestException, ApiError) as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
                return False
            missing = [name for name in plugins if name not in listed]
            last[0] = f"plugins missing: {missing}" if missing else "ready"
            return not missing

        wait_until(ready, timeout=timeout, last_seen=lambda: last[0],
                   description=f"the Kafka Connect worker at {url} to be healthy and list {len(plugins)} "
                               f"plugins (logs: {logs})")


def wait_for_elasticsearch(url: str, *, timeout: float, check_alive: Callable[[], None], logs: str) -> None:
    """Wait until the node at ``url`` answers ``GET /_cluster/health`` with status yellow or green."""
    last = ["no answer yet"]
    with HttpClient(Endpoint(url, timeout=5)) as client:
        def ready() -> bool:
            check_alive()
            try:
                health = client.get_json("/_cluster/health", params={"wait_for_status": "yellow", "timeout": "1s"},
                                         ok=(200, 408), attempts=1)
            except (requests.RequestException, ApiError) as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
                return False
            last[0] = f"cluster status {health.get('status')!r}"
            return health.get("status") in ("yellow", "green")

        wait_until(ready, timeout=timeout, last_seen=lambda: last[0],
                   description=f"Elasticsearch at {url} to reach status yellow (logs: {logs})")
