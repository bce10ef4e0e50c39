"""Expressions of a query as a FAKE ksqlDB 8.2.1 reads them: parsed from tokens into a small tree, typed
against the columns of the sources read, and written back as ksqlDB writes them in messages
(``ExpressionFormatter``: comparisons in parentheses, calls as ``NAME(args)``).

Types (``ExpressionTypeManager``): literals, columns, ``->`` into a ``STRUCT`` (else ``Expected STRUCT
type, got: T``), ``CAST`` (``CastEvaluator``: what may be cast to what), comparisons (``Cannot compare A
(T) to B (U) with OP.``), and the functions of ``FUNCTIONS``: an unknown name is "Can't find any
functions with the name 'X'" (``InternalFunctionRegistry``). Aggregates are ``AGGREGATES``.
"""
from __future__ import annotations

import dataclasses

from providers.ksqldb.parser import identifier

AGGREGATES = {"COUNT": "BIGINT", "SUM": None, "MIN": None, "MAX": None, "AVG": "DOUBLE", "LATEST_BY_OFFSET": None,
              "EARLIEST_BY_OFFSET": None, "COUNT_DISTINCT": "BIGINT", "TOPK": "ARRAY", "TOPKDISTINCT": "ARRAY",
              "COLLECT_SET": "ARRAY", "COLLECT_LIST": "ARRAY", "HISTOGRAM": "MAP", "STDDEV_SAMPLE": "DOUBLE",
              "STDDEV_SAMP": "DOUBLE", "CORRELATION": "DOUBLE", "ATTR": None}
# scalar functions of ksqlDB 8.2.1 (``ksqldb-engine/.../function/udf``): name -> result type (None: the
# first argument's)
SCALARS = {"COALESCE": None, "IFNULL": None, "NULLIF": None, "AS_VALUE": None, "UCASE": "STRING", "LCASE": "STRING",
           "CONCAT": "STRING", "CONCAT_WS": "STRING", "SUBSTRING": "STRING", "LEN": "INTEGER", "TRIM": "STRING",
           "LTRIM": "STRING", "RTRIM": "STRING", "REPLACE": "STRING", "REGEXP_REPLACE": "STRING",
           "REGEXP_EXTRACT": "STRING", "SPLIT": "ARRAY", "INSTR": "INTEGER", "LPAD": "STRING", "RPAD": "STRING",
           "INITCAP": "STRING", "MASK": "STRING", "EXTRACTJSONFIELD": "STRING", "ABS": None, "ROUND": None,
           "FLOOR": None, "CEIL": None, "SQRT": "DOUBLE", "EXP": "DOUBLE", "LN": "DOUBLE", "SIGN": "INTEGER",
           "RANDOM": "DOUBLE", "GREATEST": None, "LEAST": None, "TIMESTAMPTOSTRING": "STRING",
           "STRINGTOTIMESTAMP": "BIGINT", "UNIX_TIMESTAMP": "BIGINT", "UNIX_DATE": "INTEGER",
           "FORMAT_TIMESTAMP": "STRING", "PARSE_TIMESTAMP": "TIMESTAMP", "FROM_UNIXTIME": "TIMESTAMP",
           "DATETOSTRING": "STRING", "STRINGTODATE": "INTEGER", "ARRAY_LENGTH": "INTEGER",
           "ARRAY_CONTAINS": "BOOLEAN", "MAP_KEYS": "ARRAY", "MAP_VALUES": "ARRAY", "ELT": "STRING", "FIELD": "INTEGER",
           "URL_EXTRACT_HOST": "STRING", "URL_EXTRACT_PATH": "STRING", "URL_EXTRACT_QUERY": "STRING",
           "URL_EXTRACT_PARAMETER": "STRING", "GEO_DISTANCE": "DOUBLE", "CHR": "STRING", "ENCODE": "STRING",
           "UUID": "STRING", "TO_BYTES": "BYTES", "FROM_BYTES": "STRING", "ENTRIES": "ARRAY",
           "GENERATE_SERIES": "ARRAY", "EXPLODE": None, "CUBE_EXPLODE": None}
