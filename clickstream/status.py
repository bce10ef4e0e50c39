"""``python -m clickstream status``: is data flowing from the generator to the dashboards, and if not, where
does it stop? One line per declared link, in data-flow order, each OK / LAGGING / BROKEN with its evidence;
last, each alert rule: normal, pending or FIRING (OK: the rule evaluates), or in error (BROKEN).

``check(targets, chain)`` does the work on plain data (tests call it with the fakes' URLs); only
``stack_targets`` shells out, to the Pulumi CLI, for the stack's outputs and secrets, which are never
printed. Independent links are checked in parallel; every request is read-only and bounded by the
endpoint timeout. ``wait_for_data`` is the readiness gate of ``make up``: it polls with bounded backoff
until every link is OK and names the links that were not when its time runs out.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Mapping

from clickstream import alerting, connectors
from clickstream.logins import Login, Logins, logins
from clickstream.status_links import (
    BROKEN,
    LAGGING,
    OK,
    SEVERITY,
    Limits,
    Link,
    alert_rule_links,
    connector_link,
    dashboard_link,
    datasource_link,
    index_link,
    ksql_catalog,
    query_link,
    sink_link,
    source_link,
    unreachable,
)
from providers.http import Endpoint, ServiceTimeout, wait_until
from providers.ksqldb.parser import load_sql_dir, parse_sources
from stackconfig import NAMESPACE, SECRET_KEYS, ConfigError, StackConfig, parse_config

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSQL_DIR = ROOT / "ksql"
DASHBOARD_DIR = ROOT / "dashboards"
PULUMI_IN_PROJECT = ROOT / ".tools" / "pulumi" / "pulumi"
STAGES = ("source connector", "source topic", "ksqlDB query", "sink connector", "index", "datasource", "dashboard",
          "alert rule")
OUTPUT_KEYS = {"connect": "connectUrl", "ksqldb": "ksqldbUrl", "elasticsearch": "elasticsearchUrl",
               "grafana": "grafanaUrl"}
PER_SERVICE = 4  # concurrent requests to one service: parallel, yet gentle on a small server
PULUMI_TIMEOUT = 120.0  # seconds for one `pulumi stack output` / `pulumi config` call


class StatusError(Exception):
    """The status cannot be checked at all (no stack outputs, no Pulumi CLI...); the message says why."""


@dataclasses.dataclass(frozen=True)
class Targets:
    """Where each service's API is (with credentials), as the stack exports it."""

    connect: Endpoint
    ksqldb: Endpoint
    elasticsearch: Endpoint
    grafana: Endpoint
    port_forward_commands: tuple[str, ...] = ()

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], logins: Logins, *, timeout: float = 5.0) -> "Targets":
        """From ``pulumi stack output --json`` values and the stack's ``logins`` (secrets as plain values); a
        missing URL raises StatusError naming the output."""
        missing = [key for key in OUTPUT_KEYS.values() if not outputs.get(key)]
        if missing:
            raise StatusError(f"the stack has no output {', '.join(missing)}: deploy it first (`make up`)")

        def endpoint(service: str, login: Login) -> Endpoint:
            return Endpoint(url=str(outputs[OUTPUT_KEYS[service]]), timeout=timeout, ready_timeout=timeout,
                            **login.endpoint_fields())

        return cls(connect=endpoint("connect", logins.connect), ksqldb=endpoint("ksqldb", logins.ksqldb),
                   elasticsearch=endpoint("elasticsearch", logins.elasticsearch_admin),
                   grafana=endpoint("grafana", logins.grafana),
                   port_forward_commands=tuple(outputs.get("portForwardCommands") or ()))


