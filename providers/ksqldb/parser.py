"""Parse ksqlDB SQL files into statements, normalise them, and order them by their dependencies.

Supported statements (everything a declarative pipeline needs):
``CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name ...`` (with columns, or ``AS SELECT``)
and ``INSERT INTO target [WITH (...)] SELECT ...``. ``SET``/``UNSET`` and ``DEFINE``/``UNDEFINE`` are
rejected: session state does not exist over REST, so use the resource's ``streams_properties`` and
``variables`` inputs instead. Anything else (DROP, TERMINATE, SELECT, INSERT ... VALUES, connectors,
types) is imperative and rejected too. Every error names the file, the statement number and its first line.
"""
from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import re
from typing import Any, Iterable, Mapping

from providers.ksqldb.lexer import TOKEN, VARIABLE, identifier
from providers.ksqldb.lint import problems

_NO_SPACE_BEFORE = {",", ")", ";", ".", "]"}
_NO_SPACE_AFTER = {"(", ".", "["}
_KINDS = ("STREAM", "TABLE")


class KsqlParseError(ValueError):
    """A SQL file could not be turned into statements; the message names the file and statement."""

    def __init__(self, message: str, file: str | None = None, index: int | None = None):
        super().__init__(message)
        self.file, self.index = file, index


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement: ``name`` is the object it defines (for INSERT INTO: a stable synthetic name)."""

    file: str
    index: int  # 1-based position in its file
    kind: str  # "STREAM" | "TABLE" | "INSERT"
    name: str
    sql: str  # normalised text (case and whitespace outside literals), used for diffs
    depends_on: tuple[str, ...]  # objects it reads from (and, for INSERT, writes into), in order
    text: str  # the statement as written, variables substituted, comments removed, ending in ';'
    is_query: bool  # runs a persistent query (CREATE ... AS SELECT, INSERT INTO)
    target: str  # the stream/table written: ``name`` for CREATE, the sink for INSERT
    line: int = 1  # where it starts in its file (1-based), for messages
    column: int = 1

    @property
    def where(self) -> str:
        return describe_location(self.file, self.index, self.text)

    @property
    def revision(self) -> str:
        """A digest of the normalised statement: what its readers take as ``upstream``, so that when it
        changes their inputs change with it and the preview names it as their reason."""
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


def child_name(prefix: str, statement: Statement) -> str:
    """The name of a statement's resource in ``KsqlPipeline``: ``<prefix>-<object>`` in lower case with dashes
    (INSERT queries: ``<prefix>-insert-<target>-<hash>``)."""
    if statement.kind == "INSERT":
        target, digest = statement.name.split("#INSERT_")
        return f"{prefix}-insert-{target}-{digest}".lower().replace("_", "-")
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9]+', '-', statement.name).strip('-').lower()}"


def describe_location(file: str, index: int, text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{file}: statement {index} ({first[:80]!r})"


def load_sql_dir(path: str | pathlib.Path) -> dict[str, str]:
    """Read every ``*.sql`` file of a directory as UTF-8 (a leading BOM is dropped): file name -> text."""
    folder = pathlib.Path(path)
    if not folder.is_dir():
        raise KsqlParseError(f"SQL directory {folder} does not exist")
    paths = sorted(folder.glob("*.sql"))
    if folders := [p.name for p in paths if not p.is_file()]:
        raise KsqlParseError(f"{folder}: {', '.join(folders)} named like SQL files but not files (folders?): "
                             "rename or remove them")
    return {p.name: read_sql_file(p) for p in paths}


def read_sql_file(path: pathlib.Path) -> str:
    """One SQL file's text; bytes that are not UTF-8 fail with the file, line and column."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start - (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        text = data.decode("utf-8-sig", errors="replace")
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise KsqlParseError(f"{path.name}: line {line}, column {column}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
                             f"save the file as UTF-8", path.name) from None


def split_statements(text: str, file: str = "<sql>") -> list[str]:
    """Split a file into statements without comments; ``;`` and ``--`` inside literals are kept."""
    return [statement for statement, _ in split_with_offsets(text, file)]


def split_with_offsets(text: str, file: str = "<sql>") -> list[tuple[str, int]]:
    """:func:`split_statements`, each statement with the offset in ``text`` where it starts. A ``/* */``
    comment becomes a space, or the line breaks it held, so the lines of a statement are those of its file."""
    statements, current, i, n, start = [], [], 0, len(text), None
    while i < n:
        ch = text[i]
        if start is None and not ch.isspace() and not text.startswith(("--", "/*"), i):
            start = i
        if ch in "'`":
            end = i + 1
            while True:
                end = text.find(ch, end)
                if end < 0:
                    line = text.count("\n", 0, i) + 1
                    what = "string literal" if ch == "'" else "quoted identifier"
                    raise KsqlParseError(f"{file}: line {line}: unterminated {what}", file)
                if end + 1 < n and text[end + 1] == ch:
                    end += 2
                    continue
                break
            current.append(text[i:end + 1])
            i = end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise KsqlParseError(f"{file}: line {line}: unterminated /* comment", file)
            current.append("\n" * text.count("\n", i, end) or " ")
            i = end + 2
        elif ch == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append((statement + ";", start or 0))
            current, i, start = [], i + 1, None
        else:
            current.append(ch)
            i += 1
    rest = "".join(current).strip()
    if rest:
        statements.append((rest + ";", start or 0))
    return statements


