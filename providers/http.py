"""The one place for HTTP, retries and readiness waits used by every application-layer client.

Retries use tenacity (bounded exponential backoff with jitter, a deadline, and a clear error naming the
URL). ``Endpoint`` is a plain, picklable description of a service; the ``requests.Session`` is created per
``HttpClient`` inside provider methods and is never stored on a provider, so dill can serialize providers.
Secrets (passwords, API keys) are kept out of ``repr`` and out of every error message.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Any, Callable, Iterable

import requests
from tenacity import (RetryError, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay,
                      wait_exponential, wait_random)

from providers.inputs import whole_numbers

log = logging.getLogger(__name__)

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where a service's admin API is and how to talk to it. Plain data: safe to pickle."""

    url: str
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    api_key: str | None = dataclasses.field(default=None, repr=False)
    verify: bool | str = True  # False, True, or a CA bundle path
    timeout: float = 10.0  # seconds per request
    ready_timeout: float = 300.0  # seconds to wait for the service to become ready

    @classmethod
    def from_inputs(cls, props: dict[str, Any], prefix: str = "") -> "Endpoint":
        """Build from provider inputs named ``<prefix>url``, ``<prefix>username`` ... (missing -> default)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {name: props[prefix + name] for name in fields if props.get(prefix + name) is not None}
        return cls(**values)


class ApiError(Exception):
    """A service answered with an error status. ``message`` is the service's own error text."""

    def __init__(self, method: str, url: str, status: int, message: str, body: Any = None):
        super().__init__(f"{method} {url} -> HTTP {status}: {message}")
        self.method, self.url, self.status, self.message, self.body = method, url, status, message, body


class ServiceTimeout(Exception):
    """A bounded wait ran out; the message says what was awaited, where, and the last thing seen."""


def elasticsearch_reason(error: dict) -> str:
    """Elasticsearch's ``reason``, followed by the deepest ``caused_by`` reason when there is one: the outer
    reason says what failed ("composable template [x] template after composition is invalid"), the
    innermost why ("The mapper type [bogus] declared on field [X] does not exist...")."""
    outer = str(error.get("reason") or error.get("type") or error)
    inner = error
    while isinstance(inner.get("caused_by"), dict):
        inner = inner["caused_by"]
    cause = inner.get("reason") or inner.get("type")
    return f"{outer}; caused by: {cause}" if inner is not error and cause and cause != outer else outer


def error_message(response: requests.Response) -> tuple[str, Any]:
    """The service's error text, in its own words, and the parsed body (Connect/ksqlDB/Grafana ``message``,
    Elasticsearch ``error.reason`` with its deepest cause...)."""
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:500] or response.reason or "no body"), None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return elasticsearch_reason(err), body
        for key in ("message", "error", "msg"):
            if body.get(key):
                return str(body[key]), body
    return str(body)[:500], body


def backoff(first: float, most: float):
    """Exponential backoff from ``first`` seconds up to ``most``, plus up to ``first`` of jitter."""
    return wait_exponential(multiplier=first, max=most) + wait_random(0, first)


def _retryable(statuses: Iterable[int]) -> Callable[[BaseException], bool]:
    statuses = frozenset(statuses)

    def check(exc: BaseException) -> bool:
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return True
        return isinstance(exc, ApiError) and exc.status in statuses

    return check


