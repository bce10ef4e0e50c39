"""Benchmark: the first apply of the project's ``ksql/`` pipeline through the REAL Pulumi engine (the pinned
CLI, Automation API, default parallelism) against the in-process FAKE ksqlDB, which fences writes that
overlap as the real 8.2.1 does.

For each run (a new fake and a new stack): the first preview, the first ``up``, a one-table change (the
error-burst threshold) and a refused partition change; for each operation the wall time, the requests
ksqlDB received (reads, statements, dry runs), the dry runs whose exact text was sent more than once
(an earlier copy may still have been validating), the collisions ksqlDB answered (HTTP 500: fenced writes,
sandboxes that met) and the statements that changed something. Needs `make pulumi-cli`. Prints numbers; asserts
nothing.

    .venv/bin/python -m benchmarks.ksql_first_apply [--runs 3]
"""
from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path
from typing import Callable

from clickstream.stack.analytics import KSQL_DIR, ksql_variables
from providers.ksqldb import KsqlPipeline, load_sql_dir
from providers.ksqldb.client import COLLISIONS
from providers.ksqldb.landed import only_reads
from stackconfig import StackConfig
from tests.engine.workspace import EngineFailed, EngineStack, cli_missing
from tests.fakes.ksqldb import FakeKsqlDb

DRY_RUN_MARK = "PULUMI_DRY_RUN_"


def pipeline(url: str, variables: dict[str, str]) -> Callable[[], None]:
    def declare() -> None:
        KsqlPipeline("clickstream-ksql", ksqldb_url=url, sources=load_sql_dir(KSQL_DIR), variables=variables,
                     streams_properties={"auto.offset.reset": "earliest"})
    return declare


def figures(fake: FakeKsqlDb, seconds: float, outcome: str) -> dict[str, object]:
    posts = [call.body["ksql"] for call in fake.calls_to("POST", "/ksql")]
    dry_runs = [sql for sql in posts if DRY_RUN_MARK in sql]
    copies = collections.Counter(dry_runs)
    return {"s": round(seconds, 2), "requests": len(fake.calls), "reads": sum(only_reads(sql) for sql in posts),
            "statements": sum(not only_reads(sql) and DRY_RUN_MARK not in sql for sql in posts),
            "dry runs": len(dry_runs), "dry runs sent twice": sum(n - 1 for n in copies.values() if n > 1),
            "collisions": sum(any(mark in " ".join(str(body.get("message", "")).split()) for mark in COLLISIONS)
                              for body in fake.server_errors),
            "changed": len(fake.mutations), "outcome": outcome}


def measured(fake: FakeKsqlDb, operation: Callable[[], object]) -> dict[str, object]:
    fake.reset_calls()
    fake.server_errors.clear()
    start = time.perf_counter()
    try:
        operation()
        outcome = "ok"
    except EngineFailed as failed:
        outcome = "refused" if "refused this statement in a dry run" in str(failed) else "FAILED"
    return figures(fake, time.perf_counter() - start, outcome)


def run() -> dict[str, dict[str, object]]:
    variables = ksql_variables(StackConfig())
    with FakeKsqlDb() as fake, tempfile.TemporaryDirectory(prefix="ksql-first-apply-") as folder:
        stack = EngineStack(Path(folder), {}, declares=pipeline(fake.url, variables))
        found = {"first preview": measured(fake, stack.preview), "first up": measured(fake, stack.up),
                 "no-op up": measured(fake, stack.up)}
        threshold = str(int(variables["errorBurstCount"]) + 1)
        stack.declares = pipeline(fake.url, {**variables, "errorBurstCount": threshold})
        found["one-table change"] = measured(fake, stack.up)
        stack.declares = pipeline(fake.url, {**variables, "errorBurstCount": threshold, "partitions": "6"})
        found["partition change (refused)"] = measured(fake, stack.up)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if (missing := cli_missing()) is not None:
        raise SystemExit(missing)
    columns = ["s", "requests", "reads", "statements", "dry runs", "dry runs sent twice", "collisions", "changed",
               "outcome"]
    print(f"{'run':<4}{'operation':<28}" + "".join(f"{c:>20}" for c in columns))
    for number in range(1, args.runs + 1):
        for operation, values in run().items():
            print(f"{number:<4}{operation:<28}" + "".join(f"{values[c]!s:>20}" for c in columns))


if __name__ == "__main__":
    main()
