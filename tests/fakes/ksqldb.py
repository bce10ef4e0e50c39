"""A FAKE ksqlDB 8.2.1 server for provider tests: a threaded HTTP server on 127.0.0.1 that keeps streams,
tables, persistent queries and Kafka topics in memory and answers the REST API the way ksqlDB does.

What it models, and where each rule comes from (confluentinc/ksql at tag v8.2.1):

- ``POST /ksql``: every statement of a request is first validated against a sandboxed copy of the state,
  in order, each seeing what the earlier ones did, and nothing runs unless all pass
  (``KsqlResource.handleKsqlStatements`` -> ``RequestValidator.validate``, ``ValidatedCommandFactory``).
  A refused statement answers 400 ``statement_error`` with ``error_code`` 40001, ``message``,
  ``statementText`` and ``entities`` (``Errors.badStatement``).
- Stored statements are re-written (``SqlFormatter``; ``TopicCreateInjector`` and
  ``DefaultFormatInjector`` add ``CLEANUP_POLICY``, ``KAFKA_TOPIC``, ``KEY_FORMAT``, ``PARTITIONS``,
  ``REPLICAS``, ``VALUE_FORMAT``): one ``WITH`` clause with every property, ``STRING`` for ``VARCHAR``,
  aliases without ``AS``, an unaliased source written with its own name as alias, ``LEFT OUTER JOIN``,
  ``ON ((...))``, every comparison in parentheses, one select item per line.
- Topics: a plain CREATE over an existing topic must declare its partition count, if any
  (``TopicValidationUtil``: "A Kafka topic with the name '...' already exists, with different
  partition/replica configuration than required. KSQL expects N partitions (topic has M), R replication
  factor (topic has S)."); over a missing topic it needs ``PARTITIONS`` (``TopicCreateInjector``).
  A query's sink topic gets the source topic's partitions unless declared. ``DROP ... DELETE TOPIC``
  deletes the topic.
- ``SHOW STREAMS|TABLES EXTENDED`` (``source_descriptions``), ``DESCRIBE x [EXTENDED]``
  (``sourceDescription``: ``fields`` with ``type: KEY``, ``windowType``, ``readQueries``, ``writeQueries``,
  ``topic``, ``keyFormat``, ``valueFormat``, ``partitions``, ``replication``, ``statement``),
  ``LIST STREAMS|TABLES``, ``SHOW QUERIES`` (``queryString``, ``sinks``, ``id``, ``state``).
- Query ids ``CSAS_<SINK>_<n>`` / ``CTAS_<SINK>_<n>`` (kept by CREATE OR REPLACE), INSERT INTO
  ``INSERTQUERY_<n>`` or its ``QUERY_ID`` (``InsertIntoConfigs``, upper-cased).
- CREATE OR REPLACE: a plain source may only append columns; joins, aggregations and windows cannot be
  upgraded ("Upgrades not yet supported for ...").
- DROP refuses while other sources or INSERT queries use the object (``DropSourceFactory``); DROP ends
  the query that creates it; ``TERMINATE``, ``PAUSE``, ``RESUME`` of one query.
- ``GET /info``, ``GET /healthcheck``; HTTP 503 with 50302 "KSQL is not yet ready to serve requests."
  for the next N requests (``unavailable``).
- Credentials (``username``/``password``: basic authentication on): ``/healthcheck`` needs none (it is
  among ``AuthHandlers.KSQL_AUTHENTICATION_SKIP_PATHS`` with ``/v1/metadata``), every other path does;
  a request without valid credentials answers 401 ``{"@type": "generic_error", "error_code": 40100,
  "message": "Unauthorized"}`` (``FailureHandler``: ``Errors.ERROR_CODE_UNAUTHORIZED``).

- Traffic (``DESCRIBE ... EXTENDED`` / ``SHOW ... EXTENDED``; ``SourceDescriptionFactory``,
  ``ListSourceExecutor``, ``MetricCollectors``, ``ConsumerCollector``, ``StreamsErrorCollector``,
  ``QueryHostStat``): records put into a topic with ``record_traffic`` show up as
  ``queryOffsetSummaries`` (one consumer group ``_confluent-ksql-default_query_<id>`` per query reading
  the source, log-end and consumer offsets per partition) and as ``clusterStatistics``
  (``consumer-messages-per-sec``, ``consumer-total-messages``, ``consumer-total-bytes`` summed over the
  reading queries, ``timestamp`` = last record consumed, ``host`` = ``"host:port"``); failed records
  as ``clusterErrorStats`` ``consumer-failed-messages``. The deprecated ``statistics``/``errorStats``
  texts stay empty.

Not modelled: expression type checking beyond unknown sources and columns named in a projection, and
the formatting of expressions other than comparisons, AND/OR, LIKE and function calls. ``POST
/ksql/terminate`` (cluster-wide wipe) answers an error and is counted, so tests can assert it is never
called. Test controls: ``create_topic``, ``set_query_state``, ``fail_next_statement`` (an error while
executing, after validation passed), and the common ones of ``tests.fakes.server`` (``unavailable``,
``fail_next``, ``drop_next``, the call log).
"""
from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from providers.ksqldb.parser import identifier, split_statements, tokens
from tests.fakes.server import FakeServer

