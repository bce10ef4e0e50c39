"""What ksqlDB would refuse in a SQL directory that is known without a server: checked at preview, offline,
every problem of every file at once, each naming the file, line and column (:func:`problems`).

It checks what is local to one statement or to the declared set, cheaply and exactly; what needs the
columns of a query's sources (a column in WHERE, a join key, SUM of a VARCHAR, GROUP BY coverage) stays
with the server's dry run. Where a real ksqlDB 8.2.1 answer was recorded, the message uses its words
(``tests/data/ksqldb-8.2.1-lint/``). Refusing what the real server accepts is worse than missing a
refusal, so each rule fires only where the server's rule certainly applies.

Rules, from confluentinc/ksql v8.2.1 unless said otherwise:

- Characters (``SqlBase.g4``): a bare identifier is ``(LETTER | '_') (LETTER | DIGIT | '_' | '@')*`` with
  ``LETTER: [A-Z]`` over an upper-cased stream, so ASCII only; outside a string literal or a quoted
  identifier any other character, a NUL or a byte order mark included, is ``UNRECOGNIZED`` (a syntax
  error); whitespace is `` \t\r\n``. Inside ``'...'`` and `` `...` `` any character is taken.
- Reserved words (:data:`RESERVED`): the grammar's keyword tokens that its ``nonReserved`` rule does not
  list; as a bare object or column name they are a syntax error.
- Source names (``ParserUtil.getSourceName``): ``[a-zA-Z0-9_-]*`` after unquoting, for the created
  object, an ``INSERT INTO`` target and every ``FROM``/``JOIN`` source.
- ``WITH`` (``tableProperties``): ``'(' tableProperty (',' tableProperty)* ')'``, ``tableProperty:
  (identifier | STRING) EQ literal``. Known names (``PropertiesConfig.throwOnUnknownProperty``):
  ``CommonCreateConfigs`` for every CREATE, plus ``CreateConfigs`` (``WINDOW_TYPE``, ``WINDOW_SIZE``,
  ``SOURCE_CONNECTOR``, ``SOURCED_BY_CONNECTOR``) for a CREATE without a query; ``InsertIntoConfigs``
  (``QUERY_ID``) for INSERT INTO. ``KAFKA_TOPIC`` has no default in ``CreateConfigs``. ``PARTITIONS`` is a
  ``ConfigDef.Type.INT`` (apache/kafka ``ConfigDef.parseType``), ``REPLICAS`` a ``SHORT`` that
  ``PropertiesConfig.toValues`` narrows with ``Number.shortValue()``, ``RETENTION_MS`` a ``LONG``. Kafka's
  topic creation refuses 0 or fewer partitions or replicas except -1 (the broker's default) and
  ``retention.ms`` below -1 (``TopicConfig``/``LogConfig``). ``TopicCreateInjector``: ``CLEANUP_POLICY``
  is refused, and so is ``RETENTION_MS`` on a compacted topic (``CREATE TABLE``, ``CREATE TABLE AS SELECT``
  without ``WINDOW``). Formats (``FormatFactory.fromName``, any case): AVRO, JSON, JSON_SR, PROTOBUF,
  PROTOBUF_NOSR, KAFKA, DELIMITED, NONE; ``FORMAT`` beside ``KEY_FORMAT`` or ``VALUE_FORMAT``
  (``CommonCreateConfigs.validateKeyValueFormats``). ``WINDOW_TYPE``: SESSION, HOPPING, TUMBLING
  (``ConfigValidators.enumValues(WindowType)``).
- Kafka topic names (apache/kafka ``org.apache.kafka.common.internals.Topic.validate``): characters
  ``[a-zA-Z0-9._-]``, at most 249, not ``.`` or ``..``; a ``CREATE ... AS SELECT`` without ``KAFKA_TOPIC``
  writes to a topic named after the object (``ksql.output.topic.name.prefix`` is empty by default).
- Columns of a CREATE without a query: types (``SqlTypeParser.getSqlType``: the ``SqlPrimitiveType``
  names, any case, or ARRAY/MAP/STRUCT/DECIMAL; any other name is a ``CREATE TYPE`` type, which a SQL
  directory cannot declare), also checked in ``CAST(... AS type)`` everywhere; duplicates
  (``TableElements``); ``SystemColumns`` names ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND
  (``CreateSourceFactory.buildSchema``); a TABLE needs a ``PRIMARY KEY``
  (``CreateSourceFactory.createTableCommand``; not checked when the key format can take the key from
  Schema Registry: AVRO, PROTOBUF, JSON_SR) and takes no plain ``KEY`` (``CreateTable.throwOnNonPrimaryKeys``);
  a STREAM takes no ``PRIMARY KEY`` (``CreateStream.throwOnPrimaryKeys``); the ``KAFKA`` key format (the
  default of ``ksql.persistence.default.format.key``) holds one key column (``KafkaSerdeFactory``); the
  ``DELIMITED`` format takes no ARRAY, MAP or STRUCT column (``KsqlDelimitedDeserializer.buildParsers``); the
  ``TIMESTAMP`` property names a declared column, and a VARCHAR one needs ``TIMESTAMP_FORMAT``
  (``TimestampExtractionPolicyFactory.create``).
- Queries: ``CREATE ... AS SELECT`` takes no ``LIMIT`` (``AstBuilder.disallowLimitClause``); ``GROUP BY``
  needs an aggregate, so at least a function call, in SELECT or HAVING (``AggregateAnalyzer``); ``EMIT FINAL``
  needs ``WINDOW`` and ``GROUP BY``, and a ``WINDOW`` without ``GROUP BY`` or any function call is refused
  (``LogicalPlanner.buildPersistentLogicalPlan``); a TUMBLING or HOPPING ``SIZE`` is positive
  (``WindowInfo``), a HOPPING ``ADVANCE BY`` is above 0 and at most ``SIZE``, a SESSION gap above 0, a
  window's ``GRACE PERIOD`` not negative (apache/kafka ``TimeWindows.advanceBy``, ``TimeWindows.ofSizeAndGrace``,
  ``SessionWindows``); ``WINDOWSTART``
  and ``WINDOWEND`` exist only in a windowed query or over a windowed source (``SystemColumns``; checked
  when every source is declared and known not windowed); a select item named like a system column
  (``Analyzer.checkForReservedToken``), two of one name (an alias, or a column's own name; "Duplicate value
  columns found in schema"); no persistent query reads a windowed TABLE
  (``PushQueryValidator.failPersistentQueryOnWindowedTable``); a join of two streams needs ``WITHIN``
  (``JoinNode.StreamToStreamJoiner.join``; a join's result is a TABLE only when both sides are).
- A query produces a TABLE when it has ``GROUP BY``, else what its first source is
  (``EngineExecutor.validateResultType``; for INSERT INTO ``validateExistingSink``), known offline when that
  source is declared in the directory; ``INSERT INTO`` writes only a stream without header columns
  (``AstSanitizer``).
"""
from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Iterator, Mapping