def substitute(text: str, variables: Mapping[str, object], file: str, index: int) -> str:
    """Replace ``${name}`` (also inside string literals, as ksqlDB does); unknown names are errors."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise KsqlParseError(f"{describe_location(file, index, text)}: unknown variable ${{{name}}} "
                                 f"(defined: {known})", file, index)
        return str(variables[name])
    return VARIABLE.sub(value, text)


def token_spans(sql: str) -> list[tuple[str, int, int]]:
    """``(token, start, end)`` of every token; words upper-cased, literals and quoted identifiers verbatim."""
    out, pos = [], 0
    while pos < len(sql):
        match = TOKEN.match(sql, pos)
        assert match is not None  # the last alternatives match any character
        kind, value = match.lastgroup, match.group()
        if kind != "space":
            out.append((value.upper() if kind == "word" else value, pos, match.end()))
        pos = match.end()
    return out


def tokens(sql: str) -> list[str]:
    """Tokens of a statement; words upper-cased, literals and quoted identifiers kept verbatim."""
    return [token for token, _, _ in token_spans(sql)]


def normalise(sql: str) -> str:
    """Canonical text: one space between tokens, upper case outside literals, ends with ';'."""
    parts: list[str] = []
    for token in tokens(sql):
        if parts and token not in _NO_SPACE_BEFORE and parts[-1] not in _NO_SPACE_AFTER:
            parts.append(" ")
        parts.append(token)
    text = "".join(parts)
    return text if text.endswith(";") else text + ";"


def _is_name(token: str) -> bool:
    return token.startswith("`") or bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token))


def sources_of(toks: list[str]) -> list[str]:
    """Names after FROM and after every JOIN (any JOIN flavour), in order, without duplicates."""
    found: list[str] = []
    for i, token in enumerate(toks[:-1]):
        if token in ("FROM", "JOIN") and _is_name(toks[i + 1]):
            name = identifier(toks[i + 1])
            if name not in found:
                found.append(name)
    return found


def _classify(text: str, where: str) -> tuple[str, str, bool, list[str], str]:
    """(kind, name, is_query, sources, target) of one statement, or KsqlParseError."""
    toks = tokens(text)
    head = toks[0] if toks else ""
    if head in ("SET", "UNSET"):
        raise KsqlParseError(f"{where}: {head} is not supported; pass properties through the "
                             f"resource's streams_properties input")
    if head in ("DEFINE", "UNDEFINE"):
        raise KsqlParseError(f"{where}: {head} is not supported; pass ${{name}} values through the "
                             f"resource's variables input")
    if head == "CREATE":
        i = 1
        if toks[i:i + 2] == ["OR", "REPLACE"]:
            i += 2
        if i < len(toks) and toks[i] == "SOURCE":
            i += 1
        if i >= len(toks) or toks[i] not in _KINDS:
            raise KsqlParseError(f"{where}: only CREATE STREAM and CREATE TABLE are supported")
        kind = toks[i]
        i += 1
        if toks[i:i + 3] == ["IF", "NOT", "EXISTS"]:
            i += 3
        if i >= len(toks) or not _is_name(toks[i]):
            raise KsqlParseError(f"{where}: expected a {kind.lower()} name after CREATE {kind}")
        name = identifier(toks[i])
        is_query = "SELECT" in toks
        return kind, name, is_query, (sources_of(toks) if is_query else []), name
    if head == "INSERT":
        if len(toks) < 3 or toks[1] != "INTO" or not _is_name(toks[2]):
            raise KsqlParseError(f"{where}: expected INSERT INTO <stream> SELECT ...")
        if "SELECT" not in toks:
            raise KsqlParseError(f"{where}: INSERT INTO ... VALUES writes data once and is not declarative; "
                                 f"only INSERT INTO ... SELECT is supported")
        target = identifier(toks[2])
        digest = hashlib.sha256(normalise(text).encode()).hexdigest()[:10]
        return "INSERT", f"{target}#INSERT_{digest}", True, sources_of(toks), target
    raise KsqlParseError(f"{where}: unsupported statement {head or '(empty)'}; only CREATE STREAM/TABLE "
                         f"and INSERT INTO ... SELECT are managed")


def parse_file(file: str, text: str, variables: Mapping[str, object] | None = None) -> list[Statement]:
    """Statements of one file, in file order, with their dependencies (not yet checked)."""
    out = []
    text = text.lstrip("\ufeff")
    for index, (raw, offset) in enumerate(split_with_offsets(text, file), start=1):
        where = describe_location(file, index, raw)
        body = substitute(raw, variables or {}, file, index)
        try:
            kind, name, is_query, sources, target = _classify(body, where)
        except KsqlParseError as exc:
            raise KsqlParseError(str(exc), file, index) from None
        depends = list(sources)
        if kind == "INSERT":
            depends.insert(0, target)  # a self-read stays visible after it, for parse_sources to reject
        out.append(Statement(file=file, index=index, kind=kind, name=name, sql=normalise(body),
                             depends_on=tuple(depends), text=body, is_query=is_query, target=target,
                             line=text.count("\n", 0, offset) + 1, column=offset - text.rfind("\n", 0, offset)))
    return out


def statement_of(entry: Mapping[str, Any]) -> Statement:
    """The Statement of one ``{"file", "index", "statement"[, "line", "column"]}`` entry (``statement`` already
    substituted; ``line`` and ``column``: where it starts in its file, in entries written since they exist)."""
    (parsed,) = parse_file(entry["file"], entry["statement"])
    return dataclasses.replace(parsed, index=int(entry["index"]), line=int(entry.get("line") or 1),
                               column=int(entry.get("column") or 1))


def entry_of(statement: Statement) -> dict[str, Any]:
    """The entry :func:`statement_of` reads back."""
    return {"file": statement.file, "index": statement.index, "statement": statement.text,
            "line": statement.line, "column": statement.column}


def parse_sources(sources: Mapping[str, str], variables: Mapping[str, object] | None = None) -> list[Statement]:
    """Parse every file (in file-name order) and return the statements in dependency order.

    Errors: first everything :mod:`providers.ksqldb.lint` finds, all at once (file and line each); then
    duplicate object names, names ksqlDB tells apart that would be one resource name (:func:`child_name`:
    `` `Clicks` `` and ``CLICKS``, ``A_B`` and `` `A-B` ``), a dependency no statement defines (external source
    streams/tables must be declared with CREATE STREAM/TABLE too), cycles, self-references.
    """
    for file in sorted(sources):
        split_statements(sources[file], file)  # an unterminated literal or comment first: lint needs statements
    found = problems(sources, variables or {})
    if found:
        raise KsqlParseError(f"ksqlDB would refuse {len(found)} thing(s) in the SQL files:\n" + "\n".join(found))
    statements: list[Statement] = []
    for file in sorted(sources):
        statements.extend(parse_file(file, sources[file], variables))
    by_name: dict[str, Statement] = {}
    for statement in statements:
        if statement.name in by_name:
            first = by_name[statement.name]
            raise KsqlParseError(f"{statement.where}: {statement.name} is already defined by {first.where}",
                                 statement.file, statement.index)
        by_name[statement.name] = statement
    by_resource: dict[str, Statement] = {}
    for statement in statements:
        first = by_resource.setdefault(child_name("", statement), statement)
        if first is not statement:
            raise KsqlParseError(f"{statement.where}: {statement.name} and {first.name} ({first.where}) are two "
                                 f"ksqlDB objects but would be one Pulumi resource, <pipeline>{child_name('', first)} "
                                 f"(resource names ignore case, quoting and punctuation): rename one of them",
                                 statement.file, statement.index)
    for statement in statements:
        if statement.kind == "INSERT" and statement.target in statement.depends_on[1:]:
            raise KsqlParseError(f"{statement.where}: INSERT INTO {statement.target} reads from "
                                 f"{statement.target} itself: every row it writes would be read again",
                                 statement.file, statement.index)
        for dep in statement.depends_on:
            if dep == statement.name:
                raise KsqlParseError(f"{statement.where}: {statement.name} reads from itself",
                                     statement.file, statement.index)
            if dep not in by_name:
                raise KsqlParseError(f"{statement.where}: reads from {dep}, which no statement defines "
                                     f"(declare source streams/tables with CREATE STREAM/TABLE too)",
                                     statement.file, statement.index)
    return topological_order(statements)


def topological_order(statements: Iterable[Statement]) -> list[Statement]:
    """Dependencies first; otherwise file order (stable). Raises KsqlParseError on a cycle."""
    pending = list(statements)
    names = {s.name for s in pending}
    done: set[str] = set()
    ordered: list[Statement] = []
    while pending:
        ready = next((s for s in pending if all(d in done or d not in names for d in s.depends_on)), None)
        if ready is None:
            cycle = ", ".join(f"{s.name} ({s.file}: statement {s.index})" for s in pending)
            raise KsqlParseError(f"dependency cycle between: {cycle}")
        ordered.append(ready)
        done.add(ready.name)
        pending.remove(ready)
    return ordered


def dependents(graph: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """``roots`` plus every object that (transitively) depends on one of them. graph: name -> deps."""
    readers: dict[str, list[str]] = {}
    for name, deps in graph.items():
        for dep in deps:
            readers.setdefault(dep, []).append(name)
    return _closure(roots, lambda name: readers.get(name, ()))


def ancestors(graph: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """``roots`` plus every object one of them (transitively) depends on. graph: name -> deps."""
    return _closure(roots, lambda name: graph.get(name, ()))


def _closure(roots: Iterable[str], step) -> set[str]:
    result, pending = set(roots), list(roots)
    while pending:
        for nxt in step(pending.pop()):
            if nxt not in result:
                result.add(nxt)
                pending.append(nxt)
    return result


def related(statements: Iterable[Statement], name: str) -> list[Statement]:
    """What a rebuild of ``name`` needs besides its own statement, in order: every object downstream of it,
    and what those read that is neither ``name`` nor upstream of it (ksqlDB has the upstream objects live
    whenever ``name`` exists). So an object's related statements change only when something downstream
    or beside it changes, never when an object it reads does."""
    statements = list(statements)
    graph = {s.name: s.depends_on for s in statements}
    downstream = dependents(graph, {name})
    wanted = (downstream | ancestors(graph, downstream)) - ancestors(graph, {name})
    return [s for s in statements if s.name in wanted]


def builds(statements: Iterable[Statement]) -> dict[str, str]:
    """Per stream and table (INSERT queries have none), a digest of what fills its topic as the files declare
    it: its statement and the builds of the declared objects it reads, so a change upstream (whose replacement
    the engine cascades) is a new build of everything below it. Known from the files alone, so a preview can
    name what a new build makes (e.g. its index and sink).

    A plain stream or table (no query) counts without its columns: appending one is a ``CREATE OR REPLACE``
    that rebuilds nothing downstream (:func:`replace_in_place_allowed`), and no digest of the new statement
    alone can tell an append from another column change. Another column change still rebuilds what reads it,
    under the same build: what follows a build must also follow the objects' query ids."""
    found: dict[str, str] = {}
    for statement in topological_order(s for s in statements if s.kind != "INSERT"):
        split = None if statement.is_query else _columns_and_rest(statement.sql)
        declared = statement.sql if split is None else f"{statement.kind} {statement.name} {' '.join(split[1])}"
        upstream = sorted(found[name] for name in statement.depends_on if name in found)
        found[statement.name] = hashlib.sha256(" ".join([declared, *upstream]).encode()).hexdigest()[:16]
    return found


