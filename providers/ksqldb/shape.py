"""What a stream or table *is*, read from its declaration and from ksqlDB's ``DESCRIBE ... EXTENDED``, and
whether the two mean the same object.

ksqlDB stores every statement rewritten (``SqlFormatter`` re-quotes identifiers, adds parentheses,
writes ``STRING`` for ``VARCHAR``; ``TopicCreateInjector`` and ``DefaultFormatInjector`` add
``KAFKA_TOPIC``, ``PARTITIONS``, ``REPLICAS``, ``KEY_FORMAT``, ``VALUE_FORMAT``), so text never matches.
"Same object" is decided from what the server reports about the object itself:

- kind (STREAM/TABLE), Kafka topic, and every key/value format, partition and replica count the
  declaration names;
- window type (TUMBLING/HOPPING/SESSION or none);
- columns: for a declared schema, name, type and key/value role of every column, in order (keys first, as
  ``DESCRIBE`` lists them); for a query,
  the column names its projection produces (when it has no ``*``);
- the objects the query reads (``FROM``/``JOIN`` of the stored statement);
- the statement's expressions after :func:`canonical` (filters, groupings, windows, HAVING).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from providers.ksqldb.parser import Statement, identifier, sources_of, tokens

_TYPE_ALIASES = {"VARCHAR": "STRING", "INT": "INTEGER"}
_KEY_WORDS = ("PRIMARY", "KEY")


@dataclasses.dataclass(frozen=True)
class Shape:
    """The facts two descriptions of one stream/table are compared on (None: not declared / unknown)."""

    kind: str
    topic: str | None
    key_format: str | None
    value_format: str | None
    window: str | None
    partitions: int | None
    replicas: int | None
    columns: tuple[tuple[str, str | None, bool], ...] | None  # (name, type or None, is key)
    sources: tuple[str, ...]


def type_name(declared: str) -> str:
    """``VARCHAR`` -> ``STRING``, ``DECIMAL(10, 2)`` -> ``DECIMAL``, ``ARRAY<INT>`` -> ``ARRAY``."""
    base = declared.strip().split("(")[0].split("<")[0].strip().upper()
    return _TYPE_ALIASES.get(base, base)


def with_properties(toks: list[str]) -> dict[str, str]:
    """The first ``WITH (K = V, ...)`` clause before ``AS SELECT``/``SELECT`` as upper-case keys -> values
    (string literals unquoted)."""
    end = toks.index("SELECT") if "SELECT" in toks else len(toks)
    try:
        start = toks.index("WITH", 0, end)
    except ValueError:
        return {}
    props: dict[str, str] = {}
    i = start + 2
    while i + 2 < len(toks) and toks[i] != ")":
        key, value = toks[i].strip("`").upper(), toks[i + 2]
        props[key] = value[1:-1].replace("''", "'") if value.startswith("'") else value
        i += 4 if i + 3 < len(toks) and toks[i + 3] == "," else 3
    return props


def _depth0_split(toks: list[str]) -> list[list[str]]:
    parts: list[list[str]] = []
    current: list[str] = []
    depth = 0
    for token in toks:
        if token in ("(", "<", "["):
            depth += 1
        elif token in (")", ">", "]"):
            depth -= 1
        if token == "," and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(token)
    if current:
        parts.append(current)
    return parts


def _declared_columns(toks: list[str]) -> tuple[tuple[str, str | None, bool], ...] | None:
    """Columns of ``CREATE STREAM|TABLE name (col TYPE [PRIMARY] KEY, ...) WITH (...)``."""
    if "(" not in toks or "SELECT" in toks:
        return None
    start = toks.index("(")
    depth = 0
    for end in range(start, len(toks)):
        depth += toks[end] == "("
        depth -= toks[end] == ")"
        if depth == 0:
            break
    columns = []
    for part in _depth0_split(toks[start + 1:end]):
        is_key = part[-1] == "KEY"
        body = [t for t in part if t not in _KEY_WORDS] if is_key else part
        columns.append((identifier(body[0]), type_name(" ".join(body[1:])), is_key))
    return tuple(columns)


def _projection_names(toks: list[str]) -> tuple[str, ...] | None:
    """Names of the columns a ``SELECT`` produces (alias, or the column's own name); None with ``*``."""
    start = toks.index("SELECT") + 1
    depth, end = 0, len(toks)
    for i in range(start, len(toks)):
        depth += toks[i] == "("
        depth -= toks[i] == ")"
        if depth == 0 and toks[i] == "FROM":
            end = i
            break
    names = []
    for item in _depth0_split(toks[start:end]):
        if "*" in item and (len(item) == 1 or item[-2:] == [".", "*"]):
            return None
        if len(item) >= 2 and item[-2] == "AS":
            names.append(identifier(item[-1]))
        elif len(item) == 1 or (len(item) == 3 and item[1] == "."):
            names.append(identifier(item[-1]))
        else:
            return None  # an expression without alias: ksqlDB names it KSQL_COL_n
    return tuple(names)


def _window(toks: list[str]) -> str | None:
    for i, token in enumerate(toks[:-1]):
        if token == "WINDOW" and toks[i + 1] in ("TUMBLING", "HOPPING", "SESSION"):
            return toks[i + 1]
    return None


def declared_shape(statement: Statement) -> Shape:
    """The shape a CREATE STREAM/TABLE statement declares (INSERT statements have none)."""
    toks = tokens(statement.text)
    props = with_properties(toks)
    key_format = props.get("KEY_FORMAT") or props.get("FORMAT")
    value_format = props.get("VALUE_FORMAT") or props.get("FORMAT")
    columns = (tuple((name, None, False) for name in names) if (names := _projection_names(toks)) is not None
               else None) if statement.is_query else _declared_columns(toks)
    default_topic = statement.name if statement.is_query else None  # a query's topic defaults to its name
    return Shape(kind=statement.kind, topic=props.get("KAFKA_TOPIC") or default_topic,
                 key_format=key_format.upper() if key_format else None,
                 value_format=value_format.upper() if value_format else None,
                 window=_window(toks) if statement.is_query else None, columns=columns,
                 partitions=_int(props.get("PARTITIONS")), replicas=_int(props.get("REPLICAS")),
                 sources=tuple(statement.depends_on))


def live_shape(description: Mapping[str, Any]) -> Shape:
    """The shape ksqlDB reports in a ``sourceDescription`` (``DESCRIBE <name> EXTENDED``)."""
    columns = tuple((f["name"], type_name(f["schema"]["type"]), f.get("type") == "KEY")
                    for f in description.get("fields", []) if f.get("type") != "HEADER")
    statement = description.get("statement") or ""
    return Shape(kind=description.get("type", "").upper(), topic=description.get("topic"),
                 key_format=(description.get("keyFormat") or "").upper() or None,
                 value_format=(description.get("valueFormat") or "").upper() or None,
                 window=(description.get("windowType") or None), columns=columns,
                 partitions=description.get("partitions") or None, replicas=description.get("replication") or None,
                 sources=tuple(sources_of(tokens(statement))) if "SELECT" in tokens(statement) else ())


def differences(declared: Shape, live: Shape) -> list[str]:
    """What makes the live object another object than the declared one (empty: the same object)."""
    found = []
    for field in ("kind", "topic", "key_format", "value_format", "window", "partitions", "replicas"):
        want, have = getattr(declared, field), getattr(live, field)
        if field in ("kind", "window") or want is not None:
            if want != have:
                found.append(f"{field.replace('_', ' ')} {have or 'none'} (declared: {want or 'none'})")
    if declared.columns is not None and live.columns is not None:
        if all(kind is None for _, kind, _ in declared.columns):
            want_names = sorted(name for name, _, _ in declared.columns)
            have_names = sorted(name for name, _, _ in live.columns)
            if want_names != have_names:
                found.append(f"columns {', '.join(have_names)} (declared: {', '.join(want_names)})")
        elif _keys_first(declared.columns) != _keys_first(live.columns):
            found.append(f"columns {_show(live.columns)} (declared: {_show(declared.columns)})")
    if sorted(declared.sources) != sorted(live.sources):
        found.append(f"reads {', '.join(live.sources) or 'nothing'} "
                     f"(declared: {', '.join(declared.sources) or 'nothing'})")
    return found


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _keys_first(columns: tuple[tuple[str, str | None, bool], ...]) -> list[tuple[str, str | None, bool]]:
    """Key columns, then value columns, each in their order: how ``DESCRIBE`` lists a schema."""
    return sorted(columns, key=lambda column: not column[2])


def _show(columns: tuple[tuple[str, str | None, bool], ...]) -> str:
    return ", ".join(f"{name} {kind}{' KEY' if key else ''}" for name, kind, key in columns)