NOT_READY = {"@type": "generic_error", "error_code": 50302, "message": "KSQL is not yet ready to serve requests."}
_CREATING = ("CSAS_", "CTAS_")
_TYPES = {"VARCHAR": "STRING", "INT": "INTEGER"}
_COMPARISONS = {"=", "<>", "!=", "<", ">", "<=", ">=", "LIKE"}
_READS = {"SHOW", "LIST", "DESCRIBE", "EXPLAIN"}


def _statements(request: Any) -> list[str]:
    return split_statements(request.get("ksql", "")) if isinstance(request, dict) else []


def _asks_for_change(request: Any) -> bool:
    """A ``POST /ksql`` is a mutating call unless every statement only reads."""
    return any((statement.split() or [""])[0].upper() not in _READS for statement in _statements(request))


class StatementError(Exception):
    """A refused statement. ``kind``: ``statement`` (400, 40001, names the statement: errors from preparing
    and planning), ``generic`` (400, 40000, no statement: a ``KsqlException`` from the sandboxed execute or
    an injector), ``server`` (500, 50000, quotes the whole request: any other exception)."""

    def __init__(self, message: str, kind: str = "statement", code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message, self.kind = message, kind
        self.code = code or {"statement": 40001, "generic": 40000, "server": 50000}[kind]
        self.status = status or (500 if kind == "server" else 400)

    def body(self, statement: str, request: str, entities: list) -> dict:
        if self.kind == "generic":
            return {"@type": "generic_error", "error_code": self.code, "message": self.message}
        return {"@type": "statement_error", "error_code": self.code, "message": self.message,
                "statementText": request if self.kind == "server" else statement, "entities": entities}


@dataclasses.dataclass
class Topic:
    partitions: int
    replicas: int


@dataclasses.dataclass
class Source:
    name: str
    kind: str  # STREAM | TABLE
    topic: str
    statement: str  # as stored (re-written)
    columns: list[tuple[str, str, bool]]  # (name, type, is key)
    key_format: str
    value_format: str
    window: str | None
    reads: list[str]  # sources its creating query reads
    shape: str | None  # step ksqlDB cannot upgrade (join/aggregate/window), else None
    is_query: bool


@dataclasses.dataclass
class Query:
    id: str
    sink: str
    statement: str
    reads: list[str]
    properties: dict[str, str]
    state: str = "RUNNING"


@dataclasses.dataclass
class _State:
    sources: dict[str, Source] = dataclasses.field(default_factory=dict)
    queries: dict[str, Query] = dataclasses.field(default_factory=dict)
    topics: dict[str, Topic] = dataclasses.field(default_factory=dict)
    counter: int = 0
    traffic: dict[str, "Traffic"] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Traffic:
    """What ksqlDB's queries consumed from one topic: records, the last one's time (epoch ms), failures."""

    records: int
    last_ms: int
    failed: int = 0
    consumed: int | None = None  # consumer offset (default: everything), to model lag


def _with(toks: list[str], start: int) -> tuple[dict[str, str], int]:
    """``WITH ( K = V , ... )`` at ``toks[start]`` -> (properties, index after ``)``)."""
    props, i = {}, start + 2
    while toks[i] != ")":
        value = toks[i + 2]
        props[toks[i].strip("`").upper()] = value[1:-1] if value.startswith("'") else value
        i += 4 if toks[i + 3] == "," else 3
    return props, i + 1


def _format_with(props: dict[str, str]) -> str:
    def value(key: str, v: str) -> str:
        return v if key in ("PARTITIONS", "REPLICAS", "RETENTION_MS") else f"'{v}'"
    return "WITH (" + ", ".join(f"{k}={value(k, v)}" for k, v in sorted(props.items())) + ")"


def _split_top(toks: list[str], separator: str = ",") -> list[list[str]]:
    parts: list[list[str]] = []
    current: list[str] = []
    depth = 0
    for t in toks:
        depth += t in ("(", "<") and 1 or 0
        depth -= t in (")", ">") and 1 or 0
        if t == separator and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(t)
    return parts + [current] if current else parts


def _text(toks: list[str]) -> str:
    out = ""
    for t in toks:
        if out and not (t in (",", ")", ".") or out.endswith(("(", ".")) or (t == "(" and out[-1].isalnum())):
            out += " "
        out += t
    return out


def _expression(toks: list[str]) -> str:
    """A condition the way ``ExpressionFormatter`` writes it: each comparison and AND/OR in parentheses."""
    for op in ("OR", "AND"):
        parts = _split_top(toks, op)
        if len(parts) > 1:
            return "(" + f" {op} ".join(_expression(p) for p in parts) + ")"
    depth = 0
    for i, t in enumerate(toks):
        depth += t == "("
        depth -= t == ")"
        if depth == 0 and t in _COMPARISONS:
            return f"({_text(toks[:i])} {t} {_text(toks[i + 1:])})"
    if toks[:1] == ["("] and toks[-1:] == [")"]:
        return _expression(toks[1:-1])
    return _text(toks)


def _clauses(toks: list[str]) -> dict[str, list[str]]:
    """The query of a CREATE ... AS SELECT / INSERT INTO split at its top-level keywords."""
    keys = ("SELECT", "FROM", "WINDOW", "WHERE", "GROUP", "PARTITION", "HAVING", "EMIT", "LIMIT")
    found: dict[str, list[str]] = {}
    current, depth = None, 0
    for t in toks[toks.index("SELECT"):]:
        depth += t == "("
        depth -= t == ")"
        if depth == 0 and t in keys and (t not in found or t == current):
            current = t
            found[t] = []
            continue
        if current and t != ";":
            found[current].append(t)
    return found


def _format_query(clauses: dict[str, list[str]], qualify) -> str:
    items, synthetic = [], 0
    for item in _split_top(clauses["SELECT"]):
        if len(item) >= 2 and item[-2] == "AS":
            expression, alias = item[:-2], item[-1]
        elif item == ["*"]:
            expression, alias = item, None
        elif len(item) == 1 or (len(item) == 3 and item[1] == "."):
            expression, alias = item, item[-1]
        else:
            expression, alias = item, f"KSQL_COL_{synthetic}"
            synthetic += 1
        items.append(_text(qualify(expression)) + (f" {alias}" if alias else ""))
    lines = ["SELECT" + (("\n  " + ",\n  ".join(items)) if len(items) > 1 else f" {items[0]}")]
    lines.append("FROM " + _format_from(clauses["FROM"], qualify))
    if "WINDOW" in clauses:
        kind, inner = clauses["WINDOW"][0], " ".join(clauses["WINDOW"][2:-1]).replace(" ,", " ,")
        lines.append(f"WINDOW {kind} ( {_plural(inner)} ) ")
    if "WHERE" in clauses:
        lines.append("WHERE " + _expression(qualify(clauses["WHERE"])))
    if "GROUP" in clauses:
        lines.append("GROUP BY " + ", ".join(_text(qualify(p)) for p in _split_top(clauses["GROUP"][1:])))
    if "HAVING" in clauses:
        lines.append("HAVING " + _expression(qualify(clauses["HAVING"])))
    lines.append("EMIT " + " ".join(clauses.get("EMIT") or ["CHANGES"]))
    return "\n".join(lines)


def _plural(window: str) -> str:
    return re.sub(r"\b(MILLISECOND|SECOND|MINUTE|HOUR|DAY)\b", r"\1S", window)


def _format_from(toks: list[str], qualify) -> str:
    out, i = [], 0
    while i < len(toks):
        t = toks[i]
        if t in ("LEFT", "RIGHT", "FULL", "INNER", "JOIN"):
            kind = "INNER" if t == "JOIN" else t
            while toks[i] != "JOIN":
                i += 1
            out.append(f"\n{kind if kind == 'INNER' else kind + ' OUTER'} JOIN")
            i += 1
            continue
        if t == "ON":
            out.append(f" ON ({_expression(qualify(toks[i + 1:]))})")
            break
        name = toks[i]
        alias = toks[i + 1] if i + 1 < len(toks) and toks[i + 1] not in ("LEFT", "RIGHT", "FULL", "INNER", "JOIN",
                                                                        "ON") else None
        out.append(f" {name} {alias or name}")
        i += 2 if alias else 1
    return "".join(out).strip()


def _reads(toks: list[str]) -> list[str]:
    found = []
    for i, t in enumerate(toks[:-1]):
        if t in ("FROM", "JOIN"):
            name = identifier(toks[i + 1])
            if name not in found:
                found.append(name)
    return found


class FakeKsqlDb(FakeServer):
    """Start with ``with FakeKsqlDb() as fake:``; ``fake.url`` is the base URL. Besides the common call log,
    ``statements`` (every statement received), ``executed`` (run for real after validation, failed ones
    included) and ``mutations`` (ran and changed state) are ksqlDB's views of it; ``reset_calls`` clears all."""

    content_type = "application/vnd.ksql.v1+json"

    def __init__(self, topics: dict[str, int] | None = None, *, username: str | None = None,
                 password: str | None = None):
        super().__init__(username=username, password=password)
        self.state = _State(topics={name: Topic(n, 1) for name, n in (topics or {}).items()})
        self.executed: list[str] = []
        self.mutations: list[str] = []
        self._failures: list[tuple[str, StatementError]] = []
        self.route("GET", "/info", lambda body, query: (200, {"KsqlServerInfo": {
            "version": "8.2.1", "kafkaClusterId": "fake", "ksqlServiceId": "default_", "serverStatus": "RUNNING"}}))
        self.route("GET", "/healthcheck", lambda body, query: (200, {"isHealthy": True, "details": {
            "metastore": {"isHealthy": True}, "kafka": {"isHealthy": True}}}), public=True)
        self.route("POST", "/ksql/terminate", lambda body, query: (400, {  # counted in calls: never called
            "@type": "generic_error", "error_code": 40000,
            "message": "FAKE: POST /ksql/terminate must never be called"}))
        self.route("POST", "/ksql", lambda body, query: self._request(body or {}), mutating=_asks_for_change)

    @property
    def sources(self) -> dict[str, Source]:
        return self.state.sources

    @property
    def queries(self) -> dict[str, Query]:
        return self.state.queries

    @property
    def topics(self) -> dict[str, Topic]:
        return self.state.topics

    @property
    def statements(self) -> list[str]:
        """Every statement received on ``POST /ksql``, in order."""
        return [statement for call in self.calls_to("POST", "/ksql") for statement in _statements(call.body)]

    # --- test controls (faults and the call log come from FakeServer) ----------------------------------
    def create_topic(self, name: str, partitions: int, replicas: int = 1) -> None:
        """A topic created outside ksqlDB (e.g. by a connector)."""
        self.state.topics[name] = Topic(partitions, replicas)

    def record_traffic(self, topic: str, records: int, last_ms: int, failed: int = 0,
                       consumed: int | None = None) -> None:
        """``records`` are in ``topic``; the queries reading it consumed ``consumed`` (default: all) of
        them, the last at ``last_ms``, and ``failed`` failed (processing log)."""
        self.state.traffic[topic] = Traffic(records, last_ms, failed, consumed)

    def set_query_state(self, query_id: str, state: str) -> None:
        self.state.queries[query_id].state = state

    def fail_next_statement(self, statement_prefix: str, message: str, kind: str = "server") -> None:
        """The next statement starting with ``statement_prefix`` fails once while it is being executed
        (after the request passed validation), like a Kafka error during execution."""
        with self.lock:
            self._failures.append((statement_prefix.upper(), StatementError(message, kind)))

    def reset_calls(self) -> None:
        with self.lock:
            super().reset_calls()
            self.executed.clear()
            self.mutations.clear()

    # --- answers every fake gives its own way ----------------------------------------------------------
    def unavailable_response(self, path: str) -> tuple[int, Any]:
        return 503, NOT_READY

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 404, {"@type": "generic_error", "error_code": 40400, "message": "Not found"}

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        return 401, {"@type": "generic_error", "error_code": 40100, "message": "Unauthorized"}

    # --- statements --------------------------------------------------------------------------------
    def _request(self, request: dict) -> tuple[int, Any]:
        statements = _statements(request)
        properties = request.get("streamsProperties") or {}
        sandbox = copy.deepcopy(self.state)
        for statement in statements:
            try:
                _Engine(sandbox, properties).run(statement)
            except StatementError as exc:
                return exc.status, exc.body(statement, request.get("ksql", ""), [])
        entities: list[dict] = []
        for statement in statements:
            self.executed.append(statement)
            try:
                for prefix, error in list(self._failures):
                    if statement.upper().startswith(prefix):
                        self._failures.remove((prefix, error))
                        raise error
                entity = _Engine(self.state, properties).run(statement)
            except StatementError as exc:
                return exc.status, exc.body(statement, request.get("ksql", ""), entities)
            if entity.get("@type") == "currentStatus":
                self.mutations.append(statement)
            entity.setdefault("statementText", statement)
            entity.setdefault("warnings", [])
            entities.append(entity)
        return 200, entities


class _Engine:
    """Runs one statement against a state (the real one, or a sandboxed copy during validation)."""

    def __init__(self, state: _State, properties: dict[str, str]):
        self.state, self.properties = state, properties

    def run(self, statement: str) -> dict:
        toks = tokens(statement)
        head = " ".join(toks[:2])
        if head in ("LIST STREAMS", "SHOW STREAMS", "LIST TABLES", "SHOW TABLES"):
            kind = "STREAM" if toks[1] == "STREAMS" else "TABLE"
            chosen = [s for s in self.state.sources.values() if s.kind == kind]
            if "EXTENDED" in toks:
                return {"@type": "source_descriptions", "sourceDescriptions": [self._describe(s, True) for s in chosen]}
            key = "streams" if kind == "STREAM" else "tables"
            return {"@type": key, key: [{"type": kind, "name": s.name, "topic": s.topic, "keyFormat": s.key_format,
                                         "valueFormat": s.value_format, "isWindowed": s.window is not None}
                                        for s in chosen]}
        if head in ("SHOW QUERIES", "LIST QUERIES"):
            return {"@type": "queries", "queries": [self._running(q) for q in self.state.queries.values()]}
        verb = toks[0] if toks else ""
        if verb == "DESCRIBE":
            name = identifier(toks[1])
            if name not in self.state.sources:
                raise StatementError(f"Could not find STREAM/TABLE '{name}' in the Metastore")
            return {"@type": "sourceDescription",
                    "sourceDescription": self._describe(self.state.sources[name], "EXTENDED" in toks)}
        if verb == "CREATE":
            return self._create(statement, toks)
        if verb == "INSERT":
            return self._insert(statement, toks)
        if verb == "DROP":
            return self._drop(statement, toks)
        if verb in ("TERMINATE", "PAUSE", "RESUME"):
            return self._control(statement, verb, toks[1])
        raise StatementError(f"line 1:1: Syntax Error\nFAKE: statement not modelled: {statement[:40]}")

    # --- reading -----------------------------------------------------------------------------------
    def _running(self, q: Query) -> dict:
        sink = self.state.sources.get(q.sink)
        return {"queryString": q.statement, "sinks": [q.sink], "sinkKafkaTopics": [sink.topic if sink else q.sink],
                "id": q.id, "statusCount": {q.state: 1}, "queryType": "PERSISTENT",
                "state": "ERROR" if q.state == "ERROR" else "RUNNING"}  # statusCount alone shows PAUSED

    def _describe(self, source: Source, extended: bool) -> dict:
        topic = self.state.topics.get(source.topic)
        fields = [{"name": n, "schema": {"type": t, "fields": None, "memberSchema": None},
                   **({"type": "KEY"} if key else {})}
                  for n, t, key in sorted(source.columns, key=lambda c: not c[2])]
        return {"name": source.name, "windowType": source.window,
                "readQueries": [self._running(q) for q in self.state.queries.values() if source.name in q.reads],
                "writeQueries": [self._running(q) for q in self.state.queries.values() if q.sink == source.name],
                "fields": fields, "type": source.kind, "timestamp": "", "statistics": "", "errorStats": "",
                "extended": extended, "keyFormat": source.key_format, "valueFormat": source.value_format,
                "topic": source.topic, "partitions": topic.partitions if extended and topic else 0,
                "replication": topic.replicas if extended and topic else 0, "statement": source.statement,
                "queryOffsetSummaries": [], "sourceConstraints": sorted(
                    s.name for s in self.state.sources.values() if source.name in s.reads),
                "clusterStatistics": [], "clusterErrorStats": [], **(self._traffic(source) if extended else {})}

    def _traffic(self, source: Source) -> dict:
        traffic = self.state.traffic.get(source.topic)
        readers = [q for q in self.state.queries.values() if source.name in q.reads]
        if traffic is None or not readers:
            return {}
        partitions = (self.state.topics.get(source.topic) or Topic(1, 1)).partitions
        consumed = traffic.records if traffic.consumed is None else traffic.consumed

        def spread(total: int) -> list[int]:
            return [total // partitions + (p < total % partitions) for p in range(partitions)]

        offsets = [{"partition": p, "logStartOffset": 0, "logEndOffset": end, "consumerOffset": done}
                   for p, (end, done) in enumerate(zip(spread(traffic.records), spread(consumed)))]
        summaries = [{"groupId": f"_confluent-ksql-default_query_{q.id}",
                      "topicSummaries": [{"kafkaTopic": source.topic, "offsets": offsets}]} for q in readers]
        host = "ksqldb:8088"
        stats = [{"name": name, "host": host, "value": float(value), "timestamp": traffic.last_ms}
                 for name, value in (("consumer-messages-per-sec", 0.0),
                                     ("consumer-total-messages", consumed * len(readers)),
                                     ("consumer-total-bytes", consumed * len(readers) * 200))]
        errors = [{"name": "consumer-failed-messages", "host": host, "value": float(traffic.failed),
                   "timestamp": traffic.last_ms}] if traffic.failed else []
        return {"queryOffsetSummaries": summaries, "clusterStatistics": stats, "clusterErrorStats": errors}

    # --- writing -----------------------------------------------------------------------------------
    def _status(self, message: str, query_id: str | None = None) -> dict:
        return {"@type": "currentStatus", "commandId": "fake",
                "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
                "commandSequenceNumber": -1}

    def _create(self, statement: str, toks: list[str]) -> dict:
        i = 1
        or_replace = toks[1:3] == ["OR", "REPLACE"]
        i += 2 if or_replace else 0
        i += toks[i] == "SOURCE"
        kind = toks[i]
        i += 1
        if_not_exists = toks[i:i + 3] == ["IF", "NOT", "EXISTS"]
        i += 3 if if_not_exists else 0
        name = identifier(toks[i])
        existing = self.state.sources.get(name)
        if existing and (not or_replace or existing.kind != kind):
            if if_not_exists and existing.kind == kind:
                return {"@type": "warning_entity", "message": f"Cannot add {kind.lower()} {name}: "
                        f"A {existing.kind.lower()} with the same name already exists."}
            raise StatementError(f"Cannot add {kind.lower()} '{name}': A {existing.kind.lower()} "
                                 f"with the same name already exists")
        if "SELECT" in toks:
            return self._create_as_select(kind, name, toks, i + 1, existing)
        return self._create_source(kind, name, toks, i + 1, existing)

    def _create_source(self, kind: str, name: str, toks: list[str], i: int, existing: Source | None) -> dict:
        end = i
        depth = 0
        for end in range(i, len(toks)):
            depth += toks[end] == "("
            depth -= toks[end] == ")"
            if depth == 0:
                break
        columns = []
        for part in _split_top(toks[i + 1:end]):
            key = part[-1] == "KEY"
            body = [t for t in part if t not in ("PRIMARY", "KEY")] if key else part
            base = _text(body[1:]).upper()
            columns.append((identifier(body[0]), _TYPES.get(base, base), key))
        props, _ = _with(toks, end + 1) if toks[end + 1:end + 2] == ["WITH"] else ({}, end + 1)
        topic = props.get("KAFKA_TOPIC")
        if not topic:
            raise StatementError("Missing required property \"KAFKA_TOPIC\" which has no default value.")
        self._ensure_topic(topic, props)
        if existing:
            self._check_plain_upgrade(existing, columns)
        key_format = (props.get("KEY_FORMAT") or props.get("FORMAT") or "KAFKA").upper()
        value_format = (props.get("VALUE_FORMAT") or props.get("FORMAT") or "").upper()
        if not value_format:
            raise StatementError("Statement is missing the 'VALUE_FORMAT' property from the WITH clause. "
                                 "Either provide one or set a default via the 'ksql.persistence.default.format.value' "
                                 "config.", "generic")
        stored_props = dict(props, CLEANUP_POLICY="compact" if kind == "TABLE" else "delete")
        if "FORMAT" not in props and not ("KEY_FORMAT" in props and "VALUE_FORMAT" in props):
            stored_props.update(KEY_FORMAT=key_format, VALUE_FORMAT=value_format)  # DefaultFormatInjector
        cols = ", ".join(f"{_quoted(n)} {t}{' PRIMARY KEY' if k and kind == 'TABLE' else ' KEY' if k else ''}"
                         for n, t, k in columns)
        replace = "OR REPLACE " if existing else ""
        stored = f"CREATE {replace}{kind} {_quoted(name)} ({cols}) {_format_with(stored_props)};"
        self.state.sources[name] = Source(name, kind, topic, stored, columns, key_format, value_format, None, [],
                                          None, False)
        return self._status(f"{kind.title()} created")

    def _ensure_topic(self, topic: str, props: dict[str, str]) -> None:
        partitions, replicas = props.get("PARTITIONS"), props.get("REPLICAS")
        existing = self.state.topics.get(topic)
        if existing is None:
            if partitions is None:
                raise StatementError(f"Topic '{topic}' does not exist. If you want to create a new topic for the "
                                     f"stream/table please re-run the statement providing the required 'PARTITIONS' "
                                     f"configuration in the WITH clause (and optionally 'REPLICAS').", "generic")
            self.state.topics[topic] = Topic(int(partitions), int(replicas or 1))
            return
        wanted_partitions = int(partitions) if partitions else existing.partitions
        wanted_replicas = int(replicas) if replicas else -1
        if wanted_partitions != existing.partitions or (wanted_replicas != -1 and existing.replicas < wanted_replicas):
            raise StatementError(
                f"A Kafka topic with the name '{topic}' already exists, with different partition/replica "
                f"configuration than required. KSQL expects {wanted_partitions} partitions (topic has "
                f"{existing.partitions}), {wanted_replicas} replication factor (topic has {existing.replicas}).",
                "server")

    def _check_plain_upgrade(self, existing: Source, columns: list) -> None:
        if existing.is_query:
            raise StatementError(f"Cannot upgrade data source: DataSource '`{existing.name}`' has type query "
                                 f"which cannot be replaced by this statement", "generic")
        if columns[:len(existing.columns)] != existing.columns:
            raise StatementError(f"Cannot upgrade data source: DataSource '`{existing.name}`' has schema = "
                                 f"{_schema(existing.columns)} which is not upgradeable to {_schema(columns)}. (The "
                                 f"following columns are changed, missing or reordered: "
                                 f"[{_schema([c for c in existing.columns if c not in columns])}])", "generic")

    def _create_as_select(self, kind: str, name: str, toks: list[str], i: int, existing: Source | None) -> dict:
        props, _ = _with(toks, i) if toks[i:i + 1] == ["WITH"] else ({}, i)
        clauses = _clauses(toks)
        reads = _reads(["FROM", *clauses["FROM"]])
        for read in reads:
            if read not in self.state.sources:
                raise StatementError(f"Exception while preparing statement: {read} does not exist.")
        first = self.state.sources[reads[0]]
        columns = self._projection(clauses, reads)
        shape = ("StreamTableJoin" if len(reads) > 1 else "StreamWindowedAggregate" if "WINDOW" in clauses
                 else "StreamAggregate" if "GROUP" in clauses else None)
        if existing:
            if not existing.is_query:
                raise StatementError(f"Cannot upgrade data source: DataSource '`{name}`' has type source "
                                     f"which cannot be replaced by this statement", "generic")
            if shape or existing.shape:
                raise StatementError(f"Upgrades not yet supported for {shape or existing.shape}", "generic")
        topic = props.get("KAFKA_TOPIC") or name
        source_topic = self.state.topics.get(first.topic) or Topic(1, 1)
        partitions = int(props.get("PARTITIONS") or source_topic.partitions)
        replicas = int(props.get("REPLICAS") or source_topic.replicas)
        if topic in self.state.topics and not existing:
            self._ensure_topic(topic, {"PARTITIONS": str(partitions)})
        self.state.topics.setdefault(topic, Topic(partitions, replicas))
        key_format = (props.get("KEY_FORMAT") or props.get("FORMAT") or first.key_format).upper()
        value_format = (props.get("VALUE_FORMAT") or props.get("FORMAT") or first.value_format).upper()
        window = clauses["WINDOW"][0] if "WINDOW" in clauses else None
        policy = "delete" if kind == "STREAM" else "compact,delete" if window else "compact"
        stored_props = dict(props, CLEANUP_POLICY=policy, KAFKA_TOPIC=topic, PARTITIONS=str(partitions),
                            REPLICAS=str(replicas), RETENTION_MS=props.get("RETENTION_MS", "604800000"))
        stored = (f"CREATE {'OR REPLACE ' if existing else ''}{kind} {_quoted(name)} {_format_with(stored_props)} "
                  f"AS {_format_query(clauses, self._qualifier(clauses))};")
        self.state.sources[name] = Source(name, kind, topic, stored, columns, key_format, value_format, window,
                                          reads, shape, True)
        replaced = [q.id for q in self.state.queries.values() if q.sink == name and q.id.startswith(_CREATING)]
        query_id = replaced[0] if replaced else self._next_id(f"{'CTAS' if kind == 'TABLE' else 'CSAS'}_{name}")
        self.state.queries[query_id] = Query(query_id, name, stored, reads, dict(self.properties))
        return self._status(f"Created query with ID {query_id}", query_id)

    def _projection(self, clauses: dict[str, list[str]], reads: list[str]) -> list[tuple[str, str, bool]]:
        """Columns of a query's result: aliases with types; GROUP BY columns become the key."""
        available = {n: t for r in reads for n, t, _ in self.state.sources[r].columns}
        group = [p for p in _split_top(clauses.get("GROUP", [])[1:])]
        columns = []
        for item in _split_top(clauses["SELECT"]):
            alias = identifier(item[-1]) if len(item) >= 2 and item[-2] == "AS" else identifier(item[-1])
            expression = item[:-2] if len(item) >= 2 and item[-2] == "AS" else item
            refs = [identifier(t) for t in expression if t[0].isalpha() or t[0] in "`_"]
            for ref in refs:
                if ref not in available and ref not in _FUNCTIONS and not any(
                        ref == _alias for _alias in self._aliases(clauses)):
                    raise StatementError(f"Line: 1, Col: 1: SELECT column '{ref}' cannot be resolved.")
            columns.append((alias, _type_of(expression, available), expression in group))
        return columns

    def _qualifier(self, clauses: dict[str, list[str]]):
        """``AstSanitizer``: a function that qualifies each column reference with its source's alias."""
        toks = ["FROM", *clauses["FROM"]]
        owner: dict[str, str] = {}
        for i, t in enumerate(toks[:-1]):
            if t in ("FROM", "JOIN"):
                name = identifier(toks[i + 1])
                after = toks[i + 2] if i + 2 < len(toks) else None
                joins = ("LEFT", "RIGHT", "FULL", "INNER", "JOIN", "ON")
                alias = after if after and after not in joins else toks[i + 1]
                for column, _, _ in self.state.sources[name].columns if name in self.state.sources else []:
                    owner.setdefault(column, alias)

        def qualify(expression: list[str]) -> list[str]:
            out = []
            for i, t in enumerate(expression):
                nxt = expression[i + 1] if i + 1 < len(expression) else None
                prev = expression[i - 1] if i else None
                if identifier(t) in owner and nxt not in (".", "(") and prev != ".":
                    out += [owner[identifier(t)], "."]
                out.append(t)
            return out
        return qualify

    @staticmethod
    def _aliases(clauses: dict[str, list[str]]) -> list[str]:
        toks = ["FROM", *clauses["FROM"]]
        return [identifier(toks[i + 2]) for i, t in enumerate(toks[:-2])
                if t in ("FROM", "JOIN") and toks[i + 2] not in ("LEFT", "RIGHT", "FULL", "INNER", "JOIN", "ON")]

    def _next_id(self, prefix: str) -> str:
        query_id = f"{prefix}_{self.state.counter}"
        self.state.counter += 1
        return query_id

    def _insert(self, statement: str, toks: list[str]) -> dict:
        target = identifier(toks[2])
        props, _ = _with(toks, 3) if toks[3:4] == ["WITH"] else ({}, 3)
        clauses = _clauses(toks)
        reads = _reads(["FROM", *clauses["FROM"]])
        for name in [target, *reads]:
            if name not in self.state.sources:
                raise StatementError(f"Cannot insert into an unknown stream/table: {name}" if name == target
                                     else f"Exception while preparing statement: {name} does not exist.")
        if self.state.sources[target].kind != "STREAM":
            raise StatementError(f"INSERT INTO can only be used to insert into a stream. {target} is a table.")
        query_id = props["QUERY_ID"].upper() if "QUERY_ID" in props else self._next_id("INSERTQUERY")
        if query_id in self.state.queries:
            raise StatementError(f"Query ID '{query_id}' already exists.")
        self.state.queries[query_id] = Query(query_id, target, statement, reads, dict(self.properties))
        return self._status(f"Created query with ID {query_id}", query_id)

    def _drop(self, statement: str, toks: list[str]) -> dict:
        kind = toks[1]
        if_exists = toks[2:4] == ["IF", "EXISTS"]
        name = identifier(toks[4 if if_exists else 2])
        delete_topic = toks[-3:-1] == ["DELETE", "TOPIC"] or toks[-2:] == ["DELETE", "TOPIC"]
        source = self.state.sources.get(name)
        if source is None:
            if if_exists:
                return self._status(f"Source {name} does not exist.")
            raise StatementError(f"{kind.title()} {name} does not exist.")
        if source.kind != kind:
            raise StatementError(f"Incompatible data source type is {source.kind.lower()}, but statement was "
                                 f"DROP {kind.lower()}")
        readers = sorted(s.name for s in self.state.sources.values() if name in s.reads)
        if readers:
            raise StatementError(f"Cannot drop {name}.\nThe following streams and/or tables read from this "
                                 f"source: [{', '.join(readers)}].\nYou need to drop them before dropping {name}.",
                                 "generic")
        reading = sorted(q.id for q in self.state.queries.values() if name in q.reads and q.sink != name)
        writing = sorted(q.id for q in self.state.queries.values()
                         if q.sink == name and not q.id.startswith(_CREATING))
        if reading or writing:
            raise StatementError(f"Cannot drop {name}.\nThe following queries read from this source: "
                                 f"[{', '.join(reading)}].\nThe following queries write into this "
                                 f"source: [{', '.join(writing)}].\nYou need to terminate them before "
                                 f"dropping {name}.", "generic")
        for query_id in [q.id for q in self.state.queries.values() if q.sink == name]:
            del self.state.queries[query_id]
        del self.state.sources[name]
        if delete_topic:
            self.state.topics.pop(source.topic, None)
        return self._status(f"Source {name} (topic: {source.topic}) was dropped.")

    def _control(self, statement: str, verb: str, query_id: str) -> dict:
        query = self.state.queries.get(query_id.upper())
        if query is None:
            raise StatementError(f"Unknown queryId: {query_id}")
        if verb == "TERMINATE":
            del self.state.queries[query.id]
            return self._status("Query terminated.")
        query.state = "PAUSED" if verb == "PAUSE" else "RUNNING"
        return self._status(f"Query {verb.lower()}d.")


_FUNCTIONS = {"COUNT", "SUM", "AS_VALUE", "LATEST_BY_OFFSET", "WINDOWSTART", "WINDOWEND", "COALESCE", "IFNULL",
              "CAST", "AS", "STRING", "BIGINT", "INTEGER", "INT", "VARCHAR", "DOUBLE", "LIKE", "AND", "OR", "NOT",
              "NULL", "IS", "CASE", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "MIN", "MAX", "COUNT_DISTINCT",
              "TOPK", "COLLECT_SET", "ROWTIME", "TIMESTAMPTOSTRING", "LCASE", "UCASE", "CONCAT"}


def _type_of(expression: list[str], available: dict[str, str]) -> str:
    head = expression[0]
    if head in ("COUNT", "COUNT_DISTINCT", "WINDOWSTART", "WINDOWEND", "ROWTIME"):
        return "BIGINT"
    if head.startswith("'"):
        return "STRING"
    names = [identifier(t) for t in expression if identifier(t) in available]
    return available[names[-1]] if names else "STRING"


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[A-Z_][A-Z0-9_@]*", name) else f"`{name}`"


def _schema(columns: list[tuple[str, str, bool]]) -> str:
    return ", ".join(f"`{n}` {t}{' KEY' if k else ''}" for n, t, k in columns)
