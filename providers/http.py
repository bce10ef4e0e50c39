"""The one place for HTTP, retries and readiness waits used by every application-layer client.

Errors are ``ApiError`` subclasses chosen by status (``NotFound``, ``Conflict``, ...); 404 becomes None in
one place (``or_none``). Retries use tenacity (bounded exponential backoff with jitter) through one
function (``retrying``), one layer per call path; a ``ServiceClient``'s ``Deadline`` (``ready_timeout``
from its creation) bounds every retry and wait of the operation (docs/resources/README.md).
Waits come in two lengths: a create, update or delete waits up to ``ready_timeout`` for its service (it may
be starting); preview and refresh only ``probe`` it, for ``probe_timeout`` seconds, and say why it does not
answer (:class:`ServiceUnreachable`). Rejected credentials (401/403) end every wait at once.
``Endpoint`` is a plain, picklable description of a service; the ``requests.Session`` is created per
``HttpClient`` inside provider methods and is never stored on a provider, so dill can serialize providers.
Secrets (passwords, API keys) are kept out of ``repr`` and out of every error message.
"""
from __future__ import annotations

import abc
import base64
import contextlib
import dataclasses
import sys
import time
from typing import Any, Callable, Iterable, Iterator, TypeVar

import requests
import urllib3.exceptions
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from providers.inputs import whole_numbers

DEFAULT_READY_TIMEOUT = 300.0  # seconds: the deadline of one provider operation (docs/resources/README.md)
DEFAULT_PROBE_TIMEOUT = 10.0  # seconds preview and refresh wait for a service that does not answer

T = TypeVar("T")

@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where a service's admin API is and how to talk to it. Plain data: safe to pickle."""

    url: str
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    api_key: str | None = dataclasses.field(default=None, repr=False)
    api_key_scheme: str = "Bearer"  # the Authorization scheme of ``api_key``: Elasticsearch's is "ApiKey"
    verify: bool | str = True  # False, True, or a CA bundle path
    timeout: float = 10.0  # seconds per request
    ready_timeout: float = DEFAULT_READY_TIMEOUT  # seconds: the deadline of one operation
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT  # seconds: how long preview and refresh wait for the service


class ApiError(Exception):
    """A service answered with an error status. ``message`` is the service's own error text.

    Raised as the subclass for its status (:func:`api_error`): ``except NotFound`` instead of comparing
    ``status``; ``ApiError`` itself stays the base of all of them.
    """

    def __init__(self, method: str, url: str, status: int, message: str, body: Any = None):
        super().__init__(f"{method} {url} -> HTTP {status}: {message}")
        self.method, self.url, self.status, self.message, self.body = method, url, status, message, body

    def reworded(self, message: str) -> "ApiError":
        """The same error (same class, status and body) with ``message`` instead of the service's text."""
        return type(self)(self.method, self.url, self.status, message, self.body)


class BadRequest(ApiError):
    """HTTP 400: the service refused the request as malformed or invalid."""


class Unauthorized(ApiError):
    """HTTP 401: the credentials were rejected."""


class Forbidden(ApiError):
    """HTTP 403: the credentials are valid but not allowed to do this."""


class NotFound(ApiError):
    """HTTP 404: no such object (or, for a starting server, no such route yet)."""


class Conflict(ApiError):
    """HTTP 409: the object exists already, or the service is busy with a conflicting operation."""


class PreconditionFailed(ApiError):
    """HTTP 412: a version check failed (someone else saved first)."""


class TooManyRequests(ApiError):
    """HTTP 429: the service asks to slow down."""


class ServerError(ApiError):
    """HTTP 5xx: the service failed or is not ready."""


_ERROR_CLASSES = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
                  412: PreconditionFailed, 429: TooManyRequests}


def api_error(method: str, url: str, status: int, message: str, body: Any = None) -> ApiError:
    """The ApiError subclass for ``status`` (ServerError for 5xx, ApiError for any other status)."""
    cls = _ERROR_CLASSES.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(method, url, status, message, body)


def or_none(send: Callable[[], T], *, gone: Callable[[NotFound], bool] = lambda exc: True) -> T | None:
    """``send()``, or None when it raises NotFound (and ``gone(error)`` agrees that the 404 means the object
    does not exist): the one place where "404" becomes "absent"."""
    try:
        return send()
    except NotFound as exc:
        if gone(exc):
            return None
        raise


