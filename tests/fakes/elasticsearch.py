"""A FAKE Elasticsearch 8.19 for provider tests: cluster health and composable index templates.

It answers with Elasticsearch's documented status codes and error bodies
(``{"error": {"root_cause": [...], "type", "reason"}, "status"}``), stores templates the way
``GET _index_template`` returns them (settings nested under ``index`` with string values, ``composed_of``
always present), ships the built-in ``logs``/``metrics`` templates at priority 100, rejects unknown
mapping types, unknown body keys and same-priority overlaps, and requires basic auth when given a user.
"""
from __future__ import annotations

import copy
import fnmatch
from typing import Any

from tests.fakes.json_http import FakeJsonServer

VERSION = "8.19.7"
FIELD_TYPES = {"text", "keyword", "long", "integer", "short", "byte", "double", "float", "half_float",
               "scaled_float", "date", "date_nanos", "boolean", "binary", "object", "nested", "ip",
               "geo_point", "geo_shape", "flattened", "wildcard", "constant_keyword", "match_only_text"}
BODY_KEYS = {"index_patterns", "template", "priority", "version", "composed_of", "_meta", "data_stream",
             "allow_auto_create", "ignore_missing_component_templates", "deprecated"}
BUILTIN = {"logs": ["logs-*-*"], "metrics": ["metrics-*-*"]}


def es_error(status: int, type_: str, reason: str | None, **extra: Any) -> tuple[int, dict]:
    cause = {"type": type_, "reason": reason, **extra}
    return status, {"error": {"root_cause": [cause], **cause}, "status": status}


class _Invalid(Exception):
    def __init__(self, status: int, type_: str, reason: str):
        super().__init__(reason)
        self.answer = es_error(status, type_, reason)


