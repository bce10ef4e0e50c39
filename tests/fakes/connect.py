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
Declared keys nothing defines (``tasks.maxx``) are not in the answer, as on a real worker. Source topic
creation (KIP-158) is one of them: of the ``topic.creation.*`` family a 4.3.1 worker defines only
``topic.creation.groups`` (SourceConnectorConfig.configDef); ``topic.creation.default.*`` and each group's keys
are neither defined nor checked by validate (AbstractHerder validates against that base definition; the
constructor of SourceConnectorConfig embeds the groups, TopicCreationConfig, only when the connector starts),
so a bad value (``partitions=0``) passes validate and PUT and fails the connector at start with
TopicCreationConfig's ConfigException (not modelled). Recorded from the harness worker by
tests/provider/test_connector_real_worker.py (``source-with-topic-creation``). The value errors
are ConnectorConfig's validators: ``tasks.max`` at least 1 and an INT (``ConfigDef.Range.atLeast(1)``),
a missing required key, a sink without ``topics``/``topics.regex`` (SinkConnectorConfig.validate), and a
``key.converter``/``value.converter``/``header.converter`` the worker cannot load or that does not implement
Converter/HeaderConverter (``CONVERTER_INTERFACES``), in the words of a 4.3.1 worker. The answer changes
nothing on the worker (``ConnectorsResource``/``ConnectorPluginsResource`` only validates), so the route is
not a mutating one: a preview may call it. Not modelled:
predicates' definitions, the Mirror connectors' own keys, the ES sink's embedded ``elastic.https.ssl.*`` keys.
The worker forgets a deleted connector only after ``forget_polls`` further
status polls (it reports it UNASSIGNED meanwhile, as a real worker does until its status tombstone is
read back).

Fault injection and the call log are the common ones of ``tests.fakes.server``: ``drop_next(n)`` (a worker
not listening yet), ``unavailable(n)`` (503 "Worker is still starting up.", on ``/health`` as
``{"status": "starting"}``), ``fail_next(method, path, status, error_body(status, message))`` (409
rebalance ...), and ``fail_next(method, path, 404, JETTY_NOT_FOUND)`` for Jetty's HTML 404 (a restarting
worker whose REST resources are not registered yet).
``mask_passwords`` makes GET config return ``[hidden]`` for keys ending in ``password``, as managed
Connect services do (Apache Kafka itself returns stored values as they are).
``username``/``password``: the worker's REST API requires HTTP basic auth, as with Apache Kafka's
``BasicAuthSecurityRestExtension`` (``JaasBasicAuthFilter``, 4.x): a request without them or with wrong
ones gets 401 with the plain-text body ``User cannot access the resource.`` (the filter's own answer; the
filter's exemption of the workers' internal task and fence requests is not modelled).
"""
from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from typing import Any, Callable

from tests.fakes.server import FakeServer, HttpError, RawBody

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
SOURCE_KEYS = ("topic.creation.groups", "exactly.once.support", "transaction.boundary",  # no topic.creation.<group>.*
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

# The converter keys' validators (ConnectorConfig: the CLASS type, then ConcreteSubClassValidator and
# InstantiableClassValidator): a class the worker cannot load, and one that is not of the key's interface,
# answered with the 4.3.1 worker's words (recorded from the harness worker by
# tests/provider/test_connect_client.py::test_validate_refuses_a_converter_class_...).
CONVERTER_INTERFACES = {"key.converter": "Converter", "value.converter": "Converter",
                        "header.converter": "HeaderConverter"}
HEADER_CONVERTERS = (*CONVERTER_KEYS, "org.apache.kafka.connect.storage.SimpleHeaderConverter")

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


JETTY_NOT_FOUND = RawBody(  # a restarting worker's answer before Connect's REST resources are registered
    b"<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n"
    b"<title>Error 404 Not Found</title>\n</head>\n<body><h2>HTTP ERROR 404 Not Found</h2></body>\n</html>\n",
    "text/html;charset=iso-8859-1")


def error_body(status: int, message: str) -> dict[str, Any]:
    """Connect's error answer (``ErrorMessage``)."""
    return {"error_code": status, "message": message}


