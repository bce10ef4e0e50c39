"""Start a real service of the test harness, print its addresses, and keep it up until Ctrl-C (or SIGTERM/SIGHUP).

    python -m tests.harness                  # Kafka + Kafka Connect (KAFKA_HARNESS=docker|jvm forces one)
    python -m tests.harness elasticsearch    # one Elasticsearch node (ELASTICSEARCH_HARNESS=docker|jvm)
"""
from __future__ import annotations

import argparse
import signal
import sys
import time

from tests.harness.backends import choose_backend, choose_elasticsearch
from tests.harness.processes import interrupt_on_termination


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", nargs="?", choices=("kafka-connect", "elasticsearch"), default="kafka-connect")
    args = parser.parse_args()
    backend = choose_elasticsearch() if args.service == "elasticsearch" else choose_backend()
    if isinstance(backend, str):
        print(backend, file=sys.stderr)
        return 2
    interrupt_on_termination()
    started = time.monotonic()
    try:
        with backend:
            print(f"backend:           {backend.kind} (started in {time.monotonic() - started:.1f} s)")
            if args.service == "elasticsearch":
                print(f"Elasticsearch URL: {backend.url}")
            else:
                print(f"bootstrap servers: {backend.bootstrap_servers}")
                if backend.kind == "jvm":
                    user, password = backend.sasl_login
                    print(f"SASL_PLAINTEXT:    {backend.sasl_bootstrap_servers} (PLAIN, {user} / {password})")
                print(f"Connect REST URL:  {backend.connect_url}")
                print(f"file folder:       {backend.work_dir}")
            print(f"logs:              {backend.log_dir}")
            print("Ctrl-C stops it.", flush=True)
            while True:
                signal.pause()  # Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
