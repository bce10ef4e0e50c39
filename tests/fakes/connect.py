"""A FAKE Kafka Connect REST API (distributed worker) served in-process on 127.0.0.1 for provider tests.

It follows the documented behaviour of Apache Kafka Connect 3.x/4.x: status codes (PUT config 201/200,
POST /connectors 409 on an existing name, pause/resume 202, stop 204, restart 204/202, DELETE 204,
404 ``{"error_code": 404, "message": "Connector x not found"}``), config validation with
``error_count`` and ``configs[].value.errors``, connector/task states that settle only after
``settle_polls`` status polls (UNASSIGNED first), task FAILED with a Java-style ``trace`` that stays
FAILED until a restart (and, like a real worker, is still reported for ``stale_failed_polls`` polls
after one). Answers were checked against Apache Kafka 4.3.1. It knows the connectors that
ship with Apache Kafka (FileStream*, Mirror*), by full class name or alias, and fails
a FileStreamSink task whose file cannot be created, as the real task does. ``DATAGEN`` and
``ELASTICSEARCH_SINK`` model the two Confluent plugins the pipeline installs (their config key names).

Validation (``PUT /connector-plugins/{class}/config/validate``) answers as AbstractHerder.validateConnectorConfig
does: one entry per DEFINED key only — the framework's (ConnectorConfig plus Source/SinkConnectorConfig,
names as a 4.3.1 worker lists them), the plugin's own (``Plugin.keys``), the converter keys under
``key.converter.``/``value.converter.``/``header.converter.`` when that converter is set in the config
(Json/String/Integer/ByteArray converters), and the client overrides the connector uses (sources:
``producer.override.*``; sinks: ``consumer.override.*``, plus producer/admin ones once a dead-letter topic is
set), and for each alias in ``transforms`` its ``type``, ``predicate`` and ``negate`` and the transformation's
own keys under ``transforms.<alias>.`` (``ConnectorConfig.enrich``; Flatten and ReplaceField modelled).
Declared keys nothing defines (``tasks.maxx``) are not in the answer, as on a real worker. Not modelled:
predicates' definitions, the Mirror connectors' own keys, the ES sink's embedded ``elastic.https.ssl.*`` keys. The worker forgets a deleted connector only after ``forget_polls`` further
status polls (it reports it UNASSIGNED meanwhile, as a real worker does until its status tombstone is
read back).

Fault injection: ``drop_next(n)`` closes n connections without answering (a worker not listening yet),
``fail_next(n, status, message)`` answers n requests with an error (503 starting, 409 rebalance ...),
``html_404_next(n)`` answers n requests with Jetty's HTML 404 (a restarting worker whose REST resources
are not registered yet).
``mask_passwords`` makes GET config return ``[hidden]`` for keys ending in ``password``, as managed
Connect services do (Apache Kafka itself returns stored values as they are).
Every request is recorded in ``calls`` as ``(method, path, status)``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
VERSION = "4.3.1"  # the Apache Kafka version whose answers this fake was checked against
REBALANCE_MESSAGE = ("Cannot complete request momentarily due to no known leader URL, "
                     "likely because a rebalance is underway.")
STARTING_MESSAGE = "Worker is still starting up."


def _sink_task_failure(config: dict[str, str]) -> str | None:
    path = config.get("file")
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return (f"org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '{path}' "
                "for FileStreamSinkTask\n\tat org.apache.kafka.connect.file.FileStreamSinkTask.start("
                "FileStreamSinkTask.java:71)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.initializeAndStart("
                f"WorkerSinkTask.java:329)\nCaused by: java.nio.file.NoSuchFileException: {path}\n"
                "\tat java.base/sun.nio.fs.UnixException.translateToIOException(UnixException.java:92)\n")
    return None


def _alias(name: str) -> str:
    """Connect's normalised plugin name: the class name without a trailing ``Connector``."""
    return name[:-len("Connector")] if name.endswith("Connector") and len(name) > len("Connector") else name


