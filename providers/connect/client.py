"""A small client for the Kafka Connect REST API (distributed worker), built on providers.http.HttpClient.

Facts it relies on: ``PUT /connectors/{n}/config`` answers 201 (created) or 200 (updated); 409 means a
rebalance or a conflicting operation is under way and is retried with bounded backoff; errors are
``{"error_code", "message"}``; ``GET /health`` (Kafka 3.9+, KIP-1017) says when a worker has finished
starting, older workers only have ``GET /``.
"""
from __future__ import annotations

import time
import urllib.parse
from typing import Any, Callable, Iterable, Mapping

import requests

from providers.http import ApiError, Endpoint, ServiceClient, wait_until

CONFLICT = (409,)  # rebalance in progress / no known leader / stale config: retry writes
# Reads also retry 500: Kafka 4 answers GET config with 500 "Request cannot be completed because a
# rebalance is expected" right after a config change. Reads are idempotent, so retrying is safe.
READ_RETRY = (409, 500)
STATES = ("RUNNING", "PAUSED")


class ConnectorFailed(Exception):
    """The connector or one of its tasks is FAILED; the message carries the worker's trace."""


class ConnectClient(ServiceClient):
    """One Kafka Connect cluster, reached through ``endpoint``. Create it per operation and close it."""

    def __init__(self, endpoint: Endpoint, *, observer: Callable[[str, str, int], None] | None = None):
        super().__init__(endpoint, default_headers={"Content-Type": "application/json"}, observer=observer)

    def _write(self, method: str, path: str, *, ok: Iterable[int], **kwargs: Any) -> requests.Response:
        return self.http.request(method, path, ok=ok, retry_statuses=CONFLICT,
                                  retry_timeout=self.endpoint.ready_timeout, attempts=50, **kwargs)

    def _read(self, path: str) -> Any:
        """GET ``path``; None for Connect's own 404 (a JSON ``error_code`` body). A 404 without one comes
        from Jetty while a (re)starting worker registers its resources: wait for the real answer."""
        timeout = min(self.endpoint.ready_timeout, 60.0)
        answer: dict[str, Any] = {}
        last = ["no answer yet"]

        def answered() -> bool:
            try:
                answer["body"] = self.http.request("GET", path, ok=(200,), retry_statuses=READ_RETRY,
                                                    retry_timeout=timeout, attempts=50).json()
            except ApiError as exc:
                if exc.status != 404:
                    raise
                if not (isinstance(exc.body, dict) and "error_code" in exc.body):
                    last[0] = f"HTTP 404 without a Connect error body (worker starting): {exc.message[:100]}"
                    return False
                answer["body"] = None
            return True

        wait_until(answered, timeout=timeout, description=f"Kafka Connect to answer GET {self.http.url(path)}",
                   last_seen=lambda: last[0])
        return answer["body"]

    @staticmethod
    def _path(name: str, suffix: str = "") -> str:
        return f"/connectors/{urllib.parse.quote(name, safe='')}{suffix}"

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the worker has started: ``GET /health`` is 200, or (older workers) ``GET /`` answers.

        Raises providers.http.ServiceTimeout naming the URL and the last answer.
        """
        timeout = self.endpoint.ready_timeout if timeout is None else timeout
        last = ["no answer yet"]

        def probe() -> bool:
            try:
                response = self.http.request("GET", "/health", ok=(200, 404), attempts=1)
                if response.status_code == 404:  # a worker older than Kafka 3.9: no health endpoint
                    self.http.request("GET", "/", ok=(200,), attempts=1)
                return True
            except ApiError as exc:
                last[0] = f"HTTP {exc.status}: {exc.message}"
            except requests.RequestException as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
            return False

        wait_until(probe, timeout=timeout, description=f"Kafka Connect at {self.http.url('/health')} to become ready",
                   last_seen=lambda: last[0])

    def list_connectors(self) -> list[str]:
        return list(self._read("/connectors"))

    def get_config(self, name: str) -> dict[str, str] | None:
        """The connector's stored config (with the ``name`` key Connect adds), or None if it does not exist."""
        return self._read(self._path(name, "/config"))

    def status(self, name: str) -> dict[str, Any] | None:
        """``{"connector": {"state"...}, "tasks": [{"id", "state", "trace"?}...]}``, or None if unknown."""
        return self._read(self._path(name, "/status"))

    def put_config(self, name: str, config: Mapping[str, str]) -> bool:
        """Create or update the connector; True when Connect created it (201), False when it existed (200)."""
        response = self._write("PUT", self._path(name, "/config"), json=dict(config), ok=(200, 201))
        return response.status_code == 201

    def validate(self, config: Mapping[str, str]) -> list[str]:
        """Validate ``config`` against its plugin; every error as ``"<key>: <message>"`` (empty list: valid)."""
        plugin = urllib.parse.quote(config["connector.class"], safe="")
        result = self._write("PUT", f"/connector-plugins/{plugin}/config/validate", json=dict(config),
                             ok=(200,)).json()
        errors = []
        for entry in result.get("configs", []):
            value = entry.get("value", {})
            errors.extend(f"{value.get('name')}: {message}" for message in value.get("errors", []))
        return errors

    def pause(self, name: str) -> None:
        self._write("PUT", self._path(name, "/pause"), ok=(200, 202, 204))

    def resume(self, name: str) -> None:
        self._write("PUT", self._path(name, "/resume"), ok=(200, 202, 204))

    def restart(self, name: str) -> None:
        """Restart the connector and its tasks that are FAILED (``includeTasks=true&onlyFailed=true``)."""
        self._write("POST", self._path(name, "/restart"), params={"includeTasks": "true", "onlyFailed": "true"},
                    ok=(200, 202, 204))

    def delete(self, name: str) -> bool:
        """Delete the connector; False when it was already gone (404)."""
        response = self._write("DELETE", self._path(name), ok=(200, 204, 404))
        return response.status_code != 404

    def wait_for_state(self, name: str, state: str, timeout: float, *, failed_grace: float = 0.0) -> None:
        """Wait until the connector AND every task (at least one) are in ``state`` (RUNNING or PAUSED).

        Raises ConnectorFailed with the worker's trace once the connector or a task has been FAILED for
        ``failed_grace`` seconds (0: at first sight; right after a restart the worker may still report the
        old FAILED state for a moment), and providers.http.ServiceTimeout (naming the URL and the last
        status seen) when ``timeout`` passes.
        """
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, not {state!r}")
        url = self.http.url(self._path(name, "/status"))
        last = ["no status yet"]
        failed_since: list[float | None] = [None]

        def reached() -> bool:
            status = self.status(name)
            if status is None:
                last[0] = "connector not found (status not written yet)"
                return False
            failure = failure_summary(status)
            last[0] = failure or describe(status)
            if not failure:
                failed_since[0] = None
            else:
                failed_since[0] = failed_since[0] or time.monotonic()
                if time.monotonic() - failed_since[0] >= failed_grace:
                    raise ConnectorFailed(f"connector {name!r} failed at {url}: {failure}")
                return False
            tasks = status.get("tasks", [])
            return (status.get("connector", {}).get("state") == state and bool(tasks)
                    and all(task.get("state") == state for task in tasks))

        wait_until(reached, timeout=timeout, description=f"connector {name!r} and its tasks to be {state} at {url}",
                   last_seen=lambda: last[0])


