"""Ops tools of the clickstream pipeline: ``python -m clickstream <command> --help``."""
from __future__ import annotations

import argparse
import sys

from clickstream import sessionize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clickstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sessionize.add_arguments(commands.add_parser(
        "sessionize", help="pause/resume the clickstream generator so user sessions close and show up",
        description="Make user sessions visible: pause the clickstream generator for longer than the 30 s "
                    "session gap, resume it, repeat; Ctrl-C resumes it before exiting."))
    args = parser.parse_args(argv)
    return sessionize.run(args)


if __name__ == "__main__":
    sys.exit(main())
