"""Pulumi dynamic provider for ONE ksqlDB stream, table or INSERT INTO query (``KsqlObjectProvider``).

The Pulumi engine orders the objects: each one takes its upstream objects' names as inputs, so when an
object is replaced (delete-before-replace: names are fixed) the engine deletes its dependents first and
recreates them afterwards, and ``pulumi preview`` lists every one of them.

Nothing is dropped before its replacement is proven: a replacement (or a ``CREATE OR REPLACE`` in place)
is first sent to ksqlDB as a dry run (:func:`providers.ksqldb.plan.proof`, which can change nothing) of the
whole rebuild — terminations, drops, creates of the object and of everything downstream of it — from
``diff``, so a change ksqlDB would refuse (a topic with other partitions, an unknown column, a reader that
is not declared) fails at preview and at the start of ``up``, naming the statement it is about. Only the
engine's ``delete`` of an object drops it (with ``DELETE TOPIC`` for a derived one), after that proof.

Identity is the object's name and kind. URL and credentials are addresses: changing them sends no DDL.
Adoption is by meaning (:mod:`providers.ksqldb.shape`), never by statement text.
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable, Mapping

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

from providers.contract import (
    IDENTITY,
    OUTPUT,
    PROVIDER,
    Contract,
    Field,
    client_of,
    connection,
    read_back_of_write,
    refreshed,
    report_adopted,
)
from providers.http import ApiError, ServiceTimeout, wait_until
from providers.inputs import is_unknown
from providers.ksqldb.client import KsqlClient, KsqlError
from providers.ksqldb.directory import KsqlDirectoryProvider
from providers.ksqldb.parser import (
    KsqlParseError,
    Statement,
    as_create_or_replace,
    replace_in_place_allowed,
    statement_of,
    topological_order,
)
from providers.ksqldb.plan import (
    Catalog,
    Rebuild,
    change_proof,
    done,
    drop_script,
    executable,
    insert_query_id,
    proof,
    refusal_message,
    refused,
)

CONTRACT = Contract("KsqlStream, KsqlTable, KsqlInsert", [
    *connection("ksqldb_url", service="ksqlDB"),
    Field("object_name", IDENTITY, required=True, doc="the stream's, table's or query target's name"),
    Field("kind", IDENTITY, doc="STREAM, TABLE or INSERT"),
    Field("statement", PROVIDER, required=True,
          doc="in place (CREATE OR REPLACE) when ksqlDB allows that change, else replace; proven by a dry run"),
    Field("upstream", PROVIDER, doc="the objects it reads (name -> a digest of their statement, taken from their "
                                    "resources); a replaced one (not known yet) replaces it, and a changed one is "
                                    "the reason the preview shows"),
    Field("streams_properties", PROVIDER, doc="sent with the statements that run; a change alone sends nothing"),
    Field("file", PROVIDER, doc="where the statement is, for messages only"),
    Field("index", PROVIDER, doc="the statement's place in its file, for messages only"),
    Field("line", PROVIDER, doc="the line of its file where the statement starts, for messages only (ksqlDB's "
                                "Line/Col of a refusal, mapped to the file)"),
    Field("column", PROVIDER, doc="the column of that line where it starts, for messages only"),
    Field("related", PROVIDER, doc="the statements a rebuild of it needs (everything downstream of it, and what "
                                   "those read beside it), to prove a rebuild; not compared"),
    Field("sql", OUTPUT, doc="the normalised statement"),
    Field("query_id", OUTPUT, doc="the persistent query's id"),
    Field("query_state", OUTPUT, doc="RUNNING, PAUSED (resumed by the next update) or ERROR/UNRESPONSIVE "
                                     "(replaced by the next update)"),
    Field("topic", OUTPUT, doc="the Kafka topic"),
    Field("live_differences", OUTPUT, doc="how the live object differs from the declared one, or that its topic "
                                          "or query is gone (replaced by the next update)"),
    Field("adopted", OUTPUT, doc="the object existed before it was created here"),
    Field("related_names", OUTPUT, doc="the names of its `related` objects (the statements stay in the inputs "
                                       "only); its delete waits for those that read it"),
])
_TOPIC_DELETING = "marked for deletion"  # Kafka still deletes the old sink topic: the statement is retried
_REPLACING_STATES = ("ERROR", "UNRESPONSIVE")


class KsqlObjectError(Exception):
    """A statement failed or would fail: names the file and statement, with ksqlDB's own message."""


