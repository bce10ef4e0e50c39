"""The framework every fake builds on (tests/fakes/server.py): routes, the call log and the fault vocabulary."""
from __future__ import annotations

import pytest
import requests

from tests.fakes.server import Call, FakeServer, HttpError, RawBody


class Notes(FakeServer):
    """A two-endpoint service: notes by name; ``POST /query`` changes state only for a ``write`` query."""

    def __init__(self, **auth: str) -> None:
        super().__init__(**auth)
        self.notes: dict[str, str] = {}
        self.route("GET", "/health", lambda body, query: (200, {"ok": True}), public=True)
        self.route("GET", "/notes/([^/]+)", self._get)
        self.route("PUT", "/notes/([^/]+)", self._put)
        self.route("POST", "/query", lambda body, query: (200, {"echo": body}),
                   mutating=lambda body: isinstance(body, dict) and body.get("kind") == "write")

    def _get(self, body: object, query: dict[str, str], name: str) -> tuple[int, object]:
        if name not in self.notes:
            raise HttpError(404, {"message": f"no note {name}", "verbose": query.get("verbose")})
        return 200, {"name": name, "text": self.notes[name]}

    def _put(self, body: dict, query: dict[str, str], name: str) -> tuple[int, object]:
        self.notes[name] = body["text"]
        return 201, None


def test_fake_call_log_records_every_answer_with_its_body_and_whether_it_asked_for_a_change():
    with Notes() as fake:
        assert requests.put(f"{fake.url}/notes/a%20b", json={"text": "x"}, timeout=5).status_code == 201
        missing = requests.get(f"{fake.url}/notes/c?verbose=1", timeout=5)
        assert (missing.status_code, missing.json()) == (404, {"message": "no note c", "verbose": "1"})
        requests.post(f"{fake.url}/query", json={"kind": "read"}, timeout=5)
        requests.post(f"{fake.url}/query", json={"kind": "write"}, timeout=5)
        assert fake.notes == {"a b": "x"}  # groups arrive URL-decoded
        assert fake.calls == [Call("PUT", "/notes/a%20b", 201, True, {"text": "x"}),
                              Call("GET", "/notes/c", 404, False, None),
                              Call("POST", "/query", 200, False, {"kind": "read"}),
                              Call("POST", "/query", 200, True, {"kind": "write"})]
        assert [c.path for c in fake.mutating_calls] == ["/notes/a%20b", "/query"]
        assert [c.status for c in fake.calls_to("GET", "/notes/c")] == [404]
        fake.reset_calls()
        assert fake.calls == [] and fake.mutating_calls == []


def test_fake_faults_answer_the_next_requests_only():
    with Notes() as fake:
        fake.unavailable(2)
        assert [requests.get(f"{fake.url}/health", timeout=5).status_code for _ in range(3)] == [503, 503, 200]
        fake.fail_next("PUT", "/notes/.*", 409, {"message": "busy"}, times=2)
        fake.fail_next("*", ".*", 404, RawBody(b"<html>gone</html>", "text/html"))
        page = requests.get(f"{fake.url}/notes/a", timeout=5)
        assert (page.status_code, page.headers["Content-Type"], page.text) == (404, "text/html", "<html>gone</html>")
        statuses = [requests.put(f"{fake.url}/notes/a", json={"text": "x"}, timeout=5).status_code
                    for _ in range(3)]
        assert statuses == [409, 409, 201]


def test_fake_dropped_connections_are_not_answered_nor_logged():
    with Notes() as fake:
        fake.drop_next(1)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{fake.url}/health", timeout=5)
        assert requests.get(f"{fake.url}/health", timeout=5).status_code == 200
        assert [c.status for c in fake.calls] == [200]


def test_fake_lost_answers_are_carried_out_and_logged_but_not_answered():
    with Notes() as fake:
        fake.drop_answer_next("PUT", "/notes/.*")
        with pytest.raises(requests.ConnectionError):
            requests.put(f"{fake.url}/notes/a", json={"text": "x"}, timeout=5)
        assert requests.get(f"{fake.url}/notes/a", timeout=5).status_code == 200  # the PUT ran
        assert [(c.method, c.status) for c in fake.calls] == [("PUT", 201), ("GET", 200)]


def test_fake_credentials_unreadable_bodies_and_unknown_routes_get_the_fakes_answers():
    with Notes(username="u", password="p") as fake:
        assert requests.get(f"{fake.url}/health", timeout=5).status_code == 200  # a public route
        assert requests.get(f"{fake.url}/notes/a", auth=("u", "wrong"), timeout=5).status_code == 401
        bad = requests.put(f"{fake.url}/notes/a", data=b"{", auth=("u", "p"), timeout=5)
        assert (bad.status_code, bad.json()) == (400, {"message": "bad request data: not JSON"})
        assert requests.delete(f"{fake.url}/notes/a", auth=("u", "p"), timeout=5).status_code == 404


def test_fake_fail_next_refuses_the_old_argument_order():
    with pytest.raises(TypeError, match=r"fail_next\(method, path_pattern, status, body"):
        Notes().fail_next(2, 503, "Worker is still starting up.", frozenset({"GET"}))  # type: ignore[arg-type]