class HttpClient:
    """A JSON client for one service: base URL, auth, TLS verification, timeouts and retries."""

    def __init__(self, endpoint: Endpoint, *, default_headers: dict[str, str] | None = None,
                 observer: Callable[[str, str, int], None] | None = None):
        self.endpoint = endpoint
        self.base_url = endpoint.url.rstrip("/")
        self._session = requests.Session()
        self._session.verify = endpoint.verify
        self._session.headers.update({"Accept": "application/json", **(default_headers or {})})
        if endpoint.api_key:
            self._session.headers["Authorization"] = f"Bearer {endpoint.api_key}"
        elif endpoint.username is not None:
            self._session.auth = (endpoint.username, endpoint.password or "")
        self._observer = observer

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, ok: Iterable[int] = (200, 201, 202, 204),
                retry_statuses: Iterable[int] = (), retry_timeout: float = 60.0,
                attempts: int | None = 8) -> requests.Response:
        """Send one request; retry connection errors and ``retry_statuses`` with bounded backoff, for at most
        ``retry_timeout`` seconds and ``attempts`` tries (None: only the time bounds the retries).

        Raises ApiError for any status not in ``ok`` (after retries), with the service's error message.
        """
        ok = frozenset(ok)
        url = self.url(path)
        json = whole_numbers(json)  # numbers arrive from the engine as floats; send 500, not 500.0

        def once() -> requests.Response:
            response = self._session.request(method, url, json=json, params=params, headers=headers,
                                             timeout=self.endpoint.timeout)
            if self._observer:
                self._observer(method, path, response.status_code)
            if response.status_code not in ok:
                message, body = error_message(response)
                raise ApiError(method, url, response.status_code, message, body)
            return response

        retrying = Retrying(
            retry=retry_if_exception(_retryable(retry_statuses)),
            stop=stop_after_delay(retry_timeout) | stop_after_attempt(attempts or sys.maxsize),
            wait=backoff(first=0.2, most=5.0),
            reraise=True,
        )
        return retrying(once)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def get_or_none(self, path: str, **kwargs: Any) -> Any:
        """GET a JSON document, or None when the service answers 404."""
        try:
            return self.request("GET", path, **kwargs).json()
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def wait_ready(self, path: str, *, ready: Callable[[requests.Response], bool] | None = None,
                   what: str = "service", timeout: float | None = None) -> None:
        """Poll ``path`` until it answers 2xx (and ``ready(response)`` holds), with bounded backoff.

        Raises ServiceTimeout naming the URL and the last answer after ``timeout`` seconds
        (default: the endpoint's ``ready_timeout``).
        """
        timeout = self.endpoint.ready_timeout if timeout is None else timeout
        url = self.url(path)
        last = ["no answer yet"]

        def probe() -> bool:
            try:
                response = self._session.get(url, timeout=self.endpoint.timeout)
            except requests.RequestException as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
                return False
            if response.status_code >= 300:
                last[0] = f"HTTP {response.status_code}: {error_message(response)[0]}"
                return False
            if ready is not None and not ready(response):
                last[0] = f"HTTP {response.status_code}, not ready yet: {response.text[:200]}"
                return False
            return True

        wait_until(probe, timeout=timeout,
                   description=f"{what} at {url} to become ready", last_seen=lambda: last[0])


class ServiceClient:
    """Base of the per-service API clients: one ``HttpClient`` for one endpoint, used as a context manager
    inside a provider method. ``service`` and ``credentials`` name the service and where its credentials
    come from in rejected-credentials errors."""

    service = "the service"
    credentials = "the configured credentials"

    def __init__(self, endpoint: Endpoint, *, default_headers: dict[str, str] | None = None,
                 observer: Callable[[str, str, int], None] | None = None):
        self.endpoint = endpoint
        self.http = HttpClient(endpoint, default_headers=default_headers, observer=observer)

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def auth_error(self, exc: ApiError) -> ApiError:
        """``exc`` reworded to say whose credentials a 401/403 rejected (never the secret itself)."""
        if exc.status not in (401, 403):
            return exc
        if self.endpoint.api_key:
            who = "the API key"
        elif self.endpoint.username:
            who = f"user {self.endpoint.username!r}"
        else:
            who = "anonymous access (no username given)"
        what = "rejected the credentials of" if exc.status == 401 else "denied the request for"
        return ApiError(exc.method, exc.url, exc.status,
                        f"{self.service} {what} {who}: {exc.message}. Check {self.credentials}.", exc.body)


def wait_until(condition: Callable[[], bool], *, timeout: float, description: str,
               last_seen: Callable[[], str] | None = None, max_interval: float = 5.0) -> None:
    """Call ``condition`` with bounded exponential backoff until it returns True or ``timeout`` passes.

    Raises ServiceTimeout("timed out after N s waiting for <description>; last seen: ...").
    """
    retrying = Retrying(
        retry=lambda state: state.outcome is not None and not state.outcome.failed
        and state.outcome.result() is not True,
        stop=stop_after_delay(timeout),
        wait=backoff(first=0.1, most=max_interval),
    )
    try:
        retrying(condition)
    except RetryError:
        seen = f"; last seen: {last_seen()}" if last_seen else ""
        raise ServiceTimeout(f"timed out after {timeout:g} s waiting for {description}{seen}") from None