class Deadline:
    """The moment one provider operation must be done by: every retry and wait in it stops there.

    Plain data (a monotonic time), created per operation inside provider methods."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self, most: float | None = None) -> float:
        """Seconds left (never negative), at most ``most``."""
        left = max(0.0, self.ends - time.monotonic())
        return left if most is None else min(left, most)

    def restart(self) -> None:
        """The whole time again, from now: for an operation that is a sequence of steps which may each
        take that long (the drops of :mod:`providers.ksqldb.directory`)."""
        self.ends = time.monotonic() + self.seconds


class ServiceTimeout(Exception):
    """A bounded wait ran out; the message says what was awaited, where, and the last thing seen."""


class ServiceUnreachable(ServiceTimeout):
    """A service did not answer within the short wait of a preview or refresh; the message names the
    service, its URL and the likely cause."""


# What the last failed probe says about why a service does not answer, first match wins.
_LIKELY_CAUSES = (
    (("refused",), "nothing listens there: the service is stopped, or its container or pod was removed "
                   "(`make up` re-creates it), or the port-forward to it is not running"),
    (("NameResolution", "Name or service not known", "nodename nor servname", "getaddrinfo"),
     "the host name does not resolve: check the URL"),
    (("HTTP 5", "not ready"), "the service answers but is not ready: it is starting, or failing (see its logs)"),
    (("Timeout", "timed out"), "no answer in time: a firewall, a wrong address, or an overloaded service"),
)


def likely_cause(last_seen: str) -> str:
    """Why a service does not answer, guessed from the last thing a probe saw."""
    return next((cause for marks, cause in _LIKELY_CAUSES if any(mark in last_seen for mark in marks)),
                "see the last answer above")


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


def retrying(retry: Callable[[BaseException], bool], *, timeout: float, attempts: int | None = None) -> Retrying:
    """The retry layer of a call path: bounded exponential backoff with jitter while ``retry(error)`` holds,
    for at most ``timeout`` seconds and ``attempts`` tries (None: only the time bounds it); the last error
    is raised as it is."""
    return Retrying(retry=retry_if_exception(retry),
                    stop=stop_after_delay(timeout) | stop_after_attempt(attempts or sys.maxsize),
                    wait=backoff(first=0.2, most=5.0), reraise=True)


def transient(exc: BaseException, statuses: Iterable[int] = ()) -> bool:
    """Whether ``exc`` may pass when the request is sent again: no connection, a timeout, or an ApiError
    whose status is in ``statuses``."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    return isinstance(exc, ApiError) and exc.status in frozenset(statuses)


