"""What ksqlDB would refuse in a SQL directory that is known without a server: checked at preview, offline,
every problem of every file at once, each naming the file and line (:func:`problems`).

Facts, from confluentinc/ksql v8.2.1 unless said otherwise:

- Lexer (``ksqldb-parser/.../SqlBase.g4``): a bare identifier is ``(LETTER | '_') (LETTER | DIGIT | '_' |
  '@')*`` with ``LETTER: [A-Z]`` over an upper-cased stream, so ASCII only; any other character outside a
  string literal or a quoted identifier is ``UNRECOGNIZED`` and fails the statement.
- Reserved words (:data:`RESERVED`): the grammar's keyword tokens that its ``nonReserved`` rule does not
  list; only those need backticks as names.
- ``WITH`` properties (``tableProperties``): ``'(' tableProperty (',' tableProperty)* ')'`` with
  ``tableProperty: (identifier | STRING) EQ literal`` and a literal ``NULL``, a number (with ``-``),
  ``TRUE``/``FALSE``, a string or ``${variable}``. ``PARTITIONS`` goes unchecked to Kafka's CreateTopics
  (``TopicProperties``), which refuses 0 partitions; it must be a whole number of at least 1 here.
- A ``CREATE ... AS SELECT`` without ``KAFKA_TOPIC`` writes to a topic named after the object
  (``ksql.output.topic.name.prefix`` is empty by default). Kafka topic names (apache/kafka,
  ``org.apache.kafka.common.internals.Topic.validate``): characters ``[a-zA-Z0-9._-]``, at most 249 of them,
  not ``.`` or ``..``.
- A query produces a TABLE when it has ``GROUP BY``, else what its first source is
  (``EngineExecutor.validateResultType``: "Invalid result type. Your SELECT query produces a STREAM. Please
  use CREATE STREAM AS SELECT statement instead." and the TABLE counterpart); known offline when the first
  source is declared in the directory.
"""
from __future__ import annotations

import bisect
import re
from typing import Mapping

from providers.ksqldb.lexer import TOKEN, VARIABLE, identifier

RESERVED = frozenset("""
ADVANCE ALL AND AS AT BEGINNING BETWEEN BY CASE CAST CATALOG CONNECTOR CONNECTORS CREATE DAYS DECIMAL
DELETE DESCRIBE DISTINCT DROP ELSE END EXISTS EXPORT EXTENDED FALSE FROM FULL GROUP HAVING HOPPING HOURS
IN INNER INSERT INTO IS JOIN LEFT LIKE LIMIT LIST LOAD MATERIALIZED MILLISECOND MILLISECONDS MINUTES
MONTHS NAMESPACE NOT NULL ON OR OUTER PAUSE PRINT PROPERTIES QUERIES QUERY RENAME RESUME RETENTION RIGHT
RUN SAMPLE SCRIPT SECONDS SELECT SIZE STREAM STREAMS TABLE TERMINATE THEN TO TOPIC TOPICS TRUE TUMBLING
UNSET VALUES VIEW WHEN WHERE WINDOW WITH WITHIN YEARS
""".split())
TOPIC_CHARS = re.compile(r"[a-zA-Z0-9._-]+")
TOPIC_MAX_LENGTH = 249
_SCAN = re.compile(r"(?P<comment>--[^\n]*|/\*(?s:.*?)\*/)|(?P<variable>\$\{\w+\})|" + TOKEN.pattern, re.VERBOSE)
_INVISIBLE = {"\x00": "a NUL character (U+0000)",
              "\ufeff": "a byte order mark (U+FEFF, invisible in most editors) inside the file"}


class _Token:
    def __init__(self, kind: str, text: str, line: int, column: int):
        self.kind, self.text, self.line, self.column = kind, text, line, column

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text


