"""Dashboard JSON as the provider gets it (a mapping; reading files is the stack's business,
:mod:`clickstream.content.dashboards`): the check of the fields the provider relies on, the datasource references,
resolving ``${DS_<KEY>}`` placeholders, and the canonical form used to compare a declared dashboard with
Grafana's copy."""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Iterator, Mapping

from providers.inputs import whole_numbers

UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PLACEHOLDER_RE = re.compile(r"\$\{(DS_[A-Z0-9_]+)\}")
MISSPELT_PLACEHOLDER_RE = re.compile(r"\$\{\s*(ds_[^}]*)\}", re.IGNORECASE)  # checked against PLACEHOLDER_RE
VARIABLE_RE = re.compile(r"\$(?:\{(\w+)(?::[^}]*)?\}|(\w+))")  # $var, ${var}, ${var:format}
# Grafana's own datasources, addressable without a declared one: "-- Grafana --" (uid "grafana"), "-- Mixed --"
# and "-- Dashboard --" (pkg/tsdb/grafanads and the frontend's built-in datasource uids).
BUILT_IN_DATASOURCE_UIDS = frozenset({"grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"})
# Fields Grafana sets itself on every save; they are never part of what we declare.
SERVER_FIELDS = ("id", "version", "iteration")


def check_uid(uid: Any, what: str = "uid") -> str | None:
    """Why ``uid`` is not a legal Grafana uid (1-40 of A-Z a-z 0-9 _ -), or None."""
    if not isinstance(uid, str) or not UID_RE.match(uid):
        return f"{what} {uid!r} must be 1-40 characters of A-Z, a-z, 0-9, '_' and '-'"
    return None


def _panels(panels: list, where: str) -> Iterator[tuple[str, Any]]:
    """Every panel, including those collapsed inside rows, with a readable location."""
    for index, panel in enumerate(panels):
        label = f"{where}[{index}]"
        if isinstance(panel, Mapping) and panel.get("title"):
            label += f" ({panel['title']!r})"
        yield label, panel
        if isinstance(panel, Mapping) and isinstance(panel.get("panels"), list):
            yield from _panels(panel["panels"], f"{label}.panels")


def dashboard_problems(dashboard: Any) -> list[str]:
    """What is missing or malformed among the dashboard fields this project relies on."""
    if not isinstance(dashboard, Mapping):
        return ["the dashboard must be a JSON object"]
    problems = []
    if reason := check_uid(dashboard.get("uid"), "uid"):
        problems.append(reason)
    if not isinstance(dashboard.get("title"), str) or not dashboard["title"].strip():
        problems.append("title must be a non-empty string")
    time = dashboard.get("time")
    if not isinstance(time, Mapping) or not all(isinstance(time.get(k), str) for k in ("from", "to")):
        problems.append('time must be an object with "from" and "to" strings (e.g. "now-15m", "now")')
    if not isinstance(dashboard.get("refresh"), str):
        problems.append('refresh must be a string such as "5s"')
    panels = dashboard.get("panels")
    if not isinstance(panels, list) or not panels:
        return problems + ["panels must be a non-empty list"]
    ids: dict[Any, str] = {}
    for label, panel in _panels(panels, "panels"):
        if not isinstance(panel, Mapping):
            problems.append(f"{label} must be an object")
            continue
        if not isinstance(panel.get("id"), int):
            problems.append(f"{label}: id must be an integer")
        elif panel["id"] in ids:
            problems.append(f"{label}: id {panel['id']} is also used by {ids[panel['id']]}")
        else:
            ids[panel["id"]] = label
        if not isinstance(panel.get("type"), str):
            problems.append(f"{label}: type must be a string")
        grid = panel.get("gridPos")
        if not isinstance(grid, Mapping) or not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
            problems.append(f"{label}: gridPos must have integer h, w, x and y")
        if panel.get("type") == "row":
            continue
        source = panel.get("datasource")
        if not isinstance(source, Mapping) or not isinstance(source.get("uid"), str):
            problems.append(f'{label}: datasource must be an object with a "uid"')
        targets = panel.get("targets")
        if not isinstance(targets, list) or not targets:
            problems.append(f"{label}: targets must be a non-empty list")
    return problems


def datasource_problems(dashboard: Mapping[str, Any], datasources: Mapping[str, str],
                        missing: Callable[[str], str] | None = None) -> list[str]:
    """How ``dashboard`` names a datasource that is not declared: a placeholder not written ``${DS_<KEY>}``
    in upper case, a ``DS_<KEY>`` no datasource has (with ``missing``: one problem per key, naming the places
    that read it and ``missing(key)``, why there is none), and every reference :func:`reference_problems`
    refuses. ``datasources``: ``DS_<KEY>`` -> uid."""
    problems = []
    text = json.dumps(dashboard)
    for written in sorted(set(MISSPELT_PLACEHOLDER_RE.findall(text))):
        if not PLACEHOLDER_RE.fullmatch(f"${{{written}}}"):
            problems.append(f"datasource placeholder ${{{written}}} must be written ${{{written.strip().upper()}}}")
    unknown = sorted(placeholders(dashboard) - set(datasources))
    if unknown and missing is None:
        problems.append(f"no datasource for {', '.join(unknown)}; declared: {', '.join(sorted(datasources))}")
    elif missing is not None:
        for key in unknown:
            places = _places_reading(dashboard, key)
            problems.append(f"{', '.join(places) or 'a ${' + key + '}'} read{'s' if len(places) < 2 else ''} "
                            f"${{{key}}}: {missing(key)}")
    return problems + reference_problems(dashboard, datasources.values())


