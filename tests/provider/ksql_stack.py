"""``KsqlPipeline`` declared by a small program under Pulumi mocks, as the resources the engine would
receive (provider, inputs, property dependencies), for ``pulumi_engine.Deployment``."""
from __future__ import annotations

from typing import Mapping

from providers.ksqldb import KsqlPipeline
from tests.app_layer import registered
from tests.provider.pulumi_engine import Registered
from tests.pulumi_mocks import run_program


def declare(files: Mapping[str, str], variables: Mapping[str, str] | None = None, *, url: str,
            streams_properties: Mapping[str, str] | None = None, **options) -> list[Registered]:
    """The resources ``KsqlPipeline("ksql", ...)`` registers, in registration order."""
    options.setdefault("ready_timeout", 5)
    return registered(run_program(lambda: {"ksql": KsqlPipeline(
        "ksql", ksqldb_url=url, sources=dict(files), variables=dict(variables or {}),
        streams_properties=dict(streams_properties or {"auto.offset.reset": "earliest"}), **options)}))
