"""Syntax errors a FAKE ksqlDB 8.2.1 finds before anything else: the whole request is parsed at once
(``KsqlParser.parse``), so a syntax error anywhere refuses the request naming all of it as sent.

- ``SqlBase.g4``: the keywords (every keyword but those of ``nonReserved`` is reserved); a bare identifier
  is ASCII letters, digits, ``_`` and ``@``; a statement ends with ``;``.
- ``SyntaxErrorValidator``: a reserved word used as a column name: ``"FROM" is a reserved keyword and it
  can't be used as an identifier. You can use it as an identifier by escaping it as 'FROM' `` (2026-12-07
  set: reserved-word-as-bare-column-name).
- ``KsqlParserErrorStrategy`` / ANTLR: ``line l:c: Syntax Error`` then ANTLR's text: ``missing ';' at
  '<EOF>'`` (or at the next token), ``Expecting {',', 'FROM'}`` after a select item followed by a
  character no identifier may hold (a bare ``ADRESSE_É``), and nothing for a NUL outside a string
  (the lexer's token recognition error; recorded nul-character-in-statement, missing-trailing-semicolon,
  non-ascii-unquoted-identifier).
"""
from __future__ import annotations

import re

from tests.fakes.ksqldb.errors import StatementError

_KEYWORDS = set(
    "EMIT CHANGES FINAL SELECT FROM AS ALL DISTINCT WHERE WITHIN WINDOW GROUP BY HAVING LIMIT AT OR AND IN NOT "
    "EXISTS BETWEEN LIKE ESCAPE IS NULL TRUE FALSE INTEGER DATE TIME TIMESTAMP INTERVAL YEAR MONTH DAY HOUR MINUTE "
    "SECOND MILLISECOND YEARS MONTHS DAYS HOURS MINUTES SECONDS MILLISECONDS ZONE TUMBLING HOPPING SIZE ADVANCE "
    "RETENTION GRACE PERIOD CASE WHEN THEN ELSE END JOIN FULL OUTER INNER LEFT RIGHT ON PARTITION STRUCT WITH "
    "VALUES CREATE TABLE TOPIC STREAM STREAMS INSERT DELETE INTO DESCRIBE EXTENDED PRINT EXPLAIN ANALYZE TYPE TYPES "
    "CAST SHOW LIST TABLES TOPICS QUERY QUERIES TERMINATE PAUSE RESUME LOAD COLUMNS COLUMN PARTITIONS FUNCTIONS "
    "FUNCTION DROP TO RENAME ARRAY MAP SET DEFINE UNDEFINE RESET SESSION SAMPLE EXPORT CATALOG PROPERTIES "
    "BEGINNING UNSET RUN SCRIPT DECIMAL KEY CONNECTOR CONNECTORS SINK SOURCE NAMESPACE MATERIALIZED VIEW PRIMARY "
    "REPLACE ASSERT ADD ALTER VARIABLES PLUGINS HEADERS HEADER SYSTEM TIMEOUT SCHEMA SUBJECT ID IF".split())
_NON_RESERVED = set(
    "SHOW TABLES COLUMNS COLUMN PARTITIONS FUNCTIONS FUNCTION SESSION STRUCT MAP ARRAY PARTITION INTEGER DATE TIME "
    "TIMESTAMP INTERVAL ZONE YEAR MONTH DAY HOUR MINUTE SECOND EXPLAIN ANALYZE TYPE TYPES SET RESET IF SOURCE SINK "
    "PRIMARY KEY EMIT CHANGES FINAL ESCAPE REPLACE ASSERT ALTER ADD HEADER HEADERS GRACE PERIOD DEFINE UNDEFINE "
    "VARIABLES PLUGINS SYSTEM TIMEOUT SCHEMA SUBJECT ID".split())
RESERVED = _KEYWORDS - _NON_RESERVED
# a string literal, a quoted identifier, a comment or blank (both skipped), a word, or any other character
_LEXEMES = re.compile(r"'(?:[^']|'')*'|`[^`]*`|\"[^\"]*\"|--[^\n]*|/\*.*?\*/|\s+|[A-Za-z0-9_@$.]+|.", re.S)
_CREATE_SOURCE = re.compile(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:SOURCE\s+)?(?:STREAM|TABLE)\s+"
                            r"(?:IF\s+NOT\s+EXISTS\s+)?(?:`[^`]*`|\S+)\s*\(", re.I)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _error(text: str, offset: int, detail: str) -> StatementError:
    line, column = _position(text, offset)
    return StatementError(f"line {line}:{column}: Syntax Error\n{detail}", "syntax", text)


def check(text: str) -> None:
    """Refuse ``text`` (a whole request) as ksqlDB's parser does, for the errors listed above."""
    lexemes = [(m.group(), m.start()) for m in _LEXEMES.finditer(text)]
    words = [(w, at) for w, at in lexemes if not w.isspace() and not w.startswith(("--", "/*"))]
    for w, at in words:
        if w == "\x00":
            raise _error(text, at, "")
    for n, (w, _) in enumerate(words[:-2]):
        (alias, _), (odd, odd_at) = words[n + 1], words[n + 2]
        if w.upper() == "AS" and alias[0].isalpha() and ord(odd[0]) > 127:
            raise _error(text, odd_at, "Expecting {',', 'FROM'}")
    for match in _CREATE_SOURCE.finditer(text):
        first = next(((w, at) for w, at in words if at >= match.end()), None)
        if first and first[0].upper() in RESERVED:
            raise _error(text, first[1], f"\"{first[0]}\" is a reserved keyword and it can't be used as an "
                                         f"identifier. You can use it as an identifier by escaping it as "
                                         f"'{first[0]}' ")
    for n, (w, at) in enumerate(words):
        if w.upper() != "EMIT" or n + 1 >= len(words) or words[n + 1][0].upper() not in ("CHANGES", "FINAL"):
            continue
        after = n + 2
        if after < len(words) and words[after][0].upper() == "LIMIT":
            after += 2
        if after >= len(words):
            raise _error(text, len(text.rstrip()), "missing ';' at '<EOF>'")
        if words[after][0] != ";":
            raise _error(text, words[after][1], f"missing ';' at '{words[after][0]}'")
