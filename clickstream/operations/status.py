"""``python -m clickstream status``: is data flowing from the generator to the dashboards, and if not, where
does it stop? One line per declared link, in data-flow order, each OK / LAGGING / BROKEN with its evidence;
last, each alert rule: normal, pending or FIRING (OK: the rule evaluates), or in error (BROKEN).

``check(targets, chain)`` does the work on plain data (tests call it with the fakes' URLs). The declared links
come from ``declared_links``; where each service answers from ``stack_outputs`` (the only part that shells
out, to the Pulumi CLI, for the stack's outputs and secrets, which are never printed); each link's look from
``status_links``. This module runs the looks in parallel (every request read-only and bounded by the endpoint
timeout), renders the report and reads the command line. ``wait_for_data`` is the readiness gate of
``make up``: it polls with bounded backoff until every link is OK and names the links that were not when its
time runs out.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime
import ipaddress
import json
import pathlib
import sys
import threading
import time
import urllib.parse
from typing import Any, Callable

from clickstream.operations.declared_links import Chain, declared_chain
from clickstream.operations.stack_outputs import PROJECT, StatusError, Targets, stack_targets
from clickstream.operations.status_links import (
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
from providers.http import ServiceTimeout, wait_until

STAGES = ("source connector", "source topic", "ksqlDB query", "sink connector", "index", "datasource", "dashboard",
          "alert rule")
PER_SERVICE = 4  # concurrent requests to one service: parallel, yet gentle on a small server


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
        hint, stack = _hint(targets), targets.stack
        return ([unreachable("source topic", name, "ksqlDB", targets.ksqldb.url, exc, hint, stack=stack)
                 for name in chain.sources],
                [unreachable("ksqlDB query", name, "ksqlDB", targets.ksqldb.url, exc, hint, stack=stack)
                 for name in chain.queries])
    return ([source_link(name, descriptions.get(name), limits, now, feeder, stack=targets.stack)
             for name, feeder in chain.sources.items()],
            [query_link(name, queries, descriptions, stack=targets.stack) for name in chain.queries])


def _hint(targets: Targets) -> str:
    """The stack's port-forwards, when its APIs are reached through them (on this machine's loopback): with an
    ingress, only Kafka's brokers are port-forwarded, which no look here reads."""
    apis = (targets.connect, targets.ksqldb, targets.elasticsearch, targets.grafana)
    if targets.port_forward_commands and any(_loopback(api.url) for api in apis):
        return "start the stack's port-forwards: " + "; ".join(targets.port_forward_commands)
    return ""


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False


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
        hint, stack_name = _hint(targets), targets.stack
        source_connectors = [connect.submit(connector_link, targets.connect, "source connector", n, hint,
                                            stack=stack_name) for n in chain.source_connectors]
        ksql = ksqldb.submit(_ksql_links, targets, chain, limits, now) if chain.sources or chain.queries else None
        sink_connectors = [connect.submit(sink_link, targets.connect, n, hint, stack=stack_name)
                           for n in chain.sink_connectors]
        indexes = [elasticsearch.submit(index_link, targets.elasticsearch, index, limits, now, feeder, hint,
                                        stack=stack_name) for index, feeder in chain.indexes.items()]
        datasources = [grafana.submit(datasource_link, targets.grafana, uid, hint, stack=stack_name)
                       for uid in chain.datasources]
        dashboards = [grafana.submit(dashboard_link, targets.grafana, uid, hint, stack=stack_name)
                      for uid in chain.dashboards]
        rules = grafana.submit(alert_rule_links, targets.grafana, chain.alert_rules, hint, stack=stack_name)
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


# command line -------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="the Pulumi stack (default: the selected one)")
    parser.add_argument("--cwd", type=pathlib.Path, default=PROJECT,
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
