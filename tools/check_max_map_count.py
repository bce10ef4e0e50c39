"""Check, before Elasticsearch starts on this machine's Docker, that ``vm.max_map_count`` is at least 262144.

Elasticsearch's bootstrap check refuses to start a node bound to a non-loopback address with less
("max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]").
Only Linux hosts are checked: on Docker Desktop (macOS, Windows) the setting lives in Docker's VM.
Exit code 1 with how to fix it; 0 otherwise.
"""
from __future__ import annotations

import pathlib
import platform
import sys

REQUIRED = 262144
SETTING = pathlib.Path("/proc/sys/vm/max_map_count")


def problem(setting: pathlib.Path = SETTING, system: str | None = None) -> str | None:
    """What is wrong and how to fix it, or None when the host is fine (or not Linux, or unreadable)."""
    if (system or platform.system()) != "Linux":
        return None
    try:
        current = int(setting.read_text().strip())
    except (OSError, ValueError):
        return None
    if current >= REQUIRED:
        return None
    return (f"vm.max_map_count is {current}, Elasticsearch needs at least {REQUIRED}. Fix it with "
            f"`sudo sysctl -w vm.max_map_count={REQUIRED}` and keep it across reboots with "
            f"`echo vm.max_map_count={REQUIRED} | sudo tee /etc/sysctl.d/99-elasticsearch.conf`, "
            "then re-run `make up`.")


def main() -> int:
    found = problem()
    if found:
        print(found, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