from providers.ksqldb.lexer import TOKEN, VARIABLE, identifier

RESERVED = frozenset("""
ADVANCE ALL AND AS AT BEGINNING BETWEEN BY CASE CAST CATALOG CONNECTOR CONNECTORS CREATE DAYS DECIMAL
DELETE DESCRIBE DISTINCT DROP ELSE END EXISTS EXPORT EXTENDED FALSE FROM FULL GROUP HAVING HOPPING HOURS
IN INNER INSERT INTO IS JOIN LEFT LIKE LIMIT LIST LOAD MATERIALIZED MILLISECOND MILLISECONDS MINUTES
MONTHS NAMESPACE NOT NULL ON OR OUTER PAUSE PRINT PROPERTIES QUERIES QUERY RENAME RESUME RETENTION RIGHT
RUN SAMPLE SCRIPT SECONDS SELECT SIZE STREAM STREAMS TABLE TERMINATE THEN TO TOPIC TOPICS TRUE TUMBLING
UNSET VALUES VIEW WHEN WHERE WINDOW WITH WITHIN YEARS
""".split())
SYSTEM_COLUMNS = frozenset({"ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND"})
PRIMITIVE_TYPES = frozenset("BOOLEAN INT INTEGER BIGINT DOUBLE STRING VARCHAR TIME DATE TIMESTAMP BYTES".split())
FORMATS = frozenset("AVRO JSON JSON_SR PROTOBUF PROTOBUF_NOSR KAFKA DELIMITED NONE".split())
KEY_INFERRING_FORMATS = frozenset({"AVRO", "PROTOBUF", "JSON_SR"})
COMMON_PROPERTIES = frozenset("""
KAFKA_TOPIC PARTITIONS REPLICAS RETENTION_MS VALUE_FORMAT TIMESTAMP TIMESTAMP_FORMAT WRAP_SINGLE_VALUE
KEY_PROTOBUF_NULLABLE_REPRESENTATION VALUE_PROTOBUF_NULLABLE_REPRESENTATION VALUE_AVRO_SCHEMA_FULL_NAME
KEY_SCHEMA_FULL_NAME VALUE_SCHEMA_FULL_NAME KEY_DELIMITER VALUE_DELIMITER KEY_FORMAT FORMAT KEY_SCHEMA_ID
VALUE_SCHEMA_ID CLEANUP_POLICY
""".split())
SOURCE_PROPERTIES = COMMON_PROPERTIES | {"WINDOW_TYPE", "WINDOW_SIZE", "SOURCE_CONNECTOR", "SOURCED_BY_CONNECTOR"}
INSERT_PROPERTIES = frozenset({"QUERY_ID"})
WINDOW_TYPES = frozenset({"SESSION", "HOPPING", "TUMBLING"})
UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
SOURCE_NAME = re.compile(r"[a-zA-Z0-9_-]*")
TOPIC_CHARS = re.compile(r"[a-zA-Z0-9._-]+")
TOPIC_MAX_LENGTH = 249
_CLAUSES = ("SELECT", "FROM", "WINDOW", "WHERE", "GROUP", "PARTITION", "HAVING", "EMIT", "LIMIT")
_SCAN = re.compile(r"(?P<comment>--[^\n]*|/\*(?s:.*?)\*/)|(?P<variable>\$\{\w+\})|" + TOKEN.pattern, re.VERBOSE)
_INVISIBLE = {"\x00": "a NUL character (U+0000)",
              "\ufeff": "a byte order mark (U+FEFF, invisible in most editors) inside the file"}
_PLAIN = re.compile(r"[ -~\t\r\n]*")  # printable ASCII and the whitespace ksqlDB's lexer skips
_INT32, _INT64 = 2 ** 31, 2 ** 63


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    line: int
    column: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text


_Problem = tuple[_Token, str]


@dataclasses.dataclass(frozen=True)
class _Column:
    name: _Token
    type: list[_Token]
    constraint: str  # "PRIMARY KEY", "KEY", "HEADERS", "HEADER" or ""


