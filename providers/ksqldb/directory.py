"""``KsqlDirectory``: the statements a SQL directory declares, stored once, one resource per ``KsqlPipeline``.

When the declared objects change (first of all when the stack is new), its ``check`` has ksqlDB check the
creation of every declared object that does not run yet, in dry runs that change nothing
(:func:`providers.ksqldb.plan.refused` finds each refused statement), and reports **every** statement
ksqlDB refuses, with its file and statement number, at preview — before anything is created. When ksqlDB
does not answer within ``probe_timeout`` that check is left to the statements themselves, and says so.

It takes over the state of the first release's single ``KsqlStatements`` resource (same URN, through an
alias), so a stack deployed with it moves to one resource per object without leaving anything behind. The
move drops, readers first (derived objects with their topics), the objects the old resource managed that
no file declares any more, and the declared ones that still run the first release's query or read such an
object: the preview announces them and a dry run proves the drops and the creations, and ``up`` drops them
before any per-object resource runs (they all depend on this one), which then create them from today's
statements. Everything else is adopted by its own per-object resource (0 DROP, 0 CREATE). A stack that
never had the old resource never drops anything here: removing a statement from the files deletes its own
resource.
"""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from providers.contract import OUTPUT, PROVIDER, Contract, Field, connection
from providers.http import ServiceUnreachable
from providers.inputs import is_unknown
from providers.ksqldb.client import KsqlClient, KsqlError, endpoint_of
from providers.ksqldb.parser import Statement, dependents, statement_of
from providers.ksqldb.plan import (
    Catalog,
    Rebuild,
    done,
    drop_sql,
    executable,
    proof,
    readers_first,
    refused,
)

CONTRACT = Contract("KsqlDirectory", [
    *connection("ksqldb_url", service="ksqlDB"),
    Field("statements", PROVIDER, doc="every statement of the SQL files (file, index, text), in dependency order; "
                                      "checked by ksqlDB when the declared objects change; not compared"),
    Field("objects", OUTPUT, doc="only in a state the first release wrote: the objects its single resource "
                                 "managed; those no longer declared are dropped by the next `up`"),
])
SECRET_OUTPUTS = CONTRACT.secret_outputs


class RetireError(Exception):
    """An object to retire cannot be dropped; the message names it and what to do."""


def declared(props: Mapping[str, Any]) -> list[Statement]:
    """The statements of ``props`` (none in a state the first release wrote)."""
    return [statement_of(entry) for entry in props.get("statements") or []]


