"""Benchmark: wall time of one ``clickstream status`` run against the whole dev pipeline on the FAKES.

The dev stack's application layer is applied to the in-process fakes of Kafka Connect, ksqlDB,
Elasticsearch and Grafana with data flowing (tests/status_chain.py; not timed), then ``status`` checks
every link (60) as the command does, rendering included. The target is under 2 s per run. Prints numbers;
asserts nothing.

    .venv/bin/python -m benchmarks.status_run        (or: make bench)
"""
from __future__ import annotations

import collections
import statistics
import time

from benchmarks.http_calls import counting
from clickstream.operations import status
from tests.status_chain import deployed_pipeline

RUNS = 5


def main() -> None:
    with deployed_pipeline() as pipeline:
        services = {pipeline.fakes.url(s).split("/")[2]: s for s in ("connect", "ksqldb", "elasticsearch", "grafana")}
        with counting() as calls:
            times = []
            for run in range(RUNS):
                started = time.perf_counter()
                report = status.check(pipeline.targets, pipeline.chain)
                report.render()
                times.append(time.perf_counter() - started)
                if run == 0:
                    first_calls: collections.Counter = collections.Counter()
                    for (host, _), n in calls.items():
                        first_calls[services.get(host, "other")] += n
        parallel = status.PER_SERVICE
        status.PER_SERVICE = 1
        started = time.perf_counter()
        status.check(pipeline.targets, pipeline.chain)
        one_at_a_time = time.perf_counter() - started
        status.PER_SERVICE = parallel
    print(f"status: {len(report.links)} links, exit code {report.exit_code}, "
          f"{status.PER_SERVICE} concurrent requests per service")
    print("requests per run: " + ", ".join(f"{s} {n}" for s, n in sorted(first_calls.items())))
    print(f"wall time of one run: first {times[0]:.3f} s, median of {RUNS} {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s (target < 2 s); one request at a time per service: {one_at_a_time:.3f} s")


if __name__ == "__main__":
    main()
