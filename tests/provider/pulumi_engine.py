"""What the Pulumi engine does with one dynamic resource, driven in-process for provider tests.

``up`` runs check -> create, or check -> diff -> update / replace (honouring ``delete_before_replace``),
``refresh`` runs read, ``destroy`` runs delete. Inputs and outputs cross the same protobuf encoding as
in the engine (``over_the_wire``: numbers become floats, secrets plain values, unknowns ``Unknown``).
``dill_round_trip`` serializes a provider exactly as Pulumi does when it registers a dynamic resource,
and loads it back the way the provider process does.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
from typing import Any

import dill
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc


@dataclasses.dataclass
class Deployed:
    id: str
    inputs: dict[str, Any]
    outs: dict[str, Any]


class CheckFailed(Exception):
    pass


def dill_round_trip(provider: ResourceProvider) -> ResourceProvider:
    return dill.loads(base64.b64decode(serialize_provider(provider)))


def over_the_wire(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` as the provider process receives them: serialized to protobuf and back."""
    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def check(provider: ResourceProvider, news: dict[str, Any], old: Deployed | None = None) -> dict[str, Any]:
    result = provider.check(old.inputs if old else {}, over_the_wire(dict(news)))
    if result.failures:
        raise CheckFailed("; ".join(f"{f.property}: {f.reason}" for f in result.failures))
    return over_the_wire(result.inputs)


def up(provider: ResourceProvider, news: dict[str, Any], old: Deployed | None = None) -> Deployed:
    inputs = check(provider, news, old)
    if old is None:
        created = provider.create(inputs)
        return Deployed(created.id, inputs, over_the_wire(created.outs))
    diff = provider.diff(old.id, old.outs, inputs)
    if not diff.changes:
        return old
    if diff.replaces:
        if diff.delete_before_replace:
            provider.delete(old.id, old.outs)
        created = provider.create(inputs)
        if not diff.delete_before_replace:
            provider.delete(old.id, old.outs)
        return Deployed(created.id, inputs, over_the_wire(created.outs))
    updated = provider.update(old.id, old.outs, inputs)
    return Deployed(old.id, inputs, over_the_wire(updated.outs))


def refresh(provider: ResourceProvider, deployed: Deployed) -> Deployed | None:
    """The refreshed state, or None when the object is gone (the engine drops it from state)."""
    read = provider.read(deployed.id, deployed.outs)
    return Deployed(read.id, deployed.inputs, over_the_wire(read.outs)) if read.id else None


def destroy(provider: ResourceProvider, deployed: Deployed) -> None:
    provider.delete(deployed.id, deployed.outs)
