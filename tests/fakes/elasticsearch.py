"""A FAKE Elasticsearch 8.19.20 for provider tests: cluster health, composable index templates, and indexing
a document into a new index with the mapping the templates give it.

Held to the real thing: tests/provider/test_elasticsearch.py runs the same test bodies against this fake
and a real 8.19.20 node (tests/harness/elasticsearch.py) and compares their errors. The rules, and where
they come from in the 8.19.20 sources (Maven Central ``org.elasticsearch:elasticsearch:8.19.20:sources``):

- Errors are ``{"error": {"root_cause": [...], "type", "reason", "caused_by"?}, "status"}``
  (``ElasticsearchException``); an unknown route answers 400 ``no handler found for uri``.
- ``PUT``/``POST _index_template/_simulate/<name>`` check, in this order (``TransportPutComposable-
  IndexTemplateAction``, ``TransportSimulateTemplateAction``, ``MetadataIndexTemplateService``):
  the body parses (``parse_exception`` "request body is required"; ``x_content_parse_exception`` for an
  unknown field — the ``[line:column]`` is that of the field in this client's JSON; ``Required
  [index_patterns]``); ``validateV2TemplateRequest``: ``composed_of`` names component templates that
  exist (this fake has none); ``v2TemplateOverlaps``: no other template with the same priority has an
  overlapping pattern; ``validate``: name and pattern rules and known index settings, reported together as
  ``invalid_index_template_exception`` "Validation Failed: 1: ...;"; ``validateLifecycle``: ``lifecycle``
  only with ``data_stream``; last ``validateCompositeTemplate``: the mappings parse, nested as
  "composable template [x] template after composition is invalid" → "invalid composite mappings for [x]"
  → "Failed to parse mapping: <why>" → "<why>" (``MappingParser``: unknown type, unsupported root or
  object parameters, unknown parameter of a field — those of the common field types, from their
  ``*FieldMapper.Builder``; other types' parameters are not checked).
- Settings are stored nested under ``index`` with string values; ``composed_of`` is always returned.
- ``DELETE`` of a missing template: 404 ``index_template_missing_exception`` "index_template [x] missing";
  ``GET``: 404 ``resource_not_found_exception`` "index template matching [x] not found".
- ``_simulate`` answers ``{"template": {"settings", "mappings" (only when there are any), "aliases"},
  "overlapping": [...]}``; overlapping lists every template with an intersecting pattern, any priority.
- ``GET <index>/_mapping`` leaves out a parameter at its default (``DateFieldMapper``: a date's
  ``format`` ``strict_date_optional_time||epoch_millis``), as the real node does.
- Indexing into a missing index creates it from the matching template of highest priority; a new field
  is mapped by the first matching ``dynamic_templates`` entry (``match_mapping_type`` only), else strings
  become ``text`` with a ``keyword`` sub-field, whole numbers ``long``, fractions ``float``, booleans
  ``boolean`` (``DynamicFieldsBuilder``). Date detection of strings is not modelled.
- Indices and aliases (``MetadataCreateIndexService``, ``MetadataIndexAliasesService``,
  ``TransportIndicesAliasesAction``, ``MetadataCloneIndexService``/``ResizeRequest``; every answer below
  was compared with the real node in tests/provider/test_versioned_index.py): ``PUT <index>`` creates it
  from the matching template (400 ``resource_already_exists_exception`` "index [<name>/<uuid>] already
  exists"; 400 ``invalid_index_name_exception`` "... already exists as alias"); ``GET <name>/_alias``
  answers a concrete index under its own name and an alias under each index it points to (404
  ``index_not_found_exception`` for neither); ``POST _aliases`` resolves every action first (404 for a
  missing index, 400 "matches an alias" for ``remove_index`` of an alias, 404 ``aliases_not_found_exception``
  for ``remove`` of an alias the index lacks) and then applies all of them or none, ``remove_index`` first
  (so ``add`` of an alias named like an index removed in the same request succeeds; otherwise 400
  ``invalid_alias_name_exception``); ``POST <src>/_clone/<dst>`` needs ``index.blocks.write`` on the source
  (500 ``illegal_state_exception``), copies its documents and mappings, and keeps the block unless the
  request's settings lift it; a document written to a blocked index gets 403 ``cluster_block_exception``; a
  write through an alias goes to its one index (400 "no write index is defined" for several); ``DELETE`` of
  an alias name is 400 "matches an alias".
- ``api_key``: a request authenticates with ``Authorization: ApiKey <api_key>`` (the encoded key of the
  create-API-key API: base64 of ``id:api_key``, as Elasticsearch's API key authentication reads it), or with
  basic auth when ``username`` is set too; a wrong one gets the same 401 ``security_exception`` as missing
  credentials (the real node's reason for a bad key differs and is not modelled).
- ``builtin_templates`` adds the ``logs``/``metrics`` templates (priority 100) of the default distribution
  (x-pack); the real node of the harness has no x-pack, and neither has security.
- ``ilm`` (x-pack ``ilm``, in the default distribution; ``ilm=False`` answers its routes as the harness's
  node without x-pack does, 400 ``no handler found for uri``, and refuses a template's ``index.lifecycle.*``
  settings as unknown, as that node does): ``PUT _ilm/policy/<name>`` stores the
  ``policy`` with defaults added (each phase's ``min_age`` ``"0ms"``, the ``delete`` action's
  ``delete_searchable_snapshot`` ``true``) and a new ``version``; a name ``LifecyclePolicy.validatePolicyName``
  refuses is 400 ``illegal_argument_exception`` "invalid policy name [x]: ...". ``GET`` answers
  ``{name: {"version", "modified_date", "policy", "in_use_by": {"indices", "data_streams",
  "composable_templates"}}}`` or 404 ``resource_not_found_exception`` "Lifecycle policy not found: [x]"
  (``TransportGetLifecycleAction``). ``DELETE`` of a policy an index uses is 400 ``illegal_argument_exception``
  "Cannot delete policy [x]. It is in use by one or more indices: [a, b]", checked before the 404 "Lifecycle
  policy not found: x" of a missing one (``TransportDeleteLifecycleAction``; templates do not count). An
  index takes ``index.lifecycle.name`` from the template that creates it; ``POST <indices>/_ilm/remove``
  clears it (``{"has_failures": false, "failed_indexes": []}``). Phases never run here: the fake has no clock.
"""
from __future__ import annotations

