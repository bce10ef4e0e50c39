"""The FAKE ksqlDB HTTP server: routes, test controls, and a request's validate-then-execute."""
from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from typing import Any

from providers.ksqldb.parser import split_statements
from tests.fakes.ksqldb import syntax
from tests.fakes.ksqldb.concurrency import FENCED, CommandProducer, StateDirectories
from tests.fakes.ksqldb.engine import Engine, Origin
from tests.fakes.ksqldb.errors import StatementError
from tests.fakes.ksqldb.kafka import KafkaTopics, SandboxTopics, Topic
from tests.fakes.ksqldb.state import Query, Source, State, Traffic
from tests.fakes.server import FakeServer

NOT_READY = {"@type": "generic_error", "error_code": 50302, "message": "KSQL is not yet ready to serve requests."}
PRODUCER_WINDOW_S = 0.01  # how long a write holds the service's transactional producer (``producer``)
TOPIC_CREATION_S = 0.02  # how long a write that creates a topic spends on it before it takes the producer
VALIDATION_S = 0.002  # how long a validation holds the state directory of each query it builds
STATE_DIR = "/tmp/kafka-streams"  # ksql.streams.state.dir: Kafka Streams' default state.dir
_READS = {"SHOW", "LIST", "DESCRIBE", "EXPLAIN"}
PROCESSING_LOG = "KSQL_PROCESSING_LOG"
# ProcessingLogMessageSchema at v8.2.1, as the recorded server describes KSQL_PROCESSING_LOG
_ERROR = "ERRORMESSAGE STRING"
_PROCESSING_LOG_MESSAGE = (
    f"STRUCT<TYPE INTEGER, DESERIALIZATIONERROR STRUCT<TARGET STRING, {_ERROR}, RECORDB64 STRING, "
    f"CAUSE ARRAY<STRING>, `topic` STRING>, RECORDPROCESSINGERROR STRUCT<{_ERROR}, RECORD STRING, "
    f"CAUSE ARRAY<STRING>>, PRODUCTIONERROR STRUCT<{_ERROR}>, SERIALIZATIONERROR STRUCT<TARGET STRING, {_ERROR}, "
    f"RECORD STRING, CAUSE ARRAY<STRING>, `topic` STRING>, KAFKASTREAMSTHREADERROR STRUCT<{_ERROR}, "
    f"THREADNAME STRING, CAUSE ARRAY<STRING>>>")


def _statements(request: Any) -> list[str]:
    return split_statements(request.get("ksql", "")) if isinstance(request, dict) else []


def _asks_for_change(request: Any) -> bool:
    """A ``POST /ksql`` is a mutating call unless every statement only reads."""
    return any((statement.split() or [""])[0].upper() not in _READS for statement in _statements(request))


def _origins(text: str, statements: list[str]) -> list[Origin]:
    """Where each statement starts in the request text (line 1, column 1 when comments made it unfindable)."""
    origins, cursor = [], 0
    for statement in statements:
        at = text.find(statement, cursor)
        if at < 0:
            origins.append(Origin())
            continue
        cursor = at + len(statement)
        line = text.count("\n", 0, at) + 1
        origins.append(Origin(line, at - text.rfind("\n", 0, at)))
    return origins


