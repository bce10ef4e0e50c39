"""A small client for the Kafka Connect REST API (distributed worker), built on providers.http.HttpClient.

Facts it relies on: ``PUT /connectors/{n}/config`` answers 201 (created) or 200 (updated); 409 means a
rebalance or a conflicting operation is under way and is retried with bounded backoff; errors are
``{"error_code", "message"}``; ``GET /health`` (Kafka 3.9+, KIP-1017) says when a worker has finished
starting, older workers only have ``GET /``. A 404 WITHOUT that JSON body is Jetty's own page, served by a
(re)starting worker before Connect's REST resources are registered: every request waits through it.
After ``DELETE`` the worker still reports the connector (UNASSIGNED) until its status tombstone is read
back, so ``delete`` waits until ``GET /status`` is 404. ``PUT /connector-plugins/{class}/config/validate``
returns the definitions the worker knows for that connector (framework keys, the plugin's own, the
converters' and client overrides' it validated) and never the declared keys it does not know.
"""
from __future__ import annotations

import dataclasses
import time
import urllib.parse
from typing import Any, Callable, Iterable, Literal, Mapping

import requests

from providers.http import (
    ApiError,
    Endpoint,
    Forbidden,
    NotFound,
    ServiceClient,
    ServiceTimeout,
    Unauthorized,
    maybe_sent,
    or_none,
    retrying,
    transient,
    wait_until,
)

CONFLICT = (409,)  # rebalance in progress / no known leader / stale config: retry writes
# Reads also retry 500: Kafka 4 answers GET config with 500 "Request cannot be completed because a
# rebalance is expected" right after a config change. Reads are idempotent, so retrying is safe.
READ_RETRY = (409, 500)
STATES = ("RUNNING", "PAUSED")
# Key families the worker validates only in some cases (a converter set in the connector config, a client
# the connector uses): a family with no definition in the validate answer was not judged, so neither are
# its keys.
OPTIONAL_FAMILIES = ("key.converter.", "value.converter.", "header.converter.",
                     "producer.override.", "consumer.override.", "admin.override.")
# Source topic creation (KIP-158): validate defines only ``topic.creation.groups``; the groups' own keys
# (``topic.creation.<group>.*``, Kafka's TopicCreationConfig) are defined when the connector starts, so the
# worker never judges them (Apache Kafka 4.3.1, tests/provider/test_connector_real_worker.py).
UNJUDGED_FAMILIES = ("topic.creation.",)


@dataclasses.dataclass(frozen=True)
class Validation:
    """A ``config/validate`` answer: every error as ``"<key>: <message>"`` and the key names it defines."""

    errors: list[str]
    defined: frozenset[str]

    def unknown_keys(self, config: Mapping[str, str]) -> list[str]:
        """Declared keys the worker has no definition for: typos, or settings of another plugin."""
        judged = [family for family in OPTIONAL_FAMILIES  # "<converter>.plugin.version" is always defined
                  if any(name.startswith(family) and name != f"{family}plugin.version" for name in self.defined)]
        return sorted(key for key in config if key not in self.defined and not key.startswith(UNJUDGED_FAMILIES)
                      and not (key.startswith(OPTIONAL_FAMILIES) and not key.startswith(tuple(judged))))


class PluginNotInstalled(Exception):
    """The connector class is not among the worker's installed connector plugins."""


class ConnectorFailed(Exception):
    """The connector or one of its tasks is FAILED; the message carries the worker's trace."""