def maybe_sent(exc: BaseException) -> bool:
    """Whether a request that failed with ``exc`` may have reached the server (and run there): a read
    timeout, or a connection closed after the request was sent. No: an error while connecting (nothing
    listens, the name does not resolve, the connect timeout), or an answer."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps what went wrong
        return not isinstance(cause, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))
    return isinstance(exc, requests.Timeout)


def _retryable(statuses: Iterable[int], also: Callable[[BaseException], bool] | None,
               idempotent: bool) -> Callable[[BaseException], bool]:
    statuses = frozenset(statuses)
    return lambda exc: ((transient(exc, statuses) and (idempotent or not maybe_sent(exc)))
                        or (also is not None and also(exc)))


class HttpClient:
    """A JSON client for one service: base URL, auth, TLS verification, timeouts and retries."""

    def __init__(self, endpoint: Endpoint, *, default_headers: dict[str, str] | None = None,
                 observer: Callable[[str, str, int], None] | None = None, deadline: Deadline | None = None):
        self.endpoint = endpoint
        self.deadline = deadline
        self.base_url = endpoint.url.rstrip("/")
        self._session = requests.Session()
        self._session.verify = endpoint.verify
        self._session.headers.update({"Accept": "application/json", **(default_headers or {})})
        if endpoint.api_key:
            self._session.headers["Authorization"] = f"{endpoint.api_key_scheme} {endpoint.api_key}"
        elif endpoint.username is not None:
            self._session.auth = (endpoint.username, endpoint.password or "")
        self._observer = observer
        self._cap: Deadline | None = None

    def close(self) -> None:
        self._session.close()

    @contextlib.contextmanager
    def capped(self, seconds: float) -> Iterator[None]:
        """Within this block no request waits past ``seconds`` from now, whatever ``endpoint.timeout``: the
        wait of a preview or refresh for a service that takes the connection but never answers."""
        self._cap = Deadline(seconds)
        try:
            yield
        finally:
            self._cap = None

    def request_timeout(self, read_timeout: float | None = None) -> float | tuple[float, float]:
        """The timeout of the next request: ``endpoint.timeout`` to connect and ``read_timeout`` (default the
        same) to wait for the answer, each cut to what is left of a :meth:`capped` block (at least 0.1 s, so
        the request is still sent)."""
        connect = self.endpoint.timeout
        read = connect if read_timeout is None else read_timeout
        if self._cap is not None:
            connect, read = (max(0.1, self._cap.remaining(value)) for value in (connect, read))
        return connect if read == connect else (connect, read)

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, ok: Iterable[int] = (200, 201, 202, 204),
                retry_statuses: Iterable[int] = (), retry_timeout: float = 60.0,
                attempts: int | None = 8, idempotent: bool = True,
                retry_when: Callable[[BaseException], bool] | None = None,
                read_timeout: float | None = None) -> requests.Response:
        """Send one request; retry connection errors, ``retry_statuses`` and errors ``retry_when`` accepts
        with bounded backoff, for at most ``retry_timeout`` seconds (and never past the client's deadline)
        and ``attempts`` tries (None: only the time bounds the retries). A request that is not
        ``idempotent`` is never sent again after a failure that may have reached the server
        (:func:`maybe_sent`): that error is raised for the caller to look at what is there.
        ``read_timeout``: how long to wait for the answer once connected (default: the endpoint's
        ``timeout``, which also bounds connecting), for requests the server may take long to answer.

        Raises the ApiError subclass for any status not in ``ok`` (after retries), with the service's
        error message.
        """
        ok = frozenset(ok)
        url = self.url(path)
        json = whole_numbers(json)  # numbers arrive from the engine as floats; send 500, not 500.0

        def once() -> requests.Response:
            response = self._session.request(method, url, json=json, params=params, headers=headers,
                                             timeout=self.request_timeout(read_timeout))
            if self._observer:
                self._observer(method, path, response.status_code)
            if response.status_code not in ok:
                message, body = self.redact(error_message(response))
                raise api_error(method, url, response.status_code, message, body)
            return response

        return retrying(_retryable(retry_statuses, retry_when, idempotent), timeout=self.within(retry_timeout),
                        attempts=attempts)(once)

    def redact(self, value: T) -> T:
        """``value`` (text, or JSON made of dicts, lists and text) with this client's secrets (password,
        API key, and the basic-auth header made of them) replaced by ``[secret]``: a server may quote what
        it was sent in its error answers, which end up in error messages and logs."""
        secrets = [s for s in (self.endpoint.password, self.endpoint.api_key) if s]
        if self.endpoint.username is not None and self.endpoint.password:
            secrets.append(base64.b64encode(f"{self.endpoint.username}:{self.endpoint.password}".encode()).decode())
        return masked(value, secrets)

    def within(self, seconds: float) -> float:
        """``seconds``, cut to what is left of the client's deadline (if it has one)."""
        return seconds if self.deadline is None else self.deadline.remaining(seconds)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def get_or_none(self, path: str, **kwargs: Any) -> Any:
        """GET a JSON document, or None when the service answers 404."""
        return or_none(lambda: self.get_json(path, **kwargs))

    def wait_ready(self, path: str, *, ready: Callable[[requests.Response], bool] | None = None,
                   what: str = "service", timeout: float | None = None) -> None:
        """Poll ``path`` until it answers 2xx (and ``ready(response)`` holds), with bounded backoff.

        Raises ServiceTimeout naming the URL and the last answer after ``timeout`` seconds
        (default: the endpoint's ``ready_timeout``), and the ApiError of a 401 or 403 at once.
        """
        timeout = self.within(self.endpoint.ready_timeout if timeout is None else timeout)
        url = self.url(path)
        last = ["no answer yet"]

        def probe() -> bool:
            try:
                response = self._session.get(url, timeout=self.request_timeout())
            except requests.RequestException as exc:
                last[0] = f"{type(exc).__name__}: {exc}"
                return False
            if response.status_code in (401, 403):
                raise api_error("GET", url, response.status_code, *self.redact(error_message(response)))
            if response.status_code >= 300:
                last[0] = f"HTTP {response.status_code}: {self.redact(error_message(response)[0])}"
                return False
            if ready is not None and not ready(response):
                last[0] = f"HTTP {response.status_code}, not ready yet: {response.text[:200]}"
                return False
            return True

        wait_until(probe, timeout=timeout,
                   description=f"{what} at {url} to become ready", last_seen=lambda: last[0])


