"""``python -m clickstream sessionize``: make user sessions visible by pausing the click generator.

The datagen connector clicks for every user every few seconds, so a 30 s session window never closes.
This tool repeats: let clicks flow for ``--run`` seconds, pause the ``clickstream`` datagen connector
for ``--pause`` seconds (longer than the 30 s session gap, so every open session ends), resume it (new
sessions start). It waits until the connector and its tasks really are PAUSED / RUNNING, prints its
progress, and on Ctrl-C or SIGTERM resumes the connector before it exits.

The run and pause durations default to the stack config (``sessionizeRunSeconds``,
``sessionizePauseSeconds`` of the selected stack, else their defaults): the high-bandwidth threshold in
``ksql/`` is derived from the same values (``clickstream.content.rates``), so both agree by construction.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import signal
import subprocess
import time
from typing import Callable, Protocol

import requests
from pydantic import ValidationError

from providers.connect import ConnectClient, ConnectorFailed
from providers.http import ApiError, Endpoint, ServiceTimeout
from stackconfig import ConfigError, StackConfig, parse_config

SESSION_GAP_SECONDS = 30
DEFAULT_CONNECTOR = "datagen-clickstream"
DEFAULT_CONNECT_URL = "http://localhost:8083"


class Client(Protocol):
    """The part of providers.connect.ConnectClient this tool uses."""

    def status(self, name: str) -> dict | None: ...
    def pause(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...
    def wait_for_state(self, name: str, state: str, timeout: float) -> None: ...


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to do: ``cycles`` run/pause/resume rounds (None = until interrupted)."""

    connector: str = DEFAULT_CONNECTOR
    cycles: int | None = None
    pause_seconds: float = float(StackConfig().sessionize_pause_seconds)
    run_seconds: float = float(StackConfig().sessionize_run_seconds)
    state_timeout: float = 120.0


class ConnectorNotFound(Exception):
    """The connector to pause does not exist on this Connect cluster."""


class Sessionizer:
    """Runs a Plan against a Connect cluster; ``sleep`` and ``out`` are injectable for tests."""

    def __init__(self, client: Client, plan: Plan, *, sleep: Callable[[float], None] = time.sleep,
                 out: Callable[[str], None] = print):
        self.client, self.plan, self._sleep, self._out = client, plan, sleep, out
        self._maybe_paused = False

    def run(self) -> int:
        """Run the plan; returns the number of completed cycles. The connector is RUNNING afterwards,
        also when interrupted (KeyboardInterrupt) or failing mid-cycle."""
        plan = self.plan
        status = self.client.status(plan.connector)
        if status is None:
            raise ConnectorNotFound(f"connector {plan.connector!r} does not exist; deploy the stack first "
                                    f"(`make up`) or pass --connector")
        self._out(f"connector {plan.connector!r} is {status.get('connector', {}).get('state')}; "
                  f"{'until Ctrl-C' if plan.cycles is None else f'{plan.cycles} cycle(s)'}: "
                  f"run {plan.run_seconds:g} s, pause {plan.pause_seconds:g} s")
        done = 0
        try:
            if status.get("connector", {}).get("state") == "PAUSED":
                self._resume()
            while plan.cycles is None or done < plan.cycles:
                label = f"[{done + 1}{'' if plan.cycles is None else f'/{plan.cycles}'}]"
                self._out(f"{label} clicks flowing for {plan.run_seconds:g} s")
                self._sleep(plan.run_seconds)
                self._pause()
                self._out(f"{label} paused for {plan.pause_seconds:g} s (> {SESSION_GAP_SECONDS} s gap: "
                          f"open sessions close)")
                self._sleep(plan.pause_seconds)
                self._resume()
                self._out(f"{label} resumed: new sessions start")
                done += 1
        finally:
            if self._maybe_paused:
                self._out("stopping: resuming the connector first")
                self._resume()
                self._out(f"connector {plan.connector!r} is RUNNING again")
        return done

    def _pause(self) -> None:
        self._maybe_paused = True  # set first: an interrupt during the request must still resume
        self.client.pause(self.plan.connector)
        self.client.wait_for_state(self.plan.connector, "PAUSED", self.plan.state_timeout)

    def _resume(self) -> None:
        self._maybe_paused = True
        self.client.resume(self.plan.connector)
        self.client.wait_for_state(self.plan.connector, "RUNNING", self.plan.state_timeout)
        self._maybe_paused = False