def _not_found_message(name: str, rest: list[str]) -> str:
    """Kafka Connect words its 404s differently per endpoint."""
    if rest == ["status"]:
        return f"No status found for connector {name}"
    if rest in (["pause"], ["resume"], ["stop"]):
        return f"Unknown connector {name}"
    if rest == ["restart"]:
        return f"Unknown connector: {name}"
    return f"Connector {name} not found"


# ConnectorConfig, then SourceConnectorConfig / SinkConnectorConfig: the definitions a 4.3.1 worker returns
COMMON_KEYS = ("name", "connector.class", "connector.plugin.version", "tasks.max", "tasks.max.enforce",
               "key.converter", "key.converter.plugin.version", "value.converter", "value.converter.plugin.version",
               "header.converter", "header.converter.plugin.version", "transforms", "predicates",
               "config.action.reload", "errors.retry.timeout", "errors.retry.delay.max.ms", "errors.tolerance",
               "errors.log.enable", "errors.log.include.messages")
SOURCE_KEYS = ("topic.creation.groups", "exactly.once.support", "transaction.boundary",
               "transaction.boundary.interval.ms", "offsets.storage.topic")
SINK_KEYS = ("topics", "topics.regex", "errors.deadletterqueue.topic.name",
             "errors.deadletterqueue.topic.replication.factor", "errors.deadletterqueue.context.headers.enable")
GROUPS = {"source": ["Common", "Transforms", "Predicates", "Error Handling", "Topic Creation",
                     "Exactly Once Support", "offsets.topic"],
          "sink": ["Common", "Transforms", "Predicates", "Error Handling"]}
CONVERTER_KEYS = {  # each converter's ConfigDef, as the worker lists it under the converter's prefix
    "org.apache.kafka.connect.json.JsonConverter": ("decimal.format", "converter.type", "schemas.cache.size",
                                                    "replace.null.with.default", "schemas.enable", "schema.content"),
    "org.apache.kafka.connect.storage.StringConverter": ("converter.type", "converter.encoding"),
    "org.apache.kafka.connect.converters.IntegerConverter": ("converter.type",),
    "org.apache.kafka.connect.converters.ByteArrayConverter": ("converter.type",),
}

TRANSFORM_KEYS = {  # the ConfigDef of each transformation modelled, as ConnectorConfig.enrich embeds it
    "org.apache.kafka.connect.transforms.Flatten$Value": ("delimiter",),
    "org.apache.kafka.connect.transforms.Flatten$Key": ("delimiter",),
    "org.apache.kafka.connect.transforms.ReplaceField$Value": ("exclude", "include", "renames",
                                                               "replace.null.with.default"),
    "org.apache.kafka.connect.transforms.ReplaceField$Key": ("exclude", "include", "renames",
                                                             "replace.null.with.default"),
}


@dataclasses.dataclass(frozen=True)
class Plugin:
    cls: str
    type: str  # "source" | "sink"
    required: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    task_failure: Callable[[dict[str, str]], str | None] = lambda config: None
    keys: tuple[str, ...] = ()  # the plugin's own ConfigDef key names

    def matches(self, name: str) -> bool:
        simple = self.cls.rsplit(".", 1)[-1]
        return name in (self.cls, simple, simple.removesuffix("Connector"))


PLUGINS = (
    Plugin("org.apache.kafka.connect.file.FileStreamSinkConnector", "sink", task_failure=_sink_task_failure,
           keys=("file",)),
    Plugin("org.apache.kafka.connect.file.FileStreamSourceConnector", "source", required=("topic",),
           ints=("batch.size",), keys=("file", "topic", "batch.size")),
    Plugin("org.apache.kafka.connect.mirror.MirrorCheckpointConnector", "source"),
    Plugin("org.apache.kafka.connect.mirror.MirrorHeartbeatConnector", "source",
           ints=("emit.heartbeats.interval.seconds",)),
    Plugin("org.apache.kafka.connect.mirror.MirrorSourceConnector", "source"),
)  # the connectors an Apache Kafka worker lists, in its (class name) order


# confluentinc/kafka-connect-datagen 0.7.x DatagenConnectorConfig
DATAGEN = Plugin("io.confluent.kafka.connect.datagen.DatagenConnector", "source", required=("kafka.topic",),
                 ints=("iterations",), keys=("kafka.topic", "max.interval", "iterations", "schema.string",
                                             "schema.filename", "schema.keyfield", "quickstart", "random.seed"))
