"""A FAKE ksqlDB server for provider tests: a threaded HTTP server on 127.0.0.1 that keeps streams,
tables and persistent queries in memory and answers the REST API with ksqlDB's documented bodies.

What it models (messages taken from ksqlDB's source): ``POST /ksql`` with several statements per request
(stops at the first error and returns ``@type``/``error_code``/``message``/``statementText``/``entities``);
CREATE [OR REPLACE] STREAM/TABLE [AS SELECT] with query ids ``CSAS_<SINK>_<n>``/``CTAS_<SINK>_<n>``;
INSERT INTO (``INSERTQUERY_<n>``); "already exists"; unknown sources; CREATE OR REPLACE upgrade rules
(plain sources may only append columns; joins/aggregations/windows cannot be upgraded); DROP
[IF EXISTS] [DELETE TOPIC] terminating the CSAS/CTAS query and refusing while other sources or INSERT
queries use the object; TERMINATE; LIST STREAMS/TABLES; SHOW QUERIES; DESCRIBE; ``GET /info``,
``GET /healthcheck``; a not-ready phase (HTTP 503, error 50302) for N requests; injected failures.
``POST /ksql/terminate`` (cluster-wide wipe) is answered with an error and counted, so tests can assert
it is never called. Known difference: real ksqlDB stores a re-formatted statement (with injected WITH
properties and a re-formatted SELECT) in DESCRIBE/SHOW QUERIES for CSAS/CTAS; the fake injects the
WITH clause the same way but keeps the SELECT text as submitted. Plain CREATE STREAM/TABLE and INSERT
INTO statements are stored as submitted.
"""
from __future__ import annotations

import dataclasses
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOT_READY = {"@type": "generic_error", "error_code": 50302, "message": "KSQL is not yet ready to serve requests."}
_MUTATING = ("CREATE", "DROP", "TERMINATE", "INSERT")
_NAME = r"(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"


class StatementError(Exception):
    def __init__(self, message: str, code: int = 40001, status: int = 400):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


@dataclasses.dataclass
class Source:
    name: str
    kind: str  # STREAM | TABLE
    topic: str
    statement: str
    reads: list[str]  # sources its CSAS/CTAS query reads
    columns: list[str]
    with_clause: str
    shape: str | None  # for queries: the step ksqlDB cannot upgrade (StreamAggregate, ...), else None
    is_query: bool  # created by CREATE ... AS SELECT


@dataclasses.dataclass
class Query:
    id: str
    sink: str
    statement: str
    reads: list[str]
    properties: dict[str, str]


def _ident(token: str) -> str:
    return token[1:-1] if token.startswith("`") else token.upper()


def _blank_literals(sql: str) -> str:
    """The statement with string literal contents replaced by spaces (keeps positions)."""
    return re.sub(r"'(?:[^']|'')*'", lambda m: "'" + " " * (len(m.group()) - 2) + "'", sql)


def _split(sql: str) -> list[str]:
    """Statements without comments (ksqlDB's parser skips ``--`` and ``/* */`` comments)."""
    out, current, quote, i = [], [], None, 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'`":
            quote = ch
        elif sql.startswith("--", i):
            i = sql.find("\n", i) if "\n" in sql[i:] else len(sql)
            continue
        elif sql.startswith("/*", i):
            i = sql.find("*/", i) + 2 if "*/" in sql[i:] else len(sql)
            current.append(" ")
            continue
        elif ch == ";":
            if "".join(current).strip():
                out.append("".join(current).strip() + ";")
            current, i = [], i + 1
            continue
        current.append(ch)
        i += 1
    if "".join(current).strip():
        out.append("".join(current).strip() + ";")
    return out


def _columns(blank: str, original: str) -> tuple[list[str], str]:
    """Column list (normalised) and the WITH clause text of a plain CREATE STREAM/TABLE."""
    match = re.search(r"\((.*)\)\s*WITH\s*\((.*)\)\s*;?\s*$", blank, re.S | re.I)
    if not match:
        return [], ""
    cols = re.split(r",(?![^<(]*[>)])", original[match.start(1):match.end(1)])
    norm = lambda s: " ".join(s.upper().split())  # noqa: E731
    return [norm(c) for c in cols if c.strip()], norm(original[match.start(2):match.end(2)])


def _reads(statement: str, blank: str) -> list[str]:
    """Sources named after FROM and JOIN."""
    return [_ident(statement[m.start(1):m.end(1)]) for m in re.finditer(rf"\b(?:FROM|JOIN)\s+{_NAME}", blank, re.I)]


def _shape(blank: str, kind: str) -> str | None:
    upper = blank.upper()
    if re.search(r"\bJOIN\b", upper):
        return "StreamTableJoin" if kind == "STREAM" else "TableTableJoin"
    if re.search(r"\bWINDOW\b", upper):
        return "StreamWindowedAggregate"
    if re.search(r"\bGROUP\s+BY\b", upper):
        return "StreamAggregate"
    return None


