"""Ops tools of the clickstream pipeline: ``python -m clickstream <command> --help``."""
from __future__ import annotations

import argparse
import sys

from clickstream.operations import sessionize, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clickstream", description="Ops tools of the clickstream "
                                     "pipeline; python -m clickstream <command> --help describes each.")
    commands = parser.add_subparsers(dest="command", required=True)
    sessionize.add_arguments(commands.add_parser(
        "sessionize", help="pause/resume the clickstream generator so user sessions close and show up",
        description="Make user sessions visible: pause the clickstream generator for longer than the 30 s "
                    "session gap, resume it, repeat; Ctrl-C resumes it before exiting."))
    status.add_arguments(commands.add_parser(
        "status", help="is data flowing? one line per link, generator to dashboards (exit 0: all OK)",
        description="Walk the declared chain (datagen connectors, source topics, ksqlDB queries, sink connectors, "
                    "Elasticsearch indexes, Grafana datasources and dashboards) and say for each link OK, "
                    "LAGGING or BROKEN, with the evidence and, for BROKEN, what to do next. Exit code 0 only "
                    "when every link is OK, 1 otherwise, 2 when the stack cannot be read."))
    args = parser.parse_args(argv)
    if args.command == "status":
        return status.run(args)
    return sessionize.run(args)


if __name__ == "__main__":
    sys.exit(main())
