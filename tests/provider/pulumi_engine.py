"""A MODEL of what the Pulumi engine does with dynamic resources, driven in-process for provider tests.

The real engine (CLI 3.274.1 through the Automation API) runs the whole application layer in
``tests/engine/``; this model stays where the real engine cannot serve: one provider's create / diff /
update / replace / read / delete against a fake with faults injected per request, in milliseconds and
without a CLI (provider tier), the status chain and the benchmarks, and the Docker tier. Where it differs
from the real engine (issue 18, held against 3.274.1):

- steps run one at a time in program order; the engine runs independent steps in parallel (default
  parallelism), so two chains of dependent replacements can interleave (tests/engine/test_engine_fixes.py);
- a create-before-delete replacement deletes the old resource right after creating the new one; the engine
  deletes replaced resources at the end of the update;
- at preview no output is unknown; the engine gives a dynamic resource's output-only fields to the resources
  that read them as unknown;
- no pending-replacement state (a delete-before-replace that fails between its delete and its create);
- destroy deletes in reverse registration order; the engine in reverse dependency order of its state,
  which after a replacement can differ;
- secrets reach providers as plain values and state is a Python dict; the engine keeps them encrypted;
- providers run in the test's process, not in a ``pulumi-resource-pulumi-python`` plugin process (``dill``
  round trips are modelled by ``dill_round_trip``); no component resources, aliases or refresh diffs.

:class:`Deployment` drives a stack of them (see there); ``up`` is a deployment of one resource: check ->
create, or check -> diff -> update / replace (honouring ``delete_before_replace``); ``refresh`` runs read,
``destroy`` runs delete. Inputs and outputs cross the same protobuf encoding as
in the engine (``over_the_wire``: numbers become floats, secrets plain values, unknowns ``Unknown``).
``dill_round_trip`` serializes a provider exactly as Pulumi does when it registers a dynamic resource,
and loads it the way the provider host does, in a separate process.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import pathlib
import selectors
import subprocess
import sys
from typing import Any

import dill
import grpc
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc


@dataclasses.dataclass
class Deployed:
    id: str
    inputs: dict[str, Any]
    outs: dict[str, Any]


class CheckFailed(Exception):
    pass


ROOT = pathlib.Path(__file__).resolve().parents[2]
HOST_START_TIMEOUT = 60.0  # seconds for the provider host to start and print its port


def dill_round_trip(provider: ResourceProvider) -> ResourceProvider:
    """``provider`` serialized as Pulumi does, then loaded by the dynamic provider host itself in another
    process, as the engine runs it (``python -m pulumi.dynamic`` in the project folder, sent ``Configure``
    and then ``Check`` over gRPC: the host decodes the provider with dill and runs its ``check``). dill
    pickles importable classes by reference, so only another process shows whether the host can import
    what they refer to. AssertionError with the host's error when it cannot load or run the provider.
    Returns a copy loaded here, for the test to drive."""
    serialized = serialize_provider(provider)
    name = f"{type(provider).__module__}.{type(provider).__qualname__}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    host = subprocess.Popen([sys.executable, "-m", "pulumi.dynamic"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = _first_line(host, HOST_START_TIMEOUT)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.Configure(proto.ConfigureRequest(args=_struct({})), timeout=60)
            stub.Check(proto.CheckRequest(urn=f"urn:pulumi:test::clickstream::{name}::host", olds=_struct({}),
                                          news=_struct({PROVIDER_KEY: serialized})), timeout=60)
    except grpc.RpcError as exc:
        raise AssertionError(f"the provider host could not load or run {name}: {exc.details()}") from None
    finally:
        host.kill()
        host.communicate()
    return dill.loads(base64.b64decode(serialized))


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line ``process`` prints, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"the provider host printed no port within {timeout:g} s")
    line = process.stdout.readline().strip()
    if not line:
        raise AssertionError(f"the provider host exited: {process.communicate()[1][-1500:]}")
    return line


def _struct(props: dict[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def over_the_wire(props: dict[str, Any] | None) -> dict[str, Any]:
    """``props`` as the provider process receives them: serialized to protobuf and back (None: empty)."""
    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(props or {}, {}))
    finally:
        loop.close()
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def check(provider: ResourceProvider, news: dict[str, Any], old: Deployed | None = None) -> dict[str, Any]:
    result = provider.check(old.inputs if old else {}, over_the_wire(dict(news)))
    if result.failures:
        raise CheckFailed("; ".join(f"{f.property}: {f.reason}" for f in result.failures))
    return over_the_wire(result.inputs)


def up(provider: ResourceProvider, news: dict[str, Any], old: Deployed | None = None) -> Deployed:
    """``pulumi up`` of a stack holding this one resource (see :class:`Deployment`)."""
    stack = Deployment()
    if old is not None:
        stack.state["resource"] = _Stored(old, provider, {})
    stack.up([Registered("resource", provider, news)])
    return stack.state["resource"].deployed


def refresh(provider: ResourceProvider, deployed: Deployed) -> Deployed | None:
    """The refreshed state, or None when the object is gone (the engine drops it from state)."""
    read = provider.read(deployed.id, deployed.outs)
    return Deployed(read.id, deployed.inputs, over_the_wire(read.outs)) if read.id else None


def destroy(provider: ResourceProvider, deployed: Deployed) -> None:
    provider.delete(deployed.id, deployed.outs)


@dataclasses.dataclass
class Registered:
    """One resource as the program registers it: ``property_dependencies`` maps an input to the names of
    the resources its value came from (what the engine substitutes with unknowns in a cascade)."""

    name: str
    provider: ResourceProvider
    inputs: dict[str, Any]
    property_dependencies: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Stored:
    deployed: Deployed
    provider: ResourceProvider
    property_dependencies: dict[str, tuple[str, ...]]


class Deployment:
    """A stack of dynamic resources driven the way the engine's step generator drives them
    (pulumi/pulumi ``pkg/resource/deploy/step_generator.go``):

    - resources are registered in program order: check, then create, or diff -> same / update / replace;
    - a replacement is delete-before-replace when the provider says so; then, before deleting it, the
      engine asks every resource that (transitively) takes an input from it whether it would be replaced
      with those inputs unknown (``calculateDependentReplacements``), deletes those dependents first,
      newest first, and recreates each one without another diff when the program registers it again;
    - resources the program no longer registers are deleted at the end, newest first.

    ``preview`` makes the same decisions (check and diff only, no create/update/delete) and returns them.
    """

    def __init__(self) -> None:
        self.state: dict[str, _Stored] = {}

    def preview(self, program: list[Registered]) -> dict[str, str]:
        return self._run(program, execute=False)

    def up(self, program: list[Registered]) -> dict[str, str]:
        """Apply ``program``; returns name -> create | same | update | replace | delete."""
        return self._run(program, execute=True)

    def refresh(self) -> dict[str, str]:
        """``pulumi refresh``: name -> same | changed | gone (gone ones leave the state)."""
        result = {}
        for name, stored in list(self.state.items()):
            refreshed = refresh(stored.provider, stored.deployed)
            if refreshed is None:
                del self.state[name]
                result[name] = "gone"
            else:
                result[name] = "same" if refreshed.outs == stored.deployed.outs else "changed"
                stored.deployed = refreshed
        return result

    def destroy(self) -> None:
        for name in reversed(list(self.state)):
            stored = self.state.pop(name)
            stored.provider.delete(stored.deployed.id, stored.deployed.outs)

    def _run(self, program: list[Registered], execute: bool) -> dict[str, str]:
        ops: dict[str, str] = {}
        cascaded: set[str] = set()
        for resource in program:
            old = self.state.get(resource.name)
            inputs = check(resource.provider, resource.inputs, old.deployed if old else None)
            if resource.name in cascaded or old is None:
                ops[resource.name] = "replace" if old or resource.name in cascaded else "create"
                if execute:
                    created = resource.provider.create(inputs)
                    self._store(resource, Deployed(created.id, inputs, over_the_wire(created.outs)))
                continue
            diff = resource.provider.diff(old.deployed.id, old.deployed.outs, inputs)
            if not diff.changes:
                ops[resource.name] = "same"
            elif diff.replaces:
                ops[resource.name] = "replace"
                if diff.delete_before_replace:
                    for name in reversed(self._dependent_replacements(resource.name, set(ops))):
                        cascaded.add(name)
                        ops[name] = "replace"
                        if execute:
                            gone = self.state.pop(name)
                            gone.provider.delete(gone.deployed.id, gone.deployed.outs)
                if execute:
                    if diff.delete_before_replace:
                        resource.provider.delete(old.deployed.id, old.deployed.outs)
                        del self.state[resource.name]
                    created = resource.provider.create(inputs)
                    if not diff.delete_before_replace:
                        resource.provider.delete(old.deployed.id, old.deployed.outs)
                    self._store(resource, Deployed(created.id, inputs, over_the_wire(created.outs)))
            else:
                ops[resource.name] = "update"
                if execute:
                    updated = resource.provider.update(old.deployed.id, old.deployed.outs, inputs)
                    self._store(resource, Deployed(old.deployed.id, inputs, over_the_wire(updated.outs)))
        registered = {r.name for r in program}
        for name in reversed(list(self.state)):
            if name not in registered:
                ops[name] = "delete"
                if execute:
                    stored = self.state.pop(name)
                    stored.provider.delete(stored.deployed.id, stored.deployed.outs)
        for name in cascaded - registered:
            ops[name] = "delete"
        return ops

    def _store(self, resource: Registered, deployed: Deployed) -> None:
        self.state[resource.name] = _Stored(deployed, resource.provider, dict(resource.property_dependencies))

    def _dependent_replacements(self, root: str, registered: set[str]) -> list[str]:
        """Dependents of ``root`` (in state order) whose provider says they are replaced when their inputs
        taken from a replaced resource are unknown."""
        replacing, found = {root}, []
        for name, stored in self.state.items():
            if name in registered or name == root:
                continue
            depends = {key for key, deps in stored.property_dependencies.items() if replacing & set(deps)}
            if not depends:
                continue
            news = {k: (rpc.UNKNOWN if k in depends else v) for k, v in stored.deployed.inputs.items()}
            diff = stored.provider.diff(stored.deployed.id, stored.deployed.outs, over_the_wire(news))
            if diff.replaces:
                replacing.add(name)
                found.append(name)
        return found