class ServiceClient(abc.ABC):
    """Base of the per-service API clients: one ``HttpClient`` for one endpoint, used as a context manager
    inside a provider method. The client's :class:`Deadline` is ``ready_timeout`` seconds from its
    creation: no retry or wait of the operation goes past it. ``service`` and ``credentials`` name the
    service and where its credentials come from in rejected-credentials errors."""

    service = "the service"
    credentials = "the configured credentials"
    retry_statuses: tuple[int, ...] = ()  # statuses that ``_request`` retries until the deadline
    endpoint_defaults: dict[str, Any] = {}  # Endpoint values of this service unless the inputs say otherwise

    def __init__(self, endpoint: Endpoint, *, default_headers: dict[str, str] | None = None,
                 observer: Callable[[str, str, int], None] | None = None):
        self.endpoint = endpoint
        self.deadline = Deadline(endpoint.ready_timeout)
        self.http = HttpClient(endpoint, default_headers=default_headers, observer=observer, deadline=self.deadline)

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_or_none(self, path: str) -> Any:
        """The JSON at ``path``, or None when the service answers 404."""
        return or_none(lambda: self._request("GET", path).json())

    def send(self, method: str, path: str, body: Any = None) -> Any:
        """``method`` ``path`` with the JSON ``body``; the JSON answer (None when it has no body)."""
        response = self._request(method, path, json=body)
        return response.json() if response.content else None

    def delete(self, path: str) -> bool:
        """DELETE ``path``; False when the object was already gone (404)."""
        return or_none(lambda: self._request("DELETE", path)) is not None

    @abc.abstractmethod
    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the service can serve requests, at most ``timeout`` seconds (default: what is left of
        the deadline); ServiceTimeout when it does not, the ApiError of rejected credentials at once."""

    def probe(self) -> None:
        """The wait of a preview or refresh: at most the endpoint's ``probe_timeout``. Raises
        ServiceUnreachable naming the service, its URL and the likely cause, and rejected credentials at
        once (naming whose)."""
        timeout = self.endpoint.probe_timeout
        try:
            with self.http.capped(timeout):
                self.wait_ready(timeout)
        except ServiceTimeout as exc:
            raise ServiceUnreachable(f"{self.service} at {self.endpoint.url} did not answer within {timeout:g} s: "
                                     f"{likely_cause(str(exc))} ({exc})") from None
        except ApiError as exc:
            raise self.auth_error(exc) from None

    def _wait_ready(self, path: str, *, ready: Callable[[requests.Response], bool] | None, what: str,
                    timeout: float | None) -> None:
        """``HttpClient.wait_ready`` within the deadline, with rejected credentials named."""
        try:
            self.http.wait_ready(path, ready=ready, what=what, timeout=self.within(timeout))
        except ApiError as exc:
            raise self.auth_error(exc) from None

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request with the service's ``retry_statuses``; 401/403 become an ApiError that says whose
        credentials were rejected."""
        try:
            return self.http.request(method, path, retry_statuses=self.retry_statuses, **kwargs)
        except ApiError as exc:
            raise self.auth_error(exc) from None

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
        return exc.reworded(f"{self.service} {what} {who}: {exc.message}. Check {self.credentials}.")

    def within(self, seconds: float | None = None) -> float:
        """``seconds`` (default: the endpoint's ``ready_timeout``) cut to what is left of the deadline."""
        return self.deadline.remaining(self.endpoint.ready_timeout if seconds is None else seconds)


def masked(value: T, secrets: Iterable[str]) -> T:
    """``value`` (text, or JSON made of dicts, lists and text) with each of ``secrets`` (longest first, so a
    secret inside another is not left half shown) replaced by ``[secret]``."""
    return _masked(value, sorted((s for s in secrets if s), key=len, reverse=True))


def _masked(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "[secret]")
        return value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_masked(item, secrets) for item in value)
    return value


def wait_until(condition: Callable[[], bool], *, timeout: float, description: str,
               last_seen: Callable[[], str] | None = None, max_interval: float = 5.0) -> None:
    """Call ``condition`` with bounded exponential backoff until it returns True or ``timeout`` passes.

    Raises ServiceTimeout("timed out after N s waiting for <description>; last seen: ...").
    """
    polling = Retrying(
        retry=lambda state: state.outcome is not None and not state.outcome.failed
        and state.outcome.result() is not True,
        stop=stop_after_delay(timeout),
        wait=backoff(first=0.1, most=max_interval),
    )
    try:
        polling(condition)
    except RetryError:
        seen = f"; last seen: {last_seen()}" if last_seen else ""
        raise ServiceTimeout(f"timed out after {round(timeout, 1):g} s waiting for {description}{seen}") from None
