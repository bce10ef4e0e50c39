"""The one framework the service fakes build on: a threaded in-process HTTP server on 127.0.0.1 (free port).

A fake subclasses ``FakeServer``, registers its routes and overrides the answers its real server gives
for the cases every fake has (unavailable, unauthorized, not found, unreadable body). Tests drive every
fake with the same vocabulary:

- lifecycle: ``with Fake(...) as fake:``; ``fake.url`` is its base URL.
- call log: ``fake.calls`` is every request answered, in order, as ``Call(method, path, status, mutating,
  body)`` (``path`` without the query string, ``body`` the parsed JSON request body or ``None``);
  ``fake.mutating_calls`` the calls that asked for a change; ``fake.calls_to(method, path)`` the calls
  to one endpoint; ``fake.reset_calls()`` forgets them (and what a fake derives from them).
- credentials: ``username``/``password`` (basic auth) and/or ``token``, sent as ``Authorization:
  <token_scheme> <token>`` (``token_scheme``: ``Bearer`` unless the fake's service uses another); a fake
  without any accepts every request.
- ``echo_credentials = True``: every error answer with a ``message`` quotes the credentials the request
  carried (the ``Authorization`` header, decoded), so a client that copies server messages into its
  errors would show them.
- faults, each for the next requests only: ``unavailable(n)``: the next n requests (any path) get the
  fake's own "not ready" answer; ``fail_next(method, path_pattern, status, body, times=1)``: the next
  ``times`` requests matching ``method`` (``"*"``: any) and the ``path_pattern`` regex get ``status`` and
  ``body`` (a ``RawBody`` for a non-JSON page); ``drop_next(n)``: the next n connections are closed
  without an answer (a server not listening yet; not logged, as nothing was answered);
  ``drop_answer_next(method, path_pattern, times=1, when=None)``: the next ``times`` matching requests
  (``when(body)``, if given, also holds for the parsed request body) are carried out
  (and logged) but their connection is closed before the answer is sent (a read timeout or a proxy that
  dropped the connection: the client cannot know whether the request ran).

Routes: ``route(method, pattern, handler)``; ``handler(body, query, *groups) -> (status, body)`` with
``query`` the last value of each query parameter and ``groups`` the pattern's (URL-decoded); a handler
may raise ``HttpError(status, body)``. A route is mutating when its method writes, unless ``mutating``
says otherwise (a bool, or a predicate on the request body for endpoints such as ksqlDB's ``/ksql``).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

Handler = Callable[..., tuple[int, Any]]
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_Fake = TypeVar("_Fake", bound="FakeServer")


@dataclasses.dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int
    mutating: bool
    body: Any = None


@dataclasses.dataclass(frozen=True)
class RawBody:
    """An answer that is not JSON (e.g. a web server's HTML error page)."""
    data: bytes
    content_type: str


class HttpError(Exception):
    """Raised by a handler: answer ``status`` with ``body``."""

    def __init__(self, status: int, body: Any):
        super().__init__(f"HTTP {status}")
        self.status, self.body = status, body


@dataclasses.dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern
    handler: Handler
    mutating: bool | Callable[[Any], bool]
    public: bool


@dataclasses.dataclass
class _Fault:
    method: str
    path: re.Pattern
    status: int
    body: Any
    times: int


class FakeServer:
    """Base of every fake; see the module docstring for the vocabulary."""

    content_type = "application/json"

    token_scheme = "Bearer"  # the Authorization scheme of ``token``

    def __init__(self, *, username: str | None = None, password: str | None = None, token: str | None = None):
        self.username, self.password, self.token = username, password, token
        self.echo_credentials = False
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self._routes: list[_Route] = []
        self._faults: list[_Fault] = []
        self._unavailable = 0
        self._drops = 0
        self._lost_answers: list[_Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # set-up ------------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, *,
              mutating: bool | Callable[[Any], bool] | None = None, public: bool = False) -> None:
        """Register ``handler`` for ``method`` and the full-match regex ``pattern``; ``public`` routes need
        no credentials. The first matching route wins."""
        is_mutating = method in MUTATING_METHODS if mutating is None else mutating
        self._routes.append(_Route(method, re.compile(f"^{pattern}$"), handler, is_mutating, public))

    # faults ------------------------------------------------------------------------------------------
    def unavailable(self, requests: int) -> None:
        """The next ``requests`` requests (any path) answer ``unavailable_response(path)``."""
        with self.lock:
            self._unavailable = requests

    def fail_next(self, method: str, path_pattern: str, status: int, body: Any, times: int = 1) -> None:
        """The next ``times`` requests of ``method`` (``"*"``: any) to a path matching ``path_pattern``
        answer ``status`` and ``body``."""
        if not (isinstance(method, str) and isinstance(path_pattern, str) and isinstance(status, int)):
            raise TypeError(f"fail_next(method, path_pattern, status, body, times=1), got {method!r}, "
                            f"{path_pattern!r}, {status!r}")
        with self.lock:
            self._faults.append(_Fault(method, re.compile(f"^{path_pattern}$"), status, body, times))

    def drop_next(self, connections: int) -> None:
        """Close the next ``connections`` connections without an answer (the client sees a connection error)."""
        with self.lock:
            self._drops += connections

    def drop_answer_next(self, method: str, path_pattern: str, times: int = 1,
                         when: Callable[[Any], bool] | None = None) -> None:
        """Carry out the next ``times`` requests of ``method`` (``"*"``: any) to a path matching
        ``path_pattern`` (and whose parsed body ``when`` accepts), then close their connections without
        sending the answer."""
        with self.lock:
            self._lost_answers.append(_Fault(method, re.compile(f"^{path_pattern}$"), 0, when, times))

    # what subclasses override ------------------------------------------------------------------------
    def unavailable_response(self, path: str) -> tuple[int, Any]:
        return 503, {"message": "service unavailable"}

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        return 401, {"message": "unauthorized"}

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 404, {"message": f"no handler for {method} {path}"}

    def bad_json_response(self, error: ValueError) -> tuple[int, Any]:
        return 400, {"message": "bad request data: not JSON"}

    # the call log ------------------------------------------------------------------------------------
    @property
    def mutating_calls(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.mutating]

    def calls_to(self, method: str, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # lifecycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "the fake is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self: _Fake) -> _Fake:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                if fake._take_drop():
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = fake._dispatch(self.command, self.path, self.headers, raw)
                if fake._take_lost_answer(self.command, urlsplit(self.path).path, raw):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(body, RawBody):
                    data, content_type = body.data, body.content_type
                else:
                    data, content_type = b"" if body is None else json.dumps(body).encode(), fake.content_type
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        return RequestHandler

    # dispatch ----------------------------------------------------------------------------------------
    def _take_drop(self) -> bool:
        with self.lock:
            if self._drops > 0:
                self._drops -= 1
                return True
            return False

    def _take_lost_answer(self, method: str, path: str, raw: bytes) -> bool:
        with self.lock:
            for fault in self._lost_answers:
                if fault.times > 0 and fault.method in (method, "*") and fault.path.match(path) \
                        and (fault.body is None or fault.body(json.loads(raw) if raw else None)):
                    fault.times -= 1
                    return True
            return False

    def _authorized(self, headers: Any) -> tuple[bool, str | None]:
        """Whether the request may pass, and the user name it presented (if any)."""
        if self.username is None and self.token is None:
            return True, None
        auth = headers.get("Authorization") or ""
        if self.token is not None and auth == f"{self.token_scheme} {self.token}":
            return True, None
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return self.username is not None and (user, password) == (self.username, self.password), user
        return False, None

    def _dispatch(self, method: str, raw_path: str, headers: Any, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body, bad_json = (json.loads(raw) if raw else None), None
        except ValueError as error:
            body, bad_json = None, error
        with self.lock:
            route, groups = next(((r, m.groups()) for r in self._routes
                                  if r.method == method and (m := r.pattern.match(path))), (None, ()))
            status, answer = self._answer(method, path, query, headers, body, bad_json, route, groups)
            if self.echo_credentials and status >= 400 and isinstance(answer, dict) and "message" in answer:
                answer = {**answer, "message": f"{answer['message']} (request credentials: {_sent(headers)})"}
            if route is None:
                mutating = method in MUTATING_METHODS
            else:
                mutating = route.mutating(body) if callable(route.mutating) else route.mutating
            self.calls.append(Call(method, path, status, mutating, body))
            return status, answer

    def _answer(self, method: str, path: str, query: dict[str, str], headers: Any, body: Any,
                bad_json: ValueError | None, route: _Route | None, groups: tuple) -> tuple[int, Any]:
        if self._unavailable > 0:
            self._unavailable -= 1
            return self.unavailable_response(path)
        allowed, user = self._authorized(headers)
        if not (route and route.public) and not allowed:
            return self.unauthorized_response(path, user)
        for fault in self._faults:
            if fault.times > 0 and fault.method in (method, "*") and fault.path.match(path):
                fault.times -= 1
                return fault.status, fault.body
        if route is None:
            return self.not_found_response(method, path)
        if bad_json is not None:
            return self.bad_json_response(bad_json)
        try:
            return route.handler(body, query, *(None if g is None else unquote(g) for g in groups))
        except HttpError as error:
            return error.status, error.body


def _sent(headers: Any) -> str:
    """The credentials a request carried, decoded, as a careless server would quote them in an error."""
    auth = headers.get("Authorization") or ""
    if auth.startswith("Basic "):
        return f"{auth} = {base64.b64decode(auth[6:]).decode()}"
    return auth or "none"
