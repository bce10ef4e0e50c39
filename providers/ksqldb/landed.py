"""Whether a request to ``POST /ksql`` whose answer was lost has run: what ``KsqlClient.execute`` looks at
before it sends such a request again.

A statement that changes something must not run twice: a second ``CREATE`` fails with "already exists"
for what was a success, a second ``INSERT INTO ... SELECT`` or ``INSERT ... VALUES`` would run twice.
Its effect is visible in the catalog (``SHOW STREAMS``/``TABLES``/``QUERIES``): a created stream or table
or a started INSERT query is listed, a dropped one or a terminated query is not. Statements whose second
run changes nothing more (reads, ``IF [NOT] EXISTS``, ``CREATE OR REPLACE``, ``PAUSE``/``RESUME``) may be
sent again as they are.
"""
from __future__ import annotations

import dataclasses

from providers.ksqldb.parser import identifier, split_statements, tokens
from providers.ksqldb.shape import with_properties

READS = frozenset({"SHOW", "LIST", "DESCRIBE", "EXPLAIN", "PRINT"})
REPEATABLE = frozenset({"PAUSE", "RESUME"})


@dataclasses.dataclass(frozen=True)
class Effect:
    """What a request changes, as a question the catalog answers: after it ran, ``name`` (a stream or
    table for ``kind`` "source", a query id for "query") is listed when ``listed``, else it is not.
    ``kind`` None: the effect cannot be seen in the catalog (several changes in one request,
    ``INSERT ... VALUES``)."""

    kind: str | None
    name: str = ""
    listed: bool = True

    def seen(self, sources: set[str], queries: set[str]) -> bool:
        """Whether the catalog (stream/table names, query ids) shows that the request ran."""
        return (self.name in (sources if self.kind == "source" else queries)) == self.listed


def only_reads(sql: str) -> bool:
    """Whether every statement of ``sql`` only reads (``SHOW``, ``LIST``, ``DESCRIBE``...)."""
    return all((tokens(text) or [""])[0] in READS for text in split_statements(sql))


def effect_of(sql: str) -> Effect | None:
    """The effect to look for before ``sql`` is sent again after a lost answer; None when sending it again
    is harmless."""
    effects = [effect for effect in map(_effect_of_statement, split_statements(sql)) if effect is not None]
    if not effects:
        return None
    return effects[0] if len(effects) == 1 else Effect(None)


def _effect_of_statement(text: str) -> Effect | None:
    toks = tokens(text)
    head = toks[0] if toks else ""
    if head in READS or head in REPEATABLE:
        return None
    if head == "CREATE":
        if toks[1:3] == ["OR", "REPLACE"] or "NOT" in toks[:8] and "EXISTS" in toks[:8]:
            return None
        rest = [t for t in toks[1:] if t not in ("SOURCE", "STREAM", "TABLE")]
        return Effect("source", identifier(rest[0])) if rest else Effect(None)
    if head == "DROP":
        rest = toks[2:]
        if rest[:2] == ["IF", "EXISTS"]:
            return None
        return Effect("source", identifier(rest[0]), listed=False) if rest else Effect(None)
    if head == "TERMINATE" and len(toks) > 1 and toks[1] != "ALL":
        return Effect("query", identifier(toks[1]).upper(), listed=False)
    if head == "INSERT" and "SELECT" in toks:
        query_id = with_properties(toks).get("QUERY_ID")
        return Effect("query", query_id.upper()) if query_id else Effect(None)
    return Effect(None)