PSEUDO_COLUMNS = (("ROWTIME", "BIGINT"), ("ROWPARTITION", "INTEGER"), ("ROWOFFSET", "BIGINT"))
WINDOW_BOUNDS = ("WINDOWSTART", "WINDOWEND")
_NUMERIC = ("INTEGER", "BIGINT", "DOUBLE", "DECIMAL")
_OPS = {"=": "EQUAL", "<>": "NOT_EQUAL", "!=": "NOT_EQUAL", "<": "LESS_THAN", "<=": "LESS_THAN_OR_EQUAL",
        ">": "GREATER_THAN", ">=": "GREATER_THAN_OR_EQUAL"}
# CastEvaluator's supported casts into BOOLEAN: from STRING and BOOLEAN only
_CASTS_TO_BOOLEAN = ("STRING", "BOOLEAN")
TYPE_NAMES = {"BOOLEAN", "INT", "INTEGER", "BIGINT", "DOUBLE", "STRING", "VARCHAR", "BYTES", "DATE", "TIME",
              "TIMESTAMP", "DECIMAL", "ARRAY", "MAP", "STRUCT"}


class ExpressionError(Exception):
    """A refusal found while typing an expression; ``message`` is ksqlDB's text."""


@dataclasses.dataclass(frozen=True)
class Node:
    kind: str  # lit | col | deref | call | cast | cmp | logic | not | arith | isnull | other
    text: str = ""  # literal text, column name, function name, operator, cast type
    qualifier: str | None = None
    args: tuple[Node, ...] = ()
    star: bool = False
    at: int = -1  # index of the node's first token
    type: str | None = None  # a literal's type


