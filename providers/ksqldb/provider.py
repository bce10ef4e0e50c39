"""Pulumi dynamic provider for a set of ksqlDB statements (streams, tables, INSERT INTO queries).

State per object: kind, normalised SQL, dependencies, file/statement position — never secrets except the
password, which is a secret output. A change replaces only the changed objects and what depends on them:
dependents are dropped first (reverse dependency order), then everything is recreated in dependency
order. ``CREATE OR REPLACE`` is used only where ksqlDB allows it (plain streams/tables whose change only
appends columns). Derived objects (``AS SELECT``) are dropped with ``DELETE TOPIC``; source objects
keep their (connector-fed) topics. ``POST /ksql/terminate`` is never called.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Mapping

from pulumi.dynamic import (CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider,
                            UpdateResult)
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from providers.http import Endpoint
from providers.inputs import is_unknown
from providers.ksqldb.client import KsqlClient, KsqlError
from providers.ksqldb.parser import (KsqlParseError, Statement, as_create_or_replace, dependents, normalise,
                                     parse_sources, replace_in_place_allowed, topological_order)

log = logging.getLogger(__name__)

SECRET_OUTPUTS = ["password"]
_CAS_PREFIXES = ("CSAS_", "CTAS_")
_COMPARED = ("kind", "sql", "depends_on")
_TOPIC_DELETING = "marked for deletion"
TOPIC_DELETION_TIMEOUT = 60.0  # seconds to wait for Kafka to finish deleting a dropped sink topic


class KsqlStatementsError(Exception):
    """A statement failed: names the file and statement, with ksqlDB's message and the statement text."""


def _endpoint(props: Mapping[str, Any]) -> Endpoint:
    return Endpoint(url=props["ksqldb_url"], username=props.get("username") or None,
                    password=props.get("password") or None,
                    ready_timeout=float(props.get("ready_timeout") or 300))


def _desired(props: Mapping[str, Any]) -> list[Statement]:
    return parse_sources(props.get("sources") or {}, props.get("variables") or {})


def _record(statements: list[Statement]) -> dict[str, dict[str, Any]]:
    return {s.name: {"kind": s.kind, "sql": s.sql, "depends_on": list(s.depends_on), "file": s.file,
                     "index": s.index, "is_query": s.is_query, "target": s.target} for s in statements}


def _from_record(name: str, rec: Mapping[str, Any]) -> Statement:
    return Statement(file=rec.get("file", "?"), index=int(rec.get("index", 0)), kind=rec["kind"], name=name,
                     sql=rec["sql"], depends_on=tuple(rec.get("depends_on", ())), text=rec["sql"],
                     is_query=bool(rec.get("is_query", True)), target=rec.get("target", name))


def _outs(props: Mapping[str, Any], statements: list[Statement]) -> dict[str, Any]:
    return {"ksqldb_url": props["ksqldb_url"], "username": props.get("username"),
            "password": props.get("password"), "ready_timeout": props.get("ready_timeout"),
            "streams_properties": dict(props.get("streams_properties") or {}),
            "objects": [s.name for s in statements], "statements": _record(statements)}


