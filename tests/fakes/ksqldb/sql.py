"""ksqlDB's SQL as the FAKE needs it: ``WITH`` clauses, the query's clauses, and statements written back
the way ksqlDB 8.2.1 stores them (``SqlFormatter``, ``ExpressionFormatter``): one ``WITH`` clause with every
property sorted, aliases without ``AS``, ``LEFT OUTER JOIN``, ``ON ((...))``, each comparison and AND/OR in
parentheses, one select item per line, window units in the plural."""
from __future__ import annotations

import re
from collections.abc import Sequence

from providers.ksqldb.parser import identifier

TYPES = {"VARCHAR": "STRING", "INT": "INTEGER"}
_COMPARISONS = {"=", "<>", "!=", "<", ">", "<=", ">=", "LIKE"}
JOINS = ("LEFT", "RIGHT", "FULL", "INNER", "JOIN", "ON")

def parse_with(toks: list[str], start: int) -> tuple[dict[str, str], int]:
    """``WITH ( K = V , ... )`` at ``toks[start]`` -> (properties, index after ``)``)."""
    props, i = {}, start + 2
    while toks[i] != ")":
        name, value, i = toks[i], toks[i + 2], i + 3
        if value == "-":  # a negative number: ``-`` and its digits
            value, i = "-" + toks[i], i + 1
        props[name.strip("`").upper()] = value[1:-1] if value.startswith("'") else value
        i += toks[i] == ","
    return props, i + 1


def format_with(props: dict[str, str]) -> str:
    def value(key: str, v: str) -> str:
        return v if key in ("PARTITIONS", "REPLICAS", "RETENTION_MS") else f"'{v}'"
    return "WITH (" + ", ".join(f"{k}={value(k, v)}" for k, v in sorted(props.items())) + ")"


def split_top(toks: list[str], separator: str = ",") -> list[list[str]]:
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


def join_tokens(toks: list[str]) -> str:
    out = ""
    for t in toks:
        if out and not (t in (",", ")", ".", "->") or out.endswith(("(", ".", "->")) or
                        (t == "(" and out[-1].isalnum())):
            out += " "
        out += t
    return out


def format_expression(toks: list[str]) -> str:
    """A condition the way ``ExpressionFormatter`` writes it: each comparison and AND/OR in parentheses."""
    for op in ("OR", "AND"):
        parts = split_top(toks, op)
        if len(parts) > 1:
            return "(" + f" {op} ".join(format_expression(p) for p in parts) + ")"
    depth = 0
    for i, t in enumerate(toks):
        depth += t == "("
        depth -= t == ")"
        if depth == 0 and t in _COMPARISONS:
            return f"({join_tokens(toks[:i])} {t} {join_tokens(toks[i + 1:])})"
    if toks[:1] == ["("] and toks[-1:] == [")"]:
        return format_expression(toks[1:-1])
    return join_tokens(toks)


def query_clauses(toks: list[str]) -> dict[str, list[str]]:
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


def format_query(clauses: dict[str, list[str]], qualify) -> str:
    items, synthetic = [], 0
    for item in split_top(clauses["SELECT"]):
        if len(item) >= 2 and item[-2] == "AS":
            expression, alias = item[:-2], item[-1]
        elif item == ["*"]:
            expression, alias = item, None
        elif len(item) == 1 or (len(item) == 3 and item[1] == "."):
            expression, alias = item, item[-1]
        else:
            expression, alias = item, f"KSQL_COL_{synthetic}"
            synthetic += 1
        items.append(join_tokens(qualify(expression)) + (f" {alias}" if alias else ""))
    lines = ["SELECT" + (("\n  " + ",\n  ".join(items)) if len(items) > 1 else f" {items[0]}")]
    lines.append("FROM " + _format_from(clauses["FROM"], qualify))
    if "WINDOW" in clauses:
        kind, inner = clauses["WINDOW"][0], " ".join(clauses["WINDOW"][2:-1]).replace(" ,", " ,")
        lines.append(f"WINDOW {kind} ( {_plural(inner)} ) ")
    if "WHERE" in clauses:
        lines.append("WHERE " + format_expression(qualify(clauses["WHERE"])))
    if "GROUP" in clauses:
        lines.append("GROUP BY " + ", ".join(join_tokens(qualify(p)) for p in split_top(clauses["GROUP"][1:])))
    if "HAVING" in clauses:
        lines.append("HAVING " + format_expression(qualify(clauses["HAVING"])))
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
            out.append(f" ON ({format_expression(qualify(toks[i + 1:]))})")
            break
        if t == "WITHIN":  # WithinExpression: the duration with its unit in the plural
            end = toks.index("ON", i)
            out.append(f" WITHIN {_plural(' '.join(toks[i + 1:end]))}")
            i = end
            continue
        name = toks[i]
        alias = toks[i + 1] if i + 1 < len(toks) and toks[i + 1] not in ("LEFT", "RIGHT", "FULL", "INNER", "JOIN",
                                                                        "ON", "WITHIN") else None
        out.append(f" {name} {alias or name}")
        i += 2 if alias else 1
    return "".join(out).strip()


def sources_read(toks: list[str]) -> list[str]:
    found = []
    for i, t in enumerate(toks[:-1]):
        if t in ("FROM", "JOIN"):
            name = identifier(toks[i + 1])
            if name not in found:
                found.append(name)
    return found


FUNCTIONS = {"COUNT", "SUM", "AS_VALUE", "LATEST_BY_OFFSET", "WINDOWSTART", "WINDOWEND", "COALESCE", "IFNULL",
              "CAST", "AS", "STRING", "BIGINT", "INTEGER", "INT", "VARCHAR", "DOUBLE", "LIKE", "AND", "OR", "NOT",
              "NULL", "IS", "CASE", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "MIN", "MAX", "COUNT_DISTINCT",
              "TOPK", "COLLECT_SET", "ROWTIME", "TIMESTAMPTOSTRING", "LCASE", "UCASE", "CONCAT"}


def type_of(expression: list[str], available: dict[str, str]) -> str:
    head = expression[0]
    if head in ("COUNT", "COUNT_DISTINCT", "WINDOWSTART", "WINDOWEND", "ROWTIME"):
        return "BIGINT"
    if head.startswith("'"):
        return "STRING"
    names = [identifier(t) for t in expression if identifier(t) in available]
    return available[names[-1]] if names else "STRING"


def quoted(name: str) -> str:
    return name if re.fullmatch(r"[A-Z_][A-Z0-9_@]*", name) else f"`{name}`"


def schema_text(columns: Sequence[tuple[str, str, bool]]) -> str:
    return ", ".join(f"`{n}` {t}{' KEY' if k else ''}" for n, t, k in columns)