def stack_connect_url(timeout: float = 60.0) -> str | None:
    """``pulumi stack output connectUrl`` of the selected stack, or None when unavailable."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    try:
        result = subprocess.run([pulumi, "stack", "output", "connectUrl"], capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    url = result.stdout.strip()
    return url if result.returncode == 0 and url.startswith("http") else None


def stack_config(timeout: float = 60.0) -> StackConfig:
    """The selected stack's config (``pulumi config --json``; secrets left out), or the defaults when
    there is no Pulumi CLI or stack."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return StackConfig()
    try:
        result = subprocess.run([pulumi, "config", "--json"], capture_output=True, text=True, timeout=timeout,
                                check=False)
        entries = json.loads(result.stdout) if result.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return StackConfig()
    raw = {key.split(":", 1)[1]: entry["value"] for key, entry in entries.items()
           if key.startswith("clickstream:") and not entry.get("secret") and "value" in entry}
    try:
        return parse_config("selected", raw)
    except (ConfigError, ValidationError):
        return StackConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connect-url", help="Kafka Connect REST URL (default: the stack output connectUrl, "
                                              f"else {DEFAULT_CONNECT_URL})")
    parser.add_argument("--connector", default=DEFAULT_CONNECTOR,
                        help=f"the datagen connector to pause (default: {DEFAULT_CONNECTOR})")
    parser.add_argument("--cycles", type=_positive_int, help="number of pause/resume cycles (default: until Ctrl-C)")
    parser.add_argument("--pause", type=float, metavar="SECONDS",
                        help=f"how long each pause lasts; must exceed the {SESSION_GAP_SECONDS} s session gap "
                             f"(default: the stack's sessionizePauseSeconds, {Plan.pause_seconds:g} unless set)")
    parser.add_argument("--run", type=float, metavar="SECONDS",
                        help="how long clicks flow between pauses; the high-bandwidth threshold assumes the "
                             f"stack's sessionizeRunSeconds (default: that value, {Plan.run_seconds:g} unless set)")
    parser.add_argument("--timeout", type=float, default=Plan.state_timeout, metavar="SECONDS",
                        help="how long to wait for the connector to reach PAUSED/RUNNING "
                             f"(default: {Plan.state_timeout:g})")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def plan_from_args(args: argparse.Namespace, cfg: StackConfig | None = None) -> Plan:
    """Validate the arguments into a Plan (durations not given come from ``cfg``); raise ValueError
    with what to change."""
    cfg = cfg or StackConfig()
    pause = cfg.sessionize_pause_seconds if args.pause is None else args.pause
    run_for = cfg.sessionize_run_seconds if args.run is None else args.run
    if pause <= SESSION_GAP_SECONDS:
        raise ValueError(f"--pause {pause:g} must be longer than the {SESSION_GAP_SECONDS} s session gap, "
                         f"or no session ever closes (e.g. --pause 40)")
    if run_for <= 0 or args.timeout <= 0:
        raise ValueError("--run and --timeout must be positive numbers of seconds")
    return Plan(connector=args.connector, cycles=args.cycles, pause_seconds=pause,
                run_seconds=run_for, state_timeout=args.timeout)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, *, sleep: Callable[[float], None] = time.sleep,
        out: Callable[[str], None] = print, connect_url: Callable[[], str | None] = stack_connect_url,
        config: Callable[[], StackConfig] | None = None) -> int:
    """The command: returns the process exit code (0 done, 1 error, 2 bad arguments, 130 interrupted);
    ``config`` defaults to :func:`stack_config`."""
    cfg = (config or stack_config)()
    try:
        plan = plan_from_args(args, cfg)
    except ValueError as exc:
        out(f"error: {exc}")
        return 2
    if plan.run_seconds != cfg.sessionize_run_seconds:
        out(f"note: --run {plan.run_seconds:g} differs from the stack's sessionizeRunSeconds "
            f"({cfg.sessionize_run_seconds}), which sizes the high-bandwidth threshold")
    url = args.connect_url or connect_url() or DEFAULT_CONNECT_URL
    out(f"Kafka Connect at {url}")
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with ConnectClient(Endpoint(url, ready_timeout=plan.state_timeout)) as client:
            client.wait_ready(timeout=plan.state_timeout)
            cycles = Sessionizer(client, plan, sleep=sleep, out=out).run()
        out(f"done: {cycles} cycle(s)")
        return 0
    except KeyboardInterrupt:
        out("interrupted")
        return 130
    except (ServiceTimeout, requests.RequestException) as exc:
        out(f"error: {exc}")
        out(f"Kafka Connect does not answer at {url}: is the stack up (`make up`)? Otherwise pass --connect-url.")
        return 1
    except (ConnectorNotFound, ConnectorFailed, ApiError) as exc:
        out(f"error: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)