def describe(status: Mapping[str, Any]) -> str:
    """One line: ``connector RUNNING; tasks: 0=RUNNING, 1=UNASSIGNED``."""
    tasks = ", ".join(f"{task.get('id')}={task.get('state')}" for task in status.get("tasks", [])) or "none yet"
    return f"connector {status.get('connector', {}).get('state')}; tasks: {tasks}"


def has_failed(status: Mapping[str, Any] | None) -> bool:
    return bool(status) and bool(failure_summary(status))


def failure_summary(status: Mapping[str, Any]) -> str:
    """The FAILED parts of a status with the first line and every ``Caused by:`` line of their traces."""
    parts = []
    connector = status.get("connector", {})
    if connector.get("state") == "FAILED":
        parts.append(f"connector FAILED on {connector.get('worker_id')}: {_trace_summary(connector.get('trace'))}")
    for task in status.get("tasks", []):
        if task.get("state") == "FAILED":
            parts.append(f"task {task.get('id')} FAILED on {task.get('worker_id')}: "
                         f"{_trace_summary(task.get('trace'))}")
    return "; ".join(parts)


def _trace_summary(trace: str | None) -> str:
    if not trace:
        return "no trace reported"
    lines = [line.strip() for line in trace.strip().splitlines()]
    summary = [lines[0]] + [line for line in lines[1:] if line.startswith("Caused by:")]
    return " | ".join(summary)

