"""The analysis a FAKE ksqlDB 8.2.1 gives the query of a ``CREATE ... AS SELECT``: the refusals the real
server answers once the statement is re-written (400 40001 "Could not determine output schema for query
due to error: ..." naming the re-written statement), each with the class of confluentinc/ksql v8.2.1 it
comes from. The cases are those recorded in the 2026-12-07 set (group A, ``semantic/<case>``).

- ``Analyzer`` / ``ExpressionTypeManager``: a column no source has: ``Line: l, Col: c: SELECT column 'X'
  cannot be resolved.`` (``WINDOWSTART``/``WINDOWEND`` exist only over a window); ``->`` into a non-STRUCT;
  an unknown function. ``CastEvaluator`` (code generation): ``Invalid Select: Cast of T to U is not
  supported. expression: E, schema:S\\nStatement: E``.
- ``FilterTypeValidator``: ``Error in WHERE expression: Cannot compare ...\\nStatement: E\\nStatement: E``.
  A WHERE holding an aggregate reaches code generation, which has no aggregate functions: "Invalid
  Predicate: Can't find any functions with the name 'COUNT'. expression: E, schema:S", naming E alone.
- ``JoinNode``: a stream-stream join needs ``WITHIN``. ``LogicalPlanner.verifyJoin...``: a stream-table
  join must be on the table's primary key; a table-table join on the right table's primary key, and a
  foreign-key join on columns of the same type; ``JoinParamsFactory``: "Invalid join. Key types differ".
- ``AggregateAnalyzer``: nested aggregates; a non-aggregate SELECT or HAVING expression not in the GROUP
  BY; a GROUP BY with no aggregate. ``LogicalPlanner``: ``WINDOW`` needs ``GROUP BY`` (``Line: l, Col:
  c`` of the window type), ``EMIT FINAL`` needs a windowed aggregation; "Key missing from projection";
  ``WindowInfo``: "Size must be positive"; ``LogicalSchema.Builder``: "Duplicate value columns found in
  schema". ``EngineExecutor.validateResultType``: a CTAS whose query makes a stream, or a CSAS whose query
  makes a table: "Invalid result type. ...\\nStatement: <the statement>". ``TimestampExtractionPolicy
  Factory``: a STRING ``TIMESTAMP`` needs ``TIMESTAMP_FORMAT``. ``KafkaSerdeFactory``: the ``KAFKA`` key
  format holds one column (400 40000: the sandboxed execute's ``KsqlException``).
- Kafka Streams (500, every statement named): ``HOPPING`` advance larger than the size ("Window
  advancement interval should be more than zero and less than window duration ..."), a negative ``GRACE
  PERIOD`` ("Grace period must not be negative.").
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from providers.ksqldb.parser import identifier
from tests.fakes.ksqldb.errors import StatementError
from tests.fakes.ksqldb.expressions import (
    PSEUDO_COLUMNS,
    TYPE_NAMES,
    WINDOW_BOUNDS,
    ExpressionError,
    Node,
    Typer,
    is_aggregate,
    parse,
    walk,
    write,
)
from tests.fakes.ksqldb.sql import split_top
from tests.fakes.ksqldb.state import Source

NO_SCHEMA = "Could not determine output schema for query due to error: "
_JOIN_WORDS = {"LEFT", "RIGHT", "FULL", "INNER", "OUTER", "JOIN", "ON", "WITHIN"}
_UNITS_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60000, "HOUR": 3600000, "DAY": 86400000}


def from_clause(toks: list[str]) -> tuple[list[tuple[str, str]], list[str], list[str] | None]:
    """(source name, alias) of each source read, the join condition's tokens, a ``WITHIN``'s tokens."""
    sources: list[tuple[str, str]] = []
    condition: list[str] = []
    within: list[str] | None = None
    i = 0
    while i < len(toks):
        word = toks[i].upper()
        if word == "ON":
            condition = toks[i + 1:]
            break
        if word == "WITHIN":
            end = i + 1
            while end < len(toks) and toks[end].upper() != "ON":
                end += 1
            within, i = toks[i + 1:end], end
            continue
        if word in _JOIN_WORDS:
            i += 1
            continue
        name = identifier(toks[i])
        alias = name
        if i + 1 < len(toks) and toks[i + 1].upper() not in _JOIN_WORDS:
            i += 1 + (toks[i + 1].upper() == "AS")
            alias = identifier(toks[i])
        sources.append((name, alias))
        i += 1
    return sources, condition, within


def duration_ms(toks: list[str]) -> int:
    """``N UNIT`` (``-1 SECONDS``) in milliseconds."""
    number = int("".join(toks[:-1]))
    return number * _UNITS_MS[toks[-1].upper().rstrip("S")]


def schema_text(source: Source) -> str:
    """A source's schema as ksqlDB writes it in a code-generation error: its columns, then the pseudo
    columns (``SystemColumns``)."""
    columns = [f"`{n}` {t}{' KEY' if k else ''}" for n, t, k in sorted(source.columns, key=lambda c: not c[2])]
    return ", ".join(columns + [f"`{n}` {t}" for n, t in PSEUDO_COLUMNS])


class QueryRules:
    """The refusals of one query. ``stored``: the statement re-written (named by 40001 refusals)."""

    def __init__(self, sources: Mapping[str, Source], clauses: dict[str, list[str]], statement: str, origin,
                 stored: str, kind: str, name: str, props: dict[str, str]):
        self.clauses, self.statement, self.origin, self.stored = clauses, statement, origin, stored
        self.kind, self.name, self.props = kind, name, props
        read, self.condition, self.within = from_clause(clauses["FROM"])
        self.read = [(sources[n], alias) for n, alias in read]
        self.window = clauses.get("WINDOW")
        self.grouped = "GROUP" in clauses
        windowed = self.window is not None or any(s.window for s, _ in self.read)
        columns: dict[str, str] = {}
        for source, alias in self.read:
            for column, type_, _ in source.columns:
                columns.setdefault(column, type_)
                columns[f"{alias}.{column}"] = type_
            for column, type_ in PSEUDO_COLUMNS + ((("WINDOWSTART", "BIGINT"), ("WINDOWEND", "BIGINT"))
                                                   if windowed else ()):
                columns.setdefault(column, type_)
                columns[f"{alias}.{column}"] = type_
        self.typer = Typer(columns)
        self.items: list[tuple[Node, str | None]] = []
        for item in split_top(clauses["SELECT"]):
            if item == ["*"] or (len(item) == 3 and item[1:] == [".", "*"]):
                continue
            aliased = len(item) >= 2 and item[-2].upper() == "AS"
            self.items.append((parse(item[:-2] if aliased else item), identifier(item[-1]) if aliased else None))
        self.where = parse(clauses["WHERE"]) if "WHERE" in clauses else None
        self.having = parse(clauses["HAVING"]) if "HAVING" in clauses else None
        self.group = [parse(g) for g in split_top(clauses.get("GROUP", [])[1:])]

    def refuse(self, message: str) -> StatementError:
        return StatementError(NO_SCHEMA + message, text=self.stored)

    def check(self) -> None:
        self._columns_resolve()
        self._select_types()
        self._where()
        self._join()
        self._aggregation()
        self._windows()
        self._result_type()
        self._projection_keys()
        self._duplicates()
        self._timestamp()

    def _position(self, text: str) -> tuple[int, int]:
        select = self.statement.upper().index("SELECT")
        pattern = r"\s*\.\s*".join(re.escape(part) for part in text.split("."))
        found = re.search(rf"(?<![\w.]){pattern}(?!\w)", self.statement[select:], re.I)
        return self.origin.of(self.statement, select + (found.start() if found else 0))

    def _columns_resolve(self) -> None:
        for node, _ in self.items:
            for col in (n for n in walk(node) if n.kind == "col"):
                if self.typer.type(col) is None and (col.qualifier or col.text) and not self._known(col):
                    text = f"{col.qualifier}.{col.text}" if col.qualifier else col.text
                    line, column = self._position(text)
                    raise self.refuse(f"Line: {line}, Col: {column}: SELECT column '{text}' cannot be resolved.")

    def _known(self, col: Node) -> bool:
        key = f"{col.qualifier}.{col.text}" if col.qualifier else col.text
        return key in self.typer.columns

    def _select_types(self) -> None:
        for node, _ in self.items:
            try:
                self.typer.type(node)
            except ExpressionError as error:
                cast = next((n for n in walk(node) if n.kind == "cast"), None)
                if cast is not None and str(error).startswith("Cast of"):
                    expression = write(cast)
                    raise self.refuse(f"Invalid Select: {error}. expression: {expression}, schema:"
                                      f"{schema_text(self.read[0][0])}\nStatement: {expression}") from None
                raise self.refuse(str(error)) from None

    def _where(self) -> None:
        if self.where is None:
            return
        if any(is_aggregate(n) for n in walk(self.where)):
            aggregate = next(n for n in walk(self.where) if is_aggregate(n))
            expression = write(self.where)
            raise StatementError(f"Invalid Predicate: Can't find any functions with the name '{aggregate.text}'. "
                                 f"expression: {expression}, schema:{schema_text(self.read[0][0])}", text=expression)
        try:
            self.typer.type(self.where)
        except ExpressionError as error:
            expression = write(self.where)
            raise self.refuse(f"Error in WHERE expression: {error}\nStatement: {expression}\n"
                              f"Statement: {expression}") from None

    def _join(self) -> None:
        if len(self.read) < 2:
            return
        (left, left_alias), (right, right_alias) = self.read[:2]
        if left.kind == "STREAM" and right.kind == "STREAM" and self.within is None:
            raise self.refuse("Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn "
                              "about how to specify a WITHIN clause with a stream-stream join, please visit: "
                              "https://docs.confluent.io/current/ksql/docs/syntax-reference.html"
                              "#create-stream-as-select")
        condition = parse(self.condition) if self.condition else None
        if condition is None or condition.kind != "cmp" or condition.text != "=":
            return
        sides = {self._owner(a, left_alias, right_alias, left, right): a for a in condition.args}
        if None in sides or len(sides) != 2:
            return
        left_col, right_col = sides[left_alias], sides[right_alias]
        got = f"{write(condition.args[0], True)} = {write(condition.args[1], True)}"
        left_key, right_key = self._is_key(left, left_col), self._is_key(right, right_col)
        left_type, right_type = self.typer.type(left_col), self.typer.type(right_col)
        if left.kind == "STREAM" and right.kind == "TABLE" and not right_key:
            raise self.refuse(f"Invalid join condition: stream-table joins require to join on the table's primary "
                              f"key. Got {got}.")
        if left.kind == "TABLE" and right.kind == "TABLE":
            if not right_key:
                raise self.refuse(f"Invalid join condition: table-table joins require to join on the primary key "
                                  f"of the right input table. Got {got}.")
            if not left_key and left_type != right_type:
                raise self.refuse(f"Invalid join condition: types don't match. Got {write(left_col, True)}"
                                  f"{{{left_type}}} = {write(right_col, True)}{{{right_type}}}.")
        if left_type != right_type and (left.kind == "STREAM" or left_key):
            raise self.refuse(f"Invalid join. Key types differ: {left_type} vs {right_type}")

    @staticmethod
    def _owner(node: Node, left_alias: str, right_alias: str, left: Source, right: Source) -> str | None:
        if node.kind != "col":
            return None
        if node.qualifier in (left_alias, right_alias):
            return node.qualifier
        names = {n for n, _, _ in left.columns}
        return left_alias if node.text in names else right_alias if node.text in {n for n, _, _ in right.columns} \
            else None

    @staticmethod
    def _is_key(source: Source, col: Node) -> bool:
        return any(k and n == col.text for n, _, k in source.columns)

    def _aggregation(self) -> None:
        for node, _ in self.items:
            for call in (n for n in walk(node) if is_aggregate(n)):
                inner = next((n for a in call.args for n in walk(a) if is_aggregate(n)), None)
                if inner is not None:
                    args = ", ".join(write(a) for a in inner.args)
                    raise self.refuse(f"Aggregate functions can not be nested: {call.text}({inner.text}({args}))")
        aggregates = any(is_aggregate(n) for node, _ in self.items for n in walk(node)) or (
            self.having is not None and any(is_aggregate(n) for n in walk(self.having)))
        if not self.grouped:
            return
        grouped = {write(g) for g in self.group}
        for node, _ in self.items:
            if self._loose(node, grouped):
                raise self.refuse(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {write(node)}\nEither "
                                  f"add the column(s) to the GROUP BY or remove them from the SELECT.")
        if self.having is not None:
            for col in self._loose_columns(self.having, grouped):
                raise self.refuse(f"Non-aggregate HAVING expression not part of GROUP BY: {write(col)}\nConsider "
                                  f"switching the HAVING clause to a WHERE clause before the GROUP BY.")
        if not aggregates:
            raise self.refuse("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")

    def _loose(self, node: Node, grouped: set[str]) -> bool:
        """A SELECT expression neither aggregated nor grouped by, that reads a column."""
        return bool(self._loose_columns(node, grouped))

    def _loose_columns(self, node: Node, grouped: set[str]) -> list[Node]:
        if write(node) in grouped or is_aggregate(node):
            return []
        if node.kind == "col":
            return [] if node.text in WINDOW_BOUNDS or node.text in grouped else [node]
        return [c for arg in node.args for c in self._loose_columns(arg, grouped)]

    def _windows(self) -> None:
        if self.window is not None:
            if not self.grouped:
                line, column = self.origin.of(self.statement, self._window_offset())
                raise self.refuse(f"Line: {line}, Col: {column}: WINDOW clause requires a GROUP BY clause.")
            inner = self.window[2:-1]
            upper = [t.upper() for t in inner]
            if "SIZE" in upper and duration_ms(inner[upper.index("SIZE") + 1:upper.index("SIZE") + 3]) <= 0:
                raise self.refuse("Size must be positive")
        if (self.clauses.get("EMIT") or [""])[0].upper() == "FINAL" and not (self.window and self.grouped):
            raise self.refuse("EMIT FINAL is only supported for windowed aggregations.")

    def _window_offset(self) -> int:
        found = re.search(r"\bWINDOW\s+(\w+)", self.statement, re.I)
        return found.start(1) if found else 0

    def _result_type(self) -> None:
        table = self.grouped or (not self.read[1:] and self.read[0][0].kind == "TABLE") or (
            len(self.read) > 1 and all(s.kind == "TABLE" for s, _ in self.read))
        if self.kind == "TABLE" and not table:
            raise self.refuse(f"Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS "
                              f"SELECT statement instead.\nStatement: {self.stored}")
        if self.kind == "STREAM" and table:
            raise self.refuse(f"Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS "
                              f"SELECT statement instead.\nStatement: {self.stored}")

    def _projection_keys(self) -> None:
        selected = {write(node) for node, _ in self.items}
        for key in self.group:
            if write(key) not in selected and not (key.kind == "col" and any(
                    n.kind == "col" and n.text == key.text and not n.qualifier for n, _ in self.items)):
                raise self.refuse(f"Key missing from projection (ie, SELECT). \nThe query used to build `{self.name}` "
                                  f"must include the grouping expression {write(key)} in its projection (eg, SELECT "
                                  f"{write(key)}...).")

    def _duplicates(self) -> None:
        seen: set[str] = set()
        for node, alias in self.items:
            name = alias or (node.text if node.kind == "col" else None)
            if name is None:
                continue
            if name in seen:
                raise self.refuse(f"Duplicate value columns found in schema: `{name}` {self.typer.type(node)}")
            seen.add(name)

    def _timestamp(self) -> None:
        column = self.props.get("TIMESTAMP")
        if column and self.typer.columns.get(identifier(column)) == "STRING" and "TIMESTAMP_FORMAT" not in self.props:
            raise self.refuse("A String timestamp field has been specified without also specifying the "
                              "timestamp_format")

    def key_format_refusal(self, keys: list[tuple[str, str]], key_format: str) -> StatementError | None:
        """``KafkaSerdeFactory``: the KAFKA key format holds a single column (400 40000)."""
        if key_format != "KAFKA" or len(keys) < 2:
            return None
        columns = ", ".join(f"`{n}` {t} KEY" for n, t in keys)
        return StatementError(f"Key format does not support schema.\nformat: KAFKA\nschema: Persistence{{columns=["
                              f"{columns}], features=[]}}\nreason: The 'KAFKA' format only supports a single field. "
                              f"Got: [{columns}]", "generic")

    def streams_refusal(self) -> StatementError | None:
        """The window checks of Kafka Streams (``TimeWindows``, ``SessionWindows``): 500, statements as sent."""
        if self.window is None:
            return None
        inner = self.window[2:-1]
        upper = [t.upper() for t in inner]
        if "GRACE" in upper:
            at = upper.index("GRACE") + 2
            end = next(i for i in range(at, len(upper)) if upper[i].rstrip("S") in _UNITS_MS) + 1
            if duration_ms(inner[at:end]) < 0:
                return StatementError("Grace period must not be negative.", "server")
        if "ADVANCE" in upper and "SIZE" in upper:
            size = duration_ms(inner[upper.index("SIZE") + 1:upper.index("SIZE") + 3])
            advance = duration_ms(inner[upper.index("ADVANCE") + 2:upper.index("ADVANCE") + 4])
            if not 0 < advance <= size:
                return StatementError(f"Window advancement interval should be more than zero and less than window "
                                      f"duration which is {size} ms, but given advancement interval is: {advance} ms",
                                      "server")
        return None


def unknown_cast_type(clauses: dict[str, list[str]]) -> str | None:
    """``SqlTypeParser`` while the statement is prepared: a CAST to a type ksqlDB does not know."""
    for toks in clauses.values():
        for i, tok in enumerate(toks[:-3]):
            if tok.upper() == "CAST" and toks[i + 1] == "(":
                depth, j = 0, i + 1
                while j < len(toks):
                    depth += toks[j] == "("
                    depth -= toks[j] == ")"
                    if depth == 1 and toks[j].upper() == "AS":
                        name = toks[j + 1].upper()
                        return None if name in TYPE_NAMES else toks[j + 1]
                    j += 1
    return None
