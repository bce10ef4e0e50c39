"""Start Kafka + Kafka Connect, print their addresses, and keep them up until Ctrl-C (or SIGTERM).

    python -m tests.harness            # Docker if an engine answers, else JVMs (KAFKA_HARNESS forces one)
"""
from __future__ import annotations

import signal
import sys
import threading
import time

from tests.harness.backends import choose_backend


def main() -> int:
    backend = choose_backend()
    if isinstance(backend, str):
        print(backend, file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    started = time.monotonic()
    with backend:
        print(f"backend:           {backend.kind} (started in {time.monotonic() - started:.1f} s)")
        print(f"bootstrap servers: {backend.bootstrap_servers}")
        print(f"Connect REST URL:  {backend.connect_url}")
        print(f"file folder:       {backend.work_dir}")
        print(f"logs:              {backend.log_dir}")
        print("Ctrl-C stops both.", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
