"""Pulumi dynamic provider for ONE ksqlDB stream, table or INSERT INTO query (``KsqlObjectProvider``).

The Pulumi engine orders the objects: each one takes its upstream objects' names as inputs, so when an
object is replaced (delete-before-replace: names are fixed) the engine deletes its dependents first and
recreates them afterwards, and ``pulumi preview`` lists every one of them.

Nothing is dropped before its replacement is proven: a replacement (or a ``CREATE OR REPLACE`` in place)
is first sent to ksqlDB as a dry run (:meth:`KsqlClient.dry_run`) of the whole rebuild — terminations,
drops, creates of the object and of everything downstream of it — from ``diff``, so a change ksqlDB would
refuse (a topic with other partitions, an unknown column, a reader that is not declared) fails at preview
and at the start of ``up``, before any request that changes something.

Identity is the object's name and kind. URL and credentials are addresses: changing them sends no DDL.
Adoption is by meaning (:mod:`providers.ksqldb.shape`), never by statement text.
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

from providers.contract import (
    DEFAULT_READY_TIMEOUT,
    IDENTITY,
    OUTPUT,
    PROVIDER,
    Contract,
    Field,
    connection,
    gone,
    read_back_of_write,
    report_adopted,
)
from providers.http import Endpoint
from providers.inputs import is_unknown
from providers.ksqldb.client import KsqlClient, KsqlError
from providers.ksqldb.parser import (
    KsqlParseError,
    Statement,
    as_create_or_replace,
    identifier,
    parse_file,
    replace_in_place_allowed,
    split_statements,
    tokens,
    topological_order,
)
from providers.ksqldb.plan import (
    Catalog,
    changed,
    drop_sql,
    executable,
    insert_query_id,
    rebuild,
)

CONTRACT = Contract("KsqlStream, KsqlTable, KsqlInsert", [
    *connection("ksqldb_url", service="ksqlDB"),
    Field("object_name", IDENTITY, required=True, doc="the stream's, table's or query target's name"),
    Field("kind", IDENTITY, doc="STREAM, TABLE or INSERT"),
    Field("statement", PROVIDER, required=True,
          doc="in place (CREATE OR REPLACE) when ksqlDB allows that change, else replace; proven by a dry run"),
    Field("upstream", PROVIDER, doc="names of the objects it reads; a replaced one (not known yet) replaces it"),
    Field("streams_properties", PROVIDER, doc="sent with the statements that run; a change alone sends nothing"),
    Field("file", PROVIDER, doc="where the statement is, for messages only"),
    Field("index", PROVIDER, doc="the statement's place in its file, for messages only"),
    Field("pipeline", PROVIDER, doc="every statement of the SQL directory, to prove a rebuild; not compared"),
    Field("sql", OUTPUT, doc="the normalised statement"),
    Field("query_id", OUTPUT, doc="the persistent query's id"),
    Field("query_state", OUTPUT, doc="RUNNING, PAUSED (resumed by the next update) or ERROR/UNRESPONSIVE "
                                     "(replaced by the next update)"),
    Field("topic", OUTPUT, doc="the Kafka topic"),
    Field("live_differences", OUTPUT, doc="how the live object differs from the declared one (replaced)"),
    Field("adopted", OUTPUT, doc="the object existed before it was created here"),
])
SECRET_OUTPUTS = CONTRACT.secret_outputs
_TOPIC_DELETING = "marked for deletion"  # Kafka still deletes the old sink topic: the statement is retried
_REPLACING_STATES = ("ERROR", "UNRESPONSIVE")


class KsqlObjectError(Exception):
    """A statement failed or would fail: names the file and statement, with ksqlDB's own message."""


def report(message: str) -> None:
    """Tell the user what happened to an object (shown in ``pulumi up`` output)."""
    pulumi.log.info(f"ksqlDB: {message}")


def warn(message: str) -> None:
    pulumi.log.warn(f"ksqlDB: {message}")


def statement_of(entry: Mapping[str, Any]) -> Statement:
    """The Statement of one ``{"file", "index", "statement"}`` entry (``statement`` already substituted)."""
    (parsed,) = parse_file(entry["file"], entry["statement"])
    return dataclasses.replace(parsed, index=int(entry["index"]))


def pipeline_of(props: Mapping[str, Any]) -> list[Statement]:
    """Every statement of the object's SQL directory, in dependency order."""
    return topological_order(statement_of(e) for e in props.get("pipeline") or [])