import copy
import fnmatch
import itertools
import json
import uuid
from typing import Any

from tests.fakes.server import FakeServer

VERSION = "8.19.20"
BODY_KEYS = {"index_patterns", "template", "priority", "version", "composed_of", "_meta", "data_stream",
             "allow_auto_create", "ignore_missing_component_templates", "deprecated"}
BUILTIN = {"logs": ["logs-*-*"], "metrics": ["metrics-*-*"]}
# A subset of IndexScopedSettings.BUILT_IN_INDEX_SETTINGS (without the "index." prefix).
INDEX_SETTINGS = {"number_of_shards", "number_of_replicas", "auto_expand_replicas", "refresh_interval", "codec",
                  "hidden", "max_result_window", "default_pipeline", "final_pipeline", "mapping.total_fields.limit",
                  "mapping.depth.limit", "mapping.ignore_malformed", "mapping.coerce", "translog.durability",
                  "priority", "sort.field", "sort.order", "query.default_field", "lifecycle.name",
                  "lifecycle.rollover_alias", "max_inner_result_window", "number_of_routing_shards", "gc_deletes"}
ILM_SETTINGS = {"lifecycle.name", "lifecycle.rollover_alias"}  # registered by x-pack's ILM only
SETTING_GROUPS = ("index.analysis.", "index.routing.", "index.blocks.")  # group settings: any key inside
COMMON_FIELD_PARAMS = {"fields", "copy_to", "meta", "index", "store", "doc_values", "script", "on_script_error"}
FIELD_PARAMS = {  # FieldMapper.Builder parameters per type (KeywordFieldMapper, DateFieldMapper, ...)
    "keyword": {"null_value", "eager_global_ordinals", "ignore_above", "index_options", "norms", "similarity",
                "split_queries_on_whitespace", "normalizer", "time_series_dimension"},
    "date": {"format", "locale", "null_value", "ignore_malformed"},
    "date_nanos": {"format", "locale", "null_value", "ignore_malformed"},
    "boolean": {"null_value", "ignore_malformed"},
    "text": {"analyzer", "search_analyzer", "search_quote_analyzer", "norms", "index_options", "fielddata",
             "fielddata_frequency_filter", "eager_global_ordinals", "index_prefixes", "index_phrases",
             "position_increment_gap", "similarity", "term_vector"},
    **{number: {"coerce", "null_value", "ignore_malformed", "time_series_dimension", "time_series_metric"}
       for number in ("long", "integer", "short", "byte", "double", "float", "half_float", "unsigned_long")},
    "scaled_float": {"coerce", "null_value", "ignore_malformed", "scaling_factor", "time_series_metric"},
}
OTHER_FIELD_TYPES = {"flattened", "ip", "binary", "geo_point", "geo_shape", "wildcard", "constant_keyword",
                     "match_only_text", "alias", "dense_vector", "version", "histogram"}