def _columns_and_rest(sql: str) -> tuple[list[str], list[str]] | None:
    """For ``CREATE STREAM|TABLE name (cols) rest``: (column definitions, the rest tokens)."""
    toks = tokens(sql)
    try:
        start = toks.index("(")
    except ValueError:
        return None
    depth, columns, current = 0, [], []  # type: tuple[int, list[str], list[str]]
    for pos in range(start, len(toks)):
        token = toks[pos]
        if token in ("(", "<"):
            depth += 1
            if depth == 1:
                continue
        elif token in (")", ">"):
            depth -= 1
            if depth == 0:
                columns.append(" ".join(current))
                return columns, toks[pos + 1:]
        elif token == "," and depth == 1:
            columns.append(" ".join(current))
            current = []
            continue
        current.append(token)
    return None


def replace_in_place_allowed(old: Statement, new: Statement) -> bool:
    """True when ``CREATE OR REPLACE`` can apply the change: a plain (non-query) stream/table of the
    same kind whose new definition only appends columns and keeps its WITH clause. Windowed,
    aggregated and joined queries cannot be upgraded by ksqlDB, so every query change is a recreate.
    """
    if new.is_query or old.is_query or old.kind != new.kind:
        return False
    before, after = _columns_and_rest(old.sql), _columns_and_rest(new.sql)
    if before is None or after is None:
        return False
    (old_cols, old_rest), (new_cols, new_rest) = before, after
    return old_rest == new_rest and len(new_cols) > len(old_cols) and new_cols[:len(old_cols)] == old_cols


def as_create_or_replace(text: str) -> str:
    """``CREATE STREAM|TABLE ...`` -> ``CREATE OR REPLACE STREAM|TABLE ...`` (idempotent)."""
    return re.sub(r"^\s*CREATE\s+(?!OR\s+REPLACE\b)", "CREATE OR REPLACE ", text, count=1, flags=re.IGNORECASE)
