"""``KsqlDirectory``: the statements a SQL directory declares, stored once, one resource per ``KsqlPipeline``.

Whenever a declared statement changes (first of all when the stack is new), its ``check`` proves the whole
declared change with ksqlDB in a dry run that changes nothing (:func:`providers.ksqldb.plan.change_proof`):
the creation of every declared object that does not run yet, the in-place replacement or the rebuild of
every changed one, and the rebuild of every object whose Kafka topic is gone; a refusal fails the check,
naming the file and statement (every refused statement when the change only creates), at preview and
again at ``up`` — before anything is created, since every per-object resource depends on this one. A
check with the same statements sends nothing.

A new directory (a new stack, or a lost state) drops, in its ``create``, the declared objects whose
Kafka topic is gone, with what reads them, after a dry run proved their rebuild: their own resources,
all created after it, create them again in the same ``up``.

It takes over the state of the first release's single ``KsqlStatements`` resource (same URN, through an
alias), so a stack deployed with it moves to one resource per object without leaving anything behind. The
move drops, readers first (derived objects with their topics), the objects the old resource managed that
no file declares any more, and the declared ones that still run the first release's query or read such an
object: the preview announces them and a dry run proves the drops and the creations, and ``up`` drops them
before any per-object resource runs (they all depend on this one), which then create them from today's
statements. Everything else is adopted by its own per-object resource (0 DROP, 0 CREATE). A stack that
never had the old resource never drops anything here: removing a statement from the files deletes its own
resource, and that is a decision, not a side effect: its ``check`` (which runs at preview and before any
step of ``up``) refuses every deployed stream or table that no file declares any more and that something
read when it was last deployed (another ksqlDB object; what ``readers`` names: a sink, a datasource, a
dashboard, an alert rule), or any such stream or table when ``protect`` is on, naming the object, its file
and statement as deployed and its readers, unless ``retire`` lists it; then the preview shows its drop.
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

from providers.contract import OUTPUT, PROVIDER, Contract, Field, client_of, connection
from providers.http import ApiError, ServiceTimeout, ServiceUnreachable
from providers.inputs import is_unknown
from providers.ksqldb.client import KsqlClient, KsqlError
from providers.ksqldb.parser import Statement, ancestors, dependents, statement_of
from providers.ksqldb.plan import (
    Catalog,
    change_proof,
    done,
    drop_script,
    proof,
    readers_first,
    refusal_message,
    refused,
)

CONTRACT = Contract("KsqlDirectory", [
    *connection("ksqldb_url", service="ksqlDB"),
    Field("statements", PROVIDER, doc="every statement of the SQL files (file, index, text), in dependency order; "
                                      "the whole change is proven by ksqlDB whenever one changes; not compared"),
    Field("readers", PROVIDER, doc="object -> what reads it outside ksqlDB (its sink, datasource, dashboards, alert "
                                   "rules), named when its statement disappears; not compared"),
    Field("retire", PROVIDER, doc="deployed streams and tables no file declares any more that `up` may drop (read "
                                  "or protected ones are refused otherwise); not compared"),
    Field("protect", PROVIDER, doc="true: a stream or table no file declares any more is dropped only when "
                                   "`retire` lists it, read or not; not compared"),
    Field("objects", OUTPUT, doc="only in a state the first release wrote: the objects its single resource "
                                 "managed; those no longer declared are dropped by the next `up`"),
])


class RetireError(Exception):
    """An object to retire cannot be dropped; the message names it and what to do."""


def declared(props: Mapping[str, Any]) -> list[Statement]:
    """The statements of ``props`` (none in a state the first release wrote)."""
    return [statement_of(entry) for entry in props.get("statements") or []]


def retired(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Objects the first release's resource managed (``objects`` of its state) that are declared no more."""
    names = {statement.name for statement in declared(news)}
    return [name for name in olds.get("objects") or [] if name not in names]