class _Parser:
    def __init__(self, toks: list[str]):
        self.toks, self.i = toks, 0

    def peek(self, n: int = 0) -> str | None:
        return self.toks[self.i + n] if self.i + n < len(self.toks) else None

    def take(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expression(self) -> Node:
        return self._or()

    def _or(self) -> Node:
        left = self._and()
        while (self.peek() or "").upper() == "OR":
            at = self.i
            self.take()
            left = Node("logic", "OR", args=(left, self._and()), at=at)
        return left

    def _and(self) -> Node:
        left = self._not()
        while (self.peek() or "").upper() == "AND":
            at = self.i
            self.take()
            left = Node("logic", "AND", args=(left, self._not()), at=at)
        return left

    def _not(self) -> Node:
        if (self.peek() or "").upper() == "NOT":
            at = self.i
            self.take()
            return Node("not", args=(self._not(),), at=at)
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._sum()
        op = (self.peek() or "").upper()
        if op in _OPS:
            self.take()
            return Node("cmp", op, args=(left, self._sum()), at=left.at)
        if op == "LIKE":
            self.take()
            return Node("other", "LIKE", args=(left, self._sum()), at=left.at)
        if op == "IS":
            while self.peek() and self.peek().upper() in ("IS", "NOT", "NULL"):  # type: ignore[union-attr]
                self.take()
            return Node("isnull", args=(left,), at=left.at)
        return left

    def _sum(self) -> Node:
        left = self._primary()
        while self.peek() in ("+", "-", "*", "/", "%", "||"):
            op = self.take()
            left = Node("arith", op, args=(left, self._primary()), at=left.at)
        return left

    def _primary(self) -> Node:
        at = self.i
        tok = self.take()
        if tok == "(":
            inner = self.expression()
            self.take()  # )
            return self._postfix(inner)
        if tok == "-" and self.peek() and self.peek()[0].isdigit():  # type: ignore[index]
            return Node("lit", "-" + self.take(), type="INTEGER", at=at)
        if tok.startswith("'"):
            return Node("lit", tok, type="STRING", at=at)
        if tok[0].isdigit():
            kind = "DECIMAL" if "." in tok else "INTEGER"
            return Node("lit", tok, type=kind, at=at)
        if tok.upper() in ("TRUE", "FALSE"):
            return Node("lit", tok.upper(), type="BOOLEAN", at=at)
        if tok.upper() == "NULL":
            return Node("lit", "NULL", type=None, at=at)
        if tok.upper() == "CAST" and self.peek() == "(":
            self.take()
            inner = self.expression()
            self.take()  # AS
            type_toks = []
            depth = 0
            while not (depth == 0 and self.peek() == ")"):
                t = self.take()
                depth += t in ("(", "<")
                depth -= t in (")", ">")
                type_toks.append(t)
            self.take()
            return self._postfix(Node("cast", " ".join(type_toks).upper(), args=(inner,), at=at))
        if tok.upper() == "CASE":
            depth = 1
            while depth and self.peek() is not None:
                t = self.take().upper()
                depth += t == "CASE"
                depth -= t == "END"
            return Node("other", "CASE", at=at)
        if self.peek() == "(":
            self.take()
            args: list[Node] = []
            star = False
            while self.peek() != ")":
                if self.peek() == "*":
                    self.take()
                    star = True
                else:
                    args.append(self.expression())
                if self.peek() == ",":
                    self.take()
            self.take()
            return self._postfix(Node("call", identifier(tok), args=tuple(args), star=star, at=at))
        if self.peek() == "." and self.peek(1) is not None:
            self.take()
            name = self.take()
            return self._postfix(Node("col", identifier(name), qualifier=identifier(tok), at=at))
        return self._postfix(Node("col", identifier(tok), at=at))

    def _postfix(self, node: Node) -> Node:
        while self.peek() == "->":
            self.take()
            node = Node("deref", identifier(self.take()), args=(node,), at=node.at)
        return node


def parse(toks: list[str]) -> Node:
    return _Parser(toks).expression()


def walk(node: Node):
    yield node
    for arg in node.args:
        yield from walk(arg)


def is_aggregate(node: Node) -> bool:
    return node.kind == "call" and node.text in AGGREGATES


def write(node: Node, qualified: bool = False) -> str:
    """The expression as ksqlDB writes it in a message (``ExpressionFormatter``), columns unqualified
    unless ``qualified``."""
    if node.kind == "lit":
        return node.text
    if node.kind == "col":
        return f"{node.qualifier}.{node.text}" if qualified and node.qualifier else node.text
    if node.kind == "deref":
        return f"{write(node.args[0], qualified)}->{node.text}"
    if node.kind == "call":
        inner = "*" if node.star else ", ".join(write(a, qualified) for a in node.args)
        return f"{node.text}({inner})"
    if node.kind == "cast":
        return f"CAST({write(node.args[0], qualified)} AS {node.text})"
    if node.kind == "cmp":
        return f"({write(node.args[0], qualified)} {node.text} {write(node.args[1], qualified)})"
    if node.kind == "logic":
        return f"({write(node.args[0], qualified)} {node.text} {write(node.args[1], qualified)})"
    if node.kind == "arith":
        return f"({write(node.args[0], qualified)} {node.text} {write(node.args[1], qualified)})"
    return node.text


class Typer:
    """Types expressions over ``columns`` (name -> type; qualified names ``A.X`` too)."""

    def __init__(self, columns: dict[str, str]):
        self.columns = columns

    def type(self, node: Node) -> str | None:
        if node.kind == "lit":
            return node.type
        if node.kind == "col":
            key = f"{node.qualifier}.{node.text}" if node.qualifier else node.text
            return self.columns.get(key) or self.columns.get(node.text)
        if node.kind == "deref":
            inner = self.type(node.args[0])
            if inner is not None and not inner.startswith("STRUCT"):
                raise ExpressionError(f"Expected STRUCT type, got: {inner}")
            return None
        if node.kind == "call":
            if node.text not in AGGREGATES and node.text not in SCALARS and node.text not in WINDOW_BOUNDS:
                raise ExpressionError(f"Can't find any functions with the name '{node.text}'")
            types = [self.type(a) for a in node.args]
            result = AGGREGATES.get(node.text) or SCALARS.get(node.text)
            return result or next((t for t in types if t), None)
        if node.kind == "cast":
            source = self.type(node.args[0])
            target = "INTEGER" if node.text == "INT" else "STRING" if node.text == "VARCHAR" else node.text
            if target == "BOOLEAN" and source is not None and source not in _CASTS_TO_BOOLEAN:
                raise ExpressionError(f"Cast of {source} to {target} is not supported")
            return target
        if node.kind == "cmp":
            left, right = (self.type(a) for a in node.args)
            if left and right and left != right and not (left in _NUMERIC and right in _NUMERIC):
                raise ExpressionError(f"Cannot compare {write(node.args[0])} ({left}) to {write(node.args[1])} "
                                      f"({right}) with {_OPS[node.text]}.")
            return "BOOLEAN"
        if node.kind in ("logic", "not", "isnull", "other"):
            for arg in node.args:
                self.type(arg)
            return "BOOLEAN" if node.kind != "other" or node.text == "LIKE" else None
        if node.kind == "arith":
            types = [self.type(a) for a in node.args]
            return next((t for t in types if t), None)
        return None
