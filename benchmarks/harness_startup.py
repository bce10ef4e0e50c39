"""Start-up time of the real Kafka + Kafka Connect test harness (JVM backend).

    .venv/bin/python benchmarks/harness_startup.py          # warm: jars already cached
    .venv/bin/python benchmarks/harness_startup.py --cold   # also time a cold Maven resolve (temp cache)

Prints seconds for: resolving the jars, broker+worker start until both are ready, a worker restart,
and a clean stop.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.harness.backends import LOG_ROOT  # noqa: E402
from tests.harness.jvm import JvmKafkaConnect  # noqa: E402
from tests.harness.maven import KAFKA_VERSION, resolve_classpath  # noqa: E402


def timed(label: str, action) -> None:
    started = time.monotonic()
    action()
    print(f"{label:<44} {time.monotonic() - started:6.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="resolve into an empty temporary cache first")
    args = parser.parse_args()
    print(f"Apache Kafka {KAFKA_VERSION}, JVM backend")
    if args.cold:
        with tempfile.TemporaryDirectory() as cache:
            timed("cold Maven resolve (empty cache)", lambda: resolve_classpath(pathlib.Path(cache)))
    timed("warm resolve (cached classpath)", resolve_classpath)
    harness = JvmKafkaConnect(LOG_ROOT / "benchmark")
    try:
        timed("start broker + worker until ready", harness.start)
        timed("restart the Connect worker until ready", harness.restart_connect)
    finally:
        timed("stop both", harness.close)


if __name__ == "__main__":
    main()