class FakeKsqlDb(FakeServer):
    """Start with ``with FakeKsqlDb() as fake:``; ``fake.url`` is the base URL. Besides the common call log,
    ``statements`` (every statement received), ``executed`` (run for real after validation, failed ones
    included) and ``mutations`` (ran and changed state) are ksqlDB's views of it; ``reset_calls`` clears all.

    ``fenced`` (statements a later write fenced, answered 500 50000) and ``server_errors`` (every 5xx body
    answered on ``POST /ksql``) let a test assert that no request collided.

    ``topics``: Kafka topics that exist at start (name -> partitions), e.g. those the connectors feed;
    ``service_id``: ``ksql.service.id``, which names the processing-log topic and the queries' consumer
    groups. The processing-log stream ``KSQL_PROCESSING_LOG`` exists from the start, as on a server with
    ``ksql.logging.processing.stream.auto.create``. ``producer_window_s``/``topic_creation_s``: the real
    time a write holds the transactional producer, and spends creating its topic first; writes that
    overlap are fenced as on the real server. ``validation_s``: the real time a validation holds the state
    directory (under ``state_dir``) of each query it builds; validations that build the same query at
    once collide (``concurrency``). 0 turns a collision off."""

    content_type = "application/vnd.ksql.v1+json"

    def __init__(self, topics: dict[str, int] | None = None, service_id: str = "default_", *,
                 username: str | None = None, password: str | None = None,
                 producer_window_s: float = PRODUCER_WINDOW_S, topic_creation_s: float = TOPIC_CREATION_S,
                 validation_s: float = VALIDATION_S, state_dir: str = STATE_DIR):
        super().__init__(username=username, password=password)
        self.producer = CommandProducer(self.lock, producer_window_s, topic_creation_s)
        self.state_dirs = StateDirectories(self.lock, validation_s, state_dir, service_id)
        self.fenced: list[str] = []
        self.server_errors: list[dict] = []
        self.state = State(KafkaTopics(), service_id=service_id)
        for name, partitions in (topics or {}).items():
            self.create_topic(name, partitions)
        self._create_processing_log()
        self.executed: list[str] = []
        self.mutations: list[str] = []
        self._failures: list[tuple[str, StatementError]] = []
        self.route("GET", "/info", lambda body, query: (200, {"KsqlServerInfo": {
            "version": "8.2.1", "kafkaClusterId": "fake", "ksqlServiceId": service_id, "serverStatus": "RUNNING"}}))
        self.route("GET", "/healthcheck", lambda body, query: (200, {"isHealthy": True, "details": {
            "metastore": {"isHealthy": True}, "kafka": {"isHealthy": True}}}), public=True)
        self.route("POST", "/ksql/terminate", lambda body, query: (400, {  # counted in calls: never called
            "@type": "generic_error", "error_code": 40000,
            "message": "FAKE: POST /ksql/terminate must never be called"}))
        self.route("POST", "/ksql", lambda body, query: self._request(body or {}), mutating=_asks_for_change)

    def _create_processing_log(self) -> None:
        topic = f"{self.state.service_id}ksql_processing_log"
        self.create_topic(topic, 1)
        columns = (("LOGGER", "STRING", False), ("LEVEL", "STRING", False), ("TIME", "BIGINT", False),
                   ("MESSAGE", _PROCESSING_LOG_MESSAGE, False))
        statement = (f"CREATE STREAM {PROCESSING_LOG} ({', '.join(f'{n} {t}' for n, t, _ in columns)}) WITH "
                     f"(CLEANUP_POLICY='delete', KAFKA_TOPIC='{topic}', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');")
        self.state.sources[PROCESSING_LOG] = Source(PROCESSING_LOG, "STREAM", topic, statement, columns, "KAFKA",
                                                    "JSON", None, (), None, False)

    @property
    def sources(self) -> MutableMapping[str, Source]:
        """Every stream and table, the processing-log stream included (live: tests may change it)."""
        return self.state.sources

    @property
    def user_sources(self) -> dict[str, Source]:
        """The streams and tables statements created: every source but the server's processing log."""
        return {name: s for name, s in self.state.sources.items() if name != PROCESSING_LOG}

    @property
    def queries(self) -> MutableMapping[str, Query]:
        return self.state.queries

    @property
    def topics(self) -> dict[str, Topic]:
        """The Kafka topics that exist now, by name."""
        with self.lock:
            return {name: topic for name in self.state.topics.names() if (topic := self.state.topics.get(name))}

    @property
    def statements(self) -> list[str]:
        """Every statement received on ``POST /ksql``, in order."""
        return [statement for call in self.calls_to("POST", "/ksql") for statement in _statements(call.body)]

    # --- test controls (faults and the call log come from FakeServer) ----------------------------------
    def create_topic(self, name: str, partitions: int, replicas: int = 1) -> None:
        """A topic created outside ksqlDB (e.g. by a connector)."""
        with self.lock:
            self.state.topics.create(Topic(name, partitions, replicas))

    def delete_topic(self, name: str) -> None:
        """A topic deleted outside ksqlDB (by an admin, or by another server's ``DELETE TOPIC``)."""
        with self.lock:
            self.state.topics.delete(name)

    def record_traffic(self, topic: str, records: int, last_ms: int, failed: int = 0,
                       consumed: int | None = None) -> None:
        """``records`` are in ``topic``; the queries reading it consumed ``consumed`` (default: all) of
        them, the last at ``last_ms``, and ``failed`` failed (processing log)."""
        with self.lock:
            self.state.traffic[topic] = Traffic(records, last_ms, failed, consumed)

    def set_query_state(self, query_id: str, state: str) -> None:
        with self.lock:
            self.state.queries[query_id] = dataclasses.replace(self.state.queries[query_id], state=state)

    def fail_next_statement(self, statement_prefix: str, message: str, kind: str = "server") -> None:
        """The next statement starting with ``statement_prefix`` fails once while it is being executed
        (after the request passed validation), like a Kafka error during execution."""
        with self.lock:
            self._failures.append((statement_prefix.upper(), StatementError(message, kind)))

    def reset_calls(self) -> None:
        with self.lock:
            super().reset_calls()
            self.executed.clear()
            self.mutations.clear()
            self.fenced.clear()
            self.server_errors.clear()

    # --- answers every fake gives its own way ----------------------------------------------------------
    def unavailable_response(self, path: str) -> tuple[int, Any]:
        return 503, NOT_READY

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 404, {"@type": "generic_error", "error_code": 40400, "message": "Not found"}

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        return 401, {"@type": "generic_error", "error_code": 40100, "message": "Unauthorized"}

    # --- statements --------------------------------------------------------------------------------
    def _request(self, request: dict) -> tuple[int, Any]:
        """``KsqlResource.handleKsqlStatements``: every statement is validated in order in one sandbox
        (``RequestValidator``), each seeing the earlier ones; only then are they executed for real, each
        write through the service's transactional producer (``producer``), which a write made at the
        same moment may fence."""
        statements = _statements(request)
        origins = _origins(request.get("ksql", ""), statements)
        try:
            syntax.check(request.get("ksql", ""))
        except StatementError as exc:
            return self._refuse(exc.status, exc.body("", statements, []))
        properties = request.get("streamsProperties") or {}
        sandbox = Engine(self.state.sandbox(), properties)
        topics = sandbox.state.topics
        assert isinstance(topics, SandboxTopics)
        writes = []  # per statement: (whether it writes, whether it creates a topic)
        built = 0
        for statement, origin in zip(statements, origins):
            created = topics.created()
            try:
                answer = sandbox.run(statement, origin)
                query_id = (answer.get("commandStatus") or {}).get("queryId")
                if query_id and (collision := self.state_dirs.build(query_id, first=not built)):
                    raise StatementError(collision, "server")
                built += bool(query_id)
            except StatementError as exc:
                return self._refuse(exc.status, exc.body(statement, statements, []))
            writes.append((answer.get("@type") == "currentStatus", topics.created() > created))
        entities: list[dict] = []
        for statement, origin, (write, topic) in zip(statements, origins, writes):
            if write and not self.producer.transaction(topic):
                self.fenced.append(statement)
                return self._refuse(500, StatementError(FENCED, "server", statement).body(
                    statement, statements, entities))
            self.executed.append(statement)
            try:
                for prefix, error in list(self._failures):
                    if statement.upper().startswith(prefix):
                        self._failures.remove((prefix, error))
                        raise error
                entity = Engine(self.state, properties).run(statement, origin)
            except StatementError as exc:
                return self._refuse(exc.status, exc.body(statement, statements, entities))
            if not entity:  # INSERT ... VALUES: no command, no entity
                continue
            if entity.get("@type") == "currentStatus":
                self.mutations.append(statement)
            entity.setdefault("statementText", statement)
            entity.setdefault("warnings", [])
            entities.append(entity)
        return 200, entities

    def _refuse(self, status: int, body: dict) -> tuple[int, dict]:
        if status >= 500:
            self.server_errors.append(body)
        return status, body