OBJECT_PARAMS = {"properties", "dynamic", "enabled", "subobjects", "type"}
ROOT_MAPPING_KEYS = {"properties", "dynamic", "dynamic_templates", "_source", "_meta", "_routing", "date_detection",
                     "numeric_detection", "dynamic_date_formats", "runtime", "enabled", "subobjects"}
DEFAULT_STRING_MAPPING = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"  # DateFieldMapper.DEFAULT_DATE_TIME_FORMATTER


def error_body(status: int, type_: str, reason: str | None, caused_by: dict | None = None, **extra: Any) -> dict:
    """Elasticsearch's error document; ``root_cause`` holds the outermost exception, as the real node does
    for the nested template errors."""
    cause = {"type": type_, "reason": reason, **extra}
    top = {**cause, **({"caused_by": caused_by} if caused_by else {})}
    return {"error": {"root_cause": [cause], **top}, "status": status}


def _no_such_index(index: str) -> tuple[int, Any]:
    return es_error(404, "index_not_found_exception", f"no such index [{index}]", index=index,
                    **{"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_"})


def es_error(status: int, type_: str, reason: str | None, **extra: Any) -> tuple[int, dict]:
    return status, error_body(status, type_, reason, **extra)


class _Invalid(Exception):
    def __init__(self, status: int, type_: str, reason: str, caused_by: dict | None = None):
        super().__init__(reason)
        self.answer = status, error_body(status, type_, reason, caused_by)


def _flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"index": {"number_of_shards": 1}}`` or ``{"number_of_shards": 1}`` -> ``{"index.number_of_shards": "1"}``."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat_settings(value, f"{name}."))
            continue
        name = name if name.startswith("index.") else f"index.{name}"
        flat[name] = ("true" if value else "false") if isinstance(value, bool) else (
            [str(v) for v in value] if isinstance(value, list) else str(value))
    return flat


def _nest_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Store settings as Elasticsearch does: dotted keys nested, ``index.`` prefix, string values."""
    nested: dict[str, Any] = {}
    for key, value in _flat_settings(settings).items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _listed(values: dict[str, Any], keys: list[str]) -> str:
    """``MappingParser.checkNoRemainingFields``' list of left-over parameters (scalar values)."""
    return ", ".join(f"{key} : {json.dumps(values[key])}" for key in keys)


def _mapping_problem(mappings: dict[str, Any]) -> str | None:
    """Why ``MappingParser`` would refuse ``mappings``, or None."""
    unsupported = [key for key in mappings if key not in ROOT_MAPPING_KEYS]
    if unsupported:
        return f"Root mapping definition has unsupported parameters:  [{_listed(mappings, unsupported)}]"
    return _properties_problem(mappings.get("properties") or {})


def _properties_problem(properties: dict[str, Any]) -> str | None:
    for field, spec in properties.items():
        field_type = spec.get("type", "object")
        if field_type in ("object", "nested"):
            unknown = [key for key in spec if key not in OBJECT_PARAMS]
            if unknown:
                return f"Mapping definition for [{field}] has unsupported parameters:  [{_listed(spec, unknown)}]"
            if problem := _properties_problem(spec.get("properties") or {}):
                return problem
            continue
        if field_type not in FIELD_PARAMS and field_type not in OTHER_FIELD_TYPES:
            return (f"The mapper type [{field_type}] declared on field [{field}] does not exist. It might have "
                    "been created within a future version or requires a plugin to be installed. Check the "
                    "documentation.")
        allowed = FIELD_PARAMS.get(field_type)
        if allowed is not None:
            unknown = [key for key in spec if key != "type" and key not in allowed | COMMON_FIELD_PARAMS]
            if unknown:
                return f"unknown parameter [{unknown[0]}] on mapper [{field}] of type [{field_type}]"
    return None