def _error(status: int, message: str) -> HttpError:
    return HttpError(status, error_body(status, message))


class FakeConnect(FakeServer):
    """The fake worker. Use as a context manager; ``url`` is its REST base URL."""

    def __init__(self, *, settle_polls: int = 1, stale_failed_polls: int = 1, forget_polls: int = 1,
                 mask_passwords: bool = True, health_endpoint: bool = True, extra_plugins: tuple[Plugin, ...] = (),
                 username: str | None = None, password: str | None = None):
        super().__init__(username=username, password=password)
        self.plugins = PLUGINS + tuple(extra_plugins)  # e.g. DATAGEN and ELASTICSEARCH_SINK
        self.settle_polls = settle_polls
        self.forget_polls = forget_polls
        self.stale_failed_polls = stale_failed_polls
        self.mask_passwords = mask_passwords
        self.connectors: dict[str, _Connector] = {}
        self.forgetting: dict[str, int] = {}  # deleted connector -> status polls that still report it
        self.route("GET", "/", lambda body, query: (200, {"version": VERSION, "commit": "fake",
                                                          "kafka_cluster_id": "fake-cluster-id"}))
        if health_endpoint:
            self.route("GET", "/health", lambda body, query: (200, {
                "status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}))
        self.route("GET", "/connector-plugins", lambda body, query: (
            200, [{"class": p.cls, "type": p.type, "version": VERSION} for p in self.plugins]))
        self.route("PUT", "/connector-plugins/([^/]+)/config/validate",
                   lambda body, query, cls: (200, self._validate(cls, body or {})), mutating=False)
        self.route("GET", "/connectors", lambda body, query: (200, sorted(self.connectors)))
        self.route("POST", "/connectors", lambda body, query: self._post_connector(body or {}))
        self.route("PUT", "/connectors/([^/]+)/config", self._put_config_route)
        self.route("GET", "/connectors/([^/]+)/status", self._get_status)
        self.route("GET", "/connectors/([^/]+)", lambda body, query, name: (200, self._info(name)))
        self.route("DELETE", "/connectors/([^/]+)", self._delete)
        self.route("GET", "/connectors/([^/]+)/config",
                   lambda body, query, name: (200, self._shown_config(self._known(name, "config").config)))
        self.route("PUT", "/connectors/([^/]+)/(pause|resume|stop)", self._set_target)
        self.route("POST", "/connectors/([^/]+)/restart", self._restart)

    # --- test controls (faults and the call log come from FakeServer) ----------------------------------
    def restart_tasks_out_of_band(self, name: str) -> None:
        """The worker restarts the connector's tasks by itself (e.g. after a rebalance)."""
        with self.lock:
            self.connectors[name].restart(0)

    # --- answers every fake gives its own way ----------------------------------------------------------
    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        return 401, RawBody(b"User cannot access the resource.", "text/plain")

    def unavailable_response(self, path: str) -> tuple[int, Any]:
        if path == "/health":
            return 503, {"status": "starting", "message": STARTING_MESSAGE}
        return 503, error_body(503, STARTING_MESSAGE)

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        match = re.fullmatch(r"/connectors/([^/]+)(?:/(.*))?", path)
        if match is None:
            return 404, error_body(404, "HTTP 404 Not Found")
        name = urllib.parse.unquote(match.group(1))
        rest = [urllib.parse.unquote(p) for p in match.group(2).split("/")] if match.group(2) else []
        if name not in self.connectors:
            return 404, error_body(404, _not_found_message(name, rest))
        return 405, error_body(405, "HTTP 405 Method Not Allowed")

    def bad_json_response(self, error: ValueError) -> tuple[int, Any]:
        return 400, error_body(400, f"Unrecognized JSON: {error}")

    # --- connector endpoints ---------------------------------------------------------------------------
    def _known(self, name: str, *rest: str) -> _Connector:
        connector = self.connectors.get(name)
        if connector is None:
            raise _error(404, _not_found_message(name, list(rest)))
        return connector

    def _put_config_route(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        created = self._put_config(name, dict(body or {}))
        return (201 if created else 200), self._info(name)

    def _get_status(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        if name not in self.connectors and self.forgetting.get(name):
            self.forgetting[name] -= 1
            worker = self.url.removeprefix("http://")
            return 200, {"name": name, "connector": {"state": "UNASSIGNED", "worker_id": worker, "version": VERSION},
                         "tasks": [], "type": "unknown"}
        return 200, self._status(name, self._known(name, "status"))

    def _delete(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        self._known(name)
        del self.connectors[name]
        self.forgetting[name] = self.forget_polls
        return 204, None

    def _set_target(self, body: Any, query: dict[str, str], name: str, verb: str) -> tuple[int, Any]:
        connector = self._known(name, verb)
        connector.target = {"pause": "PAUSED", "resume": "STARTED", "stop": "STOPPED"}[verb]
        connector.restart(self.settle_polls)
        return (204 if verb == "stop" else 202), None

    def _restart(self, body: Any, query: dict[str, str], name: str) -> tuple[int, Any]:
        connector = self._known(name, "restart")
        connector.restart(self.settle_polls, self.stale_failed_polls)
        if not any(query.get(key, "false") == "true" for key in ("includeTasks", "onlyFailed")):
            return 204, None
        return 202, self._status(name, connector)

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
            raise _error(500, f"org.apache.kafka.connect.runtime.rest.errors.BadRequestException: {message}")
        raise _error(400, f"org.apache.kafka.connect.errors.ConnectException: {message}")

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
        for key, interface in CONVERTER_INTERFACES.items():
            if problem := self._converter_problem(config.get(key), interface):
                errors[key].append(problem.format(key=key))
        if plugin.type == "sink" and not (config.get("topics") or config.get("topics.regex")):
            errors.setdefault("topics", []).append("Must configure one of topics or topics.regex")
        return plugin, errors

    def _converter_problem(self, cls: str | None, interface: str) -> str | None:
        """Why ``cls`` cannot be the converter of a key of ``interface`` (``{key}`` left to fill), or None."""
        if not cls:
            return None
        converters = CONVERTER_KEYS if interface == "Converter" else HEADER_CONVERTERS
        if cls in converters:
            return None
        known = {*HEADER_CONVERTERS, *(p.cls for p in self.plugins), *TRANSFORM_KEYS}
        if cls not in known:
            return f"Invalid value {cls} for configuration {{key}}: Class {cls} could not be found."
        return f"Class class {cls} does not implement the {interface} interface"

    def _validate(self, plugin_name: str, config: dict[str, str]) -> dict[str, Any]:
        included = config.get("connector.class")
        if included and not _alias(included).endswith(_alias(plugin_name)):
            raise _error(400, f"Included connector type {included} does not match request type {plugin_name}")
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
            raise _error(400, f"Connector name configuration ({config['name']}) doesn't match connector name "
                              f"in the URL ({name})")
        config["name"] = name
        self.forgetting.pop(name, None)
        plugin, errors = self._errors(config)
        messages = [message for key_errors in errors.values() for message in key_errors]
        if messages:
            raise _error(400, f"Connector configuration is invalid and contains the following {len(messages)} "
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
            raise _error(409, f"Connector {name} already exists")
        self._put_config(name, dict(body.get("config") or {}))
        initial = body.get("initial_state", "RUNNING")
        self.connectors[name].target = {"RUNNING": "STARTED"}.get(initial, initial)
        return 201, self._info(name)

    def _info(self, name: str) -> dict[str, Any]:
        connector = self._known(name)
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
