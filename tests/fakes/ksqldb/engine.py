"""One statement run against a FAKE ksqlDB's state: the live one, or a request's sandbox while it is
validated. The rules and their sources are listed in the package docstring (``tests.fakes.ksqldb``)."""
from __future__ import annotations

import dataclasses
import re

from providers.ksqldb.parser import identifier, tokens
from tests.fakes.ksqldb.catalog import Catalog
from tests.fakes.ksqldb.errors import StatementError
from tests.fakes.ksqldb.kafka import DEFAULT_RETENTION_MS, Topic
from tests.fakes.ksqldb.query import QueryRules, unknown_cast_type
from tests.fakes.ksqldb.sql import (
    FUNCTIONS,
    JOINS,
    TYPES,
    format_query,
    format_with,
    join_tokens,
    parse_with,
    query_clauses,
    quoted,
    schema_text,
    sources_read,
    split_top,
    type_of,
)
from tests.fakes.ksqldb.state import Query, Source, State

CREATING = ("CSAS_", "CTAS_")
_KINDS = ("STREAM", "TABLE")
_VERBS = {"CREATE", "INSERT", "DROP", "TERMINATE", "PAUSE", "RESUME", "DESCRIBE", "SHOW", "LIST", "EXPLAIN"}
_UNITS_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60000, "HOUR": 3600000, "DAY": 86400000}
Column = tuple[str, str, bool]
# CommonCreateConfigs, CreateConfigs (CREATE STREAM/TABLE) and CreateAsConfigs (CREATE ... AS SELECT)
_COMMON_PROPERTIES = {"KAFKA_TOPIC", "PARTITIONS", "REPLICAS", "RETENTION_MS", "CLEANUP_POLICY", "TIMESTAMP",
                      "TIMESTAMP_FORMAT", "VALUE_AVRO_SCHEMA_FULL_NAME", "KEY_SCHEMA_FULL_NAME",
                      "VALUE_SCHEMA_FULL_NAME", "VALUE_FORMAT", "KEY_FORMAT", "FORMAT", "WRAP_SINGLE_VALUE",
                      "VALUE_DELIMITER", "KEY_DELIMITER", "KEY_SCHEMA_ID", "VALUE_SCHEMA_ID"}
SOURCE_PROPERTIES = _COMMON_PROPERTIES | {"WINDOW_TYPE", "WINDOW_SIZE", "SOURCE_CONNECTOR", "SOURCED_BY_CONNECTOR"}
QUERY_PROPERTIES = _COMMON_PROPERTIES
_INT_PROPERTIES = ("PARTITIONS", "REPLICAS")
FORMATS = {"KAFKA", "JSON", "JSON_SR", "AVRO", "PROTOBUF", "PROTOBUF_NOSR", "DELIMITED", "NONE"}  # FormatFactory
BROKER_PARTITIONS, BROKER_REPLICAS = 1, 1  # the broker's num.partitions and default.replication.factor
PSEUDO_COLUMN_NAMES = ("ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND")  # SystemColumns
STREAM_JOIN_WITHOUT_GRACE = (
    "DEPRECATION NOTICE: Stream-stream joins statements without a GRACE PERIOD will not be accepted in a future "
    "ksqlDB version.\nPlease use the GRACE PERIOD clause as specified in "
    "https://docs.ksqldb.io/en/latest/developer-guide/ksqldb-reference/select-push-query/")
