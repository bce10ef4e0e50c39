"""A small client for the ksqlDB REST API (``POST /ksql``, ``GET /info``, ``GET /healthcheck``).

It never calls ``POST /ksql/terminate`` (that endpoint wipes the whole cluster's queries and topics).

**One statement at a time per server.** ksqlDB writes every statement into its command topic through one
transactional producer per server (its transactional id is the service id) and takes no lock: two
statements that arrive at once fence each other, and the earlier one is answered HTTP 500 ("There is a
newer producer with the same transactionalId which fences the current one."), with nothing of it run.
Two dry runs of persistent queries at once collide in the sandbox's state directory (500 "Unable to
initialize state"). The Pulumi engine calls one provider process from several threads at once, so every
request that is not a pure read (statements and dry runs) takes this process's lock of its server
(:func:`server_lock`; the server is named by ``GET /info``: Kafka cluster id and ksqlDB service id, so two
URLs of one server share it) for as long as it is under way. A collision with another process's request
is retried (:data:`COLLISIONS`), after reading the catalog when the request changes something.
"""
from __future__ import annotations

import threading
import uuid
from typing import Any, Iterable, Mapping

import requests

from providers.http import ApiError, Endpoint, ServiceClient, ServiceTimeout, maybe_sent, retrying
from providers.ksqldb.landed import Effect, effect_of, only_reads