class _Statement:
    """The parts of one statement the rules look at (tokens, upper-case words, clause positions)."""

    def __init__(self, toks: list[_Token]):
        self.toks, self.words = toks, [t.word for t in toks]
        self.kind, self.name = _head(toks, self.words)
        self.query = _top_level(self.words, "SELECT")
        self.clauses = _clauses(self.words, self.query) if self.query is not None else {}
        self.columns = _columns(toks, self.words, self.name) if self.kind in ("STREAM", "TABLE") else []

    def clause(self, name: str) -> list[_Token]:
        start, end = self.clauses.get(name, (0, 0))
        return self.toks[start:end]

    def sources(self) -> list[_Token]:
        """The FROM source and every JOIN source, in order."""
        rel, found = self.clause("FROM"), []
        for i, tok in enumerate(rel[:-1]):
            if tok.word in ("FROM", "JOIN") and rel[i + 1].kind in ("word", "quoted"):
                found.append(rel[i + 1])
        return found


@dataclasses.dataclass(frozen=True)
class _Declared:
    kind: str  # STREAM | TABLE
    windowed: bool | None  # its key is windowed (None: not known offline)
    headers: bool  # it has HEADER(S) columns


def problems(sources: Mapping[str, str], variables: Mapping[str, object]) -> list[str]:
    """Every problem found in ``sources`` (file name -> SQL text), each as ``<file>: line L, column C: ...``,
    in file and line order."""
    found: list[tuple[str, _Token, str]] = []
    parsed: dict[str, list[_Statement]] = {}
    for file, text in sorted(sources.items()):
        file_problems: list[_Problem] = []
        parsed[file] = [_Statement(toks) for toks in _statements(text, variables, file_problems)]
        found.extend((file, tok, message) for tok, message in file_problems)
    declared = _declared([s for statements in parsed.values() for s in statements])
    for file, statements in parsed.items():
        for statement in statements:
            found.extend((file, tok, message) for tok, message in _statement_problems(statement, declared))
    found.sort(key=lambda item: (item[0], item[1].line, item[1].column))
    return [f"{file}: line {tok.line}, column {tok.column}: {message}" for file, tok, message in found]


def _statements(text: str, variables: Mapping[str, object], found: list[_Problem]) -> list[list[_Token]]:
    """The tokens of each statement of one file (variables substituted, comments and spaces dropped);
    characters ksqlDB's lexer refuses outside literals and quoted names are added to ``found``. An unknown
    variable stays a token of its own, a literal or name as in ksqlDB's grammar (the parser names it)."""
    text = VARIABLE.sub(lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0),
                        text.removeprefix("\ufeff"))
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(offset: int, kind: str = "op", value: str = "") -> _Token:
        line = bisect.bisect_right(starts, offset)
        return _Token(kind, value, line, offset - starts[line - 1] + 1)

    statements: list[list[_Token]] = [[]]
    flagged: set[int] = set()
    for match in _SCAN.finditer(text):
        kind, value = match.lastgroup or "", match.group()
        checked = "" if kind in ("comment", "string", "quoted") or _PLAIN.fullmatch(value) else value
        for offset, ch in enumerate(checked, match.start()):
            if ch in " \t\r\n" or ch.isascii() and ch.isprintable():
                continue
            tok = at(offset)
            if ch in _INVISIBLE or not ch.isprintable() and ord(ch) < 128:
                what = _INVISIBLE.get(ch, f"the control character U+{ord(ch):04X}")
                found.append((tok, f"{what} outside quotes; delete it"))
            elif tok.line not in flagged:
                flagged.add(tok.line)
                found.append((tok, f"{ch!r} is not allowed outside quotes: ksqlDB's bare names are ASCII "
                                   "letters, digits, _ and @; quote the name in backticks"))
        if kind in ("comment", "space"):
            continue
        if value == ";":
            statements.append([])
        elif value.isascii() or kind in ("string", "quoted"):
            statements[-1].append(at(match.start(), kind, value))
    return [toks for toks in statements if toks]


def _head(toks: list[_Token], words: list[str]) -> tuple[str, _Token | None]:
    """(STREAM, TABLE, INSERT or "" for any other statement; the created object's or the INSERT target's name)."""
    if words[:2] == ["INSERT", "INTO"]:
        return ("INSERT", toks[2]) if len(toks) > 2 else ("", None)
    if not words or words[0] != "CREATE":
        return "", None
    i = 1 + (2 if words[1:3] == ["OR", "REPLACE"] else 0)
    i += words[i:i + 1] == ["SOURCE"]
    if i + 1 >= len(words) or words[i] not in ("STREAM", "TABLE"):
        return "", None
    name = i + 1 + (3 if words[i + 1:i + 4] == ["IF", "NOT", "EXISTS"] else 0)
    return (words[i], toks[name]) if name < len(toks) else ("", None)


def _top_level(words: list[str], word: str) -> int | None:
    """The position of ``word`` outside parentheses."""
    depth = 0
    for i in range(len(words)):
        depth += {"(": 1, ")": -1}.get(words[i], 0)
        if depth == 0 and words[i] == word:
            return i
    return None


def _clauses(words: list[str], start: int) -> dict[str, tuple[int, int]]:
    """Clause name -> (first, end) token positions of the query's top-level clauses."""
    marks: list[tuple[str, int]] = []
    depth = 0
    for i in range(start, len(words)):
        depth += {"(": 1, ")": -1}.get(words[i], 0)
        if depth == 0 and words[i] in _CLAUSES and words[i] not in dict(marks):
            if words[i] not in ("GROUP", "PARTITION") or words[i + 1:i + 2] == ["BY"]:
                marks.append((words[i], i))
    return {name: (i, marks[n + 1][1] if n + 1 < len(marks) else len(words)) for n, (name, i) in enumerate(marks)}