_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")  # Kafka's Topic.validate


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a statement starts in its request: 1-based line and column (for ksqlDB's ``Line: l, Col: c``)."""

    line: int = 1
    column: int = 1

    def of(self, statement: str, offset: int) -> tuple[int, int]:
        before = statement[:offset]
        newlines = before.count("\n")
        column = offset - before.rfind("\n") if newlines else self.column + offset
        return self.line + newlines, column


class Engine:
    """Runs one statement against ``state`` (the live state, or a sandbox during validation)."""

    def __init__(self, state: State, properties: dict[str, str]):
        self.state, self.properties = state, properties
        self.catalog = Catalog(state)

    def run(self, statement: str, origin: Origin = Origin()) -> dict:
        toks = tokens(statement)
        verb = toks[0].upper() if toks else ""
        if verb in ("SELECT", "PRINT"):
            raise StatementError("The following statement types should be issued to the websocket endpoint "
                                 "'/query':\n\t* PRINT\n\t* SELECT", "websocket")  # Errors.queryEndpoint
        if verb not in _VERBS:
            raise _syntax_error(toks[0] if toks else statement, origin.line, origin.column)
        if verb in ("SHOW", "LIST", "DESCRIBE"):
            return self.catalog.answer(statement, toks)
        if verb == "CREATE":
            return self._create(statement, toks, origin)
        if verb == "INSERT":
            return self._insert(statement, toks, origin)
        if verb == "DROP":
            return self._drop(statement, toks)
        if verb in ("TERMINATE", "PAUSE", "RESUME"):
            return self._control(verb, toks[1])
        raise StatementError(f"line 1:1: Syntax Error\nFAKE: statement not modelled: {statement[:40]}")

    # --- writing -----------------------------------------------------------------------------------
    def _status(self, message: str, query_id: str | None = None, text: str | None = None) -> dict:
        return {"@type": "currentStatus", "commandId": "fake", **({"statementText": text} if text else {}),
                "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
                "commandSequenceNumber": -1}

    def _create(self, statement: str, toks: list[str], origin: Origin) -> dict:
        i = 1
        or_replace = toks[1:3] == ["OR", "REPLACE"]
        i += 2 if or_replace else 0
        i += toks[i] == "SOURCE"
        if toks[i] not in _KINDS:
            raise _syntax_error(toks[i], origin.line, origin.column + statement.index(toks[i], 6))
        kind = toks[i]
        i += 1
        if_not_exists = toks[i:i + 3] == ["IF", "NOT", "EXISTS"]
        i += 3 if if_not_exists else 0
        name = identifier(toks[i])
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):  # ParserUtil.getIdentifierText, while the AST is built
            line, column = origin.of(statement, statement.index(toks[i]))
            raise StatementError(f"Illegal argument at Line: {line}, Col: {column}. Source names may only contain "
                                 f"alphanumeric values, '_' or '-'. Got: '{name}'", text=name)
        existing = self.state.sources.get(name)
        if existing and if_not_exists and existing.kind == kind:
            return {"@type": "warning_entity", "message": f"Cannot add {kind.lower()} `{name}`: "
                    f"A {existing.kind.lower()} with the same name already exists."}
        replacing = existing if existing and or_replace else None
        if "SELECT" in toks:
            return self._create_as_select(statement, kind, name, toks, i + 1, existing, replacing, origin)
        return self._create_source(kind, name, toks, i + 1, existing, replacing, or_replace)

    def _refuse_existing(self, kind: str, existing: Source | None, replacing: Source | None, stored: str) -> None:
        if existing and not replacing:
            raise StatementError(f"Cannot add {kind.lower()} '{existing.name}': A {existing.kind.lower()} "
                                 f"with the same name already exists", text=stored)

    def _create_source(self, kind: str, name: str, toks: list[str], i: int, existing: Source | None,
                       replacing: Source | None, or_replace: bool) -> dict:
        end, depth = i, 0
        for end in range(i, len(toks)):
            depth += toks[end] == "("
            depth -= toks[end] == ")"
            if depth == 0:
                break
        columns = []
        for part in split_top(toks[i + 1:end]):
            key = part[-1] == "KEY"
            body = [t for t in part if t not in ("PRIMARY", "KEY")] if key else part
            base = join_tokens(body[1:]).upper()
            columns.append((identifier(body[0]), _type_name(base), key))
        names = [n for n, _, _ in columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:  # TableElements, while the statement is prepared
            raise StatementError(f"Failed to prepare statement: Duplicate column names: "
                                 f"{', '.join(f'`{n}`' for n in duplicates)}")
        props, _ = parse_with(toks, end + 1) if toks[end + 1:end + 2] == ["WITH"] else ({}, end + 1)
        _check_properties(props, SOURCE_PROPERTIES)
        topic = props.get("KAFKA_TOPIC")
        if not topic:
            raise StatementError("Failed to prepare statement: Missing required property \"KAFKA_TOPIC\" which has "
                                 "no default value.")
        key_format = (props.get("KEY_FORMAT") or props.get("FORMAT") or "KAFKA").upper()
        value_format = (props.get("VALUE_FORMAT") or props.get("FORMAT") or "").upper()
        if not value_format:
            raise StatementError("Statement is missing the 'VALUE_FORMAT' property from the WITH clause. "
                                 "Either provide one or set a default via the 'ksql.persistence.default.format.value' "
                                 "config.", "generic")
        formats = dict(props)
        if "FORMAT" not in props and not ("KEY_FORMAT" in props and "VALUE_FORMAT" in props):
            formats.update(KEY_FORMAT=key_format, VALUE_FORMAT=value_format)  # DefaultFormatInjector
        cols = ", ".join(f"{quoted(n)} {t}{' PRIMARY KEY' if k and kind == 'TABLE' else ' KEY' if k else ''}"
                         for n, t, k in columns)
        head = f"CREATE {'OR REPLACE ' if or_replace else ''}{kind} {quoted(name)} ({cols})"
        for declared in (key_format, value_format):
            if declared not in FORMATS:  # FormatFactory.fromName, after DefaultFormatInjector
                raise StatementError(f"Unknown format: {declared}", text=f"{head} {format_with(formats)};")
        self._source_topic(topic, props, f"{head} {format_with(dict(formats, PARTITIONS='2'))};")
        stored = f"{head} {format_with(dict(formats, CLEANUP_POLICY='compact' if kind == 'TABLE' else 'delete'))};"
        _check_source_schema(kind, columns, props, key_format, value_format, stored)
        self._refuse_existing(kind, existing, replacing, stored)
        if replacing:
            self._check_plain_upgrade(replacing, kind, columns, stored)
        self.state.sources[name] = Source(name, kind, topic, stored, tuple(columns), key_format, value_format, None,
                                          (), None, False)
        return self._status(f"{kind.title()} created", text=stored)

    def _source_topic(self, topic: str, props: dict[str, str], example: str) -> None:
        """``TopicCreateInjector``: an existing topic must match what is declared; a missing one is created
        when ``PARTITIONS`` is declared, else refused with ``example``, the statement with ``PARTITIONS=2``."""
        _check_topic_name(topic)
        existing = self.state.topics.get(topic)
        if existing is None:
            if "PARTITIONS" not in props:
                raise StatementError(
                    f"Topic '{topic}' does not exist. If you want to create a new topic for the stream/table please "
                    f"re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and "
                    f"optionally 'REPLICAS'). For example: {example}", "generic")
            self._create_topic(topic, int(props["PARTITIONS"]), int(props.get("REPLICAS") or 1),
                               int(props.get("RETENTION_MS") or DEFAULT_RETENTION_MS))
            return
        self._check_topic(existing, props)

    def _create_topic(self, name: str, partitions: int, replicas: int, retention_ms: int) -> None:
        """``KafkaTopicClientImpl.createTopic``: -1 takes the broker's default (1 partition, 1 replica); Kafka
        refuses 0 partitions and a retention below -1 (500: "Failed to guarantee existence of topic")."""
        cause = ("Number of partitions was set to an invalid non-positive value." if partitions == 0 else
                 f"Invalid value {retention_ms} for configuration retention.ms: Value must be at\n\tleast -1"
                 if retention_ms < -1 else None)
        if cause:
            raise StatementError(f"Failed to guarantee existence of topic {name}\nCaused by: {cause}", "server")
        self.state.topics.create(Topic(name, partitions if partitions > 0 else BROKER_PARTITIONS,
                                       replicas if replicas > 0 else BROKER_REPLICAS))

    @staticmethod
    def _check_topic(existing: Topic, props: dict[str, str]) -> None:
        """``TopicValidationUtil.validateTopicProperties``: partitions must be equal, replicas at least the
        declared ones, retention equal."""
        partitions = int(props.get("PARTITIONS") or existing.partitions)
        replicas = int(props.get("REPLICAS") or existing.replicas)
        retention = int(props.get("RETENTION_MS") or DEFAULT_RETENTION_MS)
        if partitions != existing.partitions or existing.replicas < replicas or retention != existing.retention_ms:
            raise StatementError(
                f"A Kafka topic with the name '{existing.name}' already exists, with different "
                f"partition/replica/retention configuration than required. KSQL expects {partitions} partitions "
                f"(topic has {existing.partitions}), {replicas} replication factor (topic has {existing.replicas}), "
                f"and {retention} retention (topic has {existing.retention_ms}).", "server")

    @staticmethod
    def _check_plain_upgrade(existing: Source, kind: str, columns: list[Column], stored: str) -> None:
        """``StructuredDataSource.canUpgradeTo``: the type, then the key columns (which must be identical),
        else the value columns (each at its place), every issue joined by "\\n\\tAND "."""
        if existing.is_query:
            raise StatementError(f"Cannot upgrade data source: DataSource '`{existing.name}`' has type query "
                                 f"which cannot be replaced by this statement", text=stored)
        issues = []
        if existing.kind != kind:
            issues.append(f"DataSource '`{existing.name}`' has type = K{existing.kind} which is not upgradeable to "
                          f"K{kind}")
        old, new = _keys_first(existing.columns), _keys_first(columns)
        changed_keys = _changed([c for c in old if c[2]], [c for c in new if c[2]])
        changed = changed_keys or _changed([c for c in old if not c[2]], [c for c in new if not c[2]])
        if changed:
            detail = (f"Key columns must be identical. The following key columns are changed, missing or reordered: "
                      f"[{schema_text(changed)}]" if changed_keys else
                      f"The following columns are changed, missing or reordered: [{schema_text(changed)}]")
            issues.append(f"DataSource '`{existing.name}`' has schema = {schema_text(old)} which is not upgradeable "
                          f"to {schema_text(new)}. ({detail})")
        if issues:
            raise StatementError("Cannot upgrade data source: " + "\n\tAND ".join(issues), text=stored)

    def _create_as_select(self, statement: str, kind: str, name: str, toks: list[str], i: int,
                          existing: Source | None, replacing: Source | None, origin: Origin) -> dict:
        props, _ = parse_with(toks, i) if toks[i:i + 1] == ["WITH"] else ({}, i)
        clauses = query_clauses(toks)
        if "LIMIT" in clauses:  # AstBuilder
            raise StatementError(f"Failed to prepare statement: CREATE {kind} AS SELECT statements don't support "
                                 f"LIMIT clause.")
        if (unknown := unknown_cast_type(clauses)) is not None:  # SqlTypeParser
            raise StatementError(f"Failed to prepare statement: Cannot resolve unknown type: {unknown}")
        _check_properties(props, QUERY_PROPERTIES)
        reads = self._known_sources(clauses)
        first = self.state.sources[reads[0]]
        topic = props.get("KAFKA_TOPIC") or name
        _check_topic_name(topic)
        source_topic = self._source_topic_of_query(first, props)
        partitions = int(props.get("PARTITIONS") or source_topic.partitions)
        replicas = int(props.get("REPLICAS") or source_topic.replicas)
        key_format = (props.get("KEY_FORMAT") or props.get("FORMAT") or first.key_format).upper()
        value_format = (props.get("VALUE_FORMAT") or props.get("FORMAT") or first.value_format).upper()
        window = _window(clauses)
        policy = "delete" if kind == "STREAM" else "compact,delete" if window else "compact"
        stored_props = dict(props, CLEANUP_POLICY=policy, KAFKA_TOPIC=topic, PARTITIONS=str(partitions),
                            REPLICAS=str(replicas), RETENTION_MS=props.get("RETENTION_MS", str(DEFAULT_RETENTION_MS)))
        stored = (f"CREATE {'OR REPLACE ' if existing else ''}{kind} {quoted(name)} {format_with(stored_props)} "
                  f"AS {format_query(clauses, self._qualifier(clauses))};")
        rules = QueryRules(self.state.sources, clauses, statement, origin, stored, kind, name, props)
        rules.check()
        columns = self._projection(statement, clauses, reads, origin, stored)
        if any(self.state.sources[r].kind == "TABLE" and self.state.sources[r].window for r in reads):
            raise StatementError("Could not determine output schema for query due to error: KSQL does not support "
                                 "persistent queries on windowed tables.", text=stored)  # PushQueryValidator
        refusal = rules.key_format_refusal([(n, t) for n, t, k in columns if k], key_format) or \
            rules.streams_refusal()
        if refusal:
            raise refusal
        self._refuse_existing(kind, existing, replacing, stored)
        shape = ("StreamTableJoin" if len(reads) > 1 else "StreamWindowedAggregate" if window
                 else "StreamAggregate" if "GROUP" in clauses else None)
        if replacing:
            if not replacing.is_query:
                raise StatementError(f"Cannot upgrade data source: DataSource '`{name}`' has type source "
                                     f"which cannot be replaced by this statement", text=stored)
            old = _ksql_topic(replacing.topic, replacing.key_format, replacing.value_format, replacing.window)
            new = _ksql_topic(topic, key_format, value_format, window)
            if old != new:
                raise StatementError(f"Cannot upgrade data source: DataSource '`{name}`' has topic = {old} which is "
                                     f"not upgradeable to {new}", text=stored)
            if shape or replacing.shape:
                raise StatementError(f"Upgrades not yet supported for {shape or replacing.shape}", "generic")
        existing_topic = self.state.topics.get(topic)
        if existing_topic and not replacing:
            self._check_topic(existing_topic, {"PARTITIONS": str(partitions)})
        if not existing_topic:
            self._create_topic(topic, partitions, replicas, int(stored_props["RETENTION_MS"]))
        self.state.sources[name] = Source(name, kind, topic, stored, tuple(columns), key_format, value_format, window,
                                          tuple(reads), shape, True)
        replaced = [q.id for q in self.state.queries.values() if q.sink == name and q.id.startswith(CREATING)]
        query_id = replaced[0] if replaced else self._next_id(f"{'CTAS' if kind == 'TABLE' else 'CSAS'}_{name}")
        self.state.queries[query_id] = Query(query_id, name, stored, tuple(reads), dict(self.properties))
        warnings = [] if rules.within is None or "GRACE" in [t.upper() for t in rules.within] else [
            {"message": STREAM_JOIN_WITHOUT_GRACE}]  # DeprecatedStatementsChecker
        return dict(self._status(f"Created query with ID {query_id}", query_id, stored), warnings=warnings)

    def _source_topic_of_query(self, first: Source, props: dict[str, str]) -> Topic:
        """``TopicCreateInjector.injectForCreateAsSelect``: the sink topic takes what its WITH clause does not
        declare of partitions, replicas and retention from the first source's topic (``TopicProperties.
        Builder.build``), which is described then; a topic deleted out of band fails that description
        (``KafkaTopicClientImpl.describeTopics``: ``KafkaResponseGetFailedException`` caused by Kafka's
        ``UnknownTopicOrPartitionException``), a 500 naming the statements as sent (recorded #246, #279)."""
        topic = self.state.topics.get(first.topic)
        if topic is None and not {"PARTITIONS", "REPLICAS", "RETENTION_MS"} <= set(props):
            raise StatementError(f"Failed to Describe Kafka Topic(s): [{first.topic}]\nCaused by: This server does "
                                 f"not host this topic-partition.", "server")
        return topic or Topic(first.topic, int(props["PARTITIONS"]), int(props["REPLICAS"]))

    def _known_sources(self, clauses: dict[str, list[str]]) -> list[str]:
        reads = sources_read(["FROM", *clauses["FROM"]])
        for read in reads:
            if read not in self.state.sources:
                raise StatementError(f"Exception while preparing statement: {read} does not exist.")
        return reads

    def _projection(self, statement: str, clauses: dict[str, list[str]], reads: list[str], origin: Origin,
                    stored: str | None = None) -> list[Column]:
        """Columns of a query's result, key columns first: the GROUP BY, PARTITION BY or join expressions
        selected become the key (``LogicalPlanner``: a join's key is its join column)."""
        available = {n: t for r in reads for n, t, _ in self.state.sources[r].columns}
        aliases = self._aliases(clauses)
        keys = split_top(clauses.get("GROUP", [])[1:]) + split_top(clauses.get("PARTITION", [])[1:])
        join_columns = _join_columns(clauses)
        columns = []
        for item in split_top(clauses["SELECT"]):
            if item == ["*"]:
                columns += [c for r in reads for c in self.state.sources[r].columns]
                continue
            aliased = len(item) >= 2 and item[-2] == "AS"
            alias, expression = identifier(item[-1]), (item[:-2] if aliased else item)
            for ref in (identifier(t) for t in expression if t[0].isalpha() or t[0] in "`_"):
                if ref not in available and ref not in FUNCTIONS and ref not in aliases:
                    select = statement.upper().index("SELECT")
                    found = re.search(rf"\b{re.escape(ref)}\b", statement[select:])
                    line, column = origin.of(statement, select + (found.start() if found else 0))
                    raise StatementError(f"Could not determine output schema for query due to error: Line: {line}, "
                                         f"Col: {column}: SELECT column '{ref}' cannot be resolved.", text=stored)
            is_key = expression in keys or (len(reads) > 1 and _column_ref(expression) in join_columns)
            columns.append((alias, type_of(expression, available), is_key))
        return sorted(columns, key=lambda c: not c[2])

    def _qualifier(self, clauses: dict[str, list[str]]):
        """``AstSanitizer``: a function that qualifies each column reference with its source's alias."""
        toks = ["FROM", *clauses["FROM"]]
        owner: dict[str, str] = {}
        for i, t in enumerate(toks[:-1]):
            if t in ("FROM", "JOIN"):
                name = identifier(toks[i + 1])
                after = toks[i + 2] if i + 2 < len(toks) else None
                alias = after if after and after not in JOINS else toks[i + 1]
                source = self.state.sources.get(name)
                for column, _, _ in source.columns if source else ():
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
                if t in ("FROM", "JOIN") and toks[i + 2] not in JOINS]

    def _next_id(self, prefix: str) -> str:
        query_id = f"{prefix}_{self.state.counter}"
        self.state.counter += 1
        return query_id

    def _insert(self, statement: str, toks: list[str], origin: Origin) -> dict:
        target = identifier(toks[2])
        if target not in self.state.sources:  # while the statement is prepared
            line, column = origin.of(statement, statement.index(toks[2]))
            raise StatementError(f"Exception while preparing statement: Line: {line}, Col: {column}: Source "
                                 f"`{target}` does not exist.")
        if "SELECT" not in toks:
            return self._insert_values(toks, self.state.sources[target])
        props, _ = parse_with(toks, 3) if toks[3:4] == ["WITH"] else ({}, 3)
        clauses = query_clauses(toks)
        reads = self._known_sources(clauses)
        sink = self.state.sources[target]
        if sink.kind != "STREAM":
            raise StatementError(f"INSERT INTO can only be used to insert into a stream. {target} is a table.")
        result = self._projection(statement, clauses, reads, origin)
        if tuple(result) != tuple(sorted(sink.columns, key=lambda c: not c[2])):  # EngineExecutor.validateExistingSink
            raise StatementError(f"Incompatible schema between results and sink.\nResult schema is "
                                 f"{schema_text(result)}\nSink schema is "
                                 f"{schema_text(sorted(sink.columns, key=lambda c: not c[2]))}")
        query_id = props["QUERY_ID"].upper() if "QUERY_ID" in props else self._next_id("INSERTQUERY")
        if query_id in self.state.queries:
            raise StatementError(f"Query ID '{query_id}' already exists.")
        self.state.queries[query_id] = Query(query_id, target, statement, tuple(reads), dict(self.properties))
        return self._status(f"Created query with ID {query_id}", query_id)

    @staticmethod
    def _insert_values(toks: list[str], sink: Source) -> dict:
        """``InsertValuesExecutor``: each value must have its column's type; refused naming the statement
        with its values masked (``QueryMask``). It is no command: the answer holds no entity."""
        at = toks.index("VALUES")
        names = [identifier(t) for t in toks[3:at] if t not in ("(", ")", ",")] or [n for n, _, _ in sink.columns]
        values = [v for part in split_top(toks[at + 2:toks.index(")", at)]) for v in part]
        types = {n: t for n, t, _ in sink.columns}
        masked = (f"INSERT INTO `{sink.name}` ({', '.join(f'`{n}`' for n in names)}) VALUES "
                  f"({', '.join(repr('[value]') for _ in values)});")
        for name, value in zip(names, values):
            given = "STRING" if value.startswith("'") else "INTEGER" if value.lstrip("-").isdigit() else None
            if given and given != types.get(name) and not (given == "INTEGER" and types.get(name) in (
                    "BIGINT", "DOUBLE", "DECIMAL")):
                shown = value[1:-1] if value.startswith("'") else value
                raise StatementError(f"Failed to insert values into '{sink.name}'. Expected type {types.get(name)} "
                                     f"for field `{name}` but got {given}({shown})", text=masked)
        return {}

    def _drop(self, statement: str, toks: list[str]) -> dict:
        """A refusal after ``TopicDeleteInjector`` names the statement without ``DELETE TOPIC`` (recorded
        #298 of the 2026-12-07 set)."""
        kind = toks[1]
        if_exists = toks[2:4] == ["IF", "EXISTS"]
        name = identifier(toks[4 if if_exists else 2])
        delete_topic = "DELETE" in toks and toks[toks.index("DELETE") + 1:toks.index("DELETE") + 2] == ["TOPIC"]
        source = self.state.sources.get(name)
        # TopicDeleteInjector: the statement without the clause, written by SqlFormatter
        text = f"DROP {kind} {'IF EXISTS ' if if_exists else ''}{quoted(name)};" if delete_topic else statement
        if delete_topic and source is not None:
            self._delete_topic(source)
        if source is None:
            if if_exists:
                return self._status(f"Source `{name}` does not exist.", text=text)
            raise StatementError(f"{kind.title()} {name} does not exist.")
        if source.kind != kind:
            raise StatementError(f"Incompatible data source type is {source.kind.lower()}, but statement was "
                                 f"DROP {kind.lower()}", text=text)
        # EngineContext.throwIfInsertQueriesExist, then MetaStoreImpl's drop constraints
        inserts = [q for q in self.state.queries.values() if not q.id.startswith(CREATING)]
        reading = sorted(q.id for q in inserts if name in q.reads)
        writing = sorted(q.id for q in inserts if q.sink == name)
        if reading or writing:
            raise StatementError(f"Cannot drop {name}.\nThe following queries read from this source: "
                                 f"[{', '.join(reading)}].\nThe following queries write into this "
                                 f"source: [{', '.join(writing)}].\nYou need to terminate them before "
                                 f"dropping {name}.", text=text)
        readers = sorted(s.name for s in self.state.sources.values() if name in s.reads)
        if readers:
            raise StatementError(f"Cannot drop {name}.\nThe following streams and/or tables read from this "
                                 f"source: [{', '.join(readers)}].\nYou need to drop them before dropping {name}.",
                                 text=text)
        for query_id in [q.id for q in self.state.queries.values() if q.sink == name]:
            del self.state.queries[query_id]
        del self.state.sources[name]
        return self._status(f"Source `{name}` (topic: {source.topic}) was dropped.", text=text)

    def _delete_topic(self, source: Source) -> None:
        """``TopicDeleteInjector``: runs before the DROP is checked, in validation too, and its sandbox
        deletes for real (``SandboxTopics``)."""
        others = sorted(s.name for s in self.state.sources.values()
                        if s.topic == source.topic and s.name != source.name)
        if others:
            raise StatementError(f"Refusing to delete topic. Found other data sources ({', '.join(others)}) using "
                                 f"topic {source.topic}", "server")
        self.state.topics.delete(source.topic)

    def _control(self, verb: str, query_id: str) -> dict:
        query = self.state.queries.get(query_id.upper())
        if query is None:
            raise StatementError(f"Unknown queryId: {query_id}")
        if verb == "TERMINATE":
            del self.state.queries[query.id]
            return self._status("Query terminated.")
        self.state.queries[query.id] = dataclasses.replace(query, state="PAUSED" if verb == "PAUSE" else "RUNNING")
        return self._status(f"Query {verb.lower()}d.")