def report(message: str) -> None:
    """Tell the user what happened to an object (shown in ``pulumi up`` output)."""
    pulumi.log.info(f"ksqlDB: {message}")


def warn(message: str) -> None:
    pulumi.log.warn(f"ksqlDB: {message}")


def statements_of(props: Mapping[str, Any]) -> list[Statement]:
    """The object's own statement and its ``related`` ones, in dependency order."""
    return topological_order([statement_of(props), *(statement_of(e) for e in props.get("related") or [])])


def declared_names(props: Mapping[str, Any]) -> set[str]:
    """Names of the declared objects a rebuild of this one touches, from the outputs (``pipeline``: a state
    written before ``related`` existed, which held every statement of the directory)."""
    if props.get("related_names") is not None:
        return set(props["related_names"])
    return {statement_of(e).name for e in props.get("related") or props.get("pipeline") or []}


def _catalog(client: KsqlClient, statements: Iterable[Statement], *, expected: bool = False) -> Catalog:
    """What the server has of ``statements``' objects (and of what their queries write), nothing else;
    ``expected``: they most likely exist (one request then)."""
    return Catalog(*client.catalog({s.target for s in statements}, expected=expected))


def _fail(statement: Statement, action: str, exc: KsqlError) -> KsqlObjectError:
    return KsqlObjectError(f"{statement.where}: {action} failed: {exc}")


def _read_back(client: KsqlClient, statement: Statement, props: Mapping[str, Any], *, written: bool = False
               ) -> dict[str, Any] | None:
    """The object as ksqlDB has it, in the shape of the outputs (None when it does not exist): its query's
    id and state, its topic, and how it differs from the declared one. Used by create, update (``written``:
    just written, so known to exist: one request) and read."""
    catalog = Catalog(*client.described([statement.target])) if written else \
        _catalog(client, [statement], expected=True)
    if not catalog.exists(statement):
        return None
    query = catalog.query_of(statement) or {}
    source = catalog.sources.get(statement.target) or {}
    kept = {key: value for key, value in props.items() if key not in ("related", "pipeline")}
    return {**kept, "related_names": sorted(declared_names(props)), "sql": statement.sql, "query_id": query.get("id"),
            "query_state": catalog.query_state(statement), "topic": source.get("topic"),
            "live_differences": [] if statement.kind == "INSERT" else catalog.differences(statement)}


def _written(client: KsqlClient, statement: Statement, props: Mapping[str, Any], adopted: bool) -> dict[str, Any]:
    return read_back_of_write(_read_back(client, statement, {**props, "adopted": adopted}, written=True),
                              f"{statement.kind} {statement.name}", f"ksqlDB at {props['ksqldb_url']}")


