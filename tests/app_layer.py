"""The dev stack's whole application layer, driven against the in-process FAKES of its four services.

The stack program (``__main__.py``) runs under Pulumi mocks to get every dynamic resource exactly as it
would be registered (inputs and the dill-serialized provider); ``fake_services`` starts the fakes, and
``pointed_at`` rewrites each resource's service URL to them. Used by a provider test and the benchmark.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
from typing import Any, Iterator

import dill

from tests.fakes.connect import DATAGEN, ELASTICSEARCH_SINK, FakeConnect
from tests.fakes.elasticsearch import FakeElasticsearch
from tests.fakes.grafana import FakeGrafana
from tests.fakes.ksqldb import FakeKsqlDb
from tests.pulumi_mocks import run_stack

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key Pulumi marks a secret value with
GRAFANA_PASSWORD = "test-grafana-pw"  # the secret tests/pulumi_mocks.run_stack sets
URL_KEYS = {"connect_url": "connect", "ksqldb_url": "ksqldb", "elasticsearch_url": "elasticsearch",
            "grafana_url": "grafana"}
CONTENT_PLUGINS = (DATAGEN, ELASTICSEARCH_SINK)


@dataclasses.dataclass
class AppResource:
    name: str
    provider: Any
    inputs: dict[str, Any]


@dataclasses.dataclass
class FakeServices:
    connect: FakeConnect
    ksqldb: FakeKsqlDb
    elasticsearch: FakeElasticsearch
    grafana: FakeGrafana

    def url(self, service: str) -> str:
        return getattr(self, service).url


def plain(value: Any) -> Any:
    """Inputs as a provider receives them: secrets unwrapped (the engine hands providers plain values)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def app_layer(stack: str = "dev") -> list[AppResource]:
    """Every dynamic resource of ``stack``, in declaration (= dependency) order."""
    resources = []
    for declared in run_stack(stack).resources:
        if declared.type.startswith("pulumi-python:dynamic"):
            inputs = plain(declared.inputs)
            provider = dill.loads(base64.b64decode(inputs["__provider"]))
            resources.append(AppResource(declared.name, provider, inputs))
    return resources


@contextlib.contextmanager
def fake_services() -> Iterator[FakeServices]:
    with FakeConnect(extra_plugins=CONTENT_PLUGINS) as connect, FakeKsqlDb() as ksqldb, \
            FakeElasticsearch() as es, FakeGrafana(username="admin", password=GRAFANA_PASSWORD) as grafana:
        yield FakeServices(connect, ksqldb, es, grafana)


def pointed_at(resources: list[AppResource], fakes: FakeServices) -> list[AppResource]:
    """The resources with their service URLs replaced by the fakes' URLs."""
    return [AppResource(r.name, r.provider,
                        {**r.inputs, **{k: fakes.url(s) for k, s in URL_KEYS.items() if k in r.inputs}})
            for r in resources]