KSQL_MEDIA_TYPE = "application/vnd.ksql.v1+json"
MISSING_SOURCE = "Could not find STREAM/TABLE"  # DESCRIBE of a source that does not exist (recorded 8.2.1 answer)
NOT_READY_STATUS = 503  # error codes 50301 (command queue catching up), 50302 (not ready), 50303
# HTTP 500 answers of a request that collided with another one at ksqlDB's command topic (its producer was
# fenced, is in an error state after a fence, or a stale command of the same id is still registered), that
# found the command topic's consumer behind, or whose sandbox met another one's state directory. A fenced
# request had not run (recorded at 8.2.1: 0 of 257); one whose wait for the consumer timed out may still be
# in the command topic, and the sandbox may have deleted the topic of a ``DROP ... DELETE TOPIC``. Retried
# with backoff, after reading the catalog (a change it shows counts as done).
COLLISIONS = ("newer producer with the same transactionalId",
              "Cannot execute transactional method because we are in an error state",
              "Another command with the same id",
              "Timeout while waiting for command topic consumer",
              "Unable to initialize state")

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def server_lock(server: str) -> threading.Lock:
    """This process's lock of one ksqlDB server: held by every request that writes or dry-runs there."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(server, threading.Lock())


def collided(exc: BaseException) -> bool:
    """Whether ksqlDB refused a request because it collided with another one (:data:`COLLISIONS`)."""
    return isinstance(exc, KsqlError) and exc.status == 500 and any(
        mark in " ".join(exc.message.split()) for mark in COLLISIONS)


class AnswerLost(ServiceTimeout):
    """A dry run's answer was lost (no answer within the operation's deadline, or the connection closed):
    ksqlDB may still be validating it, so it is not sent again beside itself. Nothing was changed."""


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
        self._server: str | None = None  # see :meth:`server`

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until ``/info`` reports RUNNING and ``/healthcheck`` reports healthy; rejected credentials
        (``/info`` needs them, ``/healthcheck`` does not) fail at once."""
        def running(response) -> bool:
            info = response.json().get("KsqlServerInfo", {})
            self._server = self._server or _identity(info)
            return info.get("serverStatus", "RUNNING") == "RUNNING"

        self._wait_ready("/info", ready=running, what="ksqlDB", timeout=timeout)
        self._wait_ready("/healthcheck", ready=lambda r: r.json().get("isHealthy") is True,
                         what="ksqlDB health check", timeout=timeout)

    def execute(self, sql: str, properties: Mapping[str, str] | None = None, *,
                retry_message: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
        """POST statements to ``/ksql``. ksqlDB validates the whole request before it executes any of it.

        The one retry layer of a statement: no connection, HTTP 503 (50301 command queue catching up,
        50302/50303 not ready: answered before anything is run), a collision (:data:`COLLISIONS`), and an
        error whose message contains ``retry_message`` are retried with bounded backoff until the client's
        deadline. A request that changes something is never sent again blindly after a failure that may
        have reached ksqlDB (a read timeout, a connection closed after sending) or a collision: the catalog
        is read first (:mod:`landed`), and when it shows the change (or an error of a later attempt meets a
        change that is there), the request ran and returns no entities. A ``dry_run`` (it changes nothing)
        is sent again after an answer, never after a lost one (:class:`AnswerLost`).

        A request that is not a pure read holds this process's lock of the server (:func:`server_lock`)
        while it is under way, and waits for its answer as long as the operation's deadline leaves (at
        least the endpoint's ``timeout``): ksqlDB validates every statement in a sandbox before it runs it,
        which took 3.3-17 s for the project's 17 statements on a loaded 2-core machine (32 s seen).
        Returns the result entities; raises KsqlError with ksqlDB's message and the failing statement's
        text.
        """
        effect = None if dry_run or only_reads(sql) else effect_of(sql)
        lost = [False]  # an attempt may have run without its answer reaching us

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, requests.RequestException):
                return isinstance(exc, (requests.ConnectionError, requests.Timeout))
            return isinstance(exc, KsqlError) and (exc.status == NOT_READY_STATUS or collided(exc) or bool(
                retry_message and retry_message in exc.message))

        def attempt() -> list[dict[str, Any]]:
            try:
                return self._execute_once(sql, properties)
            except requests.RequestException as exc:
                if not maybe_sent(exc):
                    raise
                if dry_run:
                    raise AnswerLost(f"the answer to a dry run from {self.http.url('/ksql')} was lost ({exc}); "
                                     f"ksqlDB may still be validating it, so it was not sent again; nothing was "
                                     f"changed: run the command again") from None
                if effect is None:
                    raise
                lost[0] = True
                if self._ran(effect, sql):
                    return []
                raise
            except KsqlError as exc:
                if effect is not None and (lost[0] or collided(exc)):
                    lost[0] = True
                    if self._ran(effect, sql):
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
            if only_reads(sql):
                entities = self.http.request("POST", "/ksql", json=body, ok=(200,), attempts=1).json()
            else:
                entities = self._one_at_a_time(body)
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

    def _one_at_a_time(self, body: Mapping[str, Any]) -> Any:
        """Send a request that writes or dry-runs while holding the server's lock, waiting for its answer as
        long as the deadline leaves."""
        lock = server_lock(self.server())
        patience = max(self.endpoint.timeout, self.within())
        if not lock.acquire(timeout=patience):
            raise ServiceTimeout(f"timed out after {patience:g} s waiting for this process's other statements to "
                                 f"ksqlDB at {self.endpoint.url} to finish")
        try:
            return self.http.request("POST", "/ksql", json=body, ok=(200,), attempts=1,
                                     read_timeout=max(self.endpoint.timeout, self.within())).json()
        finally:
            lock.release()

    def server(self) -> str:
        """Which ksqlDB server this is, as ``GET /info`` names it (Kafka cluster id and service id: the
        transactional id of its command-topic producer); its URL when ``/info`` does not say."""
        if self._server is None:
            try:
                info = self.http.get_json("/info", attempts=1).get("KsqlServerInfo", {})
            except (ApiError, requests.RequestException, ValueError):
                info = {}
            self._server = _identity(info) or self.http.base_url
        return self._server

    def service_id(self) -> str:
        """The server's ``ksql.service.id`` (``GET /info``): the middle of its queries' consumer group names."""
        service = self.http.get_json("/info").get("KsqlServerInfo", {}).get("ksqlServiceId")
        if not isinstance(service, str):
            raise ValueError(f"ksqlDB at {self.endpoint.url} did not name its service id in GET /info")
        return service

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
            self.execute(" ".join([*statements, sentinel]), properties, dry_run=True)
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

    def resume(self, query_id: str) -> None:
        """``RESUME <queryId>``: a paused query processes records again."""
        self.execute(f"RESUME {query_id};")


def _identity(info: Mapping[str, Any]) -> str | None:
    """``<Kafka cluster id>/<ksqlDB service id>`` from ``/info``'s ``KsqlServerInfo``, or None."""
    cluster, service = info.get("kafkaClusterId"), info.get("ksqlServiceId")
    return f"{cluster}/{service}" if cluster and service else None


def quote(name: str) -> str:
    """An identifier as SQL: plain upper-case names bare, anything else in backticks."""
    if name.isupper() and name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "`" + name.replace("`", "``") + "`"
