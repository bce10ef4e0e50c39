"""Benchmark: how one ksqlDB pipeline scales through the REAL Pulumi engine (the pinned CLI, Automation API).

Synthetic SQL directories against the in-process FAKE ksqlDB: two sources with chains of depth 5 that
read them (joins included), plus a third source with exactly 20 readers, for 50, 150 and 300 objects; and
one chain of depth 20. For each it runs the first preview, the first ``up``, a no-op ``up``, a change to
one leaf (replaced alone), a change to the source with 20 readers (replaced with them) and ``destroy``,
and prints wall times, time per object, the state's size per object, the ksqlDB requests and the peak
memory of the engine's processes (the largest child process: the CLI or the provider plugin), then the
300/50 ratios. The state is written as ``make`` writes it (zstd-compressed file backend).
``--without-checkpoints`` is a diagnostic: the engine then writes the state once, at the end, instead of
after every step (``PULUMI_SKIP_CHECKPOINTS``, never for real deployments), which separates what those
writes cost from the provider's and the rest of the engine's work. Needs `make pulumi-cli`. Prints numbers;
asserts nothing.

    .venv/bin/python -m benchmarks.scale [--sizes 50 150 300] [--depth 20] [--without-checkpoints]
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Callable

from providers.ksqldb import KsqlPipeline
from tests.engine.workspace import EngineStack, cli_missing
from tests.fakes.ksqldb import FakeKsqlDb

SOURCE = ("CREATE STREAM {name} (USERID INT, BYTES BIGINT, STATUS {status}) WITH (KAFKA_TOPIC='{topic}', "
          "VALUE_FORMAT='JSON', PARTITIONS=1);")
READER = "CREATE STREAM {name} AS SELECT USERID, BYTES, STATUS FROM {source} WHERE STATUS > {limit} EMIT CHANGES;"


def directory(objects: int, chain_depth: int, readers: int, changed: bool = False, limit: int = 0) -> dict[str, str]:
    """``objects`` statements: sources SRC_A and SRC_B read by chains of ``chain_depth`` streams, and SRC_C
    read by ``readers`` streams. ``changed``: the changed source (SRC_C, or SRC_A without readers of SRC_C)
    has another column type, which replaces it and what reads it; ``limit``: the last leaf's filter (a
    change replaces the leaf alone)."""
    moved = "SRC_C" if readers else "SRC_A"
    lines = [SOURCE.format(name=name, topic=name.lower(), status="BIGINT" if changed and name == moved else "INT")
             for name in ("SRC_A", "SRC_B", "SRC_C")]
    lines += [READER.format(name=f"C_{i}", source="SRC_C", limit=i) for i in range(readers)]
    remaining, chain = objects - len(lines), 0
    while remaining > 0:
        previous = "SRC_A" if chain % 2 == 0 else "SRC_B"
        for depth in range(min(chain_depth, remaining)):
            lines.append(READER.format(name=f"K_{chain}_{depth}", source=previous, limit=depth))
            previous = f"K_{chain}_{depth}"
        remaining -= min(chain_depth, remaining)
        chain += 1
    lines[-1] = lines[-1].replace(" > ", f" > {limit} + ", 1)
    return {"01.sql": "\n".join(lines)}


def pipeline(url: str, files: dict[str, str]) -> Callable[[], None]:
    def declare() -> None:
        KsqlPipeline("scale", ksqldb_url=url, sources=files, variables={})
    return declare


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def measure(objects: int, chain_depth: int, readers: int) -> dict[str, float]:
    """One directory's figures (seconds unless named otherwise)."""
    with FakeKsqlDb(topics={"src_a": 1, "src_b": 1, "src_c": 1}) as fake, \
            tempfile.TemporaryDirectory(prefix="scale-") as folder:
        stack = EngineStack(Path(folder), {}, declares=pipeline(fake.url, directory(objects, chain_depth, readers)))
        figures: dict[str, float] = {"objects": objects, "first preview": timed(stack.preview),
                                     "first up": timed(stack.up)}
        figures["ksqlDB requests, first up"] = len(fake.calls)
        figures["state KB per object"] = len(stack.cli("stack", "export").stdout.encode()) / 1024 / objects
        fake.reset_calls()
        figures["no-op up"] = timed(stack.up)
        figures["ksqlDB requests, no-op up"] = len(fake.calls)
        stack.declares = pipeline(fake.url, directory(objects, chain_depth, readers, limit=7))
        figures["one leaf changed"] = timed(stack.up)
        stack.declares = pipeline(fake.url, directory(objects, chain_depth, readers, changed=True, limit=7))
        figures["source + 20 readers replaced"] = timed(stack.up)
        fake.reset_calls()
        figures["destroy"] = timed(stack.destroy)
        figures["ksqlDB requests, destroy"] = len(fake.calls)
    figures["first up ms per object"] = 1000 * figures["first up"] / objects
    figures["destroy ms per object"] = 1000 * figures["destroy"] / objects
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 150, 300])
    parser.add_argument("--depth", type=int, default=20, help="the depth of the one-chain directory")
    parser.add_argument("--without-checkpoints", action="store_true",
                        help="diagnostic: the state is written once, at the end of each operation")
    args = parser.parse_args()
    if args.without_checkpoints:
        os.environ["PULUMI_SKIP_CHECKPOINTS"] = "true"  # the Automation API passes it on to the CLI
    if (missing := cli_missing()) is not None:
        raise SystemExit(missing)
    runs = {f"{n} objects": measure(n, 5, 20) for n in args.sizes}
    runs[f"chain of {args.depth}"] = measure(args.depth + 3, args.depth, 0)
    print(f"{'':<34}" + "".join(f"{run:>16}" for run in runs))
    for name in next(iter(runs.values())):
        print(f"{name:<34}" + "".join(f"{figures[name]:>16.2f}" for figures in runs.values()))
    print(f"engine peak memory (largest child process, all runs): "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    small, large = runs[f"{min(args.sizes)} objects"], runs[f"{max(args.sizes)} objects"]
    for name in ("first up ms per object", "destroy ms per object"):
        print(f"{name}, {max(args.sizes)} / {min(args.sizes)}: {large[name] / small[name]:.2f}")


if __name__ == "__main__":
    main()