def _columns(toks: list[_Token], words: list[str], name: _Token | None) -> list[_Column]:
    """The column definitions of ``CREATE STREAM|TABLE name (...)``: ``name type [constraint]`` each."""
    start = toks.index(name) + 1 if name is not None else len(toks)
    if words[start:start + 1] != ["("]:
        return []
    columns, depth, item = [], 0, []  # type: list[_Column], int, list[_Token]
    for tok in toks[start + 1:]:
        depth += {"(": 1, "<": 1, ")": -1, ">": -1}.get(tok.text, 0)
        if depth > 0 or depth == 0 and tok.text != ",":
            item.append(tok)
            continue
        if len(item) >= 2:
            columns.append(_column(item))
        if depth < 0:
            break
        item = []
    return columns


def _column(item: list[_Token]) -> _Column:
    tail = [t.word for t in item[-4:]]
    for constraint, size in (("PRIMARY KEY", 2), ("KEY", 1), ("HEADERS", 1)):
        if tail[-size:] == constraint.split() and len(item) > size + 1:
            return _Column(item[0], item[1:-size], constraint)
    if len(item) > 5 and tail[0] == "HEADER" and tail[1] == "(":
        return _Column(item[0], item[1:-4], "HEADER")
    return _Column(item[0], item[1:], "")


def _with_properties(statement: _Statement, out: list[_Problem]) -> dict[str, tuple[_Token, _Token]]:
    """The ``WITH (...)`` properties before the query (upper-case key -> (key token, value token)); each
    break of the grammar's ``'(' key = literal (',' key = literal)* ')'`` is added to ``out``."""
    end_of_head = statement.query if statement.query is not None else len(statement.toks)
    toks, words = statement.toks[:end_of_head], statement.words[:end_of_head]
    if "WITH" not in words:
        return {}
    i = words.index("WITH") + 1
    if words[i:i + 1] != ["("]:
        out.append((toks[i - 1], "WITH must be followed by '(' and the properties"))
        return {}
    props: dict[str, tuple[_Token, _Token]] = {}
    end = toks[-1]

    def at(j: int) -> _Token | None:
        return toks[j] if j < len(toks) else None

    while True:
        key, eq, value = at(i + 1), at(i + 2), at(i + 3)
        if key is None or key.kind not in ("word", "quoted", "string", "variable"):
            out.append((key or end, f"WITH (...): expected a property name, found "
                                    f"{key.text if key else 'the end of the statement'}"))
            return props
        if eq is None or eq.text != "=" or value is None:
            out.append((key, f"WITH (...): expected {key.text}=<value>"))
            return props
        i += 3
        if value.text == "-" and (number := at(i + 1)) is not None and number.kind == "number":
            value, i = _Token("number", f"-{number.text}", value.line, value.column), i + 1
        if value.kind not in ("string", "number", "variable") and value.word not in ("TRUE", "FALSE", "NULL"):
            out.append((value, f"WITH (...): {key.text}= needs a literal (a 'string', a number, TRUE, "
                               f"FALSE or NULL), found {value.text}"))
            return props
        props[key.text.strip("`'").upper()] = (key, value)
        after = at(i + 1)
        if after is None or after.text != ",":
            if after is None or after.text != ")":
                out.append((after or value, f"WITH (...): expected ',' or ')' after {key.text}={value.text}, "
                                            f"found {after.text if after else 'the end of the statement'} "
                                            "(a missing comma?)"))
            return props
        i += 1


def _statement_problems(statement: _Statement, declared: Mapping[str, _Declared]) -> list[_Problem]:
    out: list[_Problem] = []
    props = _with_properties(statement, out)
    out.extend(_name_problems(statement))
    out.extend(_property_problems(statement, props))
    if statement.kind in ("STREAM", "TABLE") and statement.query is None:
        out.extend(_column_problems(statement, props))
    if statement.query is not None:
        out.extend(_query_problems(statement, declared))
    out.extend(_cast_problems(statement))
    return out


def _name_problems(statement: _Statement) -> Iterator[_Problem]:
    target = statement.name
    if target is not None and target.kind == "word" and target.word in RESERVED:
        yield target, (f"{target.word} is a reserved word in ksqlDB and cannot be a bare name: "
                       f"quote it (`{target.text}`) or choose another name")
    for tok in ([target] if target is not None else []) + statement.sources():
        name = identifier(tok.text)
        if tok.kind == "quoted" and not SOURCE_NAME.fullmatch(name):
            yield tok, f"Source names may only contain alphanumeric values, '_' or '-'. Got: {name!r}"