class ConnectClient(ServiceClient):
    """One Kafka Connect cluster, reached through ``endpoint``. Create it per operation and close it."""

    service = "Kafka Connect"
    credentials = "the Connect login (config connectUser and the secret connectPassword)"
    endpoint_defaults = {"timeout": 30.0}

    def __init__(self, endpoint: Endpoint, *, observer: Callable[[str, str, int], None] | None = None):
        super().__init__(endpoint, default_headers={"Content-Type": "application/json"}, observer=observer)

    def _send(self, method: str, path: str, *, ok: Iterable[int], retry_statuses: Iterable[int],
              attempts: int | None = None, **kwargs: Any) -> requests.Response:
        """The one retry layer of a Connect request: connection errors, ``retry_statuses`` and Jetty's 404
        page of a worker still registering its REST resources (a 404 without Connect's JSON error body) are
        retried with bounded backoff until the client's deadline."""
        timeout = self.within()
        try:
            return self.http.request(method, path, ok=ok, retry_statuses=retry_statuses, attempts=attempts,
                                     retry_when=_worker_starting, retry_timeout=timeout, **kwargs)
        except NotFound as exc:
            if not _worker_starting(exc) or attempts == 1:
                raise
            raise ServiceTimeout(f"timed out after {timeout:g} s waiting for Kafka Connect to answer {method} "
                                 f"{exc.url}; last seen: HTTP 404 without a Connect error body (worker starting): "
                                 f"{exc.message[:100]}") from None

    def _write(self, method: str, path: str, *, ok: Iterable[int], **kwargs: Any) -> requests.Response:
        """Send a write, retrying 409 (rebalance) and Jetty's 404 pages until the deadline."""
        return self._send(method, path, ok=ok, retry_statuses=CONFLICT, **kwargs)

    def _read(self, path: str, *, attempts: int | None = None) -> Any:
        """GET ``path``; None for Connect's own 404 (a JSON ``error_code`` body)."""
        return or_none(lambda: self._send("GET", path, ok=(200,), retry_statuses=READ_RETRY,
                                          attempts=attempts).json(),
                       gone=lambda exc: _connect_error(exc.body))

    def _poll_status(self, name: str, last: list[str]) -> dict[str, Any] | None | Literal[False]:
        """One status read inside a wait (the wait is the retry layer): False when the answer was transient
        (``last`` says what it was), else the status or None."""
        try:
            return self._read(self._path(name, "/status"), attempts=1)
        except (ApiError, requests.RequestException) as exc:
            if not (transient(exc, READ_RETRY) or _worker_starting(exc)):
                raise
            last[0] = f"{type(exc).__name__}: {exc}"
            return False

    @staticmethod
    def _path(name: str, suffix: str = "") -> str:
        return f"/connectors/{urllib.parse.quote(name, safe='')}{suffix}"

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the worker has started: ``GET /health`` is 200, or (older workers) ``GET /`` answers.

        Raises providers.http.ServiceTimeout naming the URL and the last answer, and rejected credentials
        (401/403, a REST API behind basic auth) at once, naming whose.
        """
        timeout = self.within(timeout)
        last = ["no answer yet"]

        def probe() -> bool:
            try:
                response = self.http.request("GET", "/health", ok=(200, 404), attempts=1)
                if response.status_code == 404:  # a worker older than Kafka 3.9: no health endpoint
                    self.http.request("GET", "/", ok=(200,), attempts=1)
                return True
            except (Unauthorized, Forbidden) as exc:
                raise self.auth_error(exc) from None
            except ApiError as exc:
                last[0] = f"HTTP {exc.status}: {exc.message}"
            except requests.RequestException as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
            return False

        wait_until(probe, timeout=timeout, description=f"Kafka Connect at {self.http.url('/health')} to become ready",
                   last_seen=lambda: last[0])

    def connectors(self) -> list[str]:
        """The names of every connector of the cluster (``GET /connectors``)."""
        return list(self._read("/connectors"))

    def get_config(self, name: str) -> dict[str, str] | None:
        """The connector's stored config (with the ``name`` key Connect adds), or None if it does not exist."""
        return self._read(self._path(name, "/config"))

    def status(self, name: str) -> dict[str, Any] | None:
        """``{"connector": {"state"...}, "tasks": [{"id", "state", "trace"?}...]}``, or None if unknown."""
        return self._read(self._path(name, "/status"))

    def put_config(self, name: str, config: Mapping[str, str]) -> bool:
        """Create or update the connector; True when Connect created it (201), False when it existed (200).

        After a failure that may have reached the worker (a read timeout, a connection closed after
        sending) the PUT is not sent again blindly (a second PUT answers 200, "it existed"): the stored
        config is read, and when it is ``config`` this request wrote it (True); else the PUT is sent again.
        """
        def attempt() -> bool:
            try:
                response = self._write("PUT", self._path(name, "/config"), json=dict(config), ok=(200, 201),
                                       idempotent=False)
            except requests.RequestException as exc:
                if maybe_sent(exc) and self.get_config(name) == {**config, "name": name}:
                    return True
                raise
            return response.status_code == 201

        return retrying(lambda exc: transient(exc), timeout=self.within())(attempt)

    def plugins(self) -> list[str]:
        """Class names of the connector plugins installed on the worker (``GET /connector-plugins``)."""
        return [plugin["class"] for plugin in self._read("/connector-plugins") or []]

    def validate(self, config: Mapping[str, str]) -> Validation:
        """Validate ``config`` against its plugin (``PUT /connector-plugins/{class}/config/validate``).

        Raises PluginNotInstalled (naming the class, the worker and its installed plugins) when the worker
        refuses because ``connector.class`` matches none of them.
        """
        cls = config["connector.class"]
        try:
            result = self._write("PUT", f"/connector-plugins/{urllib.parse.quote(cls, safe='')}/config/validate",
                                 json=dict(config), ok=(200,)).json()
        except ApiError as exc:
            installed = self.plugins() if exc.status in (400, 404, 500) else None
            if installed is None or any(_plugin_matches(plugin, cls) for plugin in installed):
                raise
            raise PluginNotInstalled(
                f"connector plugin {cls!r} is not installed on the Kafka Connect worker at {self.endpoint.url}; "
                f"installed connector plugins: {', '.join(installed) or 'none'}") from None
        errors: list[str] = []
        defined: set[str] = set()
        for entry in result.get("configs", []):
            definition, value = entry.get("definition") or {}, entry.get("value") or {}
            defined.update(name for name in (definition.get("name"), value.get("name")) if name)
            errors.extend(f"{value.get('name')}: {message}" for message in value.get("errors") or [])
        return Validation(errors, frozenset(defined))

    def pause(self, name: str) -> None:
        self._write("PUT", self._path(name, "/pause"), ok=(200, 202, 204))

    def resume(self, name: str) -> None:
        self._write("PUT", self._path(name, "/resume"), ok=(200, 202, 204))

    def restart(self, name: str) -> None:
        """Restart the connector and its tasks that are FAILED (``includeTasks=true&onlyFailed=true``)."""
        self._write("POST", self._path(name, "/restart"), params={"includeTasks": "true", "onlyFailed": "true"},
                    ok=(200, 202, 204))

    def delete_connector(self, name: str) -> bool:
        """Delete the connector and wait until the worker has forgotten it (``GET /status`` is 404); False
        when it was already gone. Raises providers.http.ServiceTimeout when it is still reported after the
        endpoint's ``ready_timeout``."""
        deleted = or_none(lambda: self._write("DELETE", self._path(name), ok=(200, 204)),
                          gone=lambda exc: _connect_error(exc.body)) is not None
        url = self.http.url(self._path(name, "/status"))
        last = ["no status yet"]

        def forgotten() -> bool:
            status = self._poll_status(name, last)
            if status is not False:
                last[0] = "connector not found" if status is None else describe(status)
            return status is None

        wait_until(forgotten, timeout=self.within(),
                   description=f"the worker to forget deleted connector {name!r} ({url} to answer 404)",
                   last_seen=lambda: last[0])
        return deleted

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
            status = self._poll_status(name, last)
            if status is False:
                return False
            if status is None:
                last[0] = "connector not found (status not written yet)"
                return False
            failure = failure_summary(status)
            last[0] = failure or describe(status)
            if not failure:
                failed_since[0] = None
            else:
                since = failed_since[0] = failed_since[0] or time.monotonic()
                if time.monotonic() - since >= failed_grace:
                    raise ConnectorFailed(f"connector {name!r} failed at {url}: {failure}")
                return False
            tasks = status.get("tasks", [])
            return (status.get("connector", {}).get("state") == state and bool(tasks)
                    and all(task.get("state") == state for task in tasks))

        wait_until(reached, timeout=self.within(timeout), last_seen=lambda: last[0],
                   description=f"connector {name!r} and its tasks to be {state} at {url}")


def describe(status: Mapping[str, Any]) -> str:
    """One line: ``connector RUNNING; tasks: 0=RUNNING, 1=UNASSIGNED``."""
    tasks = ", ".join(f"{task.get('id')}={task.get('state')}" for task in status.get("tasks", [])) or "none yet"
    return f"connector {status.get('connector', {}).get('state')}; tasks: {tasks}"


def has_failed(status: Mapping[str, Any] | None) -> bool:
    return status is not None and bool(failure_summary(status))


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



def _worker_starting(exc: BaseException) -> bool:
    """A 404 without Connect's JSON error body: Jetty's page of a worker still registering its resources."""
    return isinstance(exc, NotFound) and not _connect_error(exc.body)


def _connect_error(body: Any) -> bool:
    """Whether ``body`` is Connect's own error document (``{"error_code", "message"}``)."""
    return isinstance(body, dict) and "error_code" in body


def _plugin_matches(installed: str, requested: str) -> bool:
    """Connect accepts a plugin by class name, simple name, or simple name without ``Connector``."""
    simple = installed.rsplit(".", 1)[-1]
    return requested in (installed, simple, simple.removesuffix("Connector"))