@dataclasses.dataclass(frozen=True)
class Chain:
    """The declared links. ``sources``: ksqlDB source -> the connector writing its topic; ``indexes``:
    index -> the sink connector writing it; ``alert_rules``: uids of the alert rules."""

    source_connectors: tuple[str, ...]
    sources: Mapping[str, str]
    queries: tuple[str, ...]
    sink_connectors: tuple[str, ...]
    indexes: Mapping[str, str]
    datasources: tuple[str, ...]
    dashboards: tuple[str, ...]
    alert_rules: tuple[str, ...] = ()


class _AnyValue(dict):
    """Fills every ``${name}`` of the SQL files: only object names and topics are read from them."""

    def __bool__(self) -> bool:
        return True

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "1"



def declared_chain() -> Chain:
    """The links the project declares: datagen connectors, ``ksql/*.sql``, sinks, datasources, dashboards."""
    statements = parse_sources(load_sql_dir(KSQL_DIR), _AnyValue())
    feeders = {str(spec.config["kafka.topic"]): spec.name for spec in connectors.datagen_sources(StackConfig())}
    sources = {}
    for statement in statements:
        topic = re.search(r"KAFKA_TOPIC\s*=\s*'([^']+)'", statement.text, re.IGNORECASE)
        if not statement.is_query and topic and topic.group(1) in feeders:
            sources[statement.name] = feeders[topic.group(1)]
    queries = tuple(dict.fromkeys(s.target for s in statements if s.is_query))
    tables = connectors.derived_tables(statements)
    return Chain(
        source_connectors=tuple(feeders.values()), sources=sources, queries=queries,
        sink_connectors=tuple(connectors.sink_name(t) for t in tables),
        indexes={connectors.index_name(t): connectors.sink_name(t) for t in tables},
        datasources=tuple(connectors.datasource_uid(t) for t in tables),
        dashboards=tuple(json.loads(path.read_text(encoding="utf-8"))["uid"]
                         for path in sorted(DASHBOARD_DIR.glob("*.json"))),
        alert_rules=tuple(alert.uid for alert in alerting.ALERTS))


@dataclasses.dataclass(frozen=True)
class Report:
    """One look at every link, in data-flow order."""

    links: tuple[Link, ...]
    checked_at: float
    seconds: float

    @property
    def ok(self) -> bool:
        return all(link.state == OK for link in self.links)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def counts(self) -> dict[str, int]:
        return {state: sum(link.state == state for link in self.links) for state in (OK, LAGGING, BROKEN)}

    def summary(self) -> str:
        counts = self.counts()
        tally = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
        if self.ok:
            return f"Data flows from the generator to the dashboards: all {len(self.links)} links OK."
        worst = max(SEVERITY[link.state] for link in self.links)
        first = next(link for link in self.links if SEVERITY[link.state] == worst)
        verb = "stops at" if first.state == BROKEN else "is slow at"
        return f"Data {verb} {first.stage} {first.name} ({tally})."

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked_at": _iso(self.checked_at), "seconds": round(self.seconds, 3),
                "counts": self.counts(), "summary": self.summary(),
                "links": [dataclasses.asdict(link) for link in self.links]}

    def render(self, color: bool = False) -> str:
        stage_width = max(len(s) for s in STAGES)
        name_width = max((len(link.name) for link in self.links), default=0)
        paint = {OK: "\x1b[32m", LAGGING: "\x1b[33m", BROKEN: "\x1b[31m"}
        lines = [f"checked {_iso(self.checked_at)} in {self.seconds:.2f} s"]
        for link in self.links:
            state = f"{link.state:<7}"
            if color:
                state = f"{paint[link.state]}{state}\x1b[0m"
            lines.append(f"{state}  {link.stage:<{stage_width}}  {link.name:<{name_width}}  {link.evidence}")
            if link.action and link.state != OK:
                lines.append(f"{'':<9}{'':<{stage_width}}  {'':<{name_width}}  next: {link.action}")
        lines.append(self.summary())
        return "\n".join(lines)


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ksql_links(targets: Targets, chain: Chain, limits: Limits, now: float) -> tuple[list[Link], list[Link]]:
    try:
        descriptions, queries = ksql_catalog(targets.ksqldb)
    except Exception as exc:  # noqa: BLE001 - an unreachable ksqlDB is evidence for each of its links
        hint = _hint(targets)
        return ([unreachable("source topic", name, "ksqlDB", targets.ksqldb.url, exc, hint) for name in chain.sources],
                [unreachable("ksqlDB query", name, "ksqlDB", targets.ksqldb.url, exc, hint) for name in chain.queries])
    return ([source_link(name, descriptions.get(name), limits, now, feeder) for name, feeder in chain.sources.items()],
            [query_link(name, queries, descriptions) for name in chain.queries])