def _as_stored(statement: str, blank: str, kind: str, name: str, topic: str) -> str:
    """What DESCRIBE/SHOW QUERIES report for a CSAS/CTAS: like real ksqlDB, the statement re-written
    with the injected sink properties (real ksqlDB also re-formats the SELECT; not modelled)."""
    select = re.search(r"\bAS\s+SELECT\b", blank, re.I).start()
    with_clause = re.search(r"\bWITH\s*\(", blank[:select], re.I)
    if with_clause:
        return statement
    return (f"CREATE {kind} {name} WITH (KAFKA_TOPIC='{topic}', PARTITIONS=1, REPLICAS=1) "
            f"{statement[select:].strip()}")


class FakeKsqlDb:
    """Start with ``with FakeKsqlDb() as fake:``; ``fake.url`` is the base URL."""

    def __init__(self, known_topics: set[str] | None = None):
        self.sources: dict[str, Source] = {}
        self.queries: dict[str, Query] = {}
        self.known_topics = known_topics  # None: every topic exists
        self.requests: list[tuple[str, str]] = []
        self.statements: list[str] = []  # every statement received, in order
        self.mutations: list[str] = []  # statements that change state (CREATE/DROP/TERMINATE/INSERT)
        self.terminate_endpoint_calls = 0
        self.not_ready_requests = 0
        self._failures: list[tuple[str, StatementError]] = []
        self._counter = 0
        self._sequence = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeKsqlDb":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls -----------------------------------------------------------------------------
    def fail_once(self, statement_prefix: str, message: str, code: int = 50000, status: int = 500) -> None:
        """The next statement starting with ``statement_prefix`` (case-insensitive) fails once."""
        self._failures.append((statement_prefix.upper(), StatementError(message, code, status)))

    def mutation_count(self) -> int:
        return len(self.mutations)

    def reset_log(self) -> None:
        self.requests.clear()
        self.statements.clear()
        self.mutations.clear()

    # --- HTTP --------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.ksql.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(("GET", self.path))
                    if fake.not_ready_requests > 0:
                        fake.not_ready_requests -= 1
                        return self._send(503, NOT_READY)
                if self.path == "/info":
                    return self._send(200, {"KsqlServerInfo": {"version": "8.2.0", "kafkaClusterId": "fake",
                                                               "ksqlServiceId": "default_",
                                                               "serverStatus": "RUNNING"}})
                if self.path == "/healthcheck":
                    return self._send(200, {"isHealthy": True, "details": {
                        "metastore": {"isHealthy": True}, "kafka": {"isHealthy": True}}})
                self._send(404, {"@type": "generic_error", "error_code": 40400, "message": "Not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                with fake._lock:
                    fake.requests.append(("POST", self.path))
                    if self.path == "/ksql/terminate":
                        fake.terminate_endpoint_calls += 1
                        return self._send(400, {"@type": "generic_error", "error_code": 40000,
                                                "message": "FAKE: POST /ksql/terminate must never be called"})
                    if self.path != "/ksql":
                        return self._send(404, {"@type": "generic_error", "error_code": 40400,
                                                "message": "Not found"})
                    if fake.not_ready_requests > 0:
                        fake.not_ready_requests -= 1
                        return self._send(503, NOT_READY)
                    status, body = fake._ksql(json.loads(raw))
                self._send(status, body)

        return Handler

    # --- statements ----------------------------------------------------------------------------------
    def _ksql(self, request: dict) -> tuple[int, Any]:
        entities: list[dict] = []
        properties = request.get("streamsProperties") or {}
        for statement in _split(request.get("ksql", "")):
            self.statements.append(statement)
            try:
                for prefix, error in list(self._failures):
                    if statement.upper().startswith(prefix):
                        self._failures.remove((prefix, error))
                        raise error
                entity = self._one(statement, properties)
            except StatementError as exc:
                return exc.status, {"@type": "statement_error", "error_code": exc.code, "message": exc.message,
                                    "statementText": statement, "entities": entities}
            entity.setdefault("statementText", statement)
            entity.setdefault("warnings", [])
            entities.append(entity)
        return 200, entities

    def _status(self, statement: str, message: str, query_id: str | None = None) -> dict:
        self.mutations.append(statement)
        self._sequence += 1
        return {"@type": "currentStatus", "commandId": f"fake/{self._sequence}",
                "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
                "commandSequenceNumber": self._sequence}

    def _one(self, statement: str, properties: dict) -> dict:
        blank = _blank_literals(statement)
        words = blank.upper().split()
        head = " ".join(words[:2])
        if head in ("LIST STREAMS;", "SHOW STREAMS;", "LIST TABLES;", "SHOW TABLES;"):
            kind = "STREAM" if "STREAMS" in head else "TABLE"
            key = "streams" if kind == "STREAM" else "tables"
            items = [{"type": kind, "name": s.name, "topic": s.topic, "keyFormat": "KAFKA",
                      "valueFormat": "JSON", "isWindowed": s.shape == "StreamWindowedAggregate"}
                     for s in self.sources.values() if s.kind == kind]
            return {"@type": key, key: items}
        if head in ("SHOW QUERIES;", "LIST QUERIES;"):
            return {"@type": "queries", "queries": [self._running(q) for q in self.queries.values()]}
        if words and words[0] == "DESCRIBE":
            match = re.match(rf"\s*DESCRIBE\s+{_NAME}", blank, re.I)
            name = _ident(statement[match.start(1):match.end(1)]) if match else ""
            source = self.sources.get(name)
            if source is None:
                raise StatementError(f"Could not find STREAM/TABLE '{name}' in the Metastore")
            return {"@type": "sourceDescription", "sourceDescription": self._describe(source)}
        if words and words[0] == "CREATE":
            return self._create(statement, blank, properties)
        if words and words[0] == "INSERT":
            return self._insert(statement, blank, properties)
        if words and words[0] == "DROP":
            return self._drop(statement, blank)
        if words and words[0] == "TERMINATE":
            query_id = statement.split()[1].rstrip(";")
            if query_id.upper() == "ALL":
                raise StatementError("FAKE: TERMINATE ALL is not modelled")
            if query_id not in self.queries:
                raise StatementError(f"Unknown queryId: {query_id}")
            del self.queries[query_id]
            return self._status(statement, "Query terminated.")
        raise StatementError(f"line 1:1: Syntax Error\nFAKE: statement not supported: {statement[:40]}")

    def _running(self, q: Query) -> dict:
        return {"queryString": q.statement, "sinks": [q.sink], "sinkKafkaTopics": [self.sources[q.sink].topic],
                "id": q.id, "statusCount": {"RUNNING": 1}, "queryType": "PERSISTENT", "state": "RUNNING"}

    def _describe(self, source: Source) -> dict:
        readers = [self._running(q) for q in self.queries.values() if source.name in q.reads]
        writers = [self._running(q) for q in self.queries.values() if q.sink == source.name]
        return {"name": source.name, "type": source.kind, "statement": source.statement, "topic": source.topic,
                "readQueries": readers, "writeQueries": writers,
                "fields": [{"name": c.split()[0], "schema": {"type": c.split()[1]}} for c in source.columns],
                "keyFormat": "KAFKA", "valueFormat": "JSON", "timestamp": "", "extended": False,
                "windowType": None, "statistics": "", "errorStats": "", "partitions": 0, "replication": 0,
                "sourceConstraints": sorted(s.name for s in self.sources.values() if source.name in s.reads)}

    def _require_sources(self, names: list[str]) -> None:
        for name in names:
            if name not in self.sources:
                raise StatementError(f"Exception while preparing statement: {name} does not exist.")

    def _next_id(self, prefix: str) -> str:
        query_id = f"{prefix}_{self._counter}"
        self._counter += 1
        return query_id

    def _create(self, statement: str, blank: str, properties: dict) -> dict:
        match = re.match(rf"\s*CREATE\s+(OR\s+REPLACE\s+)?(SOURCE\s+)?(STREAM|TABLE)\s+(IF\s+NOT\s+EXISTS\s+)?{_NAME}",
                         blank, re.I)
        if not match:
            raise StatementError("line 1:8: Syntax Error")
        or_replace, kind, if_not_exists = bool(match.group(1)), match.group(3).upper(), bool(match.group(4))
        name = _ident(statement[match.start(5):match.end(5)])
        is_query = re.search(r"\bAS\s+SELECT\b", blank, re.I) is not None
        reads = _reads(statement, blank)
        existing = self.sources.get(name)
        if existing and not or_replace:
            if if_not_exists:
                return {"@type": "warning_entity", "message": f"Cannot add {kind.lower()} {name}: "
                        f"A {existing.kind.lower()} with the same name already exists."}
            raise StatementError(f"Cannot add {kind.lower()} '{name}': A {existing.kind.lower()} "
                                 f"with the same name already exists")
        if existing and existing.kind != kind:
            raise StatementError(f"Cannot add {kind.lower()} '{name}': A {existing.kind.lower()} "
                                 f"with the same name already exists")
        self._require_sources(reads)
        topic_match = re.search(r"KAFKA_TOPIC\s*=\s*'([^']*)'", statement, re.I)
        topic = topic_match.group(1) if topic_match else name
        shape = _shape(blank, kind) if is_query else None
        columns, with_clause = ([], "") if is_query else _columns(blank, statement)
        if not is_query and self.known_topics is not None and topic not in self.known_topics \
                and not re.search(r"\bPARTITIONS\s*=", blank, re.I):
            raise StatementError(f"Topic '{topic}' does not exist. If you want to create a new topic for the "
                                 f"{kind.lower()} please re-run the statement providing the required "
                                 f"'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS').")
        if existing:
            self._check_upgrade(existing, is_query, shape, columns, with_clause)
        stored = _as_stored(statement, blank, kind, name, topic) if is_query else statement
        source = Source(name, kind, topic, stored, reads if is_query else [], columns, with_clause, shape,
                        is_query)
        self.sources[name] = source
        if self.known_topics is not None:
            self.known_topics.add(topic)
        if not is_query:
            return self._status(statement, f"{kind.title()} created")
        replaced = [q.id for q in self.queries.values() if q.sink == name and q.id.startswith(("CSAS_", "CTAS_"))]
        query_id = replaced[0] if replaced else self._next_id(f"{'CTAS' if kind == 'TABLE' else 'CSAS'}_{name}")
        self.queries[query_id] = Query(query_id, name, stored, reads, dict(properties))
        return self._status(statement, f"Created query with ID {query_id}", query_id)

    def _check_upgrade(self, existing: Source, is_query: bool, shape: str | None, columns: list[str],
                       with_clause: str) -> None:
        was_query = existing.is_query
        if is_query != was_query:
            raise StatementError(f"Cannot upgrade data source: DataSource '{existing.name}' has type "
                                 f"{'query' if was_query else 'source'} which cannot be replaced by this statement")
        if is_query:
            step = shape or existing.shape
            if step:
                raise StatementError(f"Upgrades not yet supported for {step}")
            return
        appended = len(columns) >= len(existing.columns) and columns[:len(existing.columns)] == existing.columns
        if not appended or with_clause != existing.with_clause:
            raise StatementError(f"Cannot upgrade data source: DataSource '{existing.name}' has schema = "
                                 f"{', '.join(existing.columns)} which is not upgrade compatible with "
                                 f"{', '.join(columns)}")

    def _insert(self, statement: str, blank: str, properties: dict) -> dict:
        match = re.match(rf"\s*INSERT\s+INTO\s+{_NAME}", blank, re.I)
        if not match or not re.search(r"\bSELECT\b", blank, re.I):
            raise StatementError("FAKE: only INSERT INTO ... SELECT is modelled")
        target = _ident(statement[match.start(1):match.end(1)])
        reads = _reads(statement, blank)
        self._require_sources([target] + reads)
        if self.sources[target].kind != "STREAM":
            raise StatementError(f"INSERT INTO can only be used to insert into a stream. {target} is a table.")
        query_id = self._next_id("INSERTQUERY")
        self.queries[query_id] = Query(query_id, target, statement, reads, dict(properties))
        return self._status(statement, f"Created query with ID {query_id}", query_id)

    def _drop(self, statement: str, blank: str) -> dict:
        match = re.match(rf"\s*DROP\s+(STREAM|TABLE)\s+(IF\s+EXISTS\s+)?{_NAME}(\s+DELETE\s+TOPIC)?", blank, re.I)
        if not match:
            raise StatementError("line 1:6: Syntax Error")
        kind, if_exists = match.group(1).upper(), bool(match.group(2))
        name = _ident(statement[match.start(3):match.end(3)])
        source = self.sources.get(name)
        if source is None:
            if if_exists:
                return self._status(statement, f"Source {name} does not exist.")
            raise StatementError(f"Source {name} does not exist.")
        if source.kind != kind:
            raise StatementError(f"Incompatible data source type is {source.kind}, but statement was DROP {kind}")
        readers = sorted(s.name for s in self.sources.values() if name in s.reads)
        if readers:
            raise StatementError(f"Cannot drop {name}.\nThe following streams and/or tables read from this "
                                 f"source: [{', '.join(readers)}].\nYou need to drop them before dropping {name}.")
        inserts_reading = sorted(q.id for q in self.queries.values() if name in q.reads and q.sink != name)
        inserts_writing = sorted(q.id for q in self.queries.values()
                                 if q.sink == name and not q.id.startswith(("CSAS_", "CTAS_")))
        if inserts_reading or inserts_writing:
            raise StatementError(f"Cannot drop {name}.\nThe following queries read from this source: "
                                 f"[{', '.join(inserts_reading)}].\nThe following queries write into this "
                                 f"source: [{', '.join(inserts_writing)}].\nYou need to terminate them before "
                                 f"dropping {name}.")
        for query_id in [q.id for q in self.queries.values() if q.sink == name]:
            del self.queries[query_id]
        del self.sources[name]
        if match.group(4) and self.known_topics is not None:
            self.known_topics.discard(source.topic)
        return self._status(statement, f"Source {name} (topic: {source.topic}) was dropped.")