def _property_problems(statement: _Statement, props: Mapping[str, tuple[_Token, _Token]]) -> Iterator[_Problem]:
    kind, query = statement.kind, statement.query
    if not kind:
        return
    allowed = INSERT_PROPERTIES if kind == "INSERT" else COMMON_PROPERTIES if query is not None else SOURCE_PROPERTIES
    unknown = [key for key in props if key not in allowed]
    if unknown:
        yield props[unknown[0]][0], f"Invalid config variable(s) in the WITH clause: {','.join(unknown)}"
    if kind == "INSERT":
        return
    if "CLEANUP_POLICY" in props:
        yield props["CLEANUP_POLICY"][0], ("Invalid config variable in the WITH clause: CLEANUP_POLICY. The "
                                           "CLEANUP_POLICY config is automatically inferred based on the type of "
                                           "source (STREAM or TABLE). Users can't set the CLEANUP_POLICY config "
                                           "manually.")
    if "KAFKA_TOPIC" not in props and query is None and statement.name is not None:
        yield statement.name, ('Missing required property "KAFKA_TOPIC" which has no default value. '
                               "(a CREATE without AS SELECT names the topic it reads)")
    yield from _number_problems(props)
    compacted = kind == "TABLE" and (query is None or "WINDOW" not in statement.clauses)
    if compacted and "RETENTION_MS" in props:
        yield props["RETENTION_MS"][0], ("Invalid config variable in the WITH clause: RETENTION_MS. Non-windowed "
                                         "tables do not support retention.")
    for key in ("KEY_FORMAT", "VALUE_FORMAT", "FORMAT"):
        value = _string(props, key)
        if value is not None and value.upper() not in FORMATS:
            yield props[key][1], f"Unknown format: {value} (ksqlDB's formats: {', '.join(sorted(FORMATS))})"
    for key in ("KEY_FORMAT", "VALUE_FORMAT"):
        if key in props and "FORMAT" in props:
            yield props[key][0], (f"Cannot supply both '{key}' and 'FORMAT' properties, as 'FORMAT' sets both "
                                  "key and value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and "
                                  "'VALUE_FORMAT'.")
    window_type = _string(props, "WINDOW_TYPE")
    if window_type is not None and window_type.upper() not in WINDOW_TYPES:
        yield props["WINDOW_TYPE"][1], (f"Invalid value {window_type} for configuration WINDOW_TYPE: "
                                        f"String must be one of: {', '.join(sorted(WINDOW_TYPES))}")
    topic = _string(props, "KAFKA_TOPIC")
    if topic is not None:
        yield from ((props["KAFKA_TOPIC"][1], f"KAFKA_TOPIC='{topic}': {problem}")
                    for problem in _topic_problems(topic))
    elif "KAFKA_TOPIC" not in props and query is not None and statement.name is not None:
        name = identifier(statement.name.text)
        if SOURCE_NAME.fullmatch(name):
            yield from ((statement.name, f"{name[:60]!r} is also its Kafka topic's name (no KAFKA_TOPIC): {problem}")
                        for problem in _topic_problems(name))


def _string(props: Mapping[str, tuple[_Token, _Token]], key: str) -> str | None:
    """The text of a string-literal property (None: absent, or not a string literal)."""
    value = props.get(key, (None, None))[1]
    return value.text[1:-1].replace("''", "'") if value is not None and value.kind == "string" else None


def _number_problems(props: Mapping[str, tuple[_Token, _Token]]) -> Iterator[_Problem]:
    """PARTITIONS, REPLICAS and RETENTION_MS: what their config types and Kafka's topic creation refuse."""
    for key in ("PARTITIONS", "REPLICAS", "RETENTION_MS"):
        value = props.get(key, (None, None))[1]
        if value is None or value.kind not in ("number", "string"):
            continue
        text = value.text.strip("'") if value.kind == "string" else value.text
        if key == "REPLICAS" and value.kind == "number":
            text = text.split(".")[0]  # Number.shortValue() drops the fraction too
        if not re.fullmatch(r"-?\d+", text):
            yield value, f"Invalid value {text} for property {key}: Expected a whole number"
            continue
        number = int(text)
        if key == "PARTITIONS" and not -_INT32 <= number < _INT32:
            java = ", but it was a java.lang.Long" if -_INT64 <= number < _INT64 else ""
            yield value, f"Invalid value {number} for property PARTITIONS: Expected value to be a 32-bit integer{java}"
        elif key == "RETENTION_MS" and not -_INT64 <= number < _INT64:
            yield value, f"Invalid value {number} for property RETENTION_MS: Expected value to be a 64-bit integer"
        elif key == "RETENTION_MS" and number < -1:
            yield value, (f"Invalid value {number} for configuration retention.ms: Value must be at least -1 "
                          "(Kafka refuses to create the topic; -1 keeps records forever)")
        elif key in ("PARTITIONS", "REPLICAS"):
            narrowed = (number + 2 ** 15) % 2 ** 16 - 2 ** 15 if key == "REPLICAS" else number
            if value.kind == "string" and narrowed != number:
                yield value, f"Invalid value {text} for configuration REPLICAS: Not a number of type SHORT"
            elif narrowed == 0 or narrowed < -1:
                read = f" (ksqlDB reads REPLICAS as a 16-bit number: {narrowed})" if narrowed != number else ""
                what = "Number of partitions" if key == "PARTITIONS" else "Replication factor"
                yield value, (f"{key}={number}{read}: {what} was set to an invalid non-positive value: Kafka "
                              "refuses to create the topic (-1 takes the broker's default)")


def _topic_problems(topic: str) -> list[str]:
    """Why Kafka would refuse ``topic`` as a topic name (none: it is fine)."""
    if topic in ("", ".", ".."):
        return [f"Kafka refuses the topic name {topic!r}"]
    found = []
    if len(topic) > TOPIC_MAX_LENGTH:
        found.append(f"a Kafka topic name has at most {TOPIC_MAX_LENGTH} characters, this one {len(topic)}")
    if not TOPIC_CHARS.fullmatch(topic):
        bad = " ".join(repr(ch) for ch in sorted({ch for ch in topic if not TOPIC_CHARS.fullmatch(ch)}))
        found.append(f"a Kafka topic name may hold only a-z, A-Z, 0-9, '.', '_' and '-', not {bad}")
    return found


