"""What ksqlDB runs now (``Catalog``) and the statements that take it to what the SQL files declare.

A replacement is always planned as one script — terminate the INSERT queries that touch the objects to
rebuild, drop them dependents first, create them again in dependency order — so that the whole script
can be proven with :meth:`KsqlClient.dry_run` before its first statement runs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any, Iterable, Mapping

from providers.ksqldb.canonical import same_expressions
from providers.ksqldb.client import quote
from providers.ksqldb.parser import Statement, dependents, normalise, tokens
from providers.ksqldb.shape import (
    declared_shape,
    differences,
    live_shape,
    with_properties,
)

CREATING_QUERY_PREFIXES = ("CSAS_", "CTAS_")  # ids ksqlDB gives the query of CREATE ... AS SELECT


def insert_query_id(statement: Statement) -> str:
    """The query id of an INSERT INTO: its own ``QUERY_ID`` or one derived from the normalised statement
    (ksqlDB upper-cases query ids)."""
    declared = with_properties(tokens(statement.text)).get("QUERY_ID")
    if declared:
        return declared.upper()
    digest = hashlib.sha256(normalise(statement.text).encode()).hexdigest()[:10].upper()
    return re.sub(r"[^A-Z0-9_]", "_", f"INSERT_{statement.target}_{digest}")


def executable(statement: Statement) -> str:
    """The text sent to ksqlDB: INSERT INTO gets its ``QUERY_ID`` so the query can be found again."""
    if statement.kind != "INSERT" or "QUERY_ID" in with_properties(tokens(statement.text)):
        return statement.text
    head = re.match(r"\s*INSERT\s+INTO\s+(`(?:[^`]|``)*`|\w+)\s*", statement.text, re.IGNORECASE)
    assert head is not None  # the parser accepted it as INSERT INTO <name>
    rest = statement.text[head.end():]
    if re.match(r"WITH\s*\(", rest, re.IGNORECASE):
        rest = re.sub(r"^WITH\s*\(", f"WITH (QUERY_ID='{insert_query_id(statement)}', ", rest, flags=re.IGNORECASE)
    else:
        rest = f"WITH (QUERY_ID='{insert_query_id(statement)}') {rest}"
    return f"{statement.text[:head.end()].rstrip()} {rest}"


def drop_sql(kind: str, name: str, *, delete_topic: bool) -> str:
    """``DROP STREAM|TABLE IF EXISTS name [DELETE TOPIC]`` — also ends the query that creates it."""
    return f"DROP {kind} IF EXISTS {quote(name)}{' DELETE TOPIC' if delete_topic else ''};"


class Catalog:
    """One snapshot of a ksqlDB server: its streams and tables (as ``DESCRIBE ... EXTENDED`` reports them)
    and its persistent queries."""

    def __init__(self, descriptions: Iterable[Mapping[str, Any]], queries: Iterable[Mapping[str, Any]]):
        self.sources = {d["name"]: d for d in descriptions}
        self.queries = {q["id"]: q for q in queries}

    def exists(self, statement: Statement) -> bool:
        if statement.kind == "INSERT":
            return insert_query_id(statement) in self.queries
        return statement.name in self.sources

    def query_of(self, statement: Statement) -> Mapping[str, Any] | None:
        """The persistent query behind ``statement`` (its CREATE ... AS SELECT or INSERT INTO query)."""
        if statement.kind == "INSERT":
            return self.queries.get(insert_query_id(statement))
        writers = (self.sources.get(statement.name) or {}).get("writeQueries") or []
        creating = [q for q in writers if q["id"].startswith(CREATING_QUERY_PREFIXES)]
        return self.queries.get(creating[0]["id"], creating[0]) if creating else None

    def query_state(self, statement: Statement) -> str | None:
        """RUNNING, PAUSED, ERROR or UNRESPONSIVE (``state`` is only ever RUNNING or ERROR; a paused or
        unreachable query shows in ``statusCount``), or None when there is no query."""
        query = self.query_of(statement)
        if query is None:
            return None
        counts = query.get("statusCount") or {}
        for state in ("ERROR", "UNRESPONSIVE", "PAUSED"):
            if counts.get(state):
                return state
        return query.get("state")

    def inserts_touching(self, name: str) -> list[str]:
        """Ids of INSERT INTO queries that write into or read from ``name`` (DROP does not end them)."""
        source = self.sources.get(name) or {}
        return sorted({q["id"] for q in (source.get("writeQueries") or []) + (source.get("readQueries") or [])
                       if not q["id"].startswith(CREATING_QUERY_PREFIXES)})

    def differences(self, statement: Statement) -> list[str]:
        """Why the live object is another object than the declared one (empty: the same object)."""
        return differences(declared_shape(statement), live_shape(self.sources[statement.name]))

    def expressions_differ(self, statement: Statement) -> bool:
        """Whether the stored query's expressions (filters, projections, HAVING...) read differently from
        the declared ones once ksqlDB's formatting is taken away (see :mod:`providers.ksqldb.canonical`)."""
        stored = self.sources[statement.name].get("statement") or ""
        return statement.is_query and not same_expressions(statement.text, stored)


@dataclasses.dataclass
class Rebuild:
    """Statements that rebuild ``names``: ``drops`` (with terminations first) and ``creates``, in order."""

    names: list[str]
    drops: list[str]
    creates: list[str]

    @property
    def script(self) -> list[str]:
        return self.drops + self.creates


def rebuild(pipeline: list[Statement], catalog: Catalog, roots: Iterable[str]) -> Rebuild:
    """Everything that must be recreated when ``roots`` are recreated: the roots and every declared object
    downstream of them, dropped dependents first (and their INSERT queries terminated first of all), then
    created in dependency order. Objects that do not exist yet are created too, so the script stands on
    its own against the server."""
    graph = {s.name: s.depends_on for s in pipeline}
    names = dependents(graph, roots)
    order = [s for s in pipeline if s.name in names]
    live = [s for s in order if catalog.exists(s)]
    terminate = sorted({qid for s in live if s.kind != "INSERT" for qid in catalog.inserts_touching(s.name)}
                       | {insert_query_id(s) for s in live if s.kind == "INSERT"})
    drops = [f"TERMINATE {qid};" for qid in terminate]
    drops += [drop_sql(s.kind, s.name, delete_topic=s.is_query) for s in reversed(live) if s.kind != "INSERT"]
    creates = [executable(s) for s in pipeline if s.name in names or not catalog.exists(s)]
    return Rebuild([s.name for s in order], drops, creates)


def changed(pipeline: list[Statement], catalog: Catalog) -> set[str]:
    """Declared objects whose live counterpart is another object (missing ones are not "changed")."""
    return {s.name for s in pipeline if s.kind != "INSERT" and s.name in catalog.sources and catalog.differences(s)}
