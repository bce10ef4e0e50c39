"""A small client for the ksqlDB REST API (``POST /ksql``, ``GET /info``, ``GET /healthcheck``).

It never calls ``POST /ksql/terminate`` (that endpoint wipes the whole cluster's queries and topics).
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable, Mapping

import requests

from providers.http import ApiError, Endpoint, ServiceClient, maybe_sent, retrying
from providers.ksqldb.landed import Effect, effect_of

KSQL_MEDIA_TYPE = "application/vnd.ksql.v1+json"
MISSING_SOURCE = "Could not find STREAM/TABLE"  # DESCRIBE of a source that does not exist (recorded 8.2.1 answer)
NOT_READY_STATUS = 503  # error codes 50301 (command queue catching up), 50302 (not ready), 50303


class KsqlError(Exception):
    """ksqlDB rejected a request: its own message and error code, and ``statement_text``, the statement
    ksqlDB named (empty when its answer names none: ``generic_error`` bodies carry no statement)."""

    def __init__(self, message: str, *, error_code: int | None = None, statement_text: str = "",
                 entities: list | None = None, url: str = "", sent: str = "", status: int | None = None):
        detail = f"ksqlDB error {error_code}: {message}" if error_code else f"ksqlDB error: {message}"
        if statement_text or sent:
            detail += f"\nstatement: {(statement_text or sent).strip()}"
        super().__init__(detail)
        self.message, self.error_code, self.statement_text = message, error_code, statement_text
        self.entities, self.url, self.status = entities or [], url, status


class KsqlClient(ServiceClient):
    """Run statements against one ksqlDB server (or cluster behind one URL)."""

    service = "ksqlDB"
    credentials = "the ksqlDB username/password (the resources' username and password inputs)"

    def __init__(self, endpoint: Endpoint, observer=None):
        super().__init__(endpoint, default_headers={"Accept": KSQL_MEDIA_TYPE, "Content-Type": KSQL_MEDIA_TYPE},
                         observer=observer)

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until ``/info`` reports RUNNING and ``/healthcheck`` reports healthy; rejected credentials
        (``/info`` needs them, ``/healthcheck`` does not) fail at once."""
        def running(response) -> bool:
            info = response.json().get("KsqlServerInfo", {})
            return info.get("serverStatus", "RUNNING") == "RUNNING"

        self._wait_ready("/info", ready=running, what="ksqlDB", timeout=timeout)
        self._wait_ready("/healthcheck", ready=lambda r: r.json().get("isHealthy") is True,
                         what="ksqlDB health check", timeout=timeout)

    def execute(self, sql: str, properties: Mapping[str, str] | None = None, *,
                retry_message: str | None = None, resendable: bool = False) -> list[dict[str, Any]]:
        """POST statements to ``/ksql``. ksqlDB validates the whole request before it executes any of it.

        The one retry layer of a statement: no connection, and HTTP 503 (50301 command queue catching up,
        50302/50303 not ready: answered before anything is run), and an error whose message contains
        ``retry_message`` are retried with bounded backoff until the client's deadline. A request that
        changes something is never sent again blindly after a failure that may have reached ksqlDB (a read
        timeout, a connection closed after sending): the catalog is read first (:mod:`landed`), and when it
        shows the change (or an error of a later attempt meets a change that is there), the request ran and
        returns no entities (``resendable``: a request that can never change anything, such as a dry run, is
        simply sent again). Returns the result entities; raises KsqlError with ksqlDB's message and the
        failing statement's text.
        """
        effect = None if resendable else effect_of(sql)
        lost = [False]  # an attempt may have run without its answer reaching us

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, requests.RequestException):
                return isinstance(exc, (requests.ConnectionError, requests.Timeout))
            return isinstance(exc, KsqlError) and (exc.status == NOT_READY_STATUS or bool(
                retry_message and retry_message in exc.message))

        def attempt() -> list[dict[str, Any]]:
            try:
                return self._execute_once(sql, properties)
            except requests.RequestException as exc:
                if effect is None or not maybe_sent(exc):
                    raise
                lost[0] = True
                if self._ran(effect, sql):
                    return []
                raise
            except KsqlError:
                if effect is not None and lost[0] and self._ran(effect, sql):
                    return []
                raise

        return retrying(retryable, timeout=self.within())(attempt)

    def _ran(self, effect: Effect, sql: str) -> bool:
        """Whether the catalog shows ``effect``: the request whose answer was lost ran."""
        if effect.kind is None:
            raise KsqlError(f"the answer from {self.http.url('/ksql')} was lost and ksqlDB's catalog cannot tell "
                            "whether this request ran, so it was not sent again; check what runs (SHOW STREAMS; "
                            "SHOW TABLES; SHOW QUERIES;) before you run it again", sent=sql)
        descriptions, queries, _ = self.catalog()
        return effect.seen({d.get("name", "") for d in descriptions}, {q.get("id", "") for q in queries})

    def _execute_once(self, sql: str, properties: Mapping[str, str] | None) -> list[dict[str, Any]]:
        body = {"ksql": sql, "streamsProperties": dict(properties or {})}
        try:
            entities = self.http.request("POST", "/ksql", json=body, ok=(200,), attempts=1).json()
        except ApiError as exc:
            payload = exc.body if isinstance(exc.body, dict) else {}
            raise KsqlError(payload.get("message") or exc.message, error_code=payload.get("error_code"),
                            statement_text=payload.get("statementText") or "", sent=sql,
                            entities=payload.get("entities"), url=exc.url, status=exc.status) from None
        for entity in self.http.redact(entities):
            status = entity.get("commandStatus") or {}
            if status.get("status") == "ERROR":
                raise KsqlError(status.get("message", "command failed"),
                                statement_text=entity.get("statementText") or "", sent=sql,
                                url=self.http.url("/ksql"))
        return entities

    def dry_run(self, statements: list[str], properties: Mapping[str, str] | None = None) -> None:
        """Have ksqlDB validate ``statements``, in order, without running any of them.

        ksqlDB's ``RequestValidator`` runs every statement of a request against a sandboxed copy of the
        engine (each one sees what the earlier ones did: a DROP frees a name, a dropped topic is gone) and
        executes nothing unless all of them pass. The request therefore ends with a ``DROP`` of a stream no
        one can have: when that is the statement ksqlDB refuses, everything before it was accepted.
        Only a statement error (40001) that names exactly that DROP counts as success: other errors either
        name the refused statement, or name none (``generic_error``), or quote the whole request (50000).
        Raises KsqlError when one of ``statements`` is refused.
        """
        marker = f"PULUMI_DRY_RUN_{uuid.uuid4().hex.upper()}"
        sentinel = f"DROP STREAM {marker};"
        try:
            self.execute(" ".join([*statements, sentinel]), properties, resendable=True)
        except KsqlError as exc:
            if exc.error_code == 40001 and exc.statement_text.strip() == sentinel:
                return
            raise
        raise KsqlError(f"dry run: ksqlDB accepted DROP STREAM {marker}, which names no stream; "
                        f"the statements before it may have run: {' '.join(statements)}")

    def catalog(self, names: Iterable[str] | None = None, *, expected: bool = False
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        """Streams and tables as ``DESCRIBE ... EXTENDED`` reports them, persistent queries, and the name of
        every Kafka topic ksqlDB sees (``SHOW TOPICS``).

        Without ``names``: every stream, table and query (``SHOW QUERIES``), in one request. With ``names``:
        only those of them that exist (a listing of names, then one ``DESCRIBE`` each and the topics in a
        second request), and the queries that read or write them — so what one object reads does not grow
        with the number of objects on the server (another deployment step may drop one of them between the
        two: then they are listed again). ``expected``: the names most likely exist, so they are described
        at once (one request), and listed only when ksqlDB says one of them is missing.
        """
        if names is None:
            return self._split(self.execute("SHOW STREAMS EXTENDED; SHOW TABLES EXTENDED; SHOW QUERIES; SHOW TOPICS;"))
        names = list(dict.fromkeys(names))
        if expected:
            try:
                return self.described(names)
            except KsqlError as exc:
                if MISSING_SOURCE not in exc.message:
                    raise
        for _ in range(len(names) + 1):  # each refusal is one that was dropped meanwhile: list them again
            listing = self.execute("LIST STREAMS; LIST TABLES;")
            existing = {source["name"] for entity in listing
                        for source in entity.get("streams", []) + entity.get("tables", [])}
            try:
                return self.described([name for name in names if name in existing])
            except KsqlError as exc:
                if MISSING_SOURCE not in exc.message:
                    raise
        raise KsqlError(f"the streams and tables {', '.join(names)} kept being dropped while they were read")

    def described(self, names: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        """Like :meth:`catalog` for ``names`` known to exist, in one request (``DESCRIBE`` of a stream or table
        that does not exist is refused)."""
        entities = self.execute(" ".join([*(f"DESCRIBE {quote(name)} EXTENDED;" for name in names), "SHOW TOPICS;"]))
        descriptions, _, topics = self._split(entities)
        queries = {query["id"]: query for description in descriptions
                   for query in description.get("writeQueries", []) + description.get("readQueries", [])}
        return descriptions, list(queries.values()), topics

    @staticmethod
    def _split(entities: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        descriptions: list[dict[str, Any]] = []
        queries: list[dict[str, Any]] = []
        topics: list[str] = []
        for entity in entities:
            descriptions.extend(entity.get("sourceDescriptions", []))
            if "sourceDescription" in entity:
                descriptions.append(entity["sourceDescription"])
            queries.extend(entity.get("queries", []))
            topics.extend(topic["name"] for topic in entity.get("topics", []))
        return descriptions, queries, topics

    def terminate(self, query_id: str) -> None:
        """``TERMINATE <queryId>`` (one query; never the cluster-wide terminate endpoint)."""
        self.execute(f"TERMINATE {query_id};")

    def resume(self, query_id: str) -> None:
        """``RESUME <queryId>``: a paused query processes records again."""
        self.execute(f"RESUME {query_id};")


def endpoint_of(props: Mapping[str, Any]) -> Endpoint:
    """The Endpoint of a ksqlDB resource's inputs (``ksqldb_url``, ``username``, ``password``, timeouts)."""
    return Endpoint(url=props["ksqldb_url"], **{name: props[name] for name in (
        "username", "password", "ready_timeout", "probe_timeout") if props.get(name)})


def quote(name: str) -> str:
    """An identifier as SQL: plain upper-case names bare, anything else in backticks."""
    if name.isupper() and name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "`" + name.replace("`", "``") + "`"
