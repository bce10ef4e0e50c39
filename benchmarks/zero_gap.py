"""Benchmark: a ksqlDB table rebuilt while data flows, per kind of change, on a REAL Kafka broker and a REAL
Elasticsearch node started here (JVM backends of the test harness), with the sink's stand-in running as a
connector and the stack's swap (``VersionedIndex``, ``IndexAlias``; tests/harness/rebuild.py).

Per change kind: the seconds from the rebuild (the table's topic dropped) to the swap, from the alias's
``up`` to the swap, the seconds readers saw the old build (stale: the new rows were being computed), samples
with no rows or an error (each error is printed), samples with neither build's rows exactly (a partly filled
or mixed index), and the stale rows left after the swap. Prints numbers; asserts nothing.

    .venv/bin/python -m benchmarks.zero_gap [--rows 400] [--pace 0.005]
"""
from __future__ import annotations

import argparse
import json
import struct

from tests.harness.backends import ES_LOG_ROOT, LOG_ROOT
from tests.harness.elasticsearch import JvmElasticsearch
from tests.harness.jvm import JvmKafkaConnect
from tests.harness.rebuild import SAMPLE_EVERY, Rows, ids, rebuild


def key(user: int) -> bytes:
    return json.dumps({"USERID": user}).encode()


def windowed(user: int, start: int) -> bytes:
    """A tumbling-window key as ksqlDB writes it: the key's bytes, then the 8-byte window start."""
    return key(user) + struct.pack(">q", start)


def kinds(rows: int) -> dict[str, tuple[Rows, Rows]]:
    """old and new rows of each change kind."""
    base = {key(n): {"USERID": n, "BYTES": n * 10} for n in range(rows)}
    return {
        "raised HAVING threshold (a quarter of the rows stay)": (
            base, {k: v for k, v in base.items() if v["BYTES"] >= rows * 10 * 3 // 4}),
        "retyped column (every row rewritten)": (
            base, {k: {**v, "BYTES": str(v["BYTES"])} for k, v in base.items()}),
        "new window (every key new)": (
            base, {windowed(n, 1_764_162_000_000): {"USERID": n, "HITS": n} for n in range(rows)}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400, help="rows of the table (default 400)")
    parser.add_argument("--pace", type=float, default=0.005,
                        help="seconds the rebuilt query takes per row (default 0.005)")
    args = parser.parse_args()
    kafka, es = JvmKafkaConnect(LOG_ROOT / "benchmark"), JvmElasticsearch(ES_LOG_ROOT / "benchmark")
    try:
        kafka.start()
        es.start()
        print(f"{args.rows} rows, the rebuilt query writes one per {args.pace:g} s; readers sampled every "
              f"{SAMPLE_EVERY:g} s")
        print(f"{'change kind':<54}{'drop->swap s':>13}{'up->swap s':>11}{'stale s':>9}{'blank':>7}"
              f"{'mixed':>7}{'stale rows left':>16}")
        for kind, (old_rows, new_rows) in kinds(args.rows).items():
            seen = rebuild(kafka.bootstrap_servers, es.url, old_rows, new_rows, pace=args.pace)
            old, new = ids(old_rows), ids(new_rows)
            served_old = seen.served_old(old)
            stale_rows = len((set(old) - set(new)) & set(seen.after if isinstance(seen.after, dict) else {}))
            print(f"{kind:<54}{seen.swapped:>13.2f}{seen.swapped - seen.swap_started:>11.2f}"
                  f"{(served_old[-1] if served_old else 0.0):>9.2f}{seen.blank():>7}{seen.other(old, new):>7}"
                  f"{stale_rows:>16}", flush=True)
            for error in sorted(set(seen.errors())):
                print(f"    a reader got: {error}")
    finally:
        es.close()
        kafka.close()


if __name__ == "__main__":
    main()
