"""The dynamic provider behind ``IndexTemplate``: one composable ``_index_template``, keyed by name.

Its field table is ``CONTRACT`` (docs/resources/elasticsearch-grafana.md). Outputs are the inputs plus
``adopted`` (the template already existed when it was created here). Create, update and read end with the
same read-back, which records the live template as ``body``, so ``pulumi refresh`` shows edits made out of
band; both sides are normalised before comparing (Elasticsearch returns settings nested, prefixed with
``index.`` and as strings).
"""
from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any, Mapping

import pulumi

from providers.contract import (
    IDENTITY,
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    ReadBackProvider,
    adoption,
    connection,
    read_back_of_write,
)
from providers.declare import DeclaredResource, declare
from providers.elasticsearch.client import ElasticsearchClient
from providers.inputs import is_unknown, whole_numbers

# Built-in templates of Elasticsearch 8 use priority 100 for these patterns (docs/resources/elasticsearch-grafana.md).
BUILTIN_PATTERNS = ("logs-*-*", "metrics-*-*", "traces-*-*", "synthetics-*-*", "profiling-*")
BUILTIN_PRIORITY = 100
BODY_KEYS = {"index_patterns", "template", "priority", "version", "composed_of", "_meta", "data_stream",
             "allow_auto_create", "ignore_missing_component_templates", "deprecated"}
TEMPLATE_KEYS = {"settings", "mappings", "aliases", "lifecycle", "data_stream_options"}
_ILLEGAL_CHARS = re.compile(r'[\\/?"<>|\s,#:]')


def check_template_name(name: Any) -> str | None:
    """Why ``name`` is not a legal index template name, or None."""
    if not isinstance(name, str) or not name:
        return "template_name must be a non-empty string"
    if name != name.lower():
        return f"template_name {name!r} must be lower case"
    if "*" in name or _ILLEGAL_CHARS.search(name):
        return f"template_name {name!r} must not contain wildcards, spaces or any of \\ / ? \" < > | , # :"
    if name.startswith(("_", "-", "+")) or name in (".", ".."):
        return f"template_name {name!r} must not start with _, - or + and must not be . or .."
    return None


def _may_overlap(pattern: str, builtin: str) -> bool:
    if "*" not in pattern:
        return fnmatch.fnmatchcase(pattern, builtin)
    mine, theirs = pattern.split("*", 1)[0], builtin.split("*", 1)[0]
    return mine.startswith(theirs) or theirs.startswith(mine)


def check_body(body: Any) -> list[str]:
    """Reasons ``body`` is not a usable composable template body (no network)."""
    if not isinstance(body, Mapping):
        return ["body must be a mapping (the _index_template body)"]
    problems = [f"body has unknown key {key!r} (allowed: {', '.join(sorted(BODY_KEYS))})"
                for key in body if key not in BODY_KEYS]
    patterns = body.get("index_patterns")
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        return problems + ["body.index_patterns must be a non-empty list of index name patterns"]
    for pattern in patterns:
        if not pattern.strip("*"):
            problems.append(f"index pattern {pattern!r} matches every index: use an explicit prefix")
        elif pattern != pattern.lower() or _ILLEGAL_CHARS.search(pattern) or pattern.startswith("_"):
            problems.append(f"index pattern {pattern!r} must be lower case, must not start with _ and must "
                            "not contain spaces or any of \\ / ? \" < > | , # :")
    priority = whole_numbers(body.get("priority", 0))
    if not isinstance(priority, int) or isinstance(priority, bool) or priority < 0:
        problems.append("body.priority must be a non-negative integer")
    else:
        overlapping = sorted({b for p in patterns for b in BUILTIN_PATTERNS if _may_overlap(p, b)})
        if overlapping and priority <= BUILTIN_PRIORITY:
            problems.append(f"index patterns {patterns} may overlap the built-in templates for {overlapping} "
                            f"(priority {BUILTIN_PRIORITY}): set body.priority above {BUILTIN_PRIORITY}")
    template = body.get("template", {})
    if not isinstance(template, Mapping):
        problems.append("body.template must be a mapping")
    else:
        problems += [f"body.template has unknown key {key!r} (allowed: {', '.join(sorted(TEMPLATE_KEYS))})"
                     for key in template if key not in TEMPLATE_KEYS]
    return problems


def _setting_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_setting_value(v) for v in value]
    return value if value is None else str(value)


def flatten_settings(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"index": {"number_of_shards": 1}}`` and ``{"number_of_shards": "1"}`` both become
    ``{"index.number_of_shards": "1"}`` — the form Elasticsearch stores."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_settings(value, f"{name}."))
        else:
            flat[name if name.startswith("index.") else f"index.{name}"] = _setting_value(value)
    return flat


def normalise_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable form of a template body, declared or as returned by ``GET _index_template``."""
    normal: dict[str, Any] = {}
    for key, value in whole_numbers(body).items():
        if key == "composed_of" and not value:
            continue
        if key == "index_patterns" and isinstance(value, str):
            value = [value]
        if key == "template":
            value = {k: flatten_settings(v) if k == "settings" else v for k, v in value.items() if v}
            if not value:
                continue
        normal[key] = value
    return normal


def _body_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    body = news.get("body")
    return is_unknown(body) or normalise_body(body or {}) != normalise_body(olds.get("body") or {})


CONTRACT = Contract("IndexTemplate", [
    *connection("elasticsearch_url", secrets_=("password", "api_key"), service="Elasticsearch"),
    Field("template_name", IDENTITY, required=True, annotation="str", doc="the template's name",
          problem=check_template_name),
    Field("body", IN_PLACE, required=True, changed=_body_changed,
          problem=lambda body: "; ".join(check_body(body)) or None,
          doc="the `PUT _index_template` body, compared normalised"),
    Field("adopted", OUTPUT, doc="the template existed before it was created here"),
])


class IndexTemplateProvider(ReadBackProvider):
    """Create/adopt, update, read and delete one composable index template. Holds no state."""

    contract = CONTRACT
    id_output = "template_name"
    client_class = ElasticsearchClient
    url_input = "elasticsearch_url"

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """Validate with ``_simulate``, then PUT, then read back."""
        name, where = props["template_name"], f"Elasticsearch at {props['elasticsearch_url']}"
        with self.client(props) as es:
            es.wait_ready()
            adopted = adoption(olds, lambda: es.get_index_template(name) is not None, f"index template {name!r}",
                               where)
            es.simulate_index_template(name, props["body"])
            es.put_index_template(name, props["body"])
            outs = self.read_back(es, name, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"index template {name!r}", where)

    def read_back(self, es: ElasticsearchClient, name: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The template as Elasticsearch has it, in the shape of the outputs (None when there is none);
        ``diff`` compares bodies normalised. Used by create, update and read."""
        live = es.get_index_template(name)
        return None if live is None else {**props, "template_name": name, "body": live}

    def delete_object(self, es: ElasticsearchClient, name: str) -> None:
        es.delete_index_template(name)


if TYPE_CHECKING:  # typed inputs of IndexTemplate (python -m tools.generated)
    class IndexTemplate(DeclaredResource):
        """The inputs and fields of the ``IndexTemplate`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            elasticsearch_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            api_key: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            template_name: pulumi.Input[str],
            body: pulumi.Input[Any],
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        elasticsearch_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        api_key: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        template_name: pulumi.Output[str]
        body: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    IndexTemplate = declare(CONTRACT, IndexTemplateProvider, module="elasticsearch", name="IndexTemplate", doc="""\
    ``PUT _index_template/<template_name>`` with ``body``, validated with ``_simulate`` first; ``body`` is the
    live body after a refresh.""")
