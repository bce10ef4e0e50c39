"""One stack driven through the real Pulumi engine (the pinned CLI in ``.tools/pulumi``) by the Automation API.

The program is INLINE: it runs in the test's own process and the CLI connects to it as its language host,
so no language plugin is needed. Dynamic resources run in the provider plugin ``pulumi-resource-pulumi-python``
that ``tools/install_pulumi.py`` writes beside the CLI. State lives in a file backend (compressed, as
``make`` writes it) and secrets are encrypted with a passphrase, both in a temporary folder; ``PULUMI_HOME``
is there too, so nothing outside it is read or written and no plugin is downloaded.

:class:`EngineStack` deploys the application layer alone (``tests.engine.program``) on stack ``dev``;
:class:`ProjectStack` runs the project as a user does: its own ``__main__.py`` through ``tools/stack.py``,
with its own ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` (copied into the folder, so config set by a test
never touches the repository's files).

:class:`EngineStack` returns, for every operation, an :class:`Outcome`: the engine's own per-resource
steps (from its event stream: ``op``, the keys of the diff that decided it and the inputs it gives), its summary
and its output.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Callable

from pulumi import automation as auto
from pulumi.automation import events

from tests.engine.program import program
from tools import stack as project_driver
from tools.install_pulumi import DEST, VERSION, installed_version

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
PROJECT = "clickstream"
STACK = "dev"
PASSPHRASE = "engine-tier-passphrase"
GRAFANA_PASSWORD = "engine-tier-grafana-pw"  # a secret: must never appear in plain text in state or output


def cli_missing() -> str | None:
    """Why the pinned CLI cannot be used, or None."""
    if installed_version(DEST) != VERSION:
        return f"the Pulumi CLI {VERSION} is not installed in {DEST}: run `make pulumi-cli`"
    return None


@dataclasses.dataclass
class Step:
    op: str  # the engine's OpType: create, same, update, replace, create-replacement, delete, ...
    urn: str
    type: str
    diffs: tuple[str, ...]
    inputs: dict  # the inputs the step gives the resource (empty for a delete)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclasses.dataclass
class Outcome:
    steps: list[Step]
    summary: dict[str, int]
    output: str

    def ops(self) -> dict[str, set[str]]:
        """resource name -> every step op the engine took for it."""
        found: dict[str, set[str]] = {}
        for step in self.steps:
            found.setdefault(step.name, set()).add(step.op)
        return found

    def all_ops(self) -> set[str]:
        return {step.op for step in self.steps}

    def named(self, op: str) -> set[str]:
        return {step.name for step in self.steps if step.op == op}

    def changed(self) -> dict[str, set[str]]:
        """Resources with any step other than ``same`` (read steps of a refresh included)."""
        return {name: ops - {"same"} for name, ops in self.ops().items() if ops - {"same"}}


class EngineStack:
    """The stack ``dev`` of project ``clickstream`` in ``folder``, deploying the application layer against
    ``endpoints`` (service -> URL), or what ``declares`` declares. ``endpoints`` may be changed between
    operations."""

    def __init__(self, folder: pathlib.Path, endpoints: dict[str, str],
                 declares: Callable[[], None] | None = None):
        self.folder = folder
        self.endpoints = dict(endpoints)
        self.declares = declares  # another program than the application layer (e.g. benchmarks/scale.py)
        self._prepare(folder)
        self.stack = auto.create_or_select_stack(
            stack_name=STACK, project_name=PROJECT, program=self._program,
            opts=auto.LocalWorkspaceOptions(work_dir=str(self.work_dir), env_vars=self.env,
                                            secrets_provider="passphrase",
                                            pulumi_command=auto.PulumiCommand(str(self.cli_root))))
        self.stack.set_config("clickstream:platform", auto.ConfigValue("docker"))
        self.stack.set_config("clickstream:grafanaAdminPassword", auto.ConfigValue(GRAFANA_PASSWORD, secret=True))

    def _prepare(self, folder: pathlib.Path) -> None:
        """The folder's work dir, state, CLI root and the CLI's environment."""
        self.work_dir = folder / "work"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (folder / "state").mkdir(exist_ok=True)
        cli_root = folder / "cli"  # the Automation API runs <root>/bin/pulumi
        cli_root.mkdir(exist_ok=True)
        if not (cli_root / "bin").exists():
            (cli_root / "bin").symlink_to(DEST, target_is_directory=True)
        self.cli_root = cli_root
        self.env = {
            "PULUMI_BACKEND_URL": f"file://{folder / 'state'}",
            "PULUMI_DIY_BACKEND_ZSTD": "true",  # as the Makefile sets it
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(folder / "home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PATH": f"{DEST}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),  # the provider plugin loads the providers the program serialized
        }

    def _program(self) -> None:
        (self.declares or program(self.endpoints))()

    def _run(self, operation: Callable[..., object], **kwargs) -> Outcome:
        steps: list[Step] = []
        lines: list[str] = []

        def on_event(event: events.EngineEvent) -> None:
            pre = event.resource_pre_event
            if pre is not None and pre.metadata.type != "pulumi:pulumi:Stack" \
                    and not pre.metadata.type.startswith("pulumi:providers:"):
                new = pre.metadata.new
                steps.append(Step(pre.metadata.op.value, pre.metadata.urn, pre.metadata.type,
                                  tuple(pre.metadata.diffs or ()), dict(new.inputs or {}) if new else {}))

        try:
            result = operation(on_event=on_event, on_output=lines.append, color="never", **kwargs)
        except auto.CommandError as exc:
            raise EngineFailed(str(exc), Outcome(steps, {}, "\n".join(lines))) from None
        summary = getattr(result, "change_summary", None) or getattr(result, "summary", None)
        changes = summary if isinstance(summary, dict) else getattr(summary, "resource_changes", None) or {}
        return Outcome(steps, {str(k): int(v) for k, v in changes.items()}, "\n".join(lines))

    def preview(self, diff: bool = True, **kwargs) -> Outcome:
        """``diff``: the output shows every changed property (else one line per resource with its reason)."""
        return self._run(self.stack.preview, diff=diff, **kwargs)

    def up(self, diff: bool = True, **kwargs) -> Outcome:
        return self._run(self.stack.up, diff=diff, **kwargs)

    def refresh(self) -> Outcome:
        return self._run(self.stack.refresh)

    def destroy(self) -> Outcome:
        return self._run(self.stack.destroy)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The CLI itself in the stack's folder (e.g. ``stack export``: the Automation API's export shows
        secrets)."""
        return subprocess.run([str(DEST / "pulumi"), *args, "--stack", self.stack.name, "--non-interactive"],
                              cwd=self.work_dir, env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=300)

    def run_release(self, root: pathlib.Path) -> subprocess.CompletedProcess[str]:
        """``pulumi up`` of the release checked out at ``root`` on this stack, in a process of its own."""
        spec = self.folder / "release.json"
        spec.write_text(json.dumps({
            "stack": STACK, "project": PROJECT, "endpoints": self.endpoints, "work_dir": str(self.work_dir),
            "cli_dir": str(self.cli_root), "env": {**self.env, "PYTHONPATH": str(root)}}))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        # the provider plugin starts in the program's folder and puts it first on sys.path: it must not be
        # this repository, or today's modules would stand in for the release's
        return subprocess.run([sys.executable, str(ROOT / "tests" / "engine" / "program.py"), str(root), str(spec)],
                              cwd=self.work_dir, env=env, capture_output=True, text=True, timeout=900)