def _endpoint(props: Mapping[str, Any]) -> Endpoint:
    return Endpoint(url=props["ksqldb_url"], username=props.get("username") or None,
                    password=props.get("password") or None,
                    ready_timeout=float(props.get("ready_timeout") or DEFAULT_READY_TIMEOUT))


def _fail(statement: Statement, action: str, exc: KsqlError) -> KsqlObjectError:
    return KsqlObjectError(f"{statement.where}: {action} failed: {exc}")


def _refused(statement: Statement, script: list[str], exc: KsqlError) -> KsqlObjectError:
    """A dry run was refused: nothing was changed; say why and what to do."""
    hint = ""
    if "partition" in exc.message and "already exists" in exc.message:
        hint = ("\nKafka keeps a topic's partitions and ksqlDB never changes them: declare the partition count "
                "the topic has (stack config kafkaPartitions), or move the stream to a new topic, or delete the "
                "topic (and its data) before running `pulumi up` again.")
    refused = exc.statement_text.strip()
    named = f"\nrefused statement: {refused}" if refused and len(split_statements(refused)) == 1 else ""
    return KsqlObjectError(f"{statement.where}: ksqlDB refused this change in a dry run, so nothing was changed. "
                           f"The change: {_summary(script)}.\nksqlDB error {exc.error_code}: {exc.message}"
                           f"{named}{hint}")


def _summary(script: list[str]) -> str:
    """``terminate Q; drop A, B; create B, A`` for a list of statements."""
    steps: dict[str, list[str]] = {}
    for text in script:
        words = [w for w in tokens(text) if w not in ("OR", "REPLACE", "IF", "EXISTS", "STREAM", "TABLE", "INTO")]
        steps.setdefault(words[0].lower(), []).append(identifier(words[1]) if len(words) > 1 else "")
    return "; ".join(f"{verb} {', '.join(names)}" for verb, names in steps.items())


