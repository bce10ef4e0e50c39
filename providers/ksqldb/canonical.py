"""Compare a declared query with the statement ksqlDB stored for it, without ksqlDB's rewriting.

ksqlDB 8.2 stores a CREATE ... AS SELECT prepared and re-formatted: ``AstSanitizer`` qualifies every
column reference with its source (``CLICKSTREAM.USERID``), gives an unaliased source its own name as
alias (``FROM CLICKSTREAM CLICKSTREAM``) and every select item an alias (the column's name, or
``KSQL_COL_<n>`` for an expression); ``SqlFormatter`` then writes aliases without ``AS``, wraps every
comparison and AND/OR in parentheses and a JOIN's ON in one more, writes ``LEFT OUTER JOIN`` and
``INNER JOIN``, ``STRING`` for ``VARCHAR``, window units in the plural, always ``EMIT CHANGES``, and
back-quotes only names that need it. :func:`canonical` removes exactly those differences from both texts,
from ``SELECT`` on (the header is compared through :mod:`providers.ksqldb.shape`).
"""
from __future__ import annotations

import re

from providers.ksqldb.parser import tokens

_PLAIN = re.compile(r"[A-Z_][A-Z0-9_@]*")
_SYNTHETIC_ALIAS = re.compile(r"KSQL_COL_\d+")
_DROPPED = {"(", ")", "AS", ";", "OUTER", "INNER"}
_SYNONYMS = {"VARCHAR": "STRING", "INT": "INTEGER", "MILLISECOND": "MILLISECONDS", "SECOND": "SECONDS",
             "MINUTE": "MINUTES", "HOUR": "HOURS", "DAY": "DAYS"}
_JOIN_WORDS = {"LEFT", "RIGHT", "FULL", "INNER", "OUTER", "JOIN", "ON", "WITHIN", "WINDOW", "WHERE", "GROUP",
               "PARTITION", "HAVING", "EMIT", "LIMIT", ";"}


def _token(token: str) -> str:
    if token.startswith("`") and _PLAIN.fullmatch(token[1:-1]):
        return token[1:-1]
    return _SYNONYMS.get(token, token)


def _aliases(toks: list[str]) -> set[str]:
    """Source names and aliases after FROM and JOIN."""
    found = set()
    for i, token in enumerate(toks[:-1]):
        if token in ("FROM", "JOIN"):
            found.add(toks[i + 1])
            if i + 2 < len(toks) and toks[i + 2] not in _JOIN_WORDS:
                found.add(toks[i + 2])
    return found


def _unqualified(toks: list[str]) -> list[str]:
    aliases = _aliases(toks)
    return [t for i, t in enumerate(toks)
            if not (t in aliases and toks[i + 1:i + 2] == ["."]) and not (t == "." and toks[i - 1] in aliases)]


def _select_items(toks: list[str]) -> tuple[list[list[str]], list[str]]:
    """The items between SELECT and the top-level FROM, and everything from FROM on."""
    items: list[list[str]] = []
    current: list[str] = []
    depth = 0
    for i, token in enumerate(toks[1:], start=1):
        depth += token == "("
        depth -= token == ")"
        if depth == 0 and token in (",", "FROM"):
            items.append(current)
            current = []
            if token == "FROM":
                return items, toks[i:]
            continue
        current.append(token)
    return items + [current], []


def _item(item: list[str]) -> list[str]:
    item = [t for t in item if t != "AS"]
    if len(item) >= 2 and (item[-1] == item[-2] or _SYNTHETIC_ALIAS.fullmatch(item[-1])):
        item = item[:-1]  # the alias ksqlDB gives an unaliased item
    return item


def canonical(sql: str) -> list[str]:
    """The tokens of the query part of ``sql`` with ksqlDB's rewriting differences removed."""
    toks = [_token(t) for t in tokens(sql)]
    if "SELECT" not in toks:
        return toks
    toks = _unqualified(toks[toks.index("SELECT"):])
    items, rest = _select_items(toks)
    flat = ["SELECT"] + [t for item in items for t in [*_item(item), ","]] + rest
    out: list[str] = []
    for token in flat:
        if token in _DROPPED:
            continue
        if len(out) >= 2 and out[-2] in ("FROM", "JOIN") and token == out[-1]:
            continue  # "FROM X X": the alias ksqlDB writes for an unaliased source
        out.append(token)
    if out[-2:] == ["EMIT", "CHANGES"]:
        out = out[:-2]
    return out


def same_expressions(declared: str, stored: str) -> bool:
    """Whether the declared query and ksqlDB's stored statement say the same thing."""
    return canonical(declared) == canonical(stored)
