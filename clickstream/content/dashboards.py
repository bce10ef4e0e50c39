"""The dashboard files of the stack (``dashboards/*.json``): read, parsed and checked before any resource is
declared, each problem naming its file; the provider (:mod:`providers.grafana.dashboard`) gets the content."""
from __future__ import annotations

import json
import pathlib
from typing import Callable, Iterable, Mapping

from providers.grafana.dashboards import dashboard_problems, datasource_problems


class DashboardError(ValueError):
    """A dashboard file is not usable; the message names the file and every problem."""


def load_dashboard(path: str | pathlib.Path) -> dict:
    """Read and check a dashboard JSON file (UTF-8, a byte order mark tolerated); DashboardError names the
    file and every problem."""
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DashboardError(f"{path}: cannot read dashboard file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise DashboardError(f"{path}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start} "
                             "cannot be decoded; save the file as UTF-8") from None
    try:
        dashboard = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DashboardError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    problems = dashboard_problems(dashboard)
    if problems:
        raise DashboardError(f"{path}: " + "; ".join(problems))
    return dashboard


def load_dashboards(paths: Iterable[str | pathlib.Path], datasources: Mapping[str, str] | None = None,
                    missing: Callable[[str], str] | None = None) -> list[tuple[pathlib.Path, dict]]:
    """``load_dashboard`` for each file, refusing two files that declare the same uid (each would overwrite
    the other's dashboard on every apply, and deleting one would delete the other's; the error names both)
    and, given ``datasources`` (``DS_<KEY>`` -> uid of each declared datasource), every reference to a
    datasource that none of them is (:func:`datasource_problems`; ``missing`` says why a ``DS_<KEY>`` has
    none). DashboardError lists every problem of every file at once, each naming its file."""
    loaded: list[tuple[pathlib.Path, dict]] = []
    seen: dict[str, pathlib.Path] = {}
    problems: list[str] = []
    for path in map(pathlib.Path, paths):
        try:
            dashboard = load_dashboard(path)
        except DashboardError as exc:
            problems.append(str(exc))
            continue
        if (first := seen.setdefault(dashboard["uid"], path)) != path:
            problems.append(f"{first} and {path} both declare dashboard uid {dashboard['uid']!r}: a uid "
                            "identifies one dashboard in Grafana; give each file its own uid")
        if datasources is not None:
            problems.extend(f"{path}: {problem}" for problem in datasource_problems(dashboard, datasources, missing))
        loaded.append((path, dashboard))
    if problems:
        raise DashboardError("\n".join(problems))
    return loaded