def _read_back(client: KsqlClient, statement: Statement, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The object as ksqlDB has it, in the shape of the outputs (None when it does not exist): its query's
    id and state, its topic, and how it differs from the declared one. Used by create, update and read."""
    catalog = Catalog(*client.catalog())
    if not catalog.exists(statement):
        return None
    query = catalog.query_of(statement) or {}
    source = catalog.sources.get(statement.target) or {}
    return {**props, "sql": statement.sql, "query_id": query.get("id"),
            "query_state": catalog.query_state(statement), "topic": source.get("topic"),
            "live_differences": [] if statement.kind == "INSERT" else catalog.differences(statement)}


def _written(client: KsqlClient, statement: Statement, props: Mapping[str, Any], adopted: bool) -> dict[str, Any]:
    return read_back_of_write(_read_back(client, statement, {**props, "adopted": adopted}),
                              f"{statement.kind} {statement.name}", f"ksqlDB at {props['ksqldb_url']}")


def _proof(pipeline: list[Statement], catalog: Catalog, statement: Statement) -> list[str]:
    """The script to dry-run before ``statement``'s object is rebuilt: it, everything downstream, and every
    other declared object that differs from what runs (they may be rebuilt in the same deployment)."""
    return rebuild(pipeline, catalog, {statement.name} | changed(pipeline, catalog)).script


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
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if is_unknown(news.get("upstream")):  # an upstream object is being replaced: so is this one
            return DiffResult(changes=True, replaces=["upstream"], delete_before_replace=True)
        replaces, changes = CONTRACT.changes(olds, news)
        in_place = None
        if is_unknown(news.get("statement")) or is_unknown(news.get("sql")):
            changes.append("statement")
        elif news.get("sql") != olds.get("sql"):
            new, old = statement_of(news), statement_of(olds)
            if replace_in_place_allowed(old, new):
                changes.append("statement")
                in_place = new
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
        if not is_unknown(news.get("ksqldb_url")) and not is_unknown(news.get("statement")):
            if replaces:
                self._prove_rebuild(news)
            elif in_place is not None:
                self._prove(news, in_place, [as_create_or_replace(in_place.text)])
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True,
                          stables=[] if replaces else CONTRACT.names(IDENTITY))

    def _prove_rebuild(self, props: Mapping[str, Any]) -> None:
        """Dry-run the rebuild this replacement causes (the object, everything downstream, and every other
        declared object that differs from what runs), against the live server."""
        statement, pipeline = statement_of(props), pipeline_of(props)
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            catalog = Catalog(*client.catalog())
            self._dry_run(client, statement, _proof(pipeline, catalog, statement), props)

    def _prove(self, props: Mapping[str, Any], statement: Statement, script: list[str]) -> None:
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            self._dry_run(client, statement, script, props)

    @staticmethod
    def _dry_run(client: KsqlClient, statement: Statement, script: list[str], props: Mapping[str, Any]) -> None:
        try:
            client.dry_run(script, props.get("streams_properties") or {})
        except KsqlError as exc:
            raise _refused(statement, script, exc) from None

    def create(self, props: dict[str, Any]) -> CreateResult:
        statement = statement_of(props)
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            outs = _written(client, statement, props, self._converge(client, statement, props))
        return CreateResult(f"ksql-{uuid.uuid4().hex[:12]}", outs)

    def _converge(self, client: KsqlClient, statement: Statement, props: Mapping[str, Any]) -> bool:
        """Make the object exist as declared; True when an existing one was adopted."""
        catalog = Catalog(*client.catalog())
        properties = props.get("streams_properties") or {}
        if catalog.exists(statement):
            found = [] if statement.kind == "INSERT" else catalog.differences(statement)
            if not found:
                report_adopted(f"ksqlDB {statement.kind} {statement.name}", props["ksqldb_url"],
                               "same columns, formats, topic, window and sources")
                if statement.kind != "INSERT" and catalog.expressions_differ(statement):
                    warn(f"{statement.where}: the adopted {statement.name} runs a query whose expressions differ "
                         f"from the declared ones; if you changed them while Pulumi had no state of it, run "
                         f"`pulumi up --replace <urn of {statement.name}>`")
                return True
            pipeline = pipeline_of(props)
            report(f"{statement.kind} {statement.name} exists as another object ({'; '.join(found)}): "
                   f"rebuilding it and what reads from it")
            self._dry_run(client, statement, _proof(pipeline, catalog, statement), props)
            for text in rebuild(pipeline, catalog, {statement.name}).drops:
                self._run(client, statement, text, properties)
        try:
            client.execute(executable(statement), properties, retry_message=_TOPIC_DELETING)
        except KsqlError as exc:
            raise _fail(statement, f"create {statement.name}", exc) from None
        report(f"created {statement.kind} {statement.name}")
        return False

    def _run(self, client: KsqlClient, statement: Statement, text: str, properties: Mapping[str, str]) -> None:
        try:
            client.execute(text, properties)
        except KsqlError as exc:
            raise _fail(statement, text.rstrip(";"), exc) from None
        report(text.rstrip(";").replace(" IF EXISTS", "").lower().replace("drop ", "dropped ")
               .replace("terminate ", "terminated query ").replace(" delete topic", " with its topic"))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        statement = statement_of(news)
        properties = news.get("streams_properties") or {}
        with KsqlClient(_endpoint(news)) as client:
            client.wait_ready()
            catalog = Catalog(*client.catalog())
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
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            outs = _read_back(client, statement, props)
        return gone() if outs is None else ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        statement = statement_of(props)
        with KsqlClient(_endpoint(props)) as client:
            client.wait_ready()
            catalog = Catalog(*client.catalog())
            if statement.kind == "INSERT":
                if catalog.exists(statement):
                    self._run(client, statement, f"TERMINATE {insert_query_id(statement)};", {})
                return
            if statement.name not in catalog.sources:
                return
            for query_id in catalog.inserts_touching(statement.name):
                self._run(client, statement, f"TERMINATE {query_id};", {})
            kind = catalog.sources[statement.name].get("type", statement.kind).upper()
            self._run(client, statement, drop_sql(kind, statement.name, delete_topic=statement.is_query), {})


class KsqlStatementsProvider(ResourceProvider):
    """The provider of the earlier single ``KsqlStatements`` resource, kept so that stacks deployed with it
    move to one resource per object without losing anything: Pulumi loads this class from the old state to
    delete that resource once the new per-object resources have adopted what runs, so ``delete`` releases
    the objects instead of dropping them, and ``read`` keeps the recorded state."""

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        names = ", ".join(props.get("objects") or [])
        report(f"released {names or 'no objects'} to the per-object resources (nothing dropped)")
