"""Where each service of a deployed stack answers, with its credentials (:class:`Targets`), read through the
Pulumi CLI (``pulumi stack output`` and ``pulumi config``, secrets straight into memory: never printed, logged
or put into errors)."""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
from typing import Any, Mapping

from clickstream.stack.logins import Login, Logins, logins
from providers.http import Endpoint
from stackconfig import NAMESPACE, SECRET_KEYS, ConfigError, StackConfig, parse_config

PROJECT = pathlib.Path(__file__).resolve().parents[2]
PULUMI_IN_PROJECT = PROJECT / ".tools" / "pulumi" / "pulumi"
OUTPUT_KEYS = {"connect": "connectUrl", "ksqldb": "ksqldbUrl", "elasticsearch": "elasticsearchUrl",
               "grafana": "grafanaUrl"}
PULUMI_TIMEOUT = 120.0  # seconds for one `pulumi stack output` / `pulumi config` call


class StatusError(Exception):
    """The status cannot be checked at all (no stack outputs, no Pulumi CLI...); the message says why."""


@dataclasses.dataclass(frozen=True)
class Targets:
    """Where each service's API is (with credentials), as the stack exports it; ``stack``: its name (None: the
    selected one), for the commands the status suggests."""

    connect: Endpoint
    ksqldb: Endpoint
    elasticsearch: Endpoint
    grafana: Endpoint
    port_forward_commands: tuple[str, ...] = ()
    stack: str | None = None

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], logins: Logins, *, timeout: float = 5.0,
                     stack: str | None = None) -> "Targets":
        """From ``pulumi stack output --json`` values and the stack's ``logins`` (secrets as plain values); a
        missing URL raises StatusError naming the output."""
        missing = [key for key in OUTPUT_KEYS.values() if not outputs.get(key)]
        if missing:
            raise StatusError(f"the stack has no output {', '.join(missing)}: deploy it first (`{make('up', stack)}`)")

        def endpoint(service: str, login: Login) -> Endpoint:
            return Endpoint(url=str(outputs[OUTPUT_KEYS[service]]), timeout=timeout, ready_timeout=timeout,
                            **login.endpoint_fields())

        return cls(connect=endpoint("connect", logins.connect), ksqldb=endpoint("ksqldb", logins.ksqldb),
                   elasticsearch=endpoint("elasticsearch", logins.elasticsearch_admin),
                   grafana=endpoint("grafana", logins.grafana),
                   port_forward_commands=tuple(outputs.get("portForwardCommands") or ()), stack=stack)


def pulumi_binary() -> str:
    """``$PULUMI_BIN``, else the CLI `make` installs into the project, else ``pulumi`` on the PATH."""
    chosen = os.environ.get("PULUMI_BIN") or (str(PULUMI_IN_PROJECT) if PULUMI_IN_PROJECT.exists() else None) \
        or shutil.which("pulumi")
    if not chosen:
        raise StatusError("the Pulumi CLI is missing: `make up` installs it into .tools/pulumi")
    return chosen


def make(goal: str, stack: str | None) -> str:
    """The make command of ``goal`` for ``stack``, as the user types it (the Makefile's RERUN)."""
    return f"make {goal}" + (f" STACK={stack}" if stack and stack != "dev" else "")


def _pulumi_json(args: list[str], stack: str | None, cwd: pathlib.Path) -> Any:
    command = [pulumi_binary(), *args, "--json", *(["--stack", stack] if stack else [])]
    shown = "pulumi " + " ".join(args) + (f" --stack {stack}" if stack else "")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PULUMI_TIMEOUT, cwd=cwd, check=False)
    except subprocess.TimeoutExpired:
        raise StatusError(f"`{shown}` did not finish within {PULUMI_TIMEOUT:g} s") from None
    if done.returncode != 0:
        raise StatusError(f"`{shown}` failed: {done.stderr.strip()[-400:] or 'no message'} "
                          f"(run it through `{make('status', stack)}`, which sets the project's Pulumi backend)")
    try:
        return json.loads(done.stdout or "{}")
    except ValueError:
        raise StatusError(f"`{shown}` did not print JSON") from None


def stack_targets(stack: str | None, project: pathlib.Path = PROJECT) -> Targets:
    """The stack's service URLs (``pulumi stack output``) and credentials (its config secrets, read with
    ``--show-secrets`` straight into memory: never printed, logged or put into errors), as the CLI finds them
    in the ``project`` folder (its ``Pulumi.<stack>.yaml``)."""
    outputs = _pulumi_json(["stack", "output", "--show-secrets"], stack, project)
    config = _pulumi_json(["config", "--show-secrets"], stack, project)
    prefix = NAMESPACE + ":"
    values = {name[len(prefix):]: entry.get("value") if isinstance(entry, dict) else entry
              for name, entry in config.items() if name.startswith(prefix)}
    try:
        cfg = parse_config(stack or "", {k: str(v) for k, v in values.items()
                                         if k not in SECRET_KEYS and k in StackConfig.keys() and v is not None})
    except ConfigError as exc:
        raise StatusError(f"the stack's config does not validate ({exc}); fix it, then `{make('up', stack)}`") \
            from None
    return Targets.from_outputs(outputs, logins(cfg, lambda key: values.get(key) or None), stack=stack)