def _places_reading(dashboard: Mapping[str, Any], key: str) -> list[str]:
    """Where ``dashboard`` names ``${<key>}`` as a datasource: each panel (or query, variable, annotation)
    once, not again for the queries inside it."""
    places: list[str] = []
    for where, source in _references(dashboard, ""):
        if key in placeholders(source) and not any(where.startswith(place) for place in places):
            places.append(where)
    return places


def reference_problems(dashboard: Mapping[str, Any], declared_uids: Iterable[str]) -> list[str]:
    """Every ``datasource`` reference of ``dashboard`` (panels, rows and the panels collapsed in them,
    queries, templating variables, annotations), by its place, that names no datasource Grafana would find
    among the declared ones: a literal uid that is neither declared (``declared_uids``) nor Grafana's own,
    an old string reference by name, or a ``$var``/``${var}`` that is not a datasource variable of the
    dashboard. ``${DS_<KEY>}`` placeholders are left to :func:`datasource_problems`."""
    declared = sorted(declared_uids)
    allowed = set(declared) | BUILT_IN_DATASOURCE_UIDS
    templating = dashboard.get("templating")
    variables = {v.get("name"): v.get("type") for v in (templating or {}).get("list") or []
                 if isinstance(templating, Mapping) and isinstance(v, Mapping)}
    sources = sorted(name for name, kind in variables.items() if kind == "datasource" and isinstance(name, str))
    problems = []
    for where, source in _references(dashboard, ""):
        uid = source.get("uid") if isinstance(source, Mapping) else source
        if not isinstance(uid, str) or PLACEHOLDER_RE.fullmatch(uid) or MISSPELT_PLACEHOLDER_RE.fullmatch(uid):
            continue
        if variable := VARIABLE_RE.fullmatch(uid):
            name = variable.group(1) or variable.group(2)
            if name not in variables:
                problems.append(f"{where}: datasource uid {uid!r} names no variable of this dashboard (its "
                                f"datasource variables: {', '.join(sources) or 'none'})")
            elif variables[name] != "datasource":
                problems.append(f"{where}: datasource uid {uid!r} names variable {name!r} of type "
                                f"{variables[name]!r}, not a datasource variable")
        elif uid not in allowed and isinstance(source, str):
            problems.append(f"{where}: datasource {uid!r} is an old name reference: write "
                            f'{{"type": ..., "uid": "${{DS_<KEY>}}"}} (declared uids: {", ".join(declared)})')
        elif uid not in allowed:
            problems.append(f"{where}: datasource uid {uid!r} is not a declared datasource (use a ${{DS_<KEY>}} "
                            f"placeholder; declared uids: {', '.join(declared)})")
    return problems


def _references(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every ``datasource`` value inside ``value``, with its place (``panels[3] ('More').panels[0]
    ('Events').targets[0]``, ``templating.list[0] ('status')``)."""
    if isinstance(value, Mapping):
        if "datasource" in value:
            yield where or "dashboard", value["datasource"]
        for key, item in value.items():
            if key != "datasource":
                yield from _references(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            label = f"{where}[{index}]"
            named = item.get("title") or item.get("name") if isinstance(item, Mapping) else None
            yield from _references(item, f"{label} ({named!r})" if isinstance(named, str) and named else label)


def placeholders(value: Any) -> set[str]:
    """Every ``DS_<KEY>`` named by a ``${DS_<KEY>}`` placeholder anywhere in ``value``."""
    if isinstance(value, str):
        return set(PLACEHOLDER_RE.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value))
    return set()


def resolve(value: Any, datasource_uids: Mapping[str, str]) -> Any:
    """A copy of ``value`` with each ``${DS_<KEY>}`` replaced by ``datasource_uids["DS_<KEY>"]``."""
    if isinstance(value, str):
        return PLACEHOLDER_RE.sub(lambda m: datasource_uids[m.group(1)], value)
    if isinstance(value, Mapping):
        return {k: resolve(v, datasource_uids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, datasource_uids) for v in value]
    return value


def canonical(dashboard: Mapping[str, Any]) -> dict:
    """The dashboard without the fields Grafana sets on save, with keys sorted (JSON round trip) and whole
    numbers as ints (the engine hands them over as floats)."""
    return json.loads(json.dumps(whole_numbers({k: v for k, v in dashboard.items() if k not in SERVER_FIELDS}),
                                 sort_keys=True))