def _overlap(a: str, b: str) -> bool:
    """Whether two simple patterns (``*`` wildcards) can match a common name, as ``Regex.simpleMatch-
    ToAutomaton`` + intersection decide it (exact for the prefix patterns this project uses)."""
    if "*" not in a or "*" not in b:
        return fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)
    x, y = a.split("*", 1)[0], b.split("*", 1)[0]
    return x.startswith(y) or y.startswith(x)


def _name_problems(name: str, patterns: list[str]) -> list[str]:
    """``MetadataIndexTemplateService.validate``: name and index pattern rules, in its order."""
    problems = [text for bad, text in ((" ", "name must not contain a space"), (",", "name must not contain a ','"),
                                       ("#", "name must not contain a '#'"), ("*", "name must not contain a '*'"))
                if bad in name]
    if name.startswith("_"):
        problems.append("name must not start with '_'")
    if name.lower() != name:
        problems.append("name must be lower cased")
    for pattern in patterns:
        if " " in pattern:
            problems.append(f"index_patterns [{pattern}] must not contain a space")
        problems += [f"index_pattern [{pattern}] must not contain a '{c}'" for c in ",#:" if c in pattern]
        if pattern.startswith("_"):
            problems.append(f"index_pattern [{pattern}] must not start with '_'")
    return problems


