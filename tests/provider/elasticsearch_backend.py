"""The ``es_backend`` fixture: the same Elasticsearch test bodies run against the FAKE and a REAL node.

``fake``: tests.fakes.elasticsearch.FakeElasticsearch, one per test, without credentials (like the real
node, which has no x-pack security). ``real``: the session fixture ``elasticsearch_node`` (tests/harness:
Elasticsearch 8.19.20 from Maven Central on the JVM, or testcontainers) — skipped with the reason when it
cannot start. Template names and index patterns are unique per test; every template and index a test names
is deleted afterwards.
"""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
import requests

from tests.fakes.elasticsearch import FakeElasticsearch


@dataclasses.dataclass
class ElasticsearchBackend:
    url: str
    kind: str  # "fake" | "real"
    fake: FakeElasticsearch | None = None
    prefix: str = dataclasses.field(default_factory=lambda: f"pytest-{uuid.uuid4().hex[:8]}-")
    templates: list[str] = dataclasses.field(default_factory=list)
    indices: list[str] = dataclasses.field(default_factory=list)

    def template_name(self, label: str) -> str:
        """A template name unique to this test; deleted at teardown."""
        self.templates.append(f"{self.prefix}{label}")
        return self.templates[-1]

    def index(self, label: str) -> str:
        """An index name unique to this test; deleted at teardown."""
        self.indices.append(f"{self.prefix}{label}")
        return self.indices[-1]

    # Direct calls, as an operator would make them with curl.
    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", json=body, timeout=30)

    def stored(self, name: str) -> dict | None:
        """The template as ``GET _index_template/<name>`` returns it, or None."""
        answer = self.call("GET", f"/_index_template/{name}")
        return answer.json()["index_templates"][0]["index_template"] if answer.status_code == 200 else None

    def cleanup(self) -> None:
        for name in self.templates:
            self.call("DELETE", f"/_index_template/{name}")
        for index in self.indices:
            self.call("DELETE", f"/{index}")


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.fake), pytest.param("real", marks=pytest.mark.real)])
def es_backend(request):
    if request.param == "fake":
        with FakeElasticsearch(builtin_templates=False) as fake:
            yield ElasticsearchBackend(fake.url, "fake", fake=fake)
        return
    node = request.getfixturevalue("elasticsearch_node")
    backend = ElasticsearchBackend(node.url, "real")
    yield backend
    backend.cleanup()


def filled(value, fill: dict):
    """``value`` (a request path or body) with ``{p}``-style fields filled from ``fill``, at any depth."""
    if isinstance(value, str):
        return value.format_map(fill)
    if isinstance(value, dict):
        return {filled(k, fill): filled(v, fill) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, fill) for v in value]
    return value


def divergences(backends: list, requests_: list, answer) -> str:
    """Each request of ``requests_`` (method, path, body) sent to the fake and the real backend, in order;
    the ones whose ``answer(backend, method, path, body)`` differ, described, or ""."""
    diverging = []
    for method, path, body in requests_:
        fake_answer, real_answer = (answer(b, method, path, body) for b in backends)
        if fake_answer != real_answer:
            diverging.append(f"{method} {path} {body}:\n  fake: {fake_answer}\n  real: {real_answer}")
    return "\n".join(diverging)
