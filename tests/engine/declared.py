"""What ``ksql/`` declares for the dev stack, and what a ksqlDB fake did, in the terms the engine tests use."""
from __future__ import annotations

import pathlib

import requests

from clickstream.content import connectors
from clickstream.stack import analytics
from providers.ksqldb.parser import Statement, load_sql_dir, parse_sources
from providers.ksqldb.pipeline import child_name
from stackconfig import parse_config
from tests.fakes.ksqldb import FakeKsqlDb

KSQL_PREFIX = "clickstream-ksql"  # the dev stack's KsqlPipeline


def statements(folder: pathlib.Path) -> list[Statement]:
    """Every statement of ``folder`` with the dev stack's variables, in dependency order."""
    variables = analytics.ksql_variables(parse_config("dev", {"platform": "docker"}))
    return parse_sources(load_sql_dir(folder), variables)


def ksql_objects(folder: pathlib.Path) -> dict[str, str]:
    """Resource name -> ksqlDB object of every statement in ``folder``."""
    return {child_name(KSQL_PREFIX, s): s.name for s in statements(folder)}


def executed_verbs(ksqldb: FakeKsqlDb) -> list[str]:
    """The first two words of every statement the fake executed and that changed its state (a TERMINATE: the
    word alone, the query id varies)."""
    return ["TERMINATE" if statement.upper().startswith("TERMINATE") else " ".join(statement.split()[:2]).upper()
            for statement in ksqldb.mutations]


def sink_resources(objects: set[str], folder: pathlib.Path = analytics.KSQL_DIR) -> set[str]:
    """The resource names of the index and the sink of each of ``objects`` that is sunk (a derived table): a
    rebuild of the table replaces both (a new build: docs/resources/versioned-indexes.md)."""
    sunk = set(connectors.derived_tables(statements(folder))) & objects
    return {f"clickstream-{kind}-{connectors.resource_stem(t)}"
            for t in sunk for kind in ("index", "es-sink")}


def dropped(ksqldb: FakeKsqlDb) -> list[str]:
    """The objects the fake dropped, in order."""
    return [statement.split()[2].rstrip(";").upper() for statement in ksqldb.mutations
            if statement.upper().startswith("DROP ")]


def defining(stored: str) -> str:
    """A stored statement without the ``OR REPLACE`` an in-place upgrade leaves in it."""
    return stored.replace("CREATE OR REPLACE ", "CREATE ", 1)


def running(ksqldb: FakeKsqlDb) -> dict[str, str]:
    """Object -> the statement that defines it now."""
    return {name: defining(source.statement) for name, source in ksqldb.user_sources.items()}


def as_stored_fresh(folder: pathlib.Path) -> dict[str, str]:
    """Object -> the statement a fresh ksqlDB stores for it when ``folder`` is run on it in order: what a
    converged object runs."""
    with FakeKsqlDb() as reference:
        for statement in statements(folder):
            answer = requests.post(f"{reference.url}/ksql", timeout=30,
                                   json={"ksql": statement.text, "streamsProperties": {}})
            assert answer.status_code == 200, answer.text
        return running(reference)