class FakeElasticsearch(FakeServer):
    """``templates`` maps name -> stored body; ``indices`` maps name -> {"mappings", "docs", "aliases",
    "write_block", "uuid"}; ``health`` is the cluster status the fake reports."""

    token_scheme = "ApiKey"

    def __init__(self, *, username: str | None = None, password: str | None = None, api_key: str | None = None,
                 builtin_templates: bool = True, ilm: bool = True):
        super().__init__(username=username, password=password, token=api_key)
        self.ilm = ilm
        self.policies: dict[str, dict] = {}  # name -> {"version", "policy"}
        self.health = "green"
        self._ids = itertools.count(1)
        self.indices: dict[str, dict] = {}
        self.templates: dict[str, dict] = {
            name: {"index_patterns": patterns, "composed_of": [], "priority": 100, "data_stream": {}}
            for name, patterns in BUILTIN.items()} if builtin_templates else {}
        self.route("GET", "/", lambda body, query: (200, {
            "name": "fake-node", "cluster_name": "fake", "version": {"number": VERSION},
            "tagline": "You Know, for Search"}))
        self.route("GET", "/_cluster/health", self._get_health)
        self.route("POST", "/_index_template/_simulate(?:/([^/]+))?", self._simulate, mutating=False)
        self.route("GET", "/_index_template/([^/]+)", self._get_template)
        self.route("PUT", "/_index_template/([^/]+)", self._put_template)
        self.route("DELETE", "/_index_template/([^/]+)", self._delete_template)
        self.route("POST", "/_aliases", self._update_aliases)
        self.route("GET", "/([a-z0-9][^/]*)/_alias", self._get_aliases)
        self.route("PUT", "/([a-z0-9][^/]*)/_settings", self._put_settings)
        self.route("POST", "/([a-z0-9][^/]*)/_clone/([^/]+)", self._clone)
        self.route("POST", "/([a-z0-9][^/]*)/_doc", self._index_document)
        self.route("GET", "/([a-z0-9][^/]*)/_mapping", self._get_mapping)
        self.route("GET", "/([a-z0-9][^/]*)/_count", self._count)
        self.route("PUT", "/([a-z0-9][^/]*)", self._create_index)
        self.route("DELETE", "/([a-z0-9][^/]*)", self._delete_index)
        if ilm:
            self.route("PUT", "/_ilm/policy/([^/]+)", self._put_policy)
            self.route("GET", "/_ilm/policy/([^/]+)", self._get_policy)
            self.route("DELETE", "/_ilm/policy/([^/]+)", self._delete_policy)
            self.route("POST", "/([a-z0-9][^/]*)/_ilm/remove", self._remove_policy)

    def unavailable_response(self, path: str) -> tuple[int, Any]:
        return es_error(503, "master_not_discovered_exception", None)

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        reason = (f"unable to authenticate user [{user}] for REST request [{path}]" if user
                  else f"missing authentication credentials for REST request [{path}]")
        return es_error(401, "security_exception", reason,
                        header={"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"']})

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 400, {"error": f"no handler found for uri [{path}] and method [{method}]", "status": 400}

    # handlers ---------------------------------------------------------------------------------------
    def _get_health(self, body: Any, query: dict[str, str]) -> tuple[int, Any]:
        rank = {"red": 0, "yellow": 1, "green": 2}
        wanted = query.get("wait_for_status")
        timed_out = wanted is not None and rank[self.health] < rank[wanted]
        answer = {"cluster_name": "fake", "status": self.health, "timed_out": timed_out, "number_of_nodes": 1,
                  "number_of_data_nodes": 1, "active_shards_percent_as_number": 100.0}
        return (408 if timed_out else 200), answer

    def _validated(self, name: str, body: Any) -> dict:
        """The body as it would be stored, or _Invalid with Elasticsearch's error, checked in its order."""
        if not isinstance(body, dict) or not body:
            raise _Invalid(400, "parse_exception", "request body is required")
        text = json.dumps(body)
        for key in body:
            if key not in BODY_KEYS:
                column = text.index(json.dumps(key)) + 1
                raise _Invalid(400, "x_content_parse_exception", f"[1:{column}] [index_template] unknown field [{key}]")
        patterns = body.get("index_patterns")
        if not patterns:
            raise _Invalid(400, "illegal_argument_exception", "Required [index_patterns]")
        stored = copy.deepcopy(body)
        stored["index_patterns"] = patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        stored.setdefault("composed_of", [])
        ignored = stored.get("ignore_missing_component_templates") or []
        missing = [c for c in stored["composed_of"] if c not in ignored]
        if missing:
            raise _Invalid(400, "invalid_index_template_exception",
                           f"index_template [{name}] invalid, cause [index template [{name}] specifies component "
                           f"templates [{', '.join(missing)}] that do not exist]")
        priority = stored.get("priority", 0)
        same = {other: t["index_patterns"] for other, t in sorted(self.templates.items())
                if other != name and t.get("priority", 0) == priority
                and any(_overlap(a, b) for a in patterns for b in t["index_patterns"])}
        if same:
            raise _Invalid(400, "illegal_argument_exception",
                           f"index template [{name}] has index patterns [{', '.join(patterns)}] matching patterns "
                           f"from existing templates [{', '.join(same)}] with patterns ("
                           + ",".join(f"{n} => [{', '.join(p)}]" for n, p in same.items())
                           + f") that have the same priority [{priority}], multiple index templates may not match "
                             "during index creation, please use a different priority")
        template = stored.get("template") or {}
        problems = _name_problems(name, patterns)
        if "settings" in template:
            template["settings"] = _nest_settings(template["settings"])
            problems += [f"unknown setting [{key}] please check that any required plugins are installed, or check "
                         "the breaking changes documentation for removed settings"
                         for key in _flat_settings(template["settings"])
                         if key.removeprefix("index.") not in INDEX_SETTINGS - (set() if self.ilm else ILM_SETTINGS)
                         and not key.startswith(SETTING_GROUPS)]
        if problems:
            listed = "".join(f"{i}: {p};" for i, p in enumerate(problems, 1))
            raise _Invalid(400, "invalid_index_template_exception",
                           f"index_template [{name}] invalid, cause [Validation Failed: {listed}]")
        if "lifecycle" in template and stored.get("data_stream") is None:
            raise _Invalid(400, "illegal_argument_exception",
                           f"index template [{name}] specifies lifecycle configuration that can only be used in "
                           "combination with a data stream")
        if why := _mapping_problem(template.get("mappings") or {}):
            parse = {"type": "mapper_parsing_exception", "reason": f"Failed to parse mapping: {why}",
                     "caused_by": {"type": "mapper_parsing_exception", "reason": why}}
            raise _Invalid(400, "illegal_argument_exception",
                           f"composable template [{name}] template after composition is invalid",
                           {"type": "illegal_argument_exception", "reason": f"invalid composite mappings for [{name}]",
                            "caused_by": parse})
        return stored

    def _simulate(self, body: Any, query: dict[str, str], name: str | None) -> tuple[int, Any]:
        """With a name, the body stands in for the stored template of that name (as in Elasticsearch)."""
        name = name or f"simulate_template_{next(self._ids)}"
        try:
            stored = self._validated(name, body)
        except _Invalid as exc:
            return exc.answer
        template = stored.get("template") or {}
        overlapping = [{"name": n, "index_patterns": t["index_patterns"]} for n, t in sorted(self.templates.items())
                       if n != name
                       and any(_overlap(a, b) for a in stored["index_patterns"] for b in t["index_patterns"])]
        resolved = {"settings": template.get("settings", {})}
        if template.get("mappings"):
            resolved["mappings"] = template["mappings"]
        resolved["aliases"] = template.get("aliases", {})
        return 200, {"template": resolved, "overlapping": overlapping}

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
            return es_error(404, "index_template_missing_exception", f"index_template [{name}] missing")
        del self.templates[name]
        return 200, {"acknowledged": True}

    # indices ----------------------------------------------------------------------------------------
    def _new_index_mappings(self, index: str) -> dict:
        matching = [t for t in self.templates.values()
                    if any(fnmatch.fnmatchcase(index, p) for p in t["index_patterns"])]
        if not matching:
            return {}
        best = max(matching, key=lambda t: t.get("priority", 0))
        return copy.deepcopy((best.get("template") or {}).get("mappings") or {})

    def _new_index(self, index: str, mappings: dict | None = None) -> dict:
        self.indices[index] = {"mappings": self._new_index_mappings(index) if mappings is None else mappings,
                               "docs": [], "aliases": set(), "write_block": False, "uuid": uuid.uuid4().hex[:22],
                               "lifecycle": self._new_index_lifecycle(index)}
        return self.indices[index]

    def aliases(self) -> dict[str, list[str]]:
        """alias -> the indices it points to."""
        found: dict[str, list[str]] = {}
        for index, entry in sorted(self.indices.items()):
            for alias in entry["aliases"]:
                found.setdefault(alias, []).append(index)
        return found

    def _exists(self, index: str) -> tuple[int, Any]:
        entry = self.indices[index]
        return es_error(400, "resource_already_exists_exception", f"index [{index}/{entry['uuid']}] already exists",
                        index_uuid=entry["uuid"], index=index)

    def _create_index(self, body: Any, query: dict[str, str], index: str) -> tuple[int, Any]:
        if index in self.indices:
            return self._exists(index)
        if index in self.aliases():
            return es_error(400, "invalid_index_name_exception", f"Invalid index name [{index}], already exists as "
                            "alias", index_uuid="_na_", index=index)
        self._new_index(index)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}

    def _get_aliases(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        if name in self.indices:
            resolved = [name]
        else:
            resolved = self.aliases().get(name) or []
        if not resolved:
            return _no_such_index(name)
        return 200, {index: {"aliases": {alias: {} for alias in sorted(self.indices[index]["aliases"])}}
                     for index in resolved}

    def _put_settings(self, body: Any, query: dict[str, str], index: str) -> tuple[int, Any]:
        if index not in self.indices:
            return _no_such_index(index)
        flat = _flat_settings(body or {})
        if "index.blocks.write" in flat:
            self.indices[index]["write_block"] = flat["index.blocks.write"] == "true"
        return 200, {"acknowledged": True}

    def _clone(self, body: Any, query: dict[str, str], source: str, target: str) -> tuple[int, Any]:
        if source not in self.indices:
            return _no_such_index(source)
        if target in self.indices:
            return self._exists(target)
        if not self.indices[source]["write_block"]:
            return es_error(500, "illegal_state_exception",
                            f'index {source} must be read-only to resize index. use "index.blocks.write=true"')
        entry = self._new_index(target, copy.deepcopy(self.indices[source]["mappings"]))
        entry["docs"] = copy.deepcopy(self.indices[source]["docs"])
        settings = _flat_settings(((body or {}).get("settings")) or {})
        entry["write_block"] = settings.get("index.blocks.write", "true") == "true"
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": target}

    def _update_aliases(self, body: Any, query: dict[str, str]) -> tuple[int, Any]:
        """Resolve every action first (404/400 before anything changes); then delete the ``remove_index``
        indices, then apply ``add``/``remove`` in order: all or nothing."""
        actions = [(kind, spec) for action in (body or {}).get("actions", []) for kind, spec in action.items()]
        aliases = self.aliases()
        for kind, spec in actions:
            index = spec["index"]
            if kind == "remove_index" and index in aliases:
                return es_error(400, "illegal_argument_exception", f"The provided expression [{index}] matches an "
                                "alias, specify the corresponding concrete indices instead.")
            if index not in self.indices:
                return _no_such_index(index)
            if kind == "remove" and spec["alias"] not in self.indices[index]["aliases"]:
                return es_error(404, "aliases_not_found_exception", f"aliases [{spec['alias']}] missing",
                                **{"resource.type": "aliases", "resource.id": spec["alias"]})
        removed = {spec["index"] for kind, spec in actions if kind == "remove_index"}
        remaining = {name: entry for name, entry in self.indices.items() if name not in removed}
        staged = {name: set(entry["aliases"]) for name, entry in remaining.items()}
        for kind, spec in actions:
            if kind == "add":
                if spec["alias"] in remaining:
                    return es_error(400, "invalid_alias_name_exception", f"Invalid alias name [{spec['alias']}]: an "
                                    "index or data stream exists with the same name as the alias")
                staged[spec["index"]].add(spec["alias"])
            elif kind == "remove":
                staged[spec["index"]].discard(spec["alias"])
        self.indices = remaining
        for name, names in staged.items():
            self.indices[name]["aliases"] = names
        return 200, {"acknowledged": True, "errors": False}

    def _new_index_lifecycle(self, index: str) -> str | None:
        """``index.lifecycle.name`` of the template of highest priority that matches ``index``."""
        matching = [t for t in self.templates.values()
                    if any(fnmatch.fnmatchcase(index, p) for p in t["index_patterns"])]
        if not matching:
            return None
        settings = (max(matching, key=lambda t: t.get("priority", 0)).get("template") or {}).get("settings") or {}
        return ((settings.get("index") or {}).get("lifecycle") or {}).get("name")

    def _count(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        resolved = [name] if name in self.indices else self.aliases().get(name) or []
        if not resolved:
            return _no_such_index(name)
        shards = {"total": len(resolved), "successful": len(resolved), "skipped": 0, "failed": 0}
        return 200, {"count": sum(len(self.indices[index]["docs"]) for index in resolved), "_shards": shards}

    def _index_document(self, body: Any, query: dict[str, str], index: str) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return es_error(400, "parse_exception", "request body is required")
        behind = self.aliases().get(index)
        if behind is not None and len(behind) > 1:
            return es_error(400, "illegal_argument_exception", f"no write index is defined for alias [{index}]. The "
                            "write index may be explicitly disabled using is_write_index=false or the alias points "
                            "to multiple indices without one being designated as a write index")
        index = behind[0] if behind else index
        entry = self.indices.get(index) or self._new_index(index)
        if entry["write_block"]:
            return es_error(403, "cluster_block_exception",
                            f"index [{index}] blocked by: [FORBIDDEN/8/index write (api)];")
        properties = entry["mappings"].setdefault("properties", {})
        for field, value in body.items():
            if field not in properties:
                properties[field] = self._dynamic_mapping(entry["mappings"], value)
        entry["docs"].append(copy.deepcopy(body))
        return 201, {"_index": index, "_id": f"fake-{next(self._ids)}", "_version": 1, "result": "created",
                     **({"forced_refresh": True} if query.get("refresh") == "true" else {}),
                     "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": len(entry["docs"]) - 1,
                     "_primary_term": 1}

    @staticmethod
    def _dynamic_mapping(mappings: dict, value: Any) -> dict:
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, int):
            kind = "long"
        elif isinstance(value, float):
            kind = "double"
        elif isinstance(value, str):
            kind = "string"
        else:
            kind = "object"
        for entry in mappings.get("dynamic_templates") or []:
            (rule,) = entry.values()
            if rule.get("match_mapping_type") in (kind, "*"):
                return copy.deepcopy(rule["mapping"])
        defaults: dict[str, dict] = {"boolean": {"type": "boolean"}, "long": {"type": "long"},
                                     "double": {"type": "float"}, "string": copy.deepcopy(DEFAULT_STRING_MAPPING)}
        return defaults.get(kind, {"type": "object"})

    def _get_mapping(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        resolved = [name] if name in self.indices else self.aliases().get(name)
        if not resolved:
            return _no_such_index(name)
        answer = {}
        for index in resolved:
            mappings = copy.deepcopy(self.indices[index]["mappings"])
            for field in (mappings.get("properties") or {}).values():
                if field.get("type") == "date" and field.get("format") == DEFAULT_DATE_FORMAT:
                    del field["format"]  # a parameter at its default is left out of the answer
            answer[index] = {"mappings": mappings}
        return 200, answer

    def _delete_index(self, body: Any, query: dict[str, str], index: str) -> tuple[int, Any]:
        if index in self.aliases():
            return es_error(400, "illegal_argument_exception", f"The provided expression [{index}] matches an alias, "
                            "specify the corresponding concrete indices instead.")
        if self.indices.pop(index, None) is None:
            return es_error(404, "index_not_found_exception", f"no such index [{index}]", index=index,
                            **{"resource.type": "index_or_expression", "resource.id": index, "index_uuid": "_na_"})
        return 200, {"acknowledged": True}

    # index lifecycle policies -------------------------------------------------------------------------
    def _policy_users(self, name: str) -> list[str]:
        return sorted(index for index, entry in self.indices.items() if entry.get("lifecycle") == name)

    def _put_policy(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        problem = _policy_name_problem(name)
        if problem:
            return es_error(400, "illegal_argument_exception", f"invalid policy name [{name}]: {problem}")
        if not isinstance(body, dict) or not isinstance(body.get("policy"), dict):
            return es_error(400, "parse_exception", "request body is required")
        policy = copy.deepcopy(body["policy"])
        for phase in (policy.get("phases") or {}).values():
            phase.setdefault("min_age", "0ms")
            phase.setdefault("actions", {})
            if "delete" in phase["actions"]:
                phase["actions"]["delete"].setdefault("delete_searchable_snapshot", True)
        version = self.policies.get(name, {}).get("version", 0) + 1
        self.policies[name] = {"version": version, "policy": policy}
        return 200, {"acknowledged": True}

    def _get_policy(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        if name not in self.policies:
            return es_error(404, "resource_not_found_exception", f"Lifecycle policy not found: [{name}]")
        templates = sorted(t for t, body_ in self.templates.items()
                           if (((body_.get("template") or {}).get("settings") or {}).get("index") or {})
                           .get("lifecycle", {}).get("name") == name)
        return 200, {name: {**copy.deepcopy(self.policies[name]), "modified_date": "2026-12-07T00:00:00.000Z",
                            "in_use_by": {"indices": self._policy_users(name), "data_streams": [],
                                          "composable_templates": templates}}}

    def _delete_policy(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        users = self._policy_users(name)
        if users:
            return es_error(400, "illegal_argument_exception", f"Cannot delete policy [{name}]. It is in use by one "
                                                               f"or more indices: [{', '.join(users)}]")
        if self.policies.pop(name, None) is None:
            return es_error(404, "resource_not_found_exception", f"Lifecycle policy not found: {name}")
        return 200, {"acknowledged": True}

    def _remove_policy(self, body: Any, query: dict[str, str], indices: str) -> tuple[int, Any]:
        for index in indices.split(","):
            if index in self.indices:
                self.indices[index]["lifecycle"] = None
        return 200, {"has_failures": False, "failed_indexes": []}


def _policy_name_problem(name: str) -> str | None:
    """``LifecyclePolicy.validatePolicyName``."""
    if "," in name:
        return "must not contain ','"
    if " " in name:
        return "must not contain spaces"
    if name.startswith("_"):
        return "must not start with '_'"
    if len(name.encode()) > 255:
        return f"name is too long, ({len(name.encode())} > 255)"
    return None
