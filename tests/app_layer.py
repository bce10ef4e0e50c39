"""Application-layer resources as the engine receives them, and the in-process FAKES of their services.

A program (the stack's ``__main__.py``, or any function declaring resources) runs under Pulumi mocks;
``registered`` turns every dynamic resource it declared into what the engine would hand its provider
(inputs with secrets unwrapped, the dill-serialized provider, property dependencies), ready for
``tests.provider.pulumi_engine.Deployment``. ``fake_services`` starts the fakes of the four services and
``pointed_at`` rewrites each resource's service URL to them. Used by provider tests, the integration tier
and the benchmarks.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
from typing import Iterator

import dill

from tests.fakes.connect import DATAGEN, ELASTICSEARCH_SINK, FakeConnect
from tests.fakes.elasticsearch import FakeElasticsearch
from tests.fakes.grafana import FakeGrafana
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.pulumi_engine import Registered
from tests.pulumi_mocks import Graph, plain, run_stack

GRAFANA_PASSWORD = "test-grafana-pw"  # the secret tests/pulumi_mocks.run_stack sets
URL_KEYS = {"connect_url": "connect", "ksqldb_url": "ksqldb", "elasticsearch_url": "elasticsearch",
            "grafana_url": "grafana"}
CONTENT_PLUGINS = (DATAGEN, ELASTICSEARCH_SINK)


@dataclasses.dataclass
class FakeServices:
    connect: FakeConnect
    ksqldb: FakeKsqlDb
    elasticsearch: FakeElasticsearch
    grafana: FakeGrafana

    def url(self, service: str) -> str:
        return getattr(self, service).url


def registered(graph: Graph) -> list[Registered]:
    """Every dynamic resource ``graph`` declared, in registration (= dependency) order."""
    names = {r.urn: r.name for r in graph.resources}
    resources = []
    for declared in graph.resources:
        if declared.custom and declared.type.startswith("pulumi-python:dynamic"):
            inputs = plain(declared.inputs)
            provider = dill.loads(base64.b64decode(inputs["__provider"]))
            dependencies = {key: tuple(names[u] for u in urns if u in names)
                            for key, urns in declared.property_dependencies.items()}
            resources.append(Registered(declared.name, provider, inputs, dependencies))
    return resources


def app_layer(stack: str = "dev") -> list[Registered]:
    """Every dynamic resource of ``stack``'s program, in registration order."""
    return registered(run_stack(stack))


@contextlib.contextmanager
def fake_services() -> Iterator[FakeServices]:
    with FakeConnect(extra_plugins=CONTENT_PLUGINS) as connect, FakeKsqlDb() as ksqldb, \
            FakeElasticsearch() as es, FakeGrafana(username="admin", password=GRAFANA_PASSWORD) as grafana:
        yield FakeServices(connect, ksqldb, es, grafana)


def pointed_at(resources: list[Registered], fakes: FakeServices) -> list[Registered]:
    """The resources with their service URLs replaced by the fakes' URLs."""
    return [dataclasses.replace(r, inputs={**r.inputs, **{k: fakes.url(s) for k, s in URL_KEYS.items()
                                                           if k in r.inputs}})
            for r in resources]