def _nest_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Store settings as Elasticsearch does: dotted keys nested, ``index.`` prefix, string values."""
    flat: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{prefix}{key}.")
            return
        name = prefix[:-1] if prefix.startswith("index.") else f"index.{prefix[:-1]}"
        flat[name] = ("true" if value else "false") if isinstance(value, bool) else (
            [str(v) for v in value] if isinstance(value, list) else str(value))

    walk(settings, "")
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _check_mapping(properties: dict[str, Any]) -> None:
    for field, spec in properties.items():
        field_type = spec.get("type", "object")
        if field_type not in FIELD_TYPES:
            raise _Invalid(400, "mapper_parsing_exception",
                           f"Failed to parse mapping: No handler for type [{field_type}] declared on field [{field}]")
        _check_mapping(spec.get("properties", {}))


def _overlap(a: str, b: str) -> bool:
    if "*" not in a or "*" not in b:
        return fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)
    x, y = a.split("*", 1)[0], b.split("*", 1)[0]
    return x.startswith(y) or y.startswith(x)


class FakeElasticsearch(FakeJsonServer):
    """``templates`` maps name -> stored body; ``health`` is the cluster status the fake reports."""

    def __init__(self, *, username: str | None = None, password: str | None = None):
        super().__init__(username=username, password=password)
        self.health = "green"
        self.templates: dict[str, dict] = {
            name: {"index_patterns": patterns, "composed_of": [], "priority": 100, "data_stream": {}}
            for name, patterns in BUILTIN.items()}
        self.route("GET", "/", lambda body, query: (200, {
            "name": "fake-node", "cluster_name": "fake", "version": {"number": VERSION},
            "tagline": "You Know, for Search"}))
        self.route("GET", "/_cluster/health", self._get_health)
        self.route("POST", "/_index_template/_simulate(?:/([^/]+))?", self._simulate, mutating=False)
        self.route("GET", "/_index_template/([^/]+)", self._get_template)
        self.route("PUT", "/_index_template/([^/]+)", self._put_template)
        self.route("DELETE", "/_index_template/([^/]+)", self._delete_template)

    def unavailable_response(self) -> tuple[int, Any]:
        return es_error(503, "master_not_discovered_exception", None)

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        reason = (f"unable to authenticate user [{user}] for REST request [{path}]" if user
                  else f"missing authentication credentials for REST request [{path}]")
        return es_error(401, "security_exception", reason,
                        header={"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"']})

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 400, {"error": f"no handler found for uri [{path}] and method [{method}]"}

    # handlers ---------------------------------------------------------------------------------------
    def _get_health(self, body: Any, query: dict[str, str]) -> tuple[int, Any]:
        rank = {"red": 0, "yellow": 1, "green": 2}
        wanted = query.get("wait_for_status")
        timed_out = wanted is not None and rank[self.health] < rank[wanted]
        answer = {"cluster_name": "fake", "status": self.health, "timed_out": timed_out, "number_of_nodes": 1,
                  "number_of_data_nodes": 1, "active_shards_percent_as_number": 100.0}
        return (408 if timed_out else 200), answer

    def _validated(self, name: str | None, body: Any) -> dict:
        """The body as it would be stored, or _Invalid with Elasticsearch's error."""
        if not isinstance(body, dict):
            raise _Invalid(400, "parse_exception", "request body is required")
        for key in body:
            if key not in BODY_KEYS:
                raise _Invalid(400, "x_content_parse_exception", f"[1:2] [index_template] unknown field [{key}]")
        if name is not None and (name != name.lower() or name.startswith("_") or "*" in name):
            raise _Invalid(400, "invalid_index_template_exception",
                           f"index_template [{name}] invalid, cause [name must be lower cased, must not contain "
                           "'*' and must not start with '_']")
        patterns = body.get("index_patterns")
        if not patterns:
            raise _Invalid(400, "action_request_validation_exception",
                           "Validation Failed: 1: index patterns are missing;")
        stored = copy.deepcopy(body)
        stored["index_patterns"] = [patterns] if isinstance(patterns, str) else list(patterns)
        stored.setdefault("composed_of", [])
        template = stored.get("template") or {}
        _check_mapping((template.get("mappings") or {}).get("properties", {}))
        if "settings" in template:
            template["settings"] = _nest_settings(template["settings"])
        priority = stored.get("priority", 0)
        for other, existing in self.templates.items():
            if other == name or existing.get("priority", 0) != priority:
                continue
            if any(_overlap(a, b) for a in stored["index_patterns"] for b in existing["index_patterns"]):
                raise _Invalid(400, "illegal_argument_exception",
                               f"index template [{name}] has index patterns {stored['index_patterns']} matching "
                               f"patterns from existing templates [{other}] with patterns ({other} => "
                               f"{existing['index_patterns']}) that have the same priority [{priority}], multiple "
                               "index templates may not match during index creation, please use a different priority")
        return stored

    def _simulate(self, body: Any, query: dict[str, str], name: str | None) -> tuple[int, Any]:
        """With a name, the body stands in for the stored template of that name (as in Elasticsearch)."""
        try:
            stored = self._validated(name, body)
        except _Invalid as exc:
            return exc.answer
        template = stored.get("template") or {}
        overlapping = [{"name": n, "index_patterns": t["index_patterns"]} for n, t in self.templates.items()
                       if n != name
                       and any(_overlap(a, b) for a in stored["index_patterns"] for b in t["index_patterns"])]
        return 200, {"template": {"settings": template.get("settings", {}),
                                  "mappings": template.get("mappings", {}), "aliases": template.get("aliases", {})},
                     "overlapping": overlapping}

    def _get_template(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        found = [{"name": n, "index_template": copy.deepcopy(t)} for n, t in sorted(self.templates.items())
                 if fnmatch.fnmatchcase(n, name)]
        if not found and "*" not in name:
            return es_error(404, "resource_not_found_exception", f"index template matching [{name}] not found")
        return 200, {"index_templates": found}

    def _put_template(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        try:
            self.templates[name] = self._validated(name, body)
        except _Invalid as exc:
            return exc.answer
        return 200, {"acknowledged": True}

    def _delete_template(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        if name not in self.templates:
            return es_error(404, "resource_not_found_exception", f"index_template matching [{name}] not found")
        del self.templates[name]
        return 200, {"acknowledged": True}
