"""Unit tier: ``tools/stack.py`` (the driver of preview/up/refresh/destroy) and the Makefile targets using it.

What needs the engine itself is in the engine tier (``tests/engine/test_project_stack.py`` deploys through
the driver, ``tests/engine/test_stack_files.py`` previews through it).
"""
from __future__ import annotations

import os
import pathlib
import subprocess

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from tools import stack
from tools.install_pulumi import DEST

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("operation", ["up", "refresh", "destroy"])
def test_a_changing_operation_needs_yes_and_says_so(operation, capsys):
    assert stack.main([operation, "--stack", "external"]) == 2
    said = capsys.readouterr().err
    assert f"'{operation}' changes stack 'external'" in said and "pass --yes" in said


def test_a_folder_without_pulumi_yaml_is_named(tmp_path):
    with pytest.raises(SystemExit, match=f"{tmp_path} holds no Pulumi.yaml"):
        stack.select_stack("dev", tmp_path)


def test_the_cli_finds_the_projects_cli_and_the_provider_plugin_finds_the_project():
    env = stack.environment({"PATH": "/usr/bin", "PYTHONPATH": "/elsewhere"})
    assert env["PATH"].split(os.pathsep)[:2] == [str(DEST), "/usr/bin"]
    assert env["PYTHONPATH"].split(os.pathsep) == [str(ROOT), "/elsewhere"]


def make_dry_run(goal: str, stack_name: str = "dev") -> list[str]:
    """The commands ``make <goal>`` would run (``make -n``: nothing is run)."""
    ran = subprocess.run(["make", "-n", goal, f"STACK={stack_name}"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return ran.stdout.splitlines()


@pytest.mark.parametrize("goal, command", [
    ("preview", "tools/stack.py preview --stack dev"),
    ("up", "tools/stack.py up --refresh --yes --stack dev"),
    ("destroy", "tools/stack.py destroy --yes --stack dev"),
])
def test_make_runs_the_stack_operations_through_the_driver_only(goal, command):
    lines = make_dry_run(goal)
    assert [line for line in lines if command in line], lines
    assert not [line for line in lines if line.lstrip("@ ").startswith(("pulumi up", "pulumi preview",
                                                                         "pulumi destroy"))], lines


def test_make_up_checks_docker_before_the_cli_and_the_stack():
    lines = make_dry_run("up")
    first = {what: next(i for i, line in enumerate(lines) if marker in line)
             for what, marker in (("docker", "docker info"), ("cli", "tools/install_pulumi.py"),
                                  ("stack", "pulumi stack select"))}
    assert first["docker"] < first["cli"] < first["stack"], lines


def test_make_up_without_docker_stops_at_once_saying_how_to_fix_it(tmp_path):
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    ran = subprocess.run(["make", "up"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")},
                              "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"})
    assert ran.returncode != 0
    assert ran.stdout.strip() == ("The dev stack runs on Docker, but no Docker engine answers: install/start Docker "
                                  "(and check 'docker info'), then re-run 'make up'."), ran.stdout + ran.stderr


class RecordedStack:
    """Stands in for an ``auto.Stack``: records each operation and its options, prints two lines, and fails
    with ``error`` (as the engine's stderr) when given."""

    name = "external"

    def __init__(self, error: str = ""):
        self.error = error
        self.calls: list[tuple[str, dict]] = []

    def _operation(self, name: str, **options):
        self.calls.append((name, {k: v for k, v in options.items() if not k.startswith("on_")}))
        options["on_output"](f"{name} (external):")
        options["on_output"]("    + 1 to create")
        if self.error:
            raise auto.CommandError(CommandResult(stdout="", stderr=f"{self.error}\n", code=255))

    def preview(self, **options):
        self._operation("preview", **options)

    def up(self, **options):
        self._operation("up", **options)

    def refresh(self, **options):
        self._operation("refresh", **options)

    def destroy(self, **options):
        self._operation("destroy", **options)


@pytest.mark.parametrize("operation", stack.OPERATIONS)
def test_run_streams_the_engines_output_and_passes_refresh(operation):
    recorded, lines = RecordedStack(), []
    assert stack.run(operation, recorded, refresh=True, out=lines.append) == 0
    assert lines == [f"{operation} (external):", "    + 1 to create"]
    (name, options), = recorded.calls
    assert name == operation and options.get("refresh", True) is True and options["color"] == "never"


def test_a_failed_operation_exits_1_naming_the_engines_error():
    errors: list[str] = []
    failed = RecordedStack(error="error: no resource plugin 'pulumi-resource-docker' found")
    assert stack.run("up", failed, out=lambda line: None, err=errors.append) == 1
    assert errors == ["up of stack 'external' failed: error: no resource plugin 'pulumi-resource-docker' found"]
