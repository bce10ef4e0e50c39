"""What ksqlDB runs now (``Catalog``) and the statements that take it to what the SQL files declare.

A replacement is proven as one script — terminate the INSERT queries that touch the objects to rebuild,
drop them dependents first, create them again in dependency order — sent to ksqlDB as a dry run
(:meth:`KsqlClient.dry_run`) that can change nothing (:func:`proof`), before the engine drops anything.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any, Iterable, Mapping

from providers.ksqldb.canonical import same_expressions
from providers.ksqldb.client import KsqlClient, KsqlError, quote
from providers.ksqldb.parser import (
    Statement,
    as_create_or_replace,
    dependents,
    identifier,
    normalise,
    replace_in_place_allowed,
    token_spans,
    tokens,
)
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


def drop_script(catalog: "Catalog", name: str) -> list[str]:
    """The statements that drop ``name`` with what ksqlDB made for it: ``TERMINATE`` of the INSERT queries that
    touch it and of the query that creates it, then ``DROP ... [DELETE TOPIC]`` (the topic only of a derived
    object). The creating query is terminated first because ksqlDB 8.2.1 deletes the topic of a
    ``DROP ... DELETE TOPIC`` while it handles the request and stops the query only afterwards, when the
    command runs: seen on the real server, the query's producer, still running, had the broker create the topic
    again (auto-creation, one partition, ``cleanup.policy=delete``) and flushed the old build's rows into it, so
    a rebuild either was refused (another partition count) or adopted a topic that began with the old rows."""
    kind = catalog.sources[name].get("type", "STREAM").upper()
    creating = catalog.creating_query(name)
    return [*(f"TERMINATE {query_id};" for query_id in catalog.inserts_touching(name)),
            *([f"TERMINATE {creating};"] if creating else []),
            drop_sql(kind, name, delete_topic=creating is not None)]


def done(text: str) -> str:
    """What a DROP, TERMINATE or RESUME that ran did, in words: ``dropped table x with its topic``."""
    return (text.rstrip(";").replace(" IF EXISTS", "").lower().replace("drop ", "dropped ")
            .replace("terminate ", "terminated query ").replace(" delete topic", " with its topic"))


class Catalog:
    """One snapshot of a ksqlDB server: its streams and tables (as ``DESCRIBE ... EXTENDED`` reports them),
    its persistent queries and the Kafka topics it sees (``SHOW TOPICS``)."""

    def __init__(self, descriptions: Iterable[Mapping[str, Any]], queries: Iterable[Mapping[str, Any]],
                 topics: Iterable[str] | None = None):
        self.sources = {d["name"]: d for d in descriptions}
        self.queries = {q["id"]: q for q in queries}
        self.topics = None if topics is None else set(topics)  # None: not read

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

    def creating_query(self, name: str) -> str | None:
        """The id of the CREATE ... AS SELECT query that writes ``name``, if any."""
        writers = (self.sources.get(name) or {}).get("writeQueries") or []
        return next((q["id"] for q in writers if q["id"].startswith(CREATING_QUERY_PREFIXES)), None)

    def derived(self, name: str) -> bool:
        """Whether a CREATE ... AS SELECT query writes ``name`` (its topic belongs to ksqlDB)."""
        return self.creating_query(name) is not None

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
        """Why the live object is not the declared one (empty: the same object, working): another shape,
        its topic gone, no query writing it, or a query whose expressions differ from the declared ones."""
        source = self.sources[statement.name]
        found = differences(declared_shape(statement), live_shape(source))
        if self.topic_missing(statement.name):
            found.append(f"its topic '{source.get('topic')}' is missing")
        if statement.is_query and self.query_of(statement) is None:
            found.append("no persistent query writes it")
        elif self.expressions_differ(statement):
            found.append("its query's expressions differ from the declared ones")
        return found

    def topic_missing(self, name: str) -> bool:
        """Whether the stream or table ``name`` exists while its Kafka topic does not (deleted out of band:
        ksqlDB still lists it and runs its query; a new query reading it is refused, "Failed to Describe
        Kafka Topic(s)"). False when the topics were not read."""
        topic = (self.sources.get(name) or {}).get("topic")
        return self.topics is not None and bool(topic) and topic not in self.topics

    def lost(self, statements: Iterable[Statement]) -> list[str]:
        """The streams and tables of ``statements`` that exist while their Kafka topic does not
        (:meth:`topic_missing`): what ``up`` rebuilds with everything downstream of it."""
        return [s.name for s in statements if s.kind != "INSERT" and self.topic_missing(s.name)]

    def readers(self, name: str) -> set[str]:
        """The streams and tables whose queries read ``name`` (a DROP of ``name`` is refused while any do)."""
        reads = (self.sources.get(name) or {}).get("readQueries") or []
        return {sink for q in reads if q["id"].startswith(CREATING_QUERY_PREFIXES) for sink in q.get("sinks") or []}

    def expressions_differ(self, statement: Statement) -> bool:
        """Whether the stored query's expressions (filters, projections, HAVING...) read differently from
        the declared ones once ksqlDB's formatting is taken away (see :mod:`providers.ksqldb.canonical`)."""
        stored = self.sources[statement.name].get("statement") or ""
        return statement.is_query and not same_expressions(statement.text, stored)


# where ksqlDB says a refusal is: ``Line: 1, Col: 31: ...`` (analysis), ``line 1:8: Syntax Error`` (parser)
_POSITION = re.compile(r"\bLine: (\d+), Col: (\d+)|\bline (\d+):(\d+)")


@dataclasses.dataclass
class Rebuild:
    """What recreating ``root`` takes: ``names``, the objects recreated (it and everything downstream);
    ``script``, every statement of the rebuild in order, and ``origins``, the declared statement each one
    belongs to (so an error can name it)."""

    names: list[str]
    script: list[str]
    origins: list[Statement]

    def position_in_file(self, message: str) -> str:
        """`` (at <file> line L, column C)`` for the first ``Line: l, Col: c`` (or ``line l:c``) of a ksqlDB
        message: ksqlDB counts in the request it was sent (the client joins ``script`` with spaces), the user
        in the file the statement came from. The column only when the script statement is the declared text
        (the proof renames topics, adds ``OR REPLACE``); "" when the position is in no script statement."""
        found = _POSITION.search(message)
        if found is None:
            return ""
        line, column = (int(found.group(1) or found.group(3)), int(found.group(2) or found.group(4)))
        at_line, at_column = 1, 1
        for text, origin in zip(self.script, self.origins):
            end_line = at_line + text.count("\n")
            end_column = len(text) - text.rfind("\n") if "\n" in text else at_column + len(text)
            if (at_line, at_column) <= (line, column) < (end_line, end_column):
                file_line = origin.line + line - at_line
                if text not in (origin.text, executable(origin)):
                    return f" (at {origin.file} line {file_line})"
                file_column = origin.column + column - at_column if line == at_line else column
                return f" (at {origin.file} line {file_line}, column {file_column})"
            at_line, at_column = end_line, end_column + 1  # the space between two statements
        return ""

    def origin_of(self, sent: str) -> Statement | None:
        """The declared statement behind the script statement ``sent`` (None when it is not one of them)."""
        wanted = normalise(sent)
        found = [o for text, o in zip(self.script, self.origins) if normalise(text) == wanted]
        return found[0] if len(found) == 1 else None


def change_proof(statements: list[Statement], previous: Mapping[str, Statement], catalog: Catalog,
                 marker: str) -> Rebuild:
    """The dry run that proves taking what runs to ``statements`` (in dependency order), whose earlier
    declarations are ``previous`` (name -> statement; those missing there count as unchanged): every object
    that does not exist is created; every changed one is replaced in place (``CREATE OR REPLACE``) when
    ksqlDB allows that change, else rebuilt with everything downstream of it; and every object whose Kafka
    topic is gone is rebuilt with everything downstream of it, as ``up`` repairs it (a query over it would
    be refused otherwise). Used by the ``KsqlDirectory`` for the whole declared change and by each object
    for its own."""
    rebuilt = set(catalog.lost(statements))
    in_place: list[str] = []
    for statement in statements:
        if not catalog.exists(statement) or statement.name in rebuilt:
            continue
        old = previous.get(statement.name)
        if old is not None and old.sql != statement.sql:
            if replace_in_place_allowed(old, statement):
                in_place.append(statement.name)
            else:
                rebuilt.add(statement.name)
    return proof(statements, catalog, rebuilt, marker, in_place=in_place)


def proof(statements: list[Statement], catalog: Catalog, roots: Iterable[str], marker: str,
          retired: Iterable[str] = (), in_place: Iterable[str] = ()) -> Rebuild:
    """The dry run that proves rebuilding ``roots`` (``statements``: they and their related statements, in
    dependency order), replacing ``in_place`` with ``CREATE OR REPLACE`` and dropping ``retired`` (live
    objects no statement declares): terminate the INSERT queries that touch what is dropped, drop it
    readers first (as the live catalog has them), create the rebuilt objects again, and create what is
    missing around them, so the script stands on its own.

    It changes nothing on the server even when ksqlDB validates it: ksqlDB's sandbox passes topic
    deletions through to Kafka, so no ``DELETE TOPIC`` is in it. A derived object whose topic the real
    rebuild deletes and creates again is created in the proof on a topic of its own
    (``pulumi_proof_<marker>_<topic>``, which the sandbox only records in memory), so the proof sees the
    topic as the real rebuild will: new, with the partitions and replicas the statement asks for.
    Statements of ``retired`` objects are attributed to the first root (there is no declared one).
    """
    graph = {s.name: s.depends_on for s in statements}
    names = dependents(graph, roots)
    order = [s for s in statements if s.name in names]
    live = [s for s in order if catalog.exists(s)]
    first = order[0] if order else statements[0]
    origin = {s.name: s for s in live}
    dropped = [s.name for s in live if s.kind != "INSERT"] + [n for n in retired if n in catalog.sources]
    script: list[str] = []
    origins: list[Statement] = []

    def add(text: str, statement: Statement) -> None:
        if text not in script:
            script.append(text)
            origins.append(statement)

    for statement in live:
        if statement.kind == "INSERT":
            add(f"TERMINATE {insert_query_id(statement)};", statement)
    for name in dropped:
        for query_id in catalog.inserts_touching(name):
            add(f"TERMINATE {query_id};", origin.get(name, first))
    for name in readers_first(catalog, dropped):
        add(drop_sql(catalog.sources[name].get("type", "STREAM").upper(), name, delete_topic=False),
            origin.get(name, first))
    recreated_topics = {catalog.sources[n].get("topic") for n in dropped if catalog.derived(n)}
    replaced = set(in_place)
    for statement in statements:
        if statement.name in names or not catalog.exists(statement):
            text = executable(statement)
            topic = declared_topic(statement)
            if statement.kind != "INSERT" and statement.is_query and topic in recreated_topics:
                text = with_topic(text, proof_topic(marker, topic))
            add(text, statement)
        elif statement.name in replaced:
            add(as_create_or_replace(statement.text), statement)
    return Rebuild([s.name for s in order], script, origins)


def readers_first(catalog: Catalog, names: list[str]) -> list[str]:
    """``names`` ordered so that every one comes before the objects it reads (as the live catalog has it),
    otherwise in reverse of the given order."""
    pending, ordered = list(reversed(names)), []
    while pending:
        free = next((n for n in pending if not catalog.readers(n) & set(pending) - {n}), pending[0])
        ordered.append(free)
        pending.remove(free)
    return ordered


def declared_topic(statement: Statement) -> str:
    """The Kafka topic a stream/table writes to: its ``KAFKA_TOPIC``, else its name (ksqlDB's default)."""
    return with_properties(tokens(statement.text)).get("KAFKA_TOPIC") or statement.name


def proof_topic(marker: str, topic: str) -> str:
    """A topic name no one uses, for the proof's copy of ``topic`` (Kafka allows 249 characters)."""
    return f"pulumi_proof_{marker.lower()}_{topic}"[:249]


def with_topic(text: str, topic: str) -> str:
    """``CREATE STREAM|TABLE ... AS SELECT`` with its ``KAFKA_TOPIC`` set to ``topic``."""
    spans = token_spans(text)
    words = [w for w, _, _ in spans]
    select = words.index("SELECT")
    literal = "'" + topic.replace("'", "''") + "'"
    if "WITH" not in words[:select]:
        as_start = spans[select - 1][1]  # the AS of AS SELECT
        return f"{text[:as_start]}WITH (KAFKA_TOPIC={literal}) {text[as_start:]}"
    opening = words.index("WITH") + 1
    for i in range(opening + 1, select - 2):
        if words[i].strip("`").upper() == "KAFKA_TOPIC" and words[i + 1] == "=":
            _, start, end = spans[i + 2]
            return f"{text[:start]}{literal}{text[end:]}"
    after = spans[opening][2]
    return f"{text[:after]}KAFKA_TOPIC={literal}, {text[after:]}"


def refusal_message(culprit: Statement, change: Statement, plan: Rebuild, exc: KsqlError) -> str:
    """A dry run was refused: nothing was changed; name the statement it is about, say why and what to do."""
    hint = ""
    if "partition" in exc.message and "already exists" in exc.message:
        hint = ("\nKafka keeps a topic's partitions and ksqlDB never changes them: declare the partition count "
                "the topic has (stack config kafkaPartitions), or move the stream to a new topic, or delete the "
                "topic (and its data) before running `pulumi up` again.")
    during = "" if culprit == change else f" while proving the change of {change.where}"
    return (f"{culprit.where}: ksqlDB refused this statement in a dry run{during}, so nothing was changed. "
            f"The change: {summary(plan.script)}.\nksqlDB error {exc.error_code}: {exc.message}"
            f"{plan.position_in_file(exc.message)}{hint}")


def summary(script: list[str]) -> str:
    """``terminate Q; drop A, B; create B, A`` for a list of statements."""
    steps: dict[str, list[str]] = {}
    for text in script:
        words = [w for w in tokens(text) if w not in ("OR", "REPLACE", "IF", "EXISTS", "STREAM", "TABLE", "INTO")]
        steps.setdefault(words[0].lower(), []).append(identifier(words[1]) if len(words) > 1 else "")
    return "; ".join(f"{verb} {', '.join(names)}" for verb, names in steps.items())


def refused(client: KsqlClient, plan: Rebuild, properties: Mapping[str, str], fallback: Statement
            ) -> tuple[Statement, KsqlError] | None:
    """None when ksqlDB accepts ``plan``'s dry run (which changes nothing); else the declared statement it
    refuses and ksqlDB's answer to it (``fallback`` with the answer to the whole script when no prefix of
    the script is refused)."""
    try:
        client.dry_run(plan.script, properties)
    except KsqlError as exc:
        return _refusal(client, plan, properties, exc) or (fallback, exc)
    return None


def _refusal(client: KsqlClient, plan: Rebuild, properties: Mapping[str, str], error: KsqlError
             ) -> tuple[Statement, KsqlError] | None:
    """The declared statement behind the first script statement ksqlDB refuses, and ksqlDB's answer to it,
    given ``error``, its answer to the whole script. When that answer names no single script statement
    (errors that name none, or quote the whole request), ever shorter prefixes of the script are dry-run
    (each changes nothing) to find it. None when every prefix passes."""
    named = plan.origin_of(error.statement_text) if error.statement_text else None
    if named is not None:
        return named, error
    passing, failing, answer = 0, len(plan.script), error
    while failing - passing > 1:
        middle = (passing + failing) // 2
        try:
            client.dry_run(plan.script[:middle], properties)
        except KsqlError as exc:
            failing, answer = middle, exc
        else:
            passing = middle
    return (plan.origins[failing - 1], answer) if failing else None