def _column_problems(statement: _Statement, props: Mapping[str, tuple[_Token, _Token]]) -> Iterator[_Problem]:
    """Columns of a CREATE STREAM|TABLE without a query: names, types, keys, the TIMESTAMP column."""
    columns = statement.columns
    seen: set[str] = set()
    for column in columns:
        name = identifier(column.name.text)
        if column.name.kind == "word" and name in RESERVED:
            yield column.name, (f'"{name}" is a reserved keyword and it can\'t be used as an identifier: quote it '
                                f"(`{column.name.text}`) or choose another name")
        elif name in SYSTEM_COLUMNS:
            yield column.name, f"'{name}' is a reserved column name. You cannot use it as a name for a column."
        elif name in seen:
            yield column.name, f"Duplicate column names: `{name}`"
        seen.add(name)
        yield from ((tok, f"Cannot resolve unknown type: {identifier(tok.text)} (ksqlDB's types: "
                          f"{', '.join(sorted(PRIMITIVE_TYPES | {'ARRAY', 'MAP', 'STRUCT', 'DECIMAL'}))}; "
                          "a CREATE TYPE cannot be declared here)")
                    for tok in _unknown_types(column.type))
    if not columns:
        return
    keys = [c for c in columns if c.constraint in ("PRIMARY KEY", "KEY")]
    wrong = "PRIMARY KEY" if statement.kind == "STREAM" else "KEY"
    for column in (c for c in keys if c.constraint == wrong):
        right = "KEY' for streams" if statement.kind == "STREAM" else "PRIMARY KEY' for tables"
        yield column.name, (f"Column `{identifier(column.name.text)}` is a '{wrong}' column: please use '{right}. "
                            "Tables have PRIMARY KEYs, which are unique and NON NULL. Streams have KEYs, which "
                            "have no uniqueness or NON NULL constraints.")
    key_format = (_string(props, "KEY_FORMAT") or _string(props, "FORMAT") or "KAFKA").upper()
    if statement.kind == "TABLE" and not keys and key_format not in KEY_INFERRING_FORMATS and statement.name:
        yield statement.name, "Tables require a PRIMARY KEY. Please define the PRIMARY KEY."
    if len(keys) > 1 and key_format == "KAFKA":
        names = ", ".join(f"`{identifier(c.name.text)}`" for c in keys)
        yield keys[1].name, (f"Key format does not support schema: the 'KAFKA' format only supports a single field. "
                             f"Got: {names}; use e.g. KEY_FORMAT='JSON' for a key of several columns")
    value_format = (_string(props, "VALUE_FORMAT") or _string(props, "FORMAT") or "").upper()
    for column in columns:
        words = [t.word for t in column.type]
        base = "ARRAY" if words[-1:] == ["ARRAY"] else words[0] if words else ""
        role = "Key" if column.constraint in ("PRIMARY KEY", "KEY") else "" if column.constraint else "Value"
        role_format = {"Key": key_format, "Value": value_format}.get(role)  # header columns have none
        if base in ("ARRAY", "MAP", "STRUCT") and role_format == "DELIMITED":
            yield column.name, (f"{role} format does not support schema: the 'DELIMITED' format does not support "
                                f"type '{base}', column: `{identifier(column.name.text)}`")
    yield from _timestamp_problems(columns, props)