def _syntax_error(token: str, line: int, column: int) -> StatementError:
    """``KsqlParserErrorStrategy``: the offending token and where it is."""
    return StatementError(f"line {line}:{column}: Syntax Error\nSyntax error at or near '{token}' at line "
                          f"{line}:{column}")


def _window(clauses: dict[str, list[str]]) -> tuple[str, int | None] | None:
    """(type, size in ms; a session window has no size) of a ``WINDOW`` clause."""
    if "WINDOW" not in clauses:
        return None
    kind, inner = clauses["WINDOW"][0], clauses["WINDOW"][2:-1]
    if kind == "SESSION":
        return kind, None
    size = inner.index("SIZE")
    return kind, int(inner[size + 1]) * _UNITS_MS[inner[size + 2].rstrip("S")]


def _ksql_topic(topic: str, key_format: str, value_format: str, window: tuple[str, int | None] | None) -> str:
    """``KsqlTopic.toString`` at v8.2.1."""
    if window:
        size = f"Optional[{window[1]}]" if window[1] is not None else "Optional.empty"
        window_text = f"Optional[WindowInfo{{type={window[0]}, size={size}, emitStrategy=CHANGES}}]"
    else:
        window_text = "Optional.empty"
    return (f"KsqlTopic{{kafkaTopicName='{topic}', keyFormat=KeyFormat{{format=FormatInfo{{format={key_format}, "
            f"properties={{}}}}, features=[], window={window_text}}}, valueFormat=ValueFormat{{format=FormatInfo{{"
            f"format={value_format}, properties={{}}}}, features=[]}}}}")