def problems(sources: Mapping[str, str], variables: Mapping[str, object]) -> list[str]:
    """Every problem found in ``sources`` (file name -> SQL text), each as ``<file>: line N: ...``, in file
    and line order."""
    found: list[tuple[str, int, str]] = []
    statements = {}
    for file, text in sorted(sources.items()):
        file_problems: list[tuple[int, str]] = []
        statements[file] = _statements(text, variables, file_problems)
        found.extend((file, line, message) for line, message in file_problems)
    kinds = {}
    for file_statements in statements.values():
        for toks in file_statements:
            created = _created(toks)
            if created:
                kinds[identifier(created[1].text)] = created[0]
    for file, file_statements in statements.items():
        for toks in file_statements:
            found.extend((file, line, message) for line, message in _statement_problems(toks, kinds))
    return [f"{file}: line {line}{message}" if message.startswith(",") else f"{file}: line {line}: {message}"
            for file, line, message in sorted(found, key=lambda item: item[:2])]


def _statements(text: str, variables: Mapping[str, object], found: list[tuple[int, str]]) -> list[list[_Token]]:
    """The tokens of each statement of one file (variables substituted, comments and spaces dropped);
    invisible characters and non-ASCII ones outside literals are added to ``found`` as (line, message). An
    unknown variable stays a token of its own, a literal or name as in ksqlDB's grammar (the parser names it).
    """
    text = VARIABLE.sub(lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0),
                        text.removeprefix("\ufeff"))
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    for offset, ch in enumerate(text):
        if ch in _INVISIBLE or (ord(ch) < 32 and ch not in "\t\r\n"):
            line, column = where(offset)
            what = _INVISIBLE.get(ch, f"the control character U+{ord(ch):04X}")
            found.append((line, f", column {column}: {what}; delete it"))
    statements: list[list[_Token]] = [[]]
    flagged: set[int] = set()
    for match in _SCAN.finditer(text):
        kind, value = match.lastgroup or "", match.group()
        if kind in ("comment", "space"):
            continue
        line, column = where(match.start())
        if not value.isascii():
            if value not in _INVISIBLE and line not in flagged:
                flagged.add(line)
                found.append((line, f", column {column}: {value!r} is not allowed outside quotes: ksqlDB's bare "
                                    "names are ASCII letters, digits, _ and @; quote the name in backticks"))
        elif value == ";":
            statements.append([])
        else:
            statements[-1].append(_Token(kind, value, line, column))
    return [toks for toks in statements if toks]


def _created(toks: list[_Token]) -> tuple[str, _Token] | None:
    """(STREAM or TABLE, the name token) of a CREATE statement."""
    words = [t.word for t in toks]
    if not words or words[0] != "CREATE":
        return None
    i = 1 + (2 if words[1:3] == ["OR", "REPLACE"] else 0)
    i += words[i:i + 1] == ["SOURCE"]
    if i + 1 >= len(words) or words[i] not in ("STREAM", "TABLE"):
        return None
    name = i + 1 + (3 if words[i + 1:i + 4] == ["IF", "NOT", "EXISTS"] else 0)
    return (words[i], toks[name]) if name < len(toks) else None


