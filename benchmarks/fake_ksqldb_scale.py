"""Benchmark: how the FAKE ksqlDB scales with the number of objects it holds.

Posts N synthetic objects one request each, straight to ``POST /ksql`` (no provider): two source streams,
then derived streams in chains (each reads the previous one of its chain, so every request is validated
against a metastore that grows), and prints the wall time and the time per object for N = 50, 150, 300.
Each request is validated in a sandbox before it runs; the time per object should stay flat as N grows.
Prints numbers; asserts nothing.

    .venv/bin/python -m benchmarks.fake_ksqldb_scale
"""
from __future__ import annotations

import time

import requests

from tests.fakes.ksqldb import FakeKsqlDb

SIZES = (50, 150, 300)
CHAINS = 10


def statements(n: int) -> list[str]:
    """Two sources, then ``n - 2`` streams in ``CHAINS`` chains alternating between the sources."""
    found = [f"CREATE STREAM SRC_{s} (USERID INT, BYTES BIGINT, STATUS INT) WITH (KAFKA_TOPIC='src_{s}', "
             f"VALUE_FORMAT='JSON', PARTITIONS=1);" for s in (0, 1)]
    last = {chain: f"SRC_{chain % 2}" for chain in range(CHAINS)}
    for i in range(n - 2):
        chain = i % CHAINS
        name = f"S_{chain}_{i // CHAINS}"
        found.append(f"CREATE STREAM {name} AS SELECT USERID, BYTES, STATUS FROM {last[chain]} WHERE STATUS > {i} "
                     f"EMIT CHANGES;")
        last[chain] = name
    return found


def post_all(n: int) -> float:
    with FakeKsqlDb() as fake, requests.Session() as session:
        start = time.perf_counter()
        for statement in statements(n):
            answer = session.post(f"{fake.url}/ksql", json={"ksql": statement}, timeout=30)
            answer.raise_for_status()
        return time.perf_counter() - start


def main() -> None:
    print(f"{'objects':>8} {'total s':>9} {'ms/object':>10}")
    for n in SIZES:
        seconds = post_all(n)
        print(f"{n:>8} {seconds:>9.2f} {1000 * seconds / n:>10.2f}")


if __name__ == "__main__":
    main()
