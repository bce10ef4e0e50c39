"""``KsqlPipeline`` declared by a small program under Pulumi mocks, as the resources the engine would
receive (provider, inputs, property dependencies), for ``pulumi_engine.Deployment``."""
from __future__ import annotations

import base64
from typing import Mapping

import dill

from providers.ksqldb import KsqlPipeline
from tests.app_layer import plain
from tests.provider.pulumi_engine import Registered
from tests.pulumi_mocks import run_program


def declare(files: Mapping[str, str], variables: Mapping[str, str] | None = None, *, url: str,
            streams_properties: Mapping[str, str] | None = None, **options) -> list[Registered]:
    """The resources ``KsqlPipeline("ksql", ...)`` registers, in registration order."""
    options.setdefault("ready_timeout", 5)
    graph = run_program(lambda: {"ksql": KsqlPipeline(
        "ksql", ksqldb_url=url, sources=dict(files), variables=dict(variables or {}),
        streams_properties=dict(streams_properties or {"auto.offset.reset": "earliest"}), **options)})
    names = {r.urn: r.name for r in graph.resources}
    registered = []
    for declared in graph.resources:
        if declared.custom and declared.type.startswith("pulumi-python:dynamic"):
            inputs = plain(declared.inputs)
            provider = dill.loads(base64.b64decode(inputs["__provider"]))
            dependencies = {key: tuple(names[u] for u in urns if u in names)
                            for key, urns in declared.property_dependencies.items()}
            registered.append(Registered(declared.name, provider, inputs, dependencies))
    return registered