def _timestamp_problems(columns: list[_Column], props: Mapping[str, tuple[_Token, _Token]]) -> Iterator[_Problem]:
    """The ``TIMESTAMP`` property of a CREATE with columns: a declared column; a string one needs a format."""
    timestamp = _string(props, "TIMESTAMP")
    if timestamp is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|`[^`]+`", timestamp):
        return
    name = identifier(timestamp)
    column = next((c for c in columns if identifier(c.name.text) == name), None)
    if column is None and name not in SYSTEM_COLUMNS:
        yield props["TIMESTAMP"][1], ("The TIMESTAMP column set in the WITH clause does not exist in the schema: "
                                      f"'{name}'")
    elif column is not None and [t.word for t in column.type] in (["VARCHAR"], ["STRING"]) \
            and "TIMESTAMP_FORMAT" not in props:
        yield props["TIMESTAMP"][1], ("A String timestamp field has been specified without also specifying the "
                                      "timestamp_format")


def _unknown_types(toks: list[_Token]) -> list[_Token]:
    """The base type names in one type (``ARRAY<MAP<STRING, X>>``, ``STRUCT<A INT>``) that ksqlDB does not know."""
    bad: list[_Token] = []

    def skip_type(i: int) -> int:
        """The position after the type that starts at ``i``; unknown base names go to ``bad``."""
        tok, after = toks[i], toks[i + 1].text if i + 1 < len(toks) else ""
        if tok.word in ("ARRAY", "MAP", "STRUCT") and after in ("<", "<>"):
            i += 2
            while after == "<" and i < len(toks) and toks[i].text != ">":
                i = skip_type(i + (tok.word == "STRUCT"))  # a STRUCT field: its name, then its type
                i += i < len(toks) and toks[i].text == ","
            i += after == "<"
        else:
            if tok.kind in ("word", "quoted") and identifier(tok.text).upper() not in PRIMITIVE_TYPES | {"DECIMAL"}:
                bad.append(tok)
            i += 1
            if i < len(toks) and toks[i].text == "(":  # DECIMAL(4, 2), VARCHAR(10)
                while i < len(toks) and toks[i].text != ")":
                    i += 1
                i += 1
        while i < len(toks) and toks[i].word == "ARRAY":  # the postfix form: INT ARRAY
            i += 1
        return i

    if toks:
        skip_type(0)
    return bad


def _cast_problems(statement: _Statement) -> Iterator[_Problem]:
    """``CAST(expression AS type)`` with a type ksqlDB does not know."""
    words = statement.words
    for i in range(len(words) - 1):
        if words[i] != "CAST" or words[i + 1] != "(":
            continue
        depth, as_at = 0, None
        for j in range(i + 1, len(words)):
            depth += {"(": 1, ")": -1}.get(words[j], 0)
            if depth == 1 and words[j] == "AS":
                as_at = j
            if depth == 0:
                if as_at is not None:
                    yield from ((tok, f"Cannot resolve unknown type: {identifier(tok.text)}")
                                for tok in _unknown_types(statement.toks[as_at + 1:j]))
                break


def _query_problems(statement: _Statement, declared: Mapping[str, _Declared]) -> Iterator[_Problem]:
    clauses, kind = statement.clauses, statement.kind
    if "LIMIT" in clauses and kind in ("STREAM", "TABLE"):
        yield statement.clause("LIMIT")[0], f"CREATE {kind} AS SELECT statements don't support LIMIT clause."
    emit = statement.clause("EMIT")
    if len(emit) > 1 and emit[1].word == "FINAL" and not ("WINDOW" in clauses and "GROUP" in clauses):
        yield emit[1], "EMIT FINAL is only supported for windowed aggregations."
    reads = [declared.get(identifier(tok.text)) for tok in statement.sources()]
    for tok, source in zip(statement.sources(), reads):
        if source and source.kind == "TABLE" and source.windowed:
            yield tok, (f"KSQL does not support persistent queries on windowed tables. ({identifier(tok.text)} is "
                        "a windowed table)")
    yield from _select_problems(statement)
    scanned = statement.clause("SELECT") + statement.clause("HAVING")
    calls = any(t.kind == "word" and n.text == "(" and t.word != "CAST" for t, n in zip(scanned, scanned[1:]))
    if "GROUP" in clauses and not calls:
        yield statement.clause("GROUP")[0], ("GROUP BY requires aggregate functions in either the SELECT or HAVING "
                                             "clause.")
    window = statement.clause("WINDOW")
    if window:
        if "GROUP" not in clauses and not calls:
            yield window[1 if len(window) > 1 and window[1].kind == "word" else 0], \
                "WINDOW clause requires a GROUP BY clause."
        yield from _window_problems(window)
    elif _any_windowed([d.windowed if d else None for d in reads]) is False:
        for i, tok in enumerate(statement.toks[statement.query or 0:], start=statement.query or 0):
            before = statement.words[i - 1] if i else ""
            if tok.word in ("WINDOWSTART", "WINDOWEND") and tok.kind == "word" and before not in ("AS", "->", "."):
                yield tok, (f"SELECT column '{tok.word}' cannot be resolved: WINDOWSTART and WINDOWEND exist "
                            "only in a windowed aggregation (WINDOW ...) or over a windowed source")
    yield from _join_problems(statement, declared)
    yield from _result_kind_problems(statement, declared)


def _select_problems(statement: _Statement) -> Iterator[_Problem]:
    """Select items named like a system column (``x AS ROWTIME``, ``WINDOWSTART`` without an alias) or alike
    (an alias, or a column's own name when the query has one source; other expressions get generated names)."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for tok in statement.clause("SELECT")[1:]:
        depth += {"(": 1, ")": -1}.get(tok.text, 0)
        if depth == 0 and tok.text == ",":
            items.append([])
        else:
            items[-1].append(tok)
    seen: set[str] = set()
    for item in items:
        words = [t.word for t in item]
        aliased = len(item) > 2 and words[-2] == "AS" and item[-1].kind in ("word", "quoted")
        expression = item[:-2] if aliased else item
        named = item and (item[-1].kind == "quoted" or item[-1].kind == "word" and item[-1].word not in RESERVED)
        last = identifier(item[-1].text) if named else ""  # literals and expressions get generated names
        column = len(expression) == 1 or len(expression) == 3 and expression[1].text == "."
        if last.upper() in SYSTEM_COLUMNS and column and expression[-1].word == last.upper():
            yield item[-1], f"Reserved column name in select: `{last.upper()}`. Please remove or alias the column."
        elif last.upper() in SYSTEM_COLUMNS and aliased:
            yield item[-1], f"`{last.upper()}` is a reserved column name. You cannot use it as an alias for a column."
        elif last and (aliased or column and (len(expression) == 1 or len(statement.sources()) == 1)):
            if last in seen:
                yield item[-1], f"Duplicate value columns found in schema: `{last}` (the SELECT names it twice)"
            seen.add(last)


def _window_problems(window: list[_Token]) -> Iterator[_Problem]:
    """SIZE, ADVANCE BY and GRACE PERIOD of ``WINDOW TUMBLING|HOPPING|SESSION (...)``, compared in ms."""
    words = [t.word for t in window]
    kind = next((w for w in words[:3] if w in WINDOW_TYPES), None)
    durations: dict[str, tuple[_Token, int]] = {}
    for i, word in enumerate(words):
        label = {"SIZE": "SIZE", "BY": "ADVANCE", "PERIOD": "GRACE"}.get(word)
        if word == "(" and i and words[i - 1] == "SESSION":
            label = "GAP"
        negative = words[i + 1:i + 2] == ["-"]
        if label is None or i + 2 + negative >= len(words):
            continue
        number, unit = window[i + 1 + negative], words[i + 2 + negative].rstrip("S")
        if number.kind == "number" and number.text.isdigit() and unit in UNIT_MS:
            durations[label] = (window[i + 1], (-1 if negative else 1) * int(number.text) * UNIT_MS[unit])
    size = durations.get("SIZE")
    if kind in ("TUMBLING", "HOPPING") and size is not None and size[1] <= 0:
        yield size[0], "Size must be positive (a window's SIZE)"
    elif kind == "HOPPING" and size is not None and "ADVANCE" in durations:
        advance = durations["ADVANCE"]
        if not 0 < advance[1] <= size[1]:
            yield advance[0], ("Window advancement interval should be more than zero and less than window duration "
                               f"which is {size[1]} ms, but given advancement interval is: {advance[1]} ms")
    if kind == "SESSION" and "GAP" in durations and durations["GAP"][1] <= 0:
        yield durations["GAP"][0], "Gap time cannot be zero or negative."
    if "GRACE" in durations and durations["GRACE"][1] < 0:
        yield durations["GRACE"][0], "Grace period must not be negative."


def _declared(statements: list[_Statement]) -> dict[str, _Declared]:
    """Every created object by name, with whether it is windowed: a source with ``WINDOW_TYPE`` or a query with
    ``WINDOW`` is, a query with ``GROUP BY`` and no ``WINDOW`` is not, any other query is what it reads
    (readers after what they read, without recursion; within a cycle or after ``PARTITION BY``: not known)."""
    created = {identifier(s.name.text): s for s in statements if s.kind in ("STREAM", "TABLE") and s.name}
    windowed: dict[str, bool | None] = {}
    for name, statement in created.items():
        if statement.query is None:
            windowed[name] = "WINDOW_TYPE" in _with_properties(statement, [])
        elif "WINDOW" in statement.clauses or "GROUP" in statement.clauses:
            windowed[name] = "WINDOW" in statement.clauses
        elif "PARTITION" in statement.clauses:
            windowed[name] = None
    reads = {name: [identifier(t.text) for t in s.sources()] for name, s in created.items() if name not in windowed}
    waiting = {name: {r for r in sources if r in reads} for name, sources in reads.items()}
    readers: dict[str, list[str]] = {}
    for name, sources in waiting.items():
        for source in sources:
            readers.setdefault(source, []).append(name)
    ready = [name for name, sources in waiting.items() if not sources]
    while ready:
        name = ready.pop()
        windowed[name] = _any_windowed([windowed.get(r) for r in reads[name]])
        for reader in readers.get(name, []):
            waiting[reader].discard(name)
            if not waiting[reader]:
                ready.append(reader)
    return {name: _Declared(s.kind, windowed.get(name), any(c.constraint.startswith("HEADER") for c in s.columns))
            for name, s in created.items()}


def _any_windowed(sources: list[bool | None]) -> bool | None:
    if any(sources):
        return True
    return None if None in sources or not sources else False


def _join_problems(statement: _Statement, declared: Mapping[str, _Declared]) -> Iterator[_Problem]:
    """A join of two streams without WITHIN; the left side of a later JOIN is what the earlier ones produce."""
    rel = statement.clause("FROM")
    sources = statement.sources()
    if len(sources) < 2:
        return
    left = declared.get(identifier(sources[0].text))
    left_kind = left.kind if left else None
    joins = [i for i, tok in enumerate(rel) if tok.word == "JOIN"]
    for n, i in enumerate(joins):
        right = declared.get(identifier(rel[i + 1].text)) if i + 1 < len(rel) else None
        if left_kind is None or right is None:
            return
        end = joins[n + 1] if n + 1 < len(joins) else len(rel)
        if left_kind == right.kind == "STREAM" and "WITHIN" not in [t.word for t in rel[i:end]]:
            yield rel[i], ("Stream-Stream joins must have a WITHIN clause specified. None was provided. "
                           f"(JOIN {identifier(rel[i + 1].text)}: add e.g. WITHIN 1 HOUR before ON)")
        left_kind = "TABLE" if left_kind == right.kind == "TABLE" else "STREAM"


def _result_kind_problems(statement: _Statement, declared: Mapping[str, _Declared]) -> Iterator[_Problem]:
    """CREATE TABLE AS SELECT of a query that produces a STREAM, and the other way round; INSERT INTO a table,
    a stream with header columns (``AstSanitizer``) or a stream from a query that produces a table
    (``EngineExecutor.validateExistingSink``)."""
    grouped = "GROUP" in statement.clauses
    sources = statement.sources()
    source = identifier(sources[0].text) if sources else None
    first = declared.get(source or "")
    produced = "TABLE" if grouped else first.kind if first else None
    kind, name = statement.kind, statement.name
    target = declared.get(identifier(name.text)) if kind == "INSERT" and name else None
    if target and target.kind == "TABLE" and name:
        yield name, f"INSERT INTO can only be used to insert into a stream. {identifier(name.text)} is a table."
    elif target and target.headers and name:
        yield name, f"Cannot insert into {identifier(name.text)} because it has header columns"
    elif target and produced == "TABLE" and name:
        yield statement.toks[0], (f"Incompatible data sink and query result. Data sink ({identifier(name.text)}) "
                                  "type is KSTREAM but select query result is KTABLE.")
    if kind == "INSERT" or produced is None or produced == kind or name is None:
        return
    if produced == "STREAM":
        why, fix = f"it reads from the stream {source} without GROUP BY", \
            "use CREATE STREAM AS SELECT, or aggregate with GROUP BY"
    else:
        why = "it has GROUP BY" if grouped else f"it reads from the table {source}"
        fix = "use CREATE TABLE AS SELECT"
    yield statement.toks[0], f"CREATE {kind} AS SELECT of a query that produces a {produced} ({why}): {fix}"
