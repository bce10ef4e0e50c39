"""Run the real stack program (``__main__.py``) under Pulumi mocks and record every resource it declares."""
from __future__ import annotations

import dataclasses
import pathlib
import runpy
import threading
from typing import Any, Callable, Mapping

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key Pulumi marks a secret value with


def is_secret(value: Any) -> bool:
    """Whether a recorded input is a Pulumi secret."""
    return isinstance(value, dict) and SECRET_SIG in value


def plain(value: Any) -> Any:
    """Inputs as a provider receives them: secrets unwrapped (the engine hands providers plain values)."""
    if isinstance(value, dict):
        return plain(value["value"]) if SECRET_SIG in value else {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclasses.dataclass
class Declared:
    """One resource the program declared: Pulumi type token, logical name, resolved inputs, options.

    ``urn``, ``parent`` (URN), ``dependencies`` (URNs of explicit and Output-derived dependencies),
    ``property_dependencies`` (input name -> URNs its value came from), ``aliases`` (the URNs its alias specs
    name, see :func:`engine_urn`), ``protect`` and ``additional_secret_outputs`` come from the registration
    request (recorded by :class:`RecordingMonitor`)."""

    type: str
    name: str
    inputs: dict[str, Any]
    provider: str | None
    custom: bool
    urn: str = ""
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    protect: bool = False
    additional_secret_outputs: tuple[str, ...] = ()


def _computed_outputs(type_token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs the real provider computes that the program reads (so Output wiring resolves under mocks)."""
    if type_token == "docker:index/remoteImage:RemoteImage":
        return {"imageId": f"sha256:mock-image-id-of-{inputs.get('name')}"}
    if "object_name" in inputs:  # a ksqlDB object: its topic (named like it), a table's persistent query
        query = {"query_id": f"CTAS_{inputs['object_name']}_0"} if inputs.get("kind") == "TABLE" else {}
        return {"topic": inputs["object_name"], **query}
    return {}


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Declared] = []
        # the registration request being handled on this thread (set by RecordingMonitor)
        self.registering = threading.local()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        declared = Declared(args.typ, args.name, dict(args.inputs), args.provider, bool(args.custom))
        request = getattr(self.registering, "request", None)
        if request is not None:
            declared.parent = request.parent
            declared.dependencies = tuple(request.dependencies)
            declared.property_dependencies = {key: tuple(deps.urns)
                                              for key, deps in request.propertyDependencies.items()}
            declared.protect = bool(request.protect)
            declared.additional_secret_outputs = tuple(request.additionalSecretOutputs)
            self.registering.declared = declared
        self.resources.append(declared)
        return f"{args.name}-id", {**args.inputs, **_computed_outputs(args.typ, args.inputs)}

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, also recording each resource's URN, parent, dependencies and protect flag
    (``MockResourceArgs`` does not carry them)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recorder = mocks

    def RegisterResource(self, request):
        # registrations run on several threads; the base class calls new_resource on this one
        self.recorder.registering.request = request
        self.recorder.registering.declared = None
        try:
            response = super().RegisterResource(request)
        finally:
            self.recorder.registering.request = None
        declared = self.recorder.registering.declared
        if declared is not None:
            declared.urn = response.urn
            declared.aliases = tuple(_alias_urn(request, alias.spec, response.urn) for alias in request.aliases
                                     if alias.WhichOneof("alias") == "spec")
        return response


def engine_urn(urn: str) -> str:
    """``urn`` as the Pulumi engine forms it: a child of the stack carries no parent type (the mock
    monitor's URNs do)."""
    return urn.replace("::pulumi:pulumi:Stack$", "::")


def _alias_urn(request: Any, spec: Any, own_urn: str) -> str:
    """The URN an alias spec names, formed as the engine forms it: name, type, stack, project and parent
    default to the resource's own; ``noParent`` means a child of the stack."""
    stack, project = own_urn.split("::")[0].removeprefix("urn:pulumi:"), own_urn.split("::")[1]
    parent = "" if spec.noParent else (spec.parentUrn or request.parent)
    parent_type = engine_urn(parent).split("::")[2] if parent else ""
    kind = spec.type or request.type
    qualified = f"{parent_type}${kind}" if parent_type and parent_type != "pulumi:pulumi:Stack" else kind
    return f"urn:pulumi:{spec.stack or stack}::{spec.project or project}::{qualified}::{spec.name or request.name}"


@dataclasses.dataclass
class Graph:
    """Everything one run of the program declared, with look-up helpers for assertions.

    ``outputs``: Outputs bound to names in ``__main__.py``; ``exports``: the resolved stack outputs
    (``pulumi.export``), resolved to plain values; ``namespace``: every name ``__main__.py`` bound
    (e.g. ``services``), for checks on the objects the program passed between its layers."""

    resources: list[Declared]
    outputs: dict[str, Any]
    exports: dict[str, Any] = dataclasses.field(default_factory=dict)
    namespace: dict[str, Any] = dataclasses.field(default_factory=dict)

    @staticmethod
    def resolve(value: Any) -> Any:
        """The plain value of an Output (or any input) the program created."""
        return _sync_await(pulumi.Output.from_input(value).future(with_unknowns=True))

    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Declared:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(matches)}: "
                                 f"{sorted(r.name for r in self.resources)}")
        return matches[0]

    def by_urn(self, urn: str) -> Declared:
        return next(r for r in self.resources if r.urn == urn)

    def dependency_names(self, name: str) -> set[str]:
        """Logical names of the resources ``name`` was registered as depending on."""
        return {self.by_urn(urn).name for urn in self.named(name).dependencies}

    def parent_name(self, name: str) -> str | None:
        parent = self.named(name).parent
        matches = [r.name for r in self.resources if r.urn == parent]
        return matches[0] if matches else None


def base_config(stack: str) -> dict[str, str]:
    """The stack's own ``Pulumi.<stack>.yaml`` config, as the CLI would pass it (namespace stripped)."""
    import yaml

    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    return {k.split(":", 1)[1]: str(v) for k, v in (doc.get("config") or {}).items()}


def _namespaced(key: str) -> str:
    return key if ":" in key else f"clickstream:{key}"


def run_stack(stack: str, config: Mapping[str, Any] | None = None,
              secrets: Mapping[str, str] | None = None, preview: bool = False) -> Graph:
    """Run ``__main__.py`` for ``stack`` with its stack file's config plus ``config``/``secrets``.

    Keys without a namespace are the project's (``clickstream:``); a key with one (``kubernetes:context``)
    is passed as it is. Secrets default to test passwords for grafanaAdminPassword and
    elasticsearchPassword; pass ``secrets={}`` to leave them unset.
    """
    values = {**base_config(stack), **{k: str(v) for k, v in (config or {}).items()}}
    if secrets is None:
        secrets = {"grafanaAdminPassword": "test-grafana-pw", "elasticsearchPassword": "test-es-pw"}
    return run_program(lambda: runpy.run_path(str(PROGRAM), run_name="__main__"), stack, values, secrets, preview)


def run_program(program: Callable[[], dict[str, Any] | None], stack: str = "test",
                config: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None,
                preview: bool = False) -> Graph:
    """Run ``program`` (which may return the names it bound) under Pulumi mocks and record what it declares."""
    secrets = dict(secrets or {})
    values = {**(config or {}), **secrets}
    mocks = RecordingMocks()
    set_root_resource(None)  # type: ignore[arg-type]  # a fresh root stack per run: no outputs leak
    pulumi.runtime.set_mocks(mocks, project="clickstream", stack=stack, preview=preview,
                             monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config({_namespaced(k): v for k, v in values.items()},
                                  secret_keys=[_namespaced(k) for k in secrets])
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    exported: dict[str, Any] = {}
    bound: dict[str, Any] = {}

    def run() -> None:
        namespace = program() or {}
        bound.update(namespace)
        exported.update({k: v for k, v in namespace.items() if isinstance(v, pulumi.Output)})

    _sync_await(run_pulumi_func(run))
    root = get_root_resource()
    stack_outputs = dict(getattr(root, "outputs", None) or {})
    resolved = _sync_await(pulumi.Output.from_input(stack_outputs).future(with_unknowns=True)) or {}
    return Graph(mocks.resources, exported, dict(resolved), bound)