def undeclared_problems(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(input, reason)`` for each deployed stream or table (in the old ``statements``) that no file declares
    any more and that may not be dropped: something read it when it was last deployed (a ksqlDB object of the
    old statements, or what the old ``readers`` name; a deployment that recorded no ``readers`` counts as
    read), or ``protect`` is on; unless ``retire`` lists it. And for each name ``retire`` lists that a file
    still declares. INSERT queries hold no data: they just go. Says what ``up`` drops when every dropped
    object is retired."""
    before = declared(olds)
    now = {statement.name: statement for statement in declared(news)}
    retire = list(news.get("retire") or [])
    problems = [("retire", f"retire lists {name}, which {now[name].where} still declares: take it out of retire "
                           f"(the stack config key clickstream:retire), or remove its statement")
                for name in retire if name in now]
    old_readers: Mapping[str, list[str]] | None = olds.get("readers")
    refused, retiring = [], []
    for statement in before:
        if statement.name in now or statement.kind == "INSERT":
            continue
        if statement.name in retire:
            retiring.append(statement.name)
            continue
        readers = [f"{other.kind} {other.target} ({other.where})" for other in before
                   if statement.name in other.depends_on and other.name != statement.name]
        if old_readers is None:  # deployed before the directory was told (a sink, a dashboard?): assume read
            readers.append("what read it outside ksqlDB when it was deployed, which that deployment did not record")
        readers += (old_readers or {}).get(statement.name, [])
        if not readers and not news.get("protect"):
            continue
        why = f"it is read by {'; '.join(readers)}" if readers else \
            "this stack protects its streams and tables (protect, the stack config key clickstream:protect, is true)"
        loss = " and delete its Kafka topic" if statement.is_query else ""
        problems.append(("statements", f"{statement.kind} {statement.name} ({statement.where}, as last deployed) is "
                                       f"declared in no SQL file any more, so `pulumi up` would drop it{loss}; {why}"))
        refused.append(statement.name)
    if refused:
        listed = ", ".join(refused)
        problems.append(("statements", f"nothing was changed: restore the statements of {listed} (and of what reads "
                                       f"them), or drop them on purpose by listing them in retire, the stack config "
                                       f"key clickstream:retire (`pulumi config set --path 'retire[0]' "
                                       f"{refused[0]}`, one entry each; docs/resources/ksqldb.md); the next preview "
                                       f"then shows their drops"))
    elif retiring:
        pulumi.log.info(f"ksqlDB: retiring {', '.join(retiring)} (listed in retire): `pulumi up` drops them, derived "
                        f"ones with their Kafka topics")
    return problems


class KsqlDirectoryProvider(ResourceProvider):
    """Checks and keeps the declared statements; retires what the first release's resource managed and
    no file declares any more."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news, failures = CONTRACT.check(news)
        if failures or is_unknown(news.get("ksqldb_url")) or is_unknown(news.get("statements")):
            return CheckResult(news, failures)
        if is_unknown(news.get("retire")) or is_unknown(news.get("readers")):
            return CheckResult(news, failures)
        failures.extend(CheckFailure(key, reason) for key, reason in undeclared_problems(olds, news))
        if failures:
            return CheckResult(news, failures)
        statements = declared(news)
        if statements and _definitions(statements) != _definitions(declared(olds)):
            try:
                failures.extend(CheckFailure("statements", reason)
                                for reason in _refused_change(news, statements, declared(olds)))
            except (KsqlError, ServiceTimeout, ApiError) as exc:
                failures.append(CheckFailure("statements", f"the SQL files could not be checked with ksqlDB, so "
                                             f"nothing was changed: {exc}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if olds.get("objects") is None:
            return CONTRACT.diff(olds, news)  # an address or credential change: recorded, nothing sent
        if not is_unknown(news.get("ksqldb_url")) and not is_unknown(news.get("statements")):
            with client_of(KsqlClient, news, "ksqldb_url") as client:
                if (down := _unreachable(client)) is not None:
                    pulumi.log.warn(f"ksqlDB: cannot tell now what the move from the first release drops ({down}); "
                                    f"`pulumi up` says it before it drops anything")
                elif (move := _move(client, olds, news)).drops:
                    pulumi.log.warn(f"ksqlDB: {move.announcement()}")
        return DiffResult(changes=True)  # the first release's state is rewritten in this shape

    def create(self, props: dict[str, Any]) -> CreateResult:
        """A new stack (or one whose state was lost) over what may already run: the objects whose Kafka
        topic is gone are dropped with what reads them (after a dry run proved their rebuild), so that
        their own resources, all created after this one, create them again in this ``up``; everything
        else is adopted by its own resource."""
        if declared(props):
            with client_of(KsqlClient, props, "ksqldb_url") as client:
                client.wait_ready()
                repair = _move(client, {}, props)
                if repair.drops:
                    pulumi.log.info(f"ksqlDB: {repair.announcement()}")
                    _drop(client, repair.drops)
        return CreateResult(f"ksql-directory-{uuid.uuid4().hex[:12]}", _outs(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("objects") is not None:
            with client_of(KsqlClient, news, "ksqldb_url") as client:
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
            with client_of(KsqlClient, props, "ksqldb_url") as client:
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
    """What the directory drops before any per-object resource runs: ``retired`` (what the first release's
    resource managed and no file declares) and ``rebuilt`` (declared, but running what the first release
    declared, or over a Kafka topic that is gone, or reading such an object or a retired one, and everything
    downstream of them: created again by their own resources); ``drops`` all of them (:func:`_drop` orders
    them readers first against the catalog as it is when it drops). ``lost``: the objects whose topic is
    gone."""

    retired: list[str]
    rebuilt: list[str]
    drops: list[str]
    lost: list[str] = dataclasses.field(default_factory=list)
    first_release: bool = True

    def announcement(self) -> str:
        parts = []
        if self.retired:
            parts.append(f"drops {', '.join(self.retired)} (no longer declared in the SQL files)")
        if self.rebuilt:
            why = "running the first release's queries, or reading what is dropped" if self.first_release else \
                f"the Kafka topic of {', '.join(self.lost)} is gone, and what reads it"
            parts.append(f"drops {', '.join(self.rebuilt)} ({why}) and creates them again from the SQL files, "
                         f"each by its own resource")
        what = "the move from the first release's single ksqlDB resource" if self.first_release else \
            "the new stack's KsqlDirectory"
        return (f"{what} {' and '.join(parts)}, proven by a dry run, before any other ksqlDB change (derived "
                f"objects lose their topics and are refilled from their sources)")


def _move(client: KsqlClient, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Move:
    """What the directory drops, proven by a dry run that changes nothing (ksqlDB's refusal names the
    statement). From the first release's state (``objects`` in ``olds``): the retired objects, the declared
    ones that differ from their declaration, and their readers. For a new directory: the declared objects
    whose Kafka topic is gone, and their readers."""
    catalog = Catalog(*client.catalog())
    statements = declared(news)
    names = {statement.name for statement in statements}
    first_release = olds.get("objects") is not None
    gone = retired(olds, news)
    readers = [name for name in _to_drop(catalog, gone, names) if name in names]
    lost = catalog.lost(statements)
    differing = {s.name for s in statements if s.kind != "INSERT" and s.name in catalog.sources
                 and catalog.differences(s)} if first_release else set(lost)
    roots = set(readers) | differing
    live_retired = [name for name in gone if name in catalog.sources]
    if not roots and not live_retired:
        return Move([], [], [])
    plan = proof(statements, catalog, roots, uuid.uuid4().hex[:12], retired=live_retired)
    if (found := refused(client, plan, {}, statements[0])) is not None:
        culprit, answer = found
        raise RetireError(f"{culprit.where}: ksqlDB refused, in a dry run, dropping and creating again what "
                          f"{'the move from the first release' if first_release else 'this new stack'} "
                          f"rebuilds, so nothing was changed. ksqlDB error {answer.error_code}: {answer.message}")
    rebuilt = [name for name in plan.names if name in catalog.sources]
    return Move(live_retired, rebuilt, [*rebuilt, *live_retired], lost, first_release)


def _drop(client: KsqlClient, names: list[str]) -> None:
    """Drop ``names`` readers first (derived objects with their topics), after terminating the INSERT
    queries that touch them."""
    catalog = Catalog(*client.catalog())
    for name in readers_first(catalog, [name for name in names if name in catalog.sources]):
        for text in drop_script(catalog, name):
            _run(client, text)


def _definitions(statements: list[Statement]) -> dict[str, str]:
    """Object -> its normalised statement: what a change of the SQL files is compared by (reformatting,
    comments and the order of the files change nothing)."""
    return {statement.name: statement.sql for statement in statements}


def _refused_change(props: Mapping[str, Any], statements: list[Statement], previous: list[Statement]) -> list[str]:
    """Every declared statement ksqlDB refuses in the whole declared change (:func:`plan.change_proof`:
    what does not exist is created, what changed is replaced in place or rebuilt, what lost its Kafka topic
    is rebuilt), found by dry runs that change nothing. When the change only creates and replaces in
    place, a refused statement is left out with everything that reads it and the rest is checked again,
    so every refused statement is named; a change that rebuilds something stops at its first refusal.
    A ksqlDB that does not answer within ``probe_timeout`` fails the check of a deployed stack (nothing
    unproven runs), and only says so for a new one (its statements are refused, if at all, as they run)."""
    with client_of(KsqlClient, props, "ksqldb_url") as client:
        if (down := _unreachable(client)) is not None:
            if previous:  # a deployed stack: nothing unproven runs
                return [f"the change of the SQL files could not be proven with ksqlDB, so nothing was changed: {down}"]
            pulumi.log.info(f"ksqlDB: not checking the SQL files against ksqlDB now ({down}); each statement is "
                            f"checked when it runs")
            return []
        catalog = Catalog(*client.catalog())
        if lost := catalog.lost(statements):
            pulumi.log.warn(f"ksqlDB: the Kafka topics of {', '.join(lost)} are gone: `pulumi up` rebuilds them "
                            f"with what reads them (a new stack at once; a stack that has them in its state after "
                            f"`pulumi refresh`, which `pulumi up --refresh` runs first)")
        graph = {s.name: s.depends_on for s in statements}
        earlier = {s.name: s for s in previous}
        taken = _taken(statements, earlier, catalog)
        reasons: list[str] = []
        skipped: set[str] = set()
        while kept := [s for s in statements if s.name not in skipped]:
            plan = change_proof(kept, earlier, catalog, uuid.uuid4().hex[:12])
            if not plan.script or (found := refused(client, plan, {}, kept[0])) is None:
                return reasons
            culprit, answer = found
            cause = next((s for s in statements if s.name in taken and s.name != culprit.name
                          and s.name in ancestors(graph, {culprit.name})), None)
            if cause is None:
                reasons.append(refusal_message(culprit, culprit, plan, answer))
            else:  # the real cause: the name is taken, whatever its readers are told
                reasons.append(f"{cause.where}: {cause.name} is already taken at ksqlDB by another definition "
                               f"({'; '.join(taken[cause.name])}), and ksqlDB checks what reads it against that "
                               f"one: it refused {culprit.where} in a dry run, so nothing was changed. ksqlDB error "
                               f"{answer.error_code}: {answer.message}{plan.position_in_file(answer.message)}\n"
                               f"Drop the {cause.name} that runs there, or give yours another name, then run "
                               f"`pulumi preview` again.")
            if any(text.startswith(("DROP", "TERMINATE")) for text in plan.script):
                return reasons  # what is left would be proven without the rebuild it needs
            skipped |= dependents(graph, {(cause or culprit).name})
        return reasons


def _taken(statements: list[Statement], earlier: Mapping[str, Statement], catalog: Catalog) -> dict[str, list[str]]:
    """Declared streams and tables this stack never declared before whose name the server already gives to
    another definition (name -> how it differs; one whose topic is gone is rebuilt, not taken)."""
    lost = set(catalog.lost(statements))
    return {s.name: found for s in statements
            if s.kind != "INSERT" and s.name not in earlier and s.name not in lost and catalog.exists(s)
            and (found := catalog.differences(s))}


def _run(client: KsqlClient, text: str) -> None:
    """Run one statement of a drop sequence, with the whole ``ready_timeout`` for itself: on a real ksqlDB
    8.2.1 a DROP of a query whose input topic is gone took from 5 s to 2.75 min (its Kafka Streams threads
    wait for the topic's metadata; meanwhile the request is answered 500 'Timeout while waiting for command
    topic consumer'), so the repair of a stack that lost its state, several such drops one after the other,
    outlasted one ``ready_timeout``."""
    client.deadline.restart()
    try:
        client.execute(text)
    except KsqlError as exc:
        raise RetireError(f"{text.rstrip(';')} failed: {exc}") from None
    pulumi.log.info(f"ksqlDB: {done(text)}")  # the move's announcement, or delete's docstring, says why