def _hint(targets: Targets) -> str:
    if targets.port_forward_commands:
        return "start the stack's port-forwards: " + "; ".join(targets.port_forward_commands)
    return ""


def check(targets: Targets, chain: Chain | None = None, limits: Limits = Limits(),
          clock: Callable[[], float] = time.time) -> Report:
    """Look at every link once; independent links are checked in parallel (``PER_SERVICE`` requests at a
    time per service, the four services at once)."""
    chain = chain or declared_chain()
    started, now = time.monotonic(), clock()
    with contextlib.ExitStack() as stack:
        connect, ksqldb, elasticsearch, grafana = (
            stack.enter_context(concurrent.futures.ThreadPoolExecutor(PER_SERVICE, thread_name_prefix=f"status-{s}"))
            for s in ("connect", "ksqldb", "elasticsearch", "grafana"))
        hint = _hint(targets)
        source_connectors = [connect.submit(connector_link, targets.connect, "source connector", n, hint)
                             for n in chain.source_connectors]
        ksql = ksqldb.submit(_ksql_links, targets, chain, limits, now) if chain.sources or chain.queries else None
        sink_connectors = [connect.submit(sink_link, targets.connect, n, hint) for n in chain.sink_connectors]
        indexes = [elasticsearch.submit(index_link, targets.elasticsearch, index, limits, now, feeder, hint)
                   for index, feeder in chain.indexes.items()]
        datasources = [grafana.submit(datasource_link, targets.grafana, uid, hint) for uid in chain.datasources]
        dashboards = [grafana.submit(dashboard_link, targets.grafana, uid, hint) for uid in chain.dashboards]
        rules = grafana.submit(alert_rule_links, targets.grafana, chain.alert_rules, hint)
        sources, queries = ksql.result() if ksql else ([], [])
        links = [f.result() for f in source_connectors] + sources + queries + \
            [f.result() for f in sink_connectors + indexes + datasources + dashboards] + rules.result()
    return Report(tuple(links), now, time.monotonic() - started)


def wait_for_data(targets: Targets, chain: Chain | None = None, *, timeout: float, limits: Limits = Limits(),
                  out: Callable[[str], None] = print) -> Report:
    """Check until every link is OK, printing each link's time to readiness as it gets there.

    Raises providers.http.ServiceTimeout after ``timeout`` seconds naming the links that were not OK.
    """
    chain = chain or declared_chain()
    started = time.monotonic()
    ready: set[tuple[str, str]] = set()
    last: list[Report] = []

    def all_ok() -> bool:
        report = check(targets, chain, limits)
        last[:] = [report]
        for link in report.links:
            if link.state == OK and (link.stage, link.name) not in ready:
                ready.add((link.stage, link.name))
                out(f"ready after {time.monotonic() - started:6.1f} s  {link.stage} {link.name}")
        return report.ok

    def not_ready() -> str:
        waiting = [link for link in last[0].links if link.state != OK] if last else []
        return "; ".join(f"{link.stage} {link.name} {link.state}: {link.evidence}" for link in waiting[:5]) + \
            (f" (and {len(waiting) - 5} more)" if len(waiting) > 5 else "")

    wait_until(all_ok, timeout=timeout, description="data to reach every link (documents in every index)",
               last_seen=not_ready, max_interval=3.0)
    out(f"data reached every link after {time.monotonic() - started:.1f} s")
    return last[0]