def _statement_problems(toks: list[_Token], kinds: Mapping[str, str]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    words = [t.word for t in toks]
    created = _created(toks)
    target = created[1] if created else (toks[2] if words[:2] == ["INSERT", "INTO"] and len(toks) > 2 else None)
    if target is not None and target.kind == "word" and target.word in RESERVED:
        out.append((target.line, f"{target.word} is a reserved word in ksqlDB and cannot be a bare name: "
                                 f"quote it (`{target.text}`) or choose another name"))
    select = words.index("SELECT") if "SELECT" in words else len(words)
    props = _with_properties(toks[:select], out)
    partitions = props.get("PARTITIONS")
    if partitions is not None and partitions.kind != "variable" and not (partitions.text.isdigit()
                                                                         and int(partitions.text) >= 1):
        out.append((partitions.line, f"PARTITIONS={partitions.text}: a topic needs at least 1 partition"))
    if created:
        topic = props.get("KAFKA_TOPIC")
        if topic is not None and topic.kind == "string":
            out.extend((topic.line, f"KAFKA_TOPIC={topic.text}: {problem}")
                       for problem in _topic_problems(topic.text[1:-1].replace("''", "'")))
        elif topic is None and select < len(words):
            name = identifier(created[1].text)
            out.extend((created[1].line, f"{name[:60]!r} is also its Kafka topic's name (no KAFKA_TOPIC): {problem}")
                       for problem in _topic_problems(name))
        if select < len(words):
            out.extend(_result_kind_problems(created[0], toks, words, select, kinds))
    return out


def _with_properties(toks: list[_Token], out: list[tuple[int, str]]) -> dict[str, _Token]:
    """The ``WITH (...)`` properties before the query (upper-case key -> value token); each break of the
    grammar's ``'(' key = literal (',' key = literal)* ')'`` is added to ``out``."""
    words = [t.word for t in toks]
    if "WITH" not in words:
        return {}
    i = words.index("WITH") + 1
    if words[i:i + 1] != ["("]:
        out.append((toks[i - 1].line, "WITH must be followed by '(' and the properties"))
        return {}
    props: dict[str, _Token] = {}
    end = toks[-1]

    def at(j: int) -> _Token | None:
        return toks[j] if j < len(toks) else None

    while True:
        key, eq, value = at(i + 1), at(i + 2), at(i + 3)
        if key is None or key.kind not in ("word", "quoted", "string", "variable"):
            out.append(((key or end).line, f"WITH (...): expected a property name, found "
                                           f"{key.text if key else 'the end of the statement'}"))
            return props
        if eq is None or eq.text != "=" or value is None:
            out.append((key.line, f"WITH (...): expected {key.text}=<value>"))
            return props
        i += 3
        if value.text == "-" and (number := at(i + 1)) is not None and number.kind == "number":
            value, i = _Token("number", f"-{number.text}", number.line, number.column), i + 1
        if value.kind not in ("string", "number", "variable") and value.word not in ("TRUE", "FALSE", "NULL"):
            out.append((value.line, f"WITH (...): {key.text}= needs a literal (a 'string', a number, TRUE, "
                                    f"FALSE or NULL), found {value.text}"))
            return props
        props[key.text.strip("`'").upper()] = value
        after = at(i + 1)
        if after is None or after.text != ",":
            if after is None or after.text != ")":
                out.append(((after or value).line, f"WITH (...): expected ',' or ')' after {key.text}={value.text}, "
                                                   f"found {after.text if after else 'the end of the statement'} "
                                                   "(a missing comma?)"))
            return props
        i += 1


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


def _result_kind_problems(kind: str, toks: list[_Token], words: list[str], select: int,
                          kinds: Mapping[str, str]) -> list[tuple[int, str]]:
    """CREATE TABLE AS SELECT of a query that produces a STREAM, and the other way round."""
    depth, grouped, source = 0, False, None
    for i in range(select, len(words) - 1):
        depth += {"(": 1, ")": -1}.get(words[i], 0)
        if depth == 0 and words[i] == "GROUP" and words[i + 1] == "BY":
            grouped = True
        if source is None and depth == 0 and words[i] == "FROM" and toks[i + 1].kind in ("word", "quoted"):
            source = identifier(toks[i + 1].text)
    produced = "TABLE" if grouped else kinds.get(source or "")
    if produced is None or produced == kind:
        return []
    if produced == "STREAM":
        why, fix = f"it reads from the stream {source} without GROUP BY", \
            "use CREATE STREAM AS SELECT, or aggregate with GROUP BY"
    else:
        why = "it has GROUP BY" if grouped else f"it reads from the table {source}"
        fix = "use CREATE TABLE AS SELECT"
    return [(toks[0].line, f"CREATE {kind} AS SELECT of a query that produces a {produced} ({why}): {fix}")]