def _column_ref(expression: list[str]) -> str | None:
    """The column a bare reference (``X`` or ``A.X``) names, else None."""
    if len(expression) == 1 or (len(expression) == 3 and expression[1] == "."):
        return identifier(expression[-1])
    return None


def _join_columns(clauses: dict[str, list[str]]) -> set[str]:
    """The columns compared in a join's ``ON`` (``A.X = B.Y`` -> {X, Y})."""
    toks = clauses["FROM"]
    if "ON" not in toks:
        return set()
    condition = [t for t in toks[toks.index("ON") + 1:] if t not in ("(", ")")]
    if "=" not in condition:
        return set()
    left, right = condition[:condition.index("=")], condition[condition.index("=") + 1:]
    return {c for c in (_column_ref(left), _column_ref(right)) if c}


def _type_name(declared: str) -> str:
    """A declared column type as ksqlDB writes it (``VARCHAR`` -> ``STRING``, ``INT`` -> ``INTEGER``, inside
    ``ARRAY<...>`` too)."""
    written = re.sub(r"\b(VARCHAR|INT)\b", lambda m: TYPES[m.group(1)], declared)
    return written.replace(" <", "<").replace("< ", "<").replace(" >", ">")


def _check_properties(props: dict[str, str], allowed: set[str]) -> None:
    """``PropertiesConfig`` / ``ConfigDef`` while the statement is prepared: unknown names, and integers
    that do not fit 32 bits."""
    unknown = [name for name in props if name not in allowed]
    if unknown:
        raise StatementError(f"Failed to prepare statement: Invalid config variable(s) in the WITH clause: "
                             f"{','.join(unknown)}")
    for name in _INT_PROPERTIES:
        if re.fullmatch(r"-?\d+", props.get(name, "")) and not -2 ** 31 <= int(props[name]) < 2 ** 31:
            raise StatementError(f"Failed to prepare statement: Invalid value {props[name]} for property {name}: "
                                 f"Expected value to be a 32-bit integer, but it was a java.lang.Long")


