"""The lexical pieces shared by the SQL parser and the offline checks: tokens, ``${variables}``, names."""
from __future__ import annotations

import re

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TOKEN = re.compile(r"""
    (?P<string>'(?:[^']|'')*')          # string literal, '' escapes a quote
  | (?P<quoted>`(?:[^`]|``)*`)          # quoted identifier
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\d+(?:\.\d*)?)
  | (?P<op><=|>=|<>|!=|=>|->|::|\|\||[^\sA-Za-z0-9_])
  | (?P<space>\s+)
""", re.VERBOSE)


def identifier(token: str) -> str:
    """Object name as ksqlDB stores it: unquoted names upper-case, `quoted` names verbatim."""
    if token.startswith("`"):
        return token[1:-1].replace("``", "`")
    return token.upper()