# confluentinc/kafka-connect-elasticsearch ElasticsearchSinkConnectorConfig, read in the 15.1.3 source (the
# newest the source could be read for; docs/versions.md says what was checked for 16.0.1)
ELASTICSEARCH_SINK = Plugin(
    "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector", "sink", required=("connection.url",),
    ints=("batch.size", "max.in.flight.requests", "max.buffered.records", "max.retries"),
    keys=("connection.url", "connection.username", "connection.password", "batch.size", "bulk.size.bytes",
          "max.in.flight.requests", "max.buffered.records", "linger.ms", "flush.timeout.ms", "flush.synchronously",
          "max.retries", "retry.backoff.ms", "connection.compression", "max.connection.idle.time.ms",
          "connection.timeout.ms", "read.timeout.ms", "topic.key.ignore", "topic.schema.ignore", "key.ignore",
          "schema.ignore", "compact.map.entries", "drop.invalid.message", "behavior.on.null.values",
          "behavior.on.malformed.documents", "external.version.header", "write.method", "proxy.host", "proxy.port",
          "proxy.username", "proxy.password", "elastic.security.protocol", "kerberos.user.principal",
          "kerberos.keytab.path", "data.stream.namespace", "data.stream.dataset", "use.autogenerated.ids",
          "data.stream.type", "data.stream.timestamp.field", "external.resource.usage",
          "topic.to.external.resource.mapping", "max.external.resource.mappings"))


def defined_keys(plugin: Plugin, config: dict[str, str]) -> list[str]:
    """The key names a worker's validate answer defines for ``config`` (see the module docstring)."""
    keys = [*COMMON_KEYS, *(SOURCE_KEYS if plugin.type == "source" else SINK_KEYS), *plugin.keys]
    clients = ["producer"] if plugin.type == "source" else ["consumer"]
    if plugin.type == "sink" and config.get("errors.deadletterqueue.topic.name"):
        clients += ["producer", "admin"]
    keys += [key for client in clients for key in config if key.startswith(f"{client}.override.")]
    for converter in ("header.converter", "key.converter", "value.converter"):
        keys += [f"{converter}.{key}" for key in CONVERTER_KEYS.get(config.get(converter, ""), ())]
    for alias in filter(None, (a.strip() for a in config.get("transforms", "").split(","))):
        prefix = f"transforms.{alias}."
        own = TRANSFORM_KEYS.get(config.get(prefix + "type", ""), ())
        keys += [prefix + key for key in ("type", "predicate", "negate", *own)]
    return list(dict.fromkeys(keys))


@dataclasses.dataclass
class _Connector:
    config: dict[str, str]
    plugin: Plugin
    target: str = "STARTED"  # STARTED | PAUSED | STOPPED
    settling: int = 0  # status polls left before the connector reaches its target state
    started: bool = False  # tasks started since the last change; a FAILED task stays FAILED until restarted
    trace: str | None = None
    stale: int = 0  # status polls that still show the FAILED state from before a restart

    def restart(self, polls: int, stale: int = 0) -> None:
        self.stale = stale if self.trace else 0
        self.trace = self.trace if self.stale else None
        self.settling, self.started = polls, False


_HTML_404 = (b"<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n"
             b"<title>Error 404 Not Found</title>\n</head>\n<body><h2>HTTP ERROR 404 Not Found</h2></body>\n</html>\n")


class _Html404(Exception):
    pass