class ProjectStack(EngineStack):
    """Stack ``name`` of the project as a user runs it: ``Pulumi.yaml`` and ``Pulumi.<name>.yaml`` of the
    repository copied into ``folder/work`` (the work dir), the program the project's ``__main__.py`` run
    inline by ``tools/stack.py``; ``config`` (plain) and ``secrets`` are set on top of the stack file."""

    def __init__(self, folder: pathlib.Path, name: str, config: dict[str, str], secrets: dict[str, str]):
        self.folder = folder
        self.endpoints, self.declares = {}, None
        self._prepare(folder)
        for file in ("Pulumi.yaml", f"Pulumi.{name}.yaml"):
            shutil.copyfile(ROOT / file, self.work_dir / file)
        self.stack = project_driver.select_stack(name, self.work_dir, self.env,
                                                 cli=auto.PulumiCommand(str(self.cli_root)))
        self.stack.set_all_config({**{key: auto.ConfigValue(value) for key, value in config.items()},
                                   **{key: auto.ConfigValue(value, secret=True) for key, value in secrets.items()}})

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python <args>`` as a user runs it beside this stack: the project's CLI and backend in its
        environment, in the project's folder."""
        return subprocess.run([sys.executable, *args], cwd=ROOT, env={**os.environ, **self.env,
                              "PULUMI_BIN": str(DEST / "pulumi")}, capture_output=True, text=True, timeout=600)


class EngineFailed(Exception):
    """An engine operation failed; ``outcome`` holds the steps it had taken and its output."""

    def __init__(self, message: str, outcome: Outcome):
        super().__init__(message)
        self.outcome = outcome