def retired(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Objects the first release's resource managed (``objects`` of its state) that are declared no more."""
    names = {statement.name for statement in declared(news)}
    return [name for name in olds.get("objects") or [] if name not in names]


class KsqlDirectoryProvider(ResourceProvider):
    """Checks and keeps the declared statements; retires what the first release's resource managed and
    no file declares any more."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news, failures = CONTRACT.check(news)
        if failures or is_unknown(news.get("ksqldb_url")) or is_unknown(news.get("statements")):
            return CheckResult(news, failures)
        statements = declared(news)
        if {s.name for s in statements} != {s.name for s in declared(olds)}:
            failures.extend(CheckFailure("statements", reason) for reason in _refused_creations(news, statements))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if olds.get("objects") is None:
            return CONTRACT.diff(olds, news)  # an address or credential change: recorded, nothing sent
        if not is_unknown(news.get("ksqldb_url")) and not is_unknown(news.get("statements")):
            with KsqlClient(endpoint_of(news)) as client:
                if (down := _unreachable(client)) is not None:
                    pulumi.log.warn(f"ksqlDB: cannot tell now what the move from the first release drops ({down}); "
                                    f"`pulumi up` says it before it drops anything")
                elif (move := _move(client, olds, news)).drops:
                    pulumi.log.warn(f"ksqlDB: {move.announcement()}")
        return DiffResult(changes=True)  # the first release's state is rewritten in this shape

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"ksql-directory-{uuid.uuid4().hex[:12]}", _outs(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("objects") is not None:
            with KsqlClient(endpoint_of(news)) as client:
                client.wait_ready()
                move = _move(client, olds, news)
                if move.drops:
                    pulumi.log.info(f"ksqlDB: {move.announcement()}")
                    _drop(client, move.drops)
        return UpdateResult(_outs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Each declared object is deleted by its own resource. Only a state the first release wrote (a
        stack destroyed before it moved) still names objects no other resource owns: those are dropped."""
        owned = props.get("objects") or []
        if owned:
            with KsqlClient(endpoint_of(props)) as client:
                client.wait_ready()
                _drop(client, _to_drop(Catalog(*client.catalog()), owned, set(owned)))


def _unreachable(client: KsqlClient) -> ServiceUnreachable | None:
    """Why ksqlDB does not answer within ``probe_timeout`` (a preview goes on without it), or None."""
    try:
        client.probe()
    except ServiceUnreachable as exc:
        return exc
    return None


def _outs(news: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs: the inputs without the statements (kept once, in the inputs, where ``check`` reads them)
    and without the first release's list of objects (which is dropped or owned now)."""
    return {key: value for key, value in news.items() if key not in ("objects", "statements")}


def _to_drop(catalog: Catalog, names: list[str], declared_names: set[str]) -> list[str]:
    """``names`` that exist, with every object that reads one of them (transitively, from the live catalog):
    those must go first. A reader that is declared in the SQL files is created again by its own resource
    (in a move from the first release, every per-object resource is created after this one); a reader
    neither listed nor declared (made by hand) stops it, named."""
    found = [name for name in names if name in catalog.sources]
    pending = list(found)
    while pending:
        for reader in sorted(catalog.readers(pending.pop())):
            if reader in found:
                continue
            if reader not in declared_names:
                raise RetireError(f"cannot drop {', '.join(found)}: {reader} reads from it and is not declared in "
                                  f"the SQL files (made by hand?). Drop it, or declare it, then run `pulumi up` "
                                  f"again.")
            found.append(reader)
            pending.append(reader)
    return found


@dataclasses.dataclass
class Move:
    """What the move from the first release drops: ``retired`` (no longer declared) and ``rebuilt``
    (declared, but running what the first release declared, or reading a retired object, and everything
    downstream of them: created again by their own resources); ``drops`` all of them (:func:`_drop` orders
    them readers first against the catalog as it is when it drops)."""

    retired: list[str]
    rebuilt: list[str]
    drops: list[str]

    def announcement(self) -> str:
        parts = []
        if self.retired:
            parts.append(f"drops {', '.join(self.retired)} (no longer declared in the SQL files)")
        if self.rebuilt:
            parts.append(f"drops {', '.join(self.rebuilt)} (running the first release's queries, or reading what "
                         f"is dropped) and creates them again from the SQL files, each by its own resource")
        return (f"the move from the first release's single ksqlDB resource {' and '.join(parts)}, proven by a dry "
                f"run, before any other ksqlDB change (derived objects lose their topics and are refilled from "
                f"their sources)")


def _move(client: KsqlClient, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Move:
    """The move's drops, proven by a dry run that changes nothing (ksqlDB's refusal names the statement)."""
    catalog = Catalog(*client.catalog())
    statements = declared(news)
    names = {statement.name for statement in statements}
    gone = retired(olds, news)
    readers = [name for name in _to_drop(catalog, gone, names) if name in names]
    differing = {s.name for s in statements if s.kind != "INSERT" and s.name in catalog.sources
                 and catalog.differences(s)}
    roots = set(readers) | differing
    live_retired = [name for name in gone if name in catalog.sources]
    if not roots and not live_retired:
        return Move([], [], [])
    plan = proof(statements, catalog, roots, uuid.uuid4().hex[:12], retired=live_retired)
    if (found := refused(client, plan, {}, statements[0])) is not None:
        culprit, answer = found
        raise RetireError(f"{culprit.where}: ksqlDB refused the move from the first release in a dry run, so "
                          f"nothing was changed. ksqlDB error {answer.error_code}: {answer.message}")
    rebuilt = [name for name in plan.names if name in catalog.sources]
    return Move(live_retired, rebuilt, [*rebuilt, *live_retired])


def _drop(client: KsqlClient, names: list[str]) -> None:
    """Drop ``names`` readers first (derived objects with their topics), after terminating the INSERT
    queries that touch them."""
    catalog = Catalog(*client.catalog())
    for name in readers_first(catalog, [name for name in names if name in catalog.sources]):
        for query_id in catalog.inserts_touching(name):
            _run(client, f"TERMINATE {query_id};")
        kind = catalog.sources[name].get("type", "STREAM").upper()
        _run(client, drop_sql(kind, name, delete_topic=catalog.derived(name)))


def _refused_creations(props: Mapping[str, Any], statements: list[Statement]) -> list[str]:
    """Every declared statement whose creation ksqlDB refuses (with what it said), found by dry runs that
    change nothing: the creation of every object that does not run yet, in order; a refused one is left
    out with everything that reads it, and the rest is checked again."""
    with KsqlClient(endpoint_of(props)) as client:
        if (down := _unreachable(client)) is not None:
            pulumi.log.info(f"ksqlDB: not checking the SQL files against ksqlDB now ({down}); each statement is "
                            f"checked when it runs")
            return []
        catalog = Catalog(*client.catalog())
        pending = [s for s in statements if not catalog.exists(s)]
        graph = {s.name: s.depends_on for s in statements}
        reasons: list[str] = []
        while pending:
            plan = Rebuild([s.name for s in pending], [executable(s) for s in pending], pending)
            if (found := refused(client, plan, {}, pending[0])) is None:
                break
            culprit, answer = found
            reasons.append(f"{culprit.where}: ksqlDB refuses it (checked in a dry run, nothing was changed): "
                           f"ksqlDB error {answer.error_code}: {answer.message}")
            skipped = dependents(graph, {culprit.name})
            pending = [s for s in pending if s.name not in skipped]
        return reasons


def _run(client: KsqlClient, text: str) -> None:
    try:
        client.execute(text)
    except KsqlError as exc:
        raise RetireError(f"{text.rstrip(';')} failed: {exc}") from None
    pulumi.log.info(f"ksqlDB: {done(text)}")  # the move's announcement, or delete's docstring, says why