class _Error(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class FakeConnect:
    """The fake worker. Use as a context manager; ``url`` is its REST base URL."""

    def __init__(self, *, settle_polls: int = 1, stale_failed_polls: int = 1, forget_polls: int = 1,
                 mask_passwords: bool = True, health_endpoint: bool = True, extra_plugins: tuple[Plugin, ...] = ()):
        self.plugins = PLUGINS + tuple(extra_plugins)  # e.g. DATAGEN and ELASTICSEARCH_SINK
        self.settle_polls = settle_polls
        self.forget_polls = forget_polls
        self.stale_failed_polls = stale_failed_polls
        self.mask_passwords = mask_passwords
        self.health_endpoint = health_endpoint
        self.connectors: dict[str, _Connector] = {}
        self.forgetting: dict[str, int] = {}  # deleted connector -> status polls that still report it
        self.calls: list[tuple[str, str, int]] = []
        self._drops = 0
        self._faults: list[tuple[int, str | None, frozenset[str]]] = []
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-connect", daemon=True)

    def __enter__(self) -> "FakeConnect":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- fault injection and inspection -------------------------------------------------------------
    def drop_next(self, n: int) -> None:
        """Close the next n connections without an answer (the client sees a connection error)."""
        with self._lock:
            self._drops += n

    def fail_next(self, n: int, status: int, message: str, methods: frozenset[str] | None = None) -> None:
        """Answer the next n requests (of ``methods``, default all) with ``status`` and ``message``."""
        with self._lock:
            self._faults.extend([(status, message, methods or frozenset({"GET", *MUTATING}))] * n)

    def restart_tasks_out_of_band(self, name: str) -> None:
        """The worker restarts the connector's tasks by itself (e.g. after a rebalance)."""
        with self._lock:
            self.connectors[name].restart(0)

    def html_404_next(self, n: int, methods: frozenset[str] | None = None) -> None:
        """Answer the next n requests (of ``methods``, default all) with Jetty's HTML 404 page, as a worker
        does before Connect's REST resources are registered."""
        with self._lock:
            self._faults.extend([(404, None, methods or frozenset({"GET", *MUTATING}))] * n)

    def mutating_calls(self) -> list[tuple[str, str, int]]:
        return [call for call in self.calls if call[0] in MUTATING]

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- request handling ------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output quiet
                pass

            def _serve(self) -> None:
                with fake._lock:
                    if fake._drops:
                        fake._drops -= 1
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                try:
                    body = json.loads(raw) if raw else None
                    status, payload = fake._dispatch(self.command, parsed.path,
                                                     urllib.parse.parse_qs(parsed.query), body)
                except _Html404:
                    fake._send(self, parsed.path, 404, _HTML_404, "text/html;charset=iso-8859-1")
                    return
                except _Error as err:
                    status, payload = err.status, {"error_code": err.status, "message": err.message}
                except ValueError as err:
                    status, payload = 400, {"error_code": 400, "message": f"Unrecognized JSON: {err}"}
                fake._send(self, parsed.path, status, b"" if payload is None else json.dumps(payload).encode(),
                           "application/json")

            do_GET = do_PUT = do_POST = do_DELETE = _serve

        return Handler

    def _send(self, handler: BaseHTTPRequestHandler, path: str, status: int, data: bytes, content_type: str) -> None:
        with self._lock:
            self.calls.append((handler.command, path, status))
        handler.send_response(status)
        if data:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        with self._lock:
            for index, (status, message, methods) in enumerate(self._faults):
                if method in methods:
                    del self._faults[index]
                    if message is None:
                        raise _Html404()
                    if path == "/health" and status == 503:
                        return 503, {"status": "starting", "message": STARTING_MESSAGE}
                    raise _Error(status, message)
            parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
            return self._route(method, parts, query, body)

    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if not parts and method == "GET":
            return 200, {"version": VERSION, "commit": "fake", "kafka_cluster_id": "fake-cluster-id"}
        if parts == ["health"] and method == "GET" and self.health_endpoint:
            return 200, {"status": "healthy",
                         "message": "Worker has completed startup and is ready to handle requests."}
        if parts == ["connector-plugins"] and method == "GET":
            return 200, [{"class": p.cls, "type": p.type, "version": VERSION} for p in self.plugins]
        if len(parts) == 4 and parts[0] == "connector-plugins" and parts[2:] == ["config", "validate"] \
                and method == "PUT":
            return 200, self._validate(parts[1], body or {})
        if parts == ["connectors"]:
            if method == "GET":
                return 200, sorted(self.connectors)
            if method == "POST":
                return self._post_connector(body or {})
        if len(parts) >= 2 and parts[0] == "connectors":
            return self._connector_route(method, parts[1], parts[2:], query, body)
        raise _Error(404, "HTTP 404 Not Found")

    def _connector_route(self, method: str, name: str, rest: list[str], query: dict[str, list[str]],
                         body: Any) -> tuple[int, Any]:
        if rest == ["config"] and method == "PUT":
            created = self._put_config(name, dict(body or {}))
            return (201 if created else 200), self._info(name)
        connector = self.connectors.get(name)
        if connector is None and rest == ["status"] and self.forgetting.get(name):
            self.forgetting[name] -= 1
            worker = self.url.removeprefix("http://")
            return 200, {"name": name, "connector": {"state": "UNASSIGNED", "worker_id": worker, "version": VERSION},
                         "tasks": [], "type": "unknown"}
        if connector is None:
            raise _Error(404, _not_found_message(name, rest))
        if not rest and method == "GET":
            return 200, self._info(name)
        if not rest and method == "DELETE":
            del self.connectors[name]
            self.forgetting[name] = self.forget_polls
            return 204, None
        if rest == ["config"] and method == "GET":
            return 200, self._shown_config(connector.config)
        if rest == ["status"] and method == "GET":
            return 200, self._status(name, connector)
        if rest in (["pause"], ["resume"], ["stop"]) and method == "PUT":
            connector.target = {"pause": "PAUSED", "resume": "STARTED", "stop": "STOPPED"}[rest[0]]
            connector.restart(self.settle_polls)
            return (204 if rest == ["stop"] else 202), None
        if rest == ["restart"] and method == "POST":
            connector.restart(self.settle_polls, self.stale_failed_polls)
            flags = {key: query.get(key, ["false"])[0] == "true" for key in ("includeTasks", "onlyFailed")}
            if not any(flags.values()):
                return 204, None
            return 202, self._status(name, connector)
        raise _Error(405, "HTTP 405 Method Not Allowed")

    def _plugin(self, cls: str | None, *, validating: bool = False) -> Plugin:
        for plugin in self.plugins:
            if cls and plugin.matches(cls):
                return plugin
        listing = ", ".join(f"PluginDesc{{klass=class {p.cls}, name='{p.cls}', version='{VERSION}', "
                            f"encodedVersion={VERSION}, type={p.type}, typeName='{p.type}', location='classpath'}}"
                            for p in self.plugins)
        message = f"Failed to find any class that implements Connector and which name matches {cls}, " \
                  f"available connectors are: {listing}"
        if validating:  # Kafka 4 answers validate with a 500 wrapping the BadRequestException
            raise _Error(500, f"org.apache.kafka.connect.runtime.rest.errors.BadRequestException: {message}")
        raise _Error(400, f"org.apache.kafka.connect.errors.ConnectException: {message}")

    def _errors(self, config: dict[str, str]) -> tuple[Plugin, dict[str, list[str]]]:
        plugin = self._plugin(config.get("connector.class"))
        errors: dict[str, list[str]] = {key: [] for key in ("name", "connector.class", "tasks.max", *config)}
        if not config.get("name", "").strip():
            errors["name"].append('Missing required configuration "name" which has no default value.')
        for key in plugin.required:
            if not config.get(key):
                errors.setdefault(key, []).append(f'Missing required configuration "{key}" which has no default value.')
        for key in ("tasks.max", *plugin.ints):
            value = config.get(key)
            if value is not None and not value.lstrip("-").isdigit():
                errors[key].append(f"Invalid value {value} for configuration {key}: Not a number of type INT")
        if config.get("tasks.max", "1").lstrip("-").isdigit() and int(config.get("tasks.max", "1")) < 1:
            errors["tasks.max"].append(f"Invalid value {config['tasks.max']} for configuration tasks.max: "
                                       "Value must be at least 1")
        if plugin.type == "sink" and not (config.get("topics") or config.get("topics.regex")):
            errors.setdefault("topics", []).append("Must configure one of topics or topics.regex")
        return plugin, errors

    def _validate(self, plugin_name: str, config: dict[str, str]) -> dict[str, Any]:
        included = config.get("connector.class")
        if included and not _alias(included).endswith(_alias(plugin_name)):
            raise _Error(400, f"Included connector type {included} does not match request type {plugin_name}")
        self._plugin(included or plugin_name, validating=True)
        config = {"connector.class": plugin_name, **config}
        plugin, errors = self._errors(config)
        configs = [{"definition": {"name": key, "type": "PASSWORD" if key.endswith("password") else "STRING",
                                   "required": key in ("name", "connector.class", *plugin.required)},
                    "value": {"name": key, "value": "[hidden]" if key.endswith("password") else config.get(key),
                              "recommended_values": [], "errors": errors.get(key, []), "visible": True}}
                   for key in defined_keys(plugin, config)]
        return {"name": plugin.cls, "error_count": sum(len(m) for m in errors.values()),
                "groups": GROUPS[plugin.type], "configs": configs}

    def _put_config(self, name: str, config: dict[str, str]) -> bool:
        if config.get("name", name) != name:
            raise _Error(400, f"Connector name configuration ({config['name']}) doesn't match connector name "
                              f"in the URL ({name})")
        config["name"] = name
        self.forgetting.pop(name, None)
        plugin, errors = self._errors(config)
        messages = [message for key_errors in errors.values() for message in key_errors]
        if messages:
            raise _Error(400, f"Connector configuration is invalid and contains the following {len(messages)} "
                              f"error(s):\n" + "\n".join(messages) + "\nYou can also find the above list of errors "
                              "at the endpoint `/connector-plugins/{connectorType}/config/validate`")
        existing = self.connectors.get(name)
        if existing is None:
            self.connectors[name] = _Connector(config=config, plugin=plugin, settling=self.settle_polls)
            return True
        existing.config, existing.plugin = config, plugin
        existing.restart(self.settle_polls)
        return False

    def _post_connector(self, body: dict[str, Any]) -> tuple[int, Any]:
        name = (body.get("name") or "").strip()
        if name in self.connectors:
            raise _Error(409, f"Connector {name} already exists")
        self._put_config(name, dict(body.get("config") or {}))
        initial = body.get("initial_state", "RUNNING")
        self.connectors[name].target = {"RUNNING": "STARTED"}.get(initial, initial)
        return 201, self._info(name)

    def _info(self, name: str) -> dict[str, Any]:
        connector = self.connectors[name]
        return {"name": name, "config": self._shown_config(connector.config),
                "tasks": [{"connector": name, "task": 0}], "type": connector.plugin.type}

    def _shown_config(self, config: dict[str, str]) -> dict[str, str]:
        if not self.mask_passwords:
            return dict(config)
        return {key: "[hidden]" if key.endswith("password") else value for key, value in config.items()}

    def _status(self, name: str, connector: _Connector) -> dict[str, Any]:
        worker = self.url.removeprefix("http://")
        if connector.stale > 0:  # like a real worker right after POST /restart: the old FAILED state
            connector.stale -= 1
            snapshot = self._settled_status(name, connector, worker)
            connector.trace = connector.trace if connector.stale else None
            return snapshot
        if connector.settling > 0:
            connector.settling -= 1
            tasks = [] if connector.settling else [{"id": 0, "state": "UNASSIGNED", "worker_id": worker,
                                                    "version": VERSION}]
            return {"name": name, "connector": {"state": "UNASSIGNED", "worker_id": worker, "version": VERSION},
                    "tasks": tasks, "type": connector.plugin.type}
        state = {"STARTED": "RUNNING", "PAUSED": "PAUSED", "STOPPED": "STOPPED"}[connector.target]
        if state == "RUNNING" and not connector.started:
            connector.started, connector.trace = True, connector.plugin.task_failure(connector.config)
        return self._settled_status(name, connector, worker)

    def _settled_status(self, name: str, connector: _Connector, worker: str) -> dict[str, Any]:
        state = {"STARTED": "RUNNING", "PAUSED": "PAUSED", "STOPPED": "STOPPED"}[connector.target]
        tasks = []
        if state != "STOPPED":
            task = {"id": 0, "state": state, "worker_id": worker, "version": VERSION}
            if connector.trace:
                task.update(state="FAILED", trace=connector.trace)
            tasks.append(task)
        return {"name": name, "connector": {"state": state, "worker_id": worker, "version": VERSION},
                "tasks": tasks, "type": connector.plugin.type}