def _check_topic_name(topic: str) -> None:
    """``KafkaTopicClientImpl.isTopicExists``: Kafka refuses an illegal topic name (500)."""
    if not _LEGAL_TOPIC.fullmatch(topic):
        raise StatementError(f"Failed to check if exists for topic: {topic}\nCaused by: The request attempted to "
                             f"perform an operation on an invalid topic.", "server")


def _check_source_schema(kind: str, columns: list[Column], props: dict[str, str], key_format: str,
                         value_format: str, stored: str) -> None:
    """What the sandboxed execute refuses of a source's columns (``CreateSourceFactory``: reserved names,
    a table's PRIMARY KEY; ``TimestampExtractionPolicyFactory``; ``KafkaSerdeFactory``: one KAFKA key
    column; ``KsqlDelimitedSerdeFactory``: DELIMITED holds no ARRAY, MAP or STRUCT), naming ``stored``."""
    for name, _, _ in columns:
        if name in PSEUDO_COLUMN_NAMES:
            raise StatementError(f"'{name}' is a reserved column name. You cannot use it as a name for a column.",
                                 text=stored)
    keys = [c for c in columns if c[2]]
    if kind == "TABLE" and not keys:
        raise StatementError("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.", text=stored)
    timestamp = props.get("TIMESTAMP")
    if timestamp and identifier(timestamp) not in [n for n, _, _ in columns]:
        raise StatementError(f"The TIMESTAMP column set in the WITH clause does not exist in the schema: "
                             f"'{identifier(timestamp)}'", text=stored)
    if key_format == "KAFKA" and len(keys) > 1:
        listed = ", ".join(f"`{n}` {t} KEY" for n, t, _ in keys)
        raise StatementError(f"Key format does not support schema.\nformat: KAFKA\nschema: Persistence{{columns=["
                             f"{listed}], features=[]}}\nreason: The 'KAFKA' format only supports a single field. "
                             f"Got: [{listed}]", text=stored)
    if value_format == "DELIMITED":
        values = [c for c in columns if not c[2]]
        for name, type_, _ in values:
            nested = type_.partition("<")[0]
            if nested in ("ARRAY", "MAP", "STRUCT"):
                listed = ", ".join(f"`{n}` {t}" for n, t, _ in values)
                raise StatementError(f"Value format does not support schema.\nformat: DELIMITED\nschema: "
                                     f"Persistence{{columns=[{listed}], features=[]}}\nreason: The 'DELIMITED' format "
                                     f"does not support type '{nested}', column: `{name}`", text=stored)


def _keys_first(columns) -> list[Column]:
    return sorted(columns, key=lambda c: not c[2])


def _changed(old: list[Column], new: list[Column]) -> list[Column]:
    """The columns of ``old`` not found at the same place in ``new``."""
    return [c for i, c in enumerate(old) if i >= len(new) or new[i] != c]
