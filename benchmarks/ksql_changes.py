"""Benchmark: HTTP calls, ksqlDB statements and wall time of changes to the project's ``ksql/`` pipeline.

The per-object resources of ``KsqlPipeline`` (declared under Pulumi mocks) are driven the way the engine
drives them (``tests/provider/pulumi_engine.Deployment``) against the in-process FAKE ksqlDB, through:
a first apply, a no-op apply, a one-table change (the error-burst threshold), a source that gains a column
(``CREATE OR REPLACE``), a source column retyped (the source and everything downstream are replaced) and
a partition change (refused by the dry run), and a change of the ksqlDB URL. Prints numbers; asserts nothing.

    .venv/bin/python -m benchmarks.ksql_changes [--preview]
"""
from __future__ import annotations

import argparse
import collections
import time

from clickstream.stack.analytics import KSQL_DIR, ksql_variables
from providers.ksqldb import KsqlObjectError, load_sql_dir
from stackconfig import StackConfig
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.ksql_stack import declare
from tests.provider.pulumi_engine import CheckFailed, Deployment


def changes(files: dict[str, str], variables: dict[str, str]) -> dict[str, tuple[dict, dict]]:
    """The change kinds measured here (also previewed by tests/provider/test_ksqldb_preview.py): name ->
    (files, variables)."""
    retyped = files["01_sources.sql"].replace("BYTES BIGINT", "BYTES DOUBLE", 1)
    appended = files["01_sources.sql"].replace("AGENT VARCHAR\n)", "AGENT VARCHAR,\n    REFERRER VARCHAR\n)", 1)
    threshold = str(int(variables["errorBurstCount"]) + 1)
    return {
        "one-table change (error-burst threshold)": (files, {**variables, "errorBurstCount": threshold}),
        "source gains a column (in place)": ({**files, "01_sources.sql": appended}, variables),
        "source column retyped (source + downstream)": ({**files, "01_sources.sql": retyped}, variables),
        "partition change (refused by the dry run)": (files, {**variables, "partitions": "6"}),
    }


def _measure(fake: FakeKsqlDb, step) -> tuple[str, float]:
    fake.reset_calls()
    start = time.perf_counter()
    try:
        ops = step()
        summary = ", ".join(f"{n} {op}" for op, n in sorted(collections.Counter(ops.values()).items()))
    except (KsqlObjectError, CheckFailed) as exc:
        summary = "refused: " + str(exc).split("ksqlDB error ")[-1].splitlines()[0][:70]
    return summary, time.perf_counter() - start


def _line(phase: str, fake: FakeKsqlDb, summary: str, seconds: float) -> None:
    posts = len(fake.calls_to("POST", "/ksql"))
    print(f"{phase:<46} {len(fake.calls):>4} calls ({posts:>3} POST /ksql) {len(fake.mutations):>3} DDL "
          f"{seconds:6.2f} s   {summary}")


def _preview(phase: str, stack: Deployment, changed: list) -> None:
    print(f"\n{phase}:")
    try:
        plan = stack.preview(changed)
    except (KsqlObjectError, CheckFailed) as exc:
        print("  error: " + str(exc).replace("\n", "\n         "))
        return
    for name, op in plan.items():
        if op != "same":
            print(f"  {'+-' if op == 'replace' else '~ ':<3} {name:<44} {op}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", action="store_true", help="print the plan of each change instead of applying it")
    args = parser.parse_args()
    files, variables = load_sql_dir(KSQL_DIR), ksql_variables(StackConfig())
    with FakeKsqlDb() as fake:
        stack = Deployment()
        resources = declare(files, variables, url=fake.url)
        print(f"{len(resources) - 1} ksqlDB objects of ksql/ and their KsqlDirectory, against the FAKE ksqlDB\n")
        _line("first apply", fake, *_measure(fake, lambda: stack.up(resources)))
        _line("no-op apply", fake, *_measure(fake, lambda: stack.up(resources)))
        for phase, (changed_files, changed_variables) in changes(files, variables).items():
            changed = declare(changed_files, changed_variables, url=fake.url)
            if args.preview:
                _preview(phase, stack, changed)
                continue
            _line(phase, fake, *_measure(fake, lambda: stack.up(changed)))
            stack.up(resources)  # back to the project's pipeline for the next change
        if not args.preview:
            moved = declare(files, variables, url=fake.url.replace("127.0.0.1", "localhost"))
            _line("ksqlDB URL change (an address)", fake, *_measure(fake, lambda: stack.up(moved)))


if __name__ == "__main__":
    main()
