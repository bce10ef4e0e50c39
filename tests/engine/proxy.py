"""A counting HTTP proxy: forwards every request to one service and logs it, so a test can assert how many
requests (and which writes) a real service received, as the fakes' own call logs say for them.

``with CountingProxy(target_url) as proxy:`` listens on a free 127.0.0.1 port (``proxy.url``); ``proxy.calls``
lists ``(method, path)`` in arrival order; ``proxy.writes()`` the ones with a writing method, except the
requests that only read although their method writes (``READS``: Kafka Connect's config validation, a PUT
that validates and stores nothing).
"""
from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS = re.compile(r"PUT /connector-plugins/[^/]+/config/validate")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                        "proxy-authorization", "proxy-authenticate", "host", "content-length"})
TIMEOUT = 120.0  # seconds the target may take to answer one request


class CountingProxy:
    def __init__(self, target: str):
        parsed = urllib.parse.urlsplit(target)
        self.target_host, self.target_port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    proxy.calls.append((self.command, self.path))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(proxy.target_host, proxy.target_port, timeout=TIMEOUT)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"proxy->{target}", daemon=True)

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [call for call in self.calls if call[0] in WRITING_METHODS and not READS.fullmatch(" ".join(call))]

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def __enter__(self) -> "CountingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
