"""A threaded in-process JSON HTTP server on 127.0.0.1 (free port) that the service fakes build on.

Subclasses register routes (method, path regex, handler, whether the call mutates). The base adds what
every fake needs: basic/bearer authentication, fault injection (``unavailable(n)``: the next n requests
answer 503; ``fail_next``: a given status/body for matching requests) and a log of every call, so tests
can count mutating requests.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

Handler = Callable[..., tuple[int, Any]]
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclasses.dataclass
class Call:
    method: str
    path: str
    status: int
    mutating: bool


@dataclasses.dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern
    handler: Handler
    mutating: bool
    public: bool


@dataclasses.dataclass
class _Fault:
    method: str
    path: re.Pattern
    status: int
    body: Any
    times: int


class FakeJsonServer:
    """Start with ``with Fake(...) as fake:``; ``fake.url`` is its base URL."""

    def __init__(self, *, username: str | None = None, password: str | None = None, token: str | None = None):
        self.username, self.password, self.token = username, password, token
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self._routes: list[_Route] = []
        self._faults: list[_Fault] = []
        self._unavailable = 0
        self._server: ThreadingHTTPServer | None = None

    # set-up ------------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, *, mutating: bool | None = None,
              public: bool = False) -> None:
        """``handler(body, query, *groups) -> (status, json)``; groups come from ``pattern``.

        ``mutating`` defaults to whether the method writes; ``public`` routes need no credentials.
        """
        is_mutating = method in MUTATING_METHODS if mutating is None else mutating
        self._routes.append(_Route(method, re.compile(f"^{pattern}$"), handler, is_mutating, public))

    def unavailable(self, requests: int) -> None:
        """The next ``requests`` requests (any path) answer ``unavailable_response()``."""
        with self.lock:
            self._unavailable = requests

    def fail_next(self, method: str, path_pattern: str, status: int, body: Any, times: int = 1) -> None:
        with self.lock:
            self._faults.append(_Fault(method, re.compile(f"^{path_pattern}$"), status, body, times))

    # what subclasses provide -------------------------------------------------------------------------
    def unavailable_response(self) -> tuple[int, Any]:
        return 503, {"message": "service unavailable"}

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        return 401, {"message": "unauthorized"}

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 404, {"message": f"no handler for {method} {path}"}

    # counting ----------------------------------------------------------------------------------------
    @property
    def mutating_calls(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.mutating]

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # lifecycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeJsonServer":
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = fake._dispatch(self.command, self.path, self.headers, raw)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # dispatch ----------------------------------------------------------------------------------------
    def _authorized(self, headers: Any) -> tuple[bool, str | None]:
        """Whether the request may pass, and the user name it presented (if any)."""
        if self.username is None and self.token is None:
            return True, None
        auth = headers.get("Authorization") or ""
        if self.token is not None and auth == f"Bearer {self.token}":
            return True, None
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return self.username is not None and (user, password) == (self.username, self.password), user
        return False, None

    def _dispatch(self, method: str, raw_path: str, headers: Any, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            route, groups = next(((r, m.groups()) for r in self._routes
                                  if r.method == method and (m := r.pattern.match(path))), (None, ()))
            status, body = self._answer(method, path, query, headers, raw, route, groups)
            mutating = route.mutating if route else method in MUTATING_METHODS
            self.calls.append(Call(method, path, status, mutating))
            return status, body

    def _answer(self, method: str, path: str, query: dict[str, str], headers: Any, raw: bytes,
                route: _Route | None, groups: tuple) -> tuple[int, Any]:
        if self._unavailable > 0:
            self._unavailable -= 1
            return self.unavailable_response()
        allowed, user = self._authorized(headers)
        if not (route and route.public) and not allowed:
            return self.unauthorized_response(path, user)
        for fault in self._faults:
            if fault.times > 0 and fault.method == method and fault.path.match(path):
                fault.times -= 1
                return fault.status, fault.body
        if route is None:
            return self.not_found_response(method, path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"message": "bad request data: not JSON"}
        return route.handler(body, query, *(None if g is None else unquote(g) for g in groups))
