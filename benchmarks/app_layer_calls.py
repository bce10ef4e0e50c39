"""Benchmark: HTTP calls and wall time of the full clickstream application layer, first apply vs no-op apply.

Every dynamic resource of the dev stack (from ``__main__.py`` under Pulumi mocks) is driven the way the
engine drives it (``tests.provider.pulumi_engine.Deployment``) against the in-process FAKES of Kafka
Connect, ksqlDB, Elasticsearch and Grafana (tests/app_layer.py). Prints numbers; asserts nothing.

    .venv/bin/python -m benchmarks.app_layer_calls        (or: make bench)
"""
from __future__ import annotations

import collections
import time

from benchmarks.http_calls import counting
from tests.app_layer import URL_KEYS, app_layer, fake_services, pointed_at
from tests.provider.pulumi_engine import Deployment


def report(phase: str, counts: collections.Counter, seconds: float, hosts: dict[str, str]) -> None:
    total = sum(counts.values())
    writes = sum(n for (_, method), n in counts.items() if method != "GET")
    print(f"\n{phase}: {total} HTTP calls ({writes} non-GET), {seconds:.2f} s wall time")
    for name, host in sorted(hosts.items()):
        per = {m: n for (h, m), n in counts.items() if h == host}
        print(f"  {name:<14} {sum(per.values()):>5} calls  " + "  ".join(f"{m} {n}" for m, n in sorted(per.items())))


def main() -> None:
    declared = app_layer("dev")
    with fake_services() as fakes:
        resources = pointed_at(declared, fakes)
        hosts = {service: fakes.url(service).split("/")[2] for service in URL_KEYS.values()}
        print(f"{len(resources)} application-layer resources of the dev stack "
              f"({sum(1 for r in resources if 'connector_name' in r.inputs)} connectors, "
              f"{sum(1 for r in resources if 'ksqldb_url' in r.inputs)} ksqlDB objects), against FAKE services")

        stack = Deployment()
        with counting() as first:
            start = time.perf_counter()
            stack.up(resources)
            first_seconds = time.perf_counter() - start
        report("first apply", first, first_seconds, hosts)
        print(f"  ksqlDB statements that changed state: {len(fakes.ksqldb.mutations)}")

        before = len(fakes.ksqldb.mutations)
        with counting() as second:
            start = time.perf_counter()
            stack.up(resources)
            noop_seconds = time.perf_counter() - start
        report("no-op apply (unchanged inputs)", second, noop_seconds, hosts)
        print(f"  ksqlDB statements that changed state: {len(fakes.ksqldb.mutations) - before}")


if __name__ == "__main__":
    main()
