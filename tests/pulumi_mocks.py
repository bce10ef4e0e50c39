"""Run the real stack program (``__main__.py``) under Pulumi mocks and record every resource it declares."""
from __future__ import annotations

import dataclasses
import pathlib
import runpy
from typing import Any, Mapping

import pulumi
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"


@dataclasses.dataclass
class Declared:
    """One resource the program declared: Pulumi type token, logical name, resolved inputs, options."""

    type: str
    name: str
    inputs: dict[str, Any]
    provider: str | None
    custom: bool


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Declared] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources.append(Declared(args.typ, args.name, dict(args.inputs), args.provider,
                                       bool(args.custom)))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@dataclasses.dataclass
class Graph:
    """Everything one run of the program declared, with look-up helpers for assertions."""

    resources: list[Declared]
    outputs: dict[str, Any]

    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Declared:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(matches)}: "
                                 f"{sorted(r.name for r in self.resources)}")
        return matches[0]


def base_config(stack: str) -> dict[str, str]:
    """The stack's own ``Pulumi.<stack>.yaml`` config, as the CLI would pass it (namespace stripped)."""
    import yaml

    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    return {k.split(":", 1)[1]: str(v) for k, v in (doc.get("config") or {}).items()}


def run_stack(stack: str, config: Mapping[str, Any] | None = None,
              secrets: Mapping[str, str] | None = None, preview: bool = False) -> Graph:
    """Run ``__main__.py`` for ``stack`` with its stack file's config plus ``config``/``secrets``.

    Secrets default to test passwords for grafanaAdminPassword (and elasticsearchPassword when the
    stack turns security on); pass ``secrets={}`` to leave them unset.
    """
    values = {**base_config(stack), **{k: str(v) for k, v in (config or {}).items()}}
    if secrets is None:
        secrets = {"grafanaAdminPassword": "test-grafana-pw", "elasticsearchPassword": "test-es-pw"}
    values.update(secrets)
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="clickstream", stack=stack, preview=preview)
    pulumi.runtime.set_all_config({f"clickstream:{k}": v for k, v in values.items()},
                                  secret_keys=[f"clickstream:{k}" for k in secrets])
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    exported: dict[str, Any] = {}

    def program() -> None:
        namespace = runpy.run_path(str(PROGRAM), run_name="__main__")
        exported.update({k: v for k, v in namespace.items() if isinstance(v, pulumi.Output)})

    _sync_await(run_pulumi_func(program))
    return Graph(mocks.resources, exported)
