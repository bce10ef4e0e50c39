"""Run a stack operation (preview, up, refresh, destroy) of this project through the Automation API.

``python tools/stack.py <preview|up|refresh|destroy> [--stack dev] [--refresh] [--yes] [--cwd DIR]``

The project's own ``__main__.py`` runs as an INLINE program in this process and the Pulumi CLI connects to it
as its language host, so no language plugin is needed: the CLI that ``tools/install_pulumi.py`` builds from the
Go module proxy has none (the module proxy does not serve ``pulumi-language-python``), and the official
archive's works the same way. The work dir is the project (``--cwd``, default: this repository), so the
CLI reads the project's ``Pulumi.yaml`` (its config schema: types, defaults) and ``Pulumi.<stack>.yaml``,
exactly as ``pulumi up`` there would. Backend, passphrase and the rest come from the environment, as the
Makefile exports them. The provider plugin of the dynamic resources (``pulumi-resource-pulumi-python``,
written beside the CLI) imports the providers from this project: ``PYTHONPATH`` starts with it.

The engine's output is streamed as the CLI prints it; the exit code is 0 on success, 1 when the
operation failed (the engine's error last), 2 for a usage error. ``up`` and ``destroy`` change the stack
and run only with ``--yes`` (this driver never prompts); ``--refresh`` reads what runs first, as the
CLI's ``--refresh`` does.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import runpy
import sys
from typing import Any, Callable

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
OPERATIONS = ("preview", "up", "refresh", "destroy")
CHANGING = ("up", "refresh", "destroy")  # operations that need --yes

sys.path.insert(0, str(ROOT))  # the project, before any other installation of it

from pulumi import automation as auto  # noqa: E402  (after the project is first on sys.path)

from tools.install_pulumi import DEST  # noqa: E402


def project_program() -> None:
    """The project's ``__main__.py``, run as the stack's program."""
    runpy.run_path(str(PROGRAM), run_name="__main__")


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The CLI's environment: ``base`` (default: this process's) with the project's CLI first on PATH and the
    project first on PYTHONPATH (the dynamic provider plugin imports the providers from it)."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(DEST), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    return env


def select_stack(stack: str, work_dir: pathlib.Path = ROOT, env: dict[str, str] | None = None,
                 cli: auto.PulumiCommand | None = None, program: Callable[[], None] = project_program) -> auto.Stack:
    """The stack ``stack`` of the project in ``work_dir`` (created with a passphrase secrets provider if it
    does not exist yet), whose program is ``program`` run inline, operated by ``cli`` (default: ``pulumi`` on
    this process's PATH)."""
    return auto.create_or_select_stack(
        stack_name=stack, project_name=_project_name(work_dir), program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=environment(env),
                                        secrets_provider="passphrase", pulumi_command=cli or auto.PulumiCommand()))


def _project_name(work_dir: pathlib.Path) -> str:
    """The ``name`` of ``work_dir``'s Pulumi.yaml (a clear error when there is none)."""
    import yaml

    try:
        return str(yaml.safe_load((work_dir / "Pulumi.yaml").read_text())["name"])
    except FileNotFoundError:
        raise SystemExit(f"stack: {work_dir} holds no Pulumi.yaml: run this from the project (or pass --cwd)") from None


def run(operation: str, stack: auto.Stack, *, refresh: bool = False,
        out: Callable[[str], Any] | None = None, err: Callable[[str], Any] | None = None) -> int:
    """Run ``operation`` on ``stack``, streaming the engine's output to ``out`` (default: stdout, each line as
    it comes) and its errors to ``err`` (default: stderr); 0 on success, 1 on failure."""
    out = out or (lambda line: print(line, flush=True))
    err = err or (lambda line: print(line, file=sys.stderr, flush=True))
    color = "always" if sys.stdout.isatty() else "never"
    streams: dict[str, Any] = {"on_output": out, "on_error": err, "color": color}
    try:
        if operation == "preview":
            stack.preview(refresh=refresh or None, diff=False, **streams)
        elif operation == "up":
            stack.up(refresh=refresh or None, **streams)
        elif operation == "refresh":
            stack.refresh(**streams)
        else:
            stack.destroy(refresh=refresh or None, **streams)
    except auto.CommandError as exc:
        err(f"{operation} of stack '{stack.name}' failed: {_reason(exc)}")
        return 1
    return 0


def _reason(exc: auto.CommandError) -> str:
    """The engine's last error line of a failed command (its whole output, the error's details included, was
    streamed already)."""
    text = str(exc).strip()
    errors = [line[line.index("error:"):].strip() for line in text.splitlines() if "error:" in line]
    if errors:
        return errors[-1]
    return text.splitlines()[-1] if text else "no message"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/stack.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument("--stack", default="dev", help="the stack (default: dev)")
    parser.add_argument("--refresh", action="store_true", help="read what runs before the operation")
    parser.add_argument("--yes", action="store_true", help="up, refresh, destroy: go ahead (required)")
    parser.add_argument("--cwd", type=pathlib.Path, default=ROOT, help="the project folder (default: this one)")
    args = parser.parse_args(argv)
    if args.operation in CHANGING and not args.yes:
        print(f"stack: '{args.operation}' changes stack '{args.stack}' and this driver never prompts: pass --yes "
              f"(`make {args.operation}` does), or run `python tools/stack.py preview --stack {args.stack}` first",
              file=sys.stderr)
        return 2
    os.environ.update(environment())  # the project's CLI first on PATH, for the Automation API's version check too
    return run(args.operation, select_stack(args.stack, args.cwd.resolve()), refresh=args.refresh)


if __name__ == "__main__":
    sys.exit(main())