class KsqlObjectProvider(ResourceProvider):
    """Create/adopt, diff, update, read and delete one ksqlDB stream, table or INSERT INTO query."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news, failures = CONTRACT.check(news)
        if not failures and not is_unknown(news["statement"]):
            try:
                statement = statement_of(news)
            except (KsqlParseError, ValueError) as exc:
                failures.append(CheckFailure("statement", str(exc)))
            else:
                if statement.name != news["object_name"] or statement.kind != news.get("kind"):
                    failures.append(CheckFailure("statement", f"{statement.where} defines {statement.kind} "
                                                 f"{statement.name}, not {news.get('kind')} {news['object_name']}"))
                news = {**news, "sql": statement.sql}
        props = news.get("streams_properties") or {}
        if not is_unknown(props) and not all(isinstance(v, str) for v in props.values()):
            failures.append(CheckFailure("streams_properties", "streams_properties values must be strings"))
        if not failures and olds.get("sql") and news.get("sql") != olds["sql"] \
                and not any(is_unknown(news.get(key)) for key in ("ksqldb_url", "related", "password")):
            failures += self._proven_change(olds, news)
        return CheckResult(news, failures)

    def _proven_change(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[CheckFailure]:
        """A changed statement is proven where the user sees the answer as a plain error (``check`` runs in
        ``pulumi preview`` and again in ``pulumi up`` before any step of this object): its in-place
        ``CREATE OR REPLACE``, or the whole rebuild it causes, dry-run against the live server by the same
        proof the ``KsqlDirectory`` gives the whole declared change (:func:`plan.change_proof`). A refusal,
        or a ksqlDB that does not answer within ``probe_timeout``, fails the check: nothing unproven runs."""
        new = statement_of(news)
        try:
            with client_of(KsqlClient, news, "ksqldb_url") as client:
                client.probe()
                statements = statements_of(news)
                plan = change_proof(statements, {new.name: statement_of(olds)}, _catalog(client, statements),
                                    uuid.uuid4().hex[:12])
                self._dry_run(client, new, plan, news)
        except (KsqlObjectError, ServiceTimeout, ApiError) as exc:
            return [CheckFailure("statement", str(exc))]
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if is_unknown(news.get("upstream")):  # an upstream object is being replaced: so is this one
            return DiffResult(changes=True, replaces=["upstream"], delete_before_replace=True)
        replaces, changes = CONTRACT.changes(olds, news)
        if is_unknown(news.get("statement")) or is_unknown(news.get("sql")):
            changes.append("statement")
        elif news.get("sql") != olds.get("sql"):
            new, old = statement_of(news), statement_of(olds)
            if replace_in_place_allowed(old, new):
                changes.append("statement")
            else:
                replaces.append("statement")
        if olds.get("live_differences"):
            replaces.append("live_differences")
        if olds.get("query_state") in _REPLACING_STATES:
            replaces.append("query_state")
        elif olds.get("query_state") == "PAUSED":
            changes.append("query_state")
        if not replaces and not changes:
            return CONTRACT.diff(olds, news)
        if replaces and "statement" not in replaces and not any(
                is_unknown(news.get(key)) for key in ("ksqldb_url", "statement", "related")):
            self._prove_rebuild(news)  # a live difference (seen by refresh) is rebuilt: check proved no change
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True,
                          stables=[] if replaces else CONTRACT.names(IDENTITY))

    def _prove_rebuild(self, props: Mapping[str, Any]) -> None:
        """Dry-run the rebuild this replacement causes (the object and everything downstream of it) against
        the live server, in a way that changes nothing there."""
        statement = statement_of(props)
        with client_of(KsqlClient, props, "ksqldb_url") as client:
            client.probe()
            statements = statements_of(props)
            plan = proof(statements, _catalog(client, statements), {statement.name}, uuid.uuid4().hex[:12])
            self._dry_run(client, statement, plan, props)

    @staticmethod
    def _dry_run(client: KsqlClient, statement: Statement, plan: Rebuild, props: Mapping[str, Any]) -> None:
        found = refused(client, plan, props.get("streams_properties") or {}, statement)
        if found is not None:
            culprit, answer = found
            raise KsqlObjectError(refusal_message(culprit, statement, plan, answer))

    def create(self, props: dict[str, Any]) -> CreateResult:
        statement = statement_of(props)
        with client_of(KsqlClient, props, "ksqldb_url") as client:
            client.wait_ready()
            outs = _written(client, statement, props, self._converge(client, statement, props))
        return CreateResult(f"ksql-{uuid.uuid4().hex[:12]}", outs)

    def _converge(self, client: KsqlClient, statement: Statement, props: Mapping[str, Any]) -> bool:
        """Make the object exist; True when an existing one was adopted. An existing object is adopted as it
        is, never dropped here: when it differs from its declaration, the outputs record how
        (``live_differences``) and the next ``pulumi up`` rebuilds it, shown in its preview."""
        catalog = _catalog(client, [statement])
        if catalog.exists(statement):
            found = [] if statement.kind == "INSERT" else catalog.differences(statement)
            if found:
                warn(f"{statement.where}: {statement.kind} {statement.name} already existed at "
                     f"{props['ksqldb_url']} as another object ({'; '.join(found)}): adopted it as it is, nothing "
                     f"was dropped; the next `pulumi up` rebuilds it and what reads from it, and its preview shows "
                     f"that replacement")
            else:
                report_adopted(f"ksqlDB {statement.kind} {statement.name}", props["ksqldb_url"],
                               "same columns, formats, topic, window, sources and query")
            return True
        try:
            client.execute(executable(statement), props.get("streams_properties") or {},
                           retry_message=_TOPIC_DELETING)
        except KsqlError as exc:
            raise _fail(statement, f"create {statement.name}", exc) from None
        report(f"created {statement.kind} {statement.name}")
        return False

    def _run(self, client: KsqlClient, statement: Statement, text: str, properties: Mapping[str, str]) -> None:
        try:
            client.execute(text, properties)
        except KsqlError as exc:
            raise _fail(statement, text.rstrip(";"), exc) from None
        report(done(text))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        statement = statement_of(news)
        properties = news.get("streams_properties") or {}
        with client_of(KsqlClient, news, "ksqldb_url") as client:
            client.wait_ready()
            catalog = _catalog(client, [statement], expected=True)
            adopted = bool(olds.get("adopted"))
            if not catalog.exists(statement):
                report(f"{statement.kind} {statement.name} is missing at {news['ksqldb_url']}: creating it")
                adopted = self._converge(client, statement, news)
            elif news.get("sql") != olds.get("sql"):
                self._run(client, statement, as_create_or_replace(statement.text), properties)
            query = catalog.query_of(statement)
            if query and catalog.query_state(statement) == "PAUSED":
                self._run(client, statement, f"RESUME {query['id']};", properties)
            outs = _written(client, statement, news, adopted)
        return UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        statement = statement_of(props)
        with client_of(KsqlClient, props, "ksqldb_url") as client:
            return refreshed(client, id_, props, lambda: _read_back(client, statement, props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        statement = statement_of(props)
        with client_of(KsqlClient, props, "ksqldb_url") as client:
            client.wait_ready()
            catalog = _catalog(client, [statement], expected=True)
            if statement.kind == "INSERT":
                if catalog.exists(statement):
                    self._run(client, statement, f"TERMINATE {insert_query_id(statement)};", {})
                return
            if statement.name not in catalog.sources:
                return
            if catalog.readers(statement.name):
                catalog = _await_readers_dropped(client, statement, catalog, declared_names(props))
            # the proof assumes the same: only a query's topic goes
            for text in drop_script(catalog, statement.name):
                self._run(client, statement, text, {})


def _await_readers_dropped(client: KsqlClient, statement: Statement, catalog: Catalog,
                           declared: set[str]) -> Catalog:
    """Wait until the declared objects that read ``statement``'s object are dropped: the engine runs the
    deletes of one deployment in parallel, and when two replaced objects share readers, those readers
    are dropped by the other replacement. A reader that is not declared (made by hand) is never dropped by
    Pulumi, so the DROP is refused at once, naming it."""
    readers = catalog.readers(statement.name)
    strangers = sorted(readers - declared)
    if strangers:
        raise KsqlObjectError(f"{statement.where}: cannot drop {statement.name}: {', '.join(strangers)} read from "
                              f"it and are not declared in the SQL files (made by hand?). Drop them, or declare "
                              f"them, then run `pulumi up` again.")
    report(f"waiting for {', '.join(sorted(readers))} (dropped by this deployment) before dropping {statement.name}")
    latest = [catalog]

    def readers_gone() -> bool:
        latest[0] = _catalog(client, [statement], expected=True)
        return not latest[0].readers(statement.name)

    wait_until(readers_gone, timeout=client.within(), description=f"the readers of {statement.name} to be dropped",
               last_seen=lambda: ", ".join(sorted(latest[0].readers(statement.name))))
    return latest[0]


# The first release's single ``KsqlStatements`` resource was served by a class of this name in this module;
# its state names it, so Pulumi loads this class to read and update that state (see providers/ksqldb/directory.py).
KsqlStatementsProvider = KsqlDirectoryProvider