def _compared(rec: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded fields a diff looks at (kind, normalised SQL, dependencies)."""
    return {k: rec.get(k) for k in _COMPARED}


def _same(rec: Mapping[str, Any] | None, statement: Statement) -> bool:
    return rec is not None and _compared(rec) == _compared(_record([statement])[statement.name])


class _Live:
    """What the server has right now (one LIST and one SHOW QUERIES request)."""

    def __init__(self, client: KsqlClient):
        self.sources = client.list_sources()
        self.queries = client.queries()

    def insert_queries(self, statement: Statement) -> list[str]:
        """Ids of the INSERT INTO queries running ``statement``."""
        return [q["id"] for q in self.queries
                if not q["id"].startswith(_CAS_PREFIXES) and statement.target in q.get("sinks", [])
                and normalise(q.get("queryString", "")) == statement.sql]

    def writers_besides_cas(self, name: str) -> list[str]:
        """Queries writing into ``name`` that DROP does not terminate (INSERT INTO and custom ids)."""
        return [q["id"] for q in self.queries if name in q.get("sinks", []) and not q["id"].startswith(_CAS_PREFIXES)]

    def terminated(self, query_id: str) -> None:
        self.queries = [q for q in self.queries if q["id"] != query_id]

    def dropped(self, name: str) -> None:
        self.sources.pop(name, None)
        self.queries = [q for q in self.queries if name not in q.get("sinks", [])]

    def exists(self, statement: Statement) -> bool:
        if statement.kind == "INSERT":
            return bool(self.insert_queries(statement))
        return statement.name in self.sources


def _fail(statement: Statement, action: str, exc: KsqlError) -> KsqlStatementsError:
    return KsqlStatementsError(f"{statement.where}: {action} failed: {exc}")


def _drop(client: KsqlClient, live: _Live, statement: Statement) -> None:
    try:
        if statement.kind == "INSERT":
            for query_id in live.insert_queries(statement):
                client.terminate(query_id)
                live.terminated(query_id)
        else:
            for query_id in live.writers_besides_cas(statement.name):
                client.terminate(query_id)
                live.terminated(query_id)
            kind = live.sources.get(statement.name, statement.kind)
            client.drop(kind, statement.name, delete_topic=statement.is_query)
            live.dropped(statement.name)
    except KsqlError as exc:
        raise _fail(statement, f"dropping {statement.name}", exc) from None
    log.info("ksqlDB: dropped %s %s", statement.kind, statement.name)


def _execute_after_topic_deletion(client: KsqlClient, text: str, properties: Mapping[str, str]) -> None:
    """Run a CREATE/INSERT; while Kafka still deletes the old sink topic ("Topic 'X' is marked for
    deletion" right after DROP ... DELETE TOPIC), retry with bounded backoff."""
    retrying = Retrying(retry=retry_if_exception(lambda e: isinstance(e, KsqlError) and _TOPIC_DELETING in e.message),
                        stop=stop_after_delay(TOPIC_DELETION_TIMEOUT), wait=wait_exponential(multiplier=0.2, max=5),
                        reraise=True)
    retrying(client.execute, text, properties)


def _plan(client: KsqlClient, live: _Live, desired: list[Statement],
          previous: Mapping[str, Mapping[str, Any]] | None) -> dict[str, str]:
    """name -> keep | adopt | create | recreate | replace (CREATE OR REPLACE in place)."""
    undecided = [s for s in desired if live.exists(s) and not _same((previous or {}).get(s.name), s)]
    described = client.describe([s.name for s in undecided if s.kind != "INSERT"])
    actions: dict[str, str] = {}
    for s in desired:
        if not live.exists(s):
            actions[s.name] = "create"
        elif s not in undecided:
            actions[s.name] = "keep"
        elif s.kind == "INSERT":
            actions[s.name] = "adopt"  # a running INSERT query with exactly this SQL
        else:
            desc = described.get(s.name, {})
            live_sql = normalise(desc.get("statement", "")) if desc.get("statement") else ""
            old = (previous or {}).get(s.name) or {
                "kind": live.sources[s.name], "sql": live_sql, "is_query": "SELECT" in live_sql.split()}
            if live_sql == s.sql and live.sources[s.name] == s.kind:
                actions[s.name] = "adopt"
            elif replace_in_place_allowed(old, s):
                actions[s.name] = "replace"
            else:
                actions[s.name] = "recreate"
    graph = {s.name: s.depends_on for s in desired}
    roots = {n for n, a in actions.items() if a in ("create", "recreate")}
    for name in dependents(graph, roots) - roots:
        actions[name] = "recreate" if actions[name] != "create" else "create"
    return actions


def converge(client: KsqlClient, desired: list[Statement], previous: Mapping[str, Mapping[str, Any]] | None,
             properties: Mapping[str, str]) -> dict[str, str]:
    """Make the server match ``desired``; ``previous`` is the recorded state (None on create).

    Returns the action taken per object (plus ``drop`` for removed ones).
    """
    live = _Live(client)
    actions = _plan(client, live, desired, previous)
    wanted = {s.name for s in desired}
    removed = [_from_record(n, r) for n, r in (previous or {}).items() if n not in wanted]
    removed = [s for s in removed if live.exists(s)]
    to_drop = [s for s in desired if actions[s.name] == "recreate"] + removed
    for statement in reversed(topological_order(to_drop)):
        _drop(client, live, statement)
    for statement in desired:
        action = actions[statement.name]
        if action in ("keep", "adopt"):
            if action == "adopt":
                log.info("ksqlDB: adopted existing %s %s (same definition)", statement.kind, statement.name)
            continue
        text = as_create_or_replace(statement.text) if action == "replace" else statement.text
        try:
            _execute_after_topic_deletion(client, text, properties)
        except KsqlError as exc:
            raise _fail(statement, f"{action} {statement.name}", exc) from None
        log.info("ksqlDB: %s %s %s", action, statement.kind, statement.name)
    actions.update({s.name: "drop" for s in removed})
    return actions


class KsqlStatementsProvider(ResourceProvider):
    """Create/adopt, diff, update, read and delete a set of ksqlDB statements."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if not news.get("ksqldb_url"):
            failures.append(CheckFailure("ksqldb_url", "ksqldb_url is required (the ksqlDB server base URL)"))
        props = news.get("streams_properties") or {}
        if not is_unknown(props) and not all(isinstance(v, str) for v in props.values()):
            failures.append(CheckFailure("streams_properties", "streams_properties values must be strings"))
        if not is_unknown(news.get("sources")) and not is_unknown(news.get("variables")):
            try:
                _desired(news)
            except KsqlParseError as exc:
                failures.append(CheckFailure("sources", str(exc)))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        url = news.get("ksqldb_url")
        replaces = ["ksqldb_url"] if not is_unknown(url) and url != olds.get("ksqldb_url") else []
        if any(is_unknown(news.get(k)) for k in ("ksqldb_url", "sources", "variables", "streams_properties")):
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=False)
        old_statements = olds.get("statements") or {}
        new_statements = _record(_desired(news))
        changed = set(old_statements) != set(new_statements) or any(
            _compared(old_statements[n]) != _compared(new_statements[n]) for n in new_statements)
        settings = [k for k in ("streams_properties", "username", "password")
                    if (news.get(k) or None) != (olds.get(k) or None)]
        changes = bool(changed or settings or replaces)
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False,
                          stables=[] if changes else ["objects"])

    def create(self, props: dict[str, Any]) -> CreateResult:
        desired = _desired(props)
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            converge(client, desired, None, props.get("streams_properties") or {})
        return CreateResult(f"ksql-{uuid.uuid4().hex[:12]}", _outs(props, desired))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        desired = _desired(news)
        with KsqlClient(_endpoint(news)) as client:
            client.wait_ready()
            converge(client, desired, olds.get("statements") or {}, news.get("streams_properties") or {})
        return UpdateResult(_outs(news, desired))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        recorded = [_from_record(n, r) for n, r in (props.get("statements") or {}).items()]
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            live = _Live(client)
        present = [s for s in recorded if live.exists(s)]
        names = {s.name for s in present}
        outs = dict(props)
        outs["statements"] = {n: r for n, r in (props.get("statements") or {}).items() if n in names}
        outs["objects"] = [n for n in props.get("objects", []) if n in outs["statements"]]
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        recorded = [_from_record(n, r) for n, r in (props.get("statements") or {}).items()]
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            live = _Live(client)
            for statement in reversed(topological_order(recorded)):
                if live.exists(statement):
                    _drop(client, live, statement)