def watch(run_once: Callable[[], Report], *, interval: float, duration: float, render: Callable[[Report], str],
          out: Callable[[str], None] = print, stop: threading.Event | None = None, in_place: bool = True) -> int:
    """Redraw the status every ``interval`` seconds (a refresh rate, not a wait for a condition) for at most
    ``duration`` seconds or until Ctrl-C; returns the last check's exit code (130 after Ctrl-C).
    ``in_place``: clear the screen before each redraw (else one rendering after the other, e.g. JSON lines)."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + duration
    report = None
    try:
        while True:
            report = run_once()
            out("\x1b[H\x1b[2J" + render(report) + f"\n(refreshing every {interval:g} s; Ctrl-C stops)"
                if in_place else render(report))
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.wait(min(interval, remaining)):
                break
    except KeyboardInterrupt:
        out("\nstopped")
        return 130
    return report.exit_code if report else 1


# the stack, through the Pulumi CLI ----------------------------------------------------------------------
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


def stack_targets(stack: str | None, project: pathlib.Path = ROOT) -> Targets:
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
    return Targets.from_outputs(outputs, logins(cfg, lambda key: values.get(key) or None))


# command line -------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="the Pulumi stack (default: the selected one)")
    parser.add_argument("--cwd", type=pathlib.Path, default=ROOT,
                        help="the project folder holding the stack's Pulumi.<stack>.yaml (default: this project)")
    parser.add_argument("--json", action="store_true", help="one JSON document for scripts")
    parser.add_argument("--watch", action="store_true", help="refresh in place until Ctrl-C (at most --for seconds)")
    parser.add_argument("--interval", type=float, default=5.0, help="--watch refresh period in seconds (default 5)")
    parser.add_argument("--for", dest="duration", type=float, default=3600.0,
                        help="--watch stops after this many seconds (default 3600)")
    parser.add_argument("--wait-for-data", action="store_true",
                        help="wait until every link is OK (documents in every index), printing each link's time")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="--wait-for-data gives up after this many seconds (default 600)")
    parser.add_argument("--stale-after", type=float, default=Limits.stale_after,
                        help="a link whose newest record is older than this many seconds is LAGGING (default 300)")


def run(args: argparse.Namespace, targets: Targets | None = None, chain: Chain | None = None,
        out: Callable[[str], None] = print) -> int:
    """0: every link OK; 1: some link LAGGING or BROKEN (or --wait-for-data timed out); 2: no status at all;
    130: stopped with Ctrl-C."""
    try:
        return _run(args, targets, chain, out)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, targets: Targets | None, chain: Chain | None, out: Callable[[str], None]) -> int:
    limits = Limits(stale_after=args.stale_after)
    try:
        targets = targets or stack_targets(args.stack, args.cwd)
        chain = chain or declared_chain()
    except StatusError as exc:
        print(f"status: {exc}", file=sys.stderr)
        return 2
    if args.wait_for_data:
        try:
            report = wait_for_data(targets, chain, timeout=args.timeout, limits=limits,
                                   out=(lambda line: print(line, file=sys.stderr)) if args.json else out)
        except ServiceTimeout as exc:
            print(f"status: {exc}", file=sys.stderr)
            return 1
        out(json.dumps(report.as_json(), indent=2) if args.json else report.render(color=sys.stdout.isatty()))
        return report.exit_code
    if args.watch:
        return watch(lambda: check(targets, chain, limits), interval=args.interval, duration=args.duration,
                     render=lambda r: json.dumps(r.as_json()) if args.json else r.render(color=sys.stdout.isatty()),
                     out=out, in_place=not args.json)
    report = check(targets, chain, limits)
    out(json.dumps(report.as_json(), indent=2) if args.json else report.render(color=sys.stdout.isatty()))
    return report.exit_code
