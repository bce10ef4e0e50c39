"""Start-up time and memory of the real services of the test harness (JVM backends).

    .venv/bin/python -m benchmarks.harness_startup                  # Kafka + Connect and Elasticsearch, warm
    .venv/bin/python -m benchmarks.harness_startup --cold           # also time cold Maven resolves (temp caches)
    .venv/bin/python -m benchmarks.harness_startup --only elasticsearch

Prints seconds for: resolving the jars, start until ready, a Connect worker restart, a clean stop; and the
resident memory (RSS) of each JVM once ready and, for Elasticsearch, after the template tests' kind of
work (a template, an index, a document).
"""
from __future__ import annotations

import argparse
import pathlib
import tempfile
import time
from typing import Any

import requests

from tests.harness.backends import ES_LOG_ROOT, LOG_ROOT
from tests.harness.elasticsearch import JvmElasticsearch, launcher_classes
from tests.harness.jvm import JvmKafkaConnect
from tests.harness.maven import ELASTICSEARCH, KAFKA, resolve_classpath


def timed(label: str, action) -> None:
    started = time.monotonic()
    action()
    print(f"{label:<52} {time.monotonic() - started:6.1f} s", flush=True)


def rss_mib(pid: int | None) -> float:
    """Resident memory of process ``pid`` in MiB (0 when it is not running)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return 0.0
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


def kafka_connect(cold: bool) -> None:
    print(f"Apache Kafka {KAFKA.folder}, JVM backend")
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            timed("cold Maven resolve (empty cache)", lambda: resolve_classpath(pathlib.Path(cache)))
    timed("warm resolve (cached classpath)", resolve_classpath)
    harness = JvmKafkaConnect(LOG_ROOT / "benchmark")
    try:
        timed("start broker + worker until ready", harness.start)
        pids = harness.pids
        print(f"{'RSS broker / worker when ready':<52} {rss_mib(pids['broker']):6.0f} / "
              f"{rss_mib(pids['worker']):.0f} MiB")
        timed("restart the Connect worker until ready", harness.restart_connect)
    finally:
        timed("stop both", harness.close)


def elasticsearch(cold: bool) -> None:
    print(f"{ELASTICSEARCH.label}, JVM backend (MockNode + Netty4, heap 512 MiB)")
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            folder = pathlib.Path(cache)
            timed("cold Maven resolve (empty cache)", lambda: resolve_classpath(folder, jars=ELASTICSEARCH))
            timed("compile the launcher (javac)", lambda: launcher_classes(
                resolve_classpath(folder, jars=ELASTICSEARCH), folder / "javac.log", folder))
    timed("warm resolve (cached classpath)", lambda: resolve_classpath(jars=ELASTICSEARCH))
    node = JvmElasticsearch(ES_LOG_ROOT / "benchmark")
    try:
        timed("start the node until status yellow", node.start)
        print(f"{'RSS when ready':<52} {rss_mib(node.pid):6.0f} MiB")
        template: dict[str, Any] = {"index_patterns": ["bench-*"], "priority": 200,
                    "template": {"mappings": {"properties": {"EVENT_TS": {"type": "date", "format": "epoch_millis"}},
                                              "dynamic_templates": [{"strings": {"match_mapping_type": "string",
                                                                                 "mapping": {"type": "keyword"}}}]}}}
        requests.put(f"{node.url}/_index_template/bench", json=template, timeout=60).raise_for_status()
        requests.post(f"{node.url}/bench-events/_doc?refresh=true", json={"EVENT_TS": 1764162000000, "USER": "a"},
                      timeout=60).raise_for_status()
        print(f"{'RSS after a template, an index and a document':<52} {rss_mib(node.pid):6.0f} MiB")
    finally:
        timed("stop", node.close)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="resolve into empty temporary caches first")
    parser.add_argument("--only", choices=("kafka-connect", "elasticsearch"))
    args = parser.parse_args()
    if args.only != "elasticsearch":
        kafka_connect(args.cold)
    if args.only != "kafka-connect":
        elasticsearch(args.cold)


if __name__ == "__main__":
    main()
