"""Pulumi dynamic provider for one Kafka Connect connector (see ``resource.Connector`` for the inputs).

Outputs kept in state: ``connect_url``, ``username`` and ``password`` (a secret: basic auth of the REST API,
for services that have it), ``connector_name``, ``config`` (the declared keys only, as applied
or as read live), ``state``, ``connector_class``, ``ready_timeout``, ``secret_config_keys`` and a salted
hash of ``secret_config`` (``secret_config_hash`` + ``secret_salt``). Secret values are merged into the
request body only inside ``create``/``update`` and never appear in outputs, logs or error messages.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Mapping

import pulumi
import requests
from pulumi.dynamic import CheckFailure, CheckResult

from providers.connect.client import ConnectClient, PluginNotInstalled, has_failed
from providers.contract import (
    DEFAULT_PROBE_TIMEOUT,
    DEFAULT_READY_TIMEOUT,
    DRIFTED,
    IDENTITY,
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    ReadBackProvider,
    client_of,
    connection,
    new_salt,
    password_in_url,
    report_adopted,
    secret_field,
    secret_hash,
)
from providers.declare import DeclaredResource, declare
from providers.http import ServiceTimeout, masked
from providers.inputs import is_unknown, whole_numbers

RESTART_GRACE = 15.0  # seconds a FAILED state may be stale after restarting failed tasks
DESIRED = {"running": "RUNNING", "paused": "PAUSED"}
LIVE_STATES = {"RUNNING": "running", "PAUSED": "paused", "STOPPED": "stopped"}
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A Java class name (a nested class with ``$``): what a converter key must hold before a worker can judge it.
_JAVA_CLASS = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")
CONVERTER_KEYS = ("key.converter", "value.converter", "header.converter")


def _config_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    old, new = olds.get("config"), news.get("config")
    return is_unknown(new) or not isinstance(old, Mapping) or dict(old) != dict(new or {})


CONTRACT = Contract("Connector", [
    *connection("connect_url", service="the Kafka Connect REST API"),
    Field("connector_name", IDENTITY, required=True, doc="the connector's name in Connect"),
    Field("config", IN_PLACE, required=True, changed=_config_changed,
          doc="plain settings, with `connector.class`"),
    secret_field("secret_config", "secret_config_hash", "secret_salt",
                 doc="sensitive settings; state keeps a salted hash"),
    Field("state", IN_PLACE, default="running", doc="running or paused"),
    Field("connector_class", OUTPUT, doc="`connector.class` as read back"),
    Field("secret_config_keys", OUTPUT, doc="names of the secret settings"),
    Field("secret_config_hash", OUTPUT, secret=True, doc=f"salted hash of secret_config; {DRIFTED!r} after "
                                                         "a secret key was removed out of band"),
    Field("secret_salt", OUTPUT, doc="salt of the hash"),
])
WRITTEN_FIELDS = ("connect_url", "config", "secret_config")  # a change of one of these rewrites the config
# kept in state: every plain field, the secret outputs, and the login secret (as a secret output: read and
# delete need it); the secret settings only as their hash
OUT_KEYS = tuple(f.name for f in CONTRACT.fields if not f.secret or f.role == OUTPUT or f.name == "password")


class ConnectorError(Exception):
    """A connector could not be brought to its declared config and state."""


def _string_map(value: Any, prop: str, fail: Callable[[str, str], None]) -> Any:
    """Connect configs are string maps: booleans become ``true``/``false``, numbers ``str(n)``; anything else
    is reported through ``fail`` and kept as given."""
    if value is None:
        return {}
    if is_unknown(value) and not isinstance(value, Mapping):
        return value
    if not isinstance(value, Mapping):
        fail(prop, f"{prop} must be a mapping of config keys to values, not {type(value).__name__}")
        return value  # kept as given, so that ``problems`` names it
    out = {}
    for key, item in value.items():
        if is_unknown(item):
            out[key] = item
        elif isinstance(item, bool):
            out[key] = "true" if item else "false"
        elif isinstance(item, (str, int, float)):
            out[key] = str(whole_numbers(item))  # 1 arrives from the engine as 1.0; Connect wants "1"
        else:
            fail(prop, f"{prop}[{key!r}] must be a string, number or boolean, not {type(item).__name__}")
            out[key] = item  # kept as given, so that ``problems`` names it
    return out


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return "connector_name must be a non-empty string"
    if name != name.strip():
        return f"connector_name {name!r} must not start or end with whitespace (Connect trims it)"
    if _CONTROL_CHARS.search(name):
        return f"connector_name {name!r} must not contain control characters"
    if "/" in name:
        return f"connector_name {name!r} must not contain '/' (the Connect REST API cannot address it)"
    return None


def _offline_problems(config: Mapping[str, Any]) -> list[str]:
    """What no worker accepts, found without one: ``tasks.max`` below 1 or not a whole number, a converter
    key that does not name a Java class (whether the class exists, and is a converter, only the worker can
    say)."""
    problems = []
    tasks = config.get("tasks.max")
    if tasks is not None and not is_unknown(tasks) and not (str(tasks).strip().isdigit() and int(tasks) >= 1):
        problems.append(f"config['tasks.max'] must be a whole number >= 1, not {tasks!r}")
    for key in CONVERTER_KEYS:
        cls = config.get(key)
        if cls is not None and not is_unknown(cls) and not _JAVA_CLASS.fullmatch(str(cls).strip()):
            problems.append(f"config[{key!r}] must name a Java class (e.g. org.apache.kafka.connect.json."
                            f"JsonConverter), not {cls!r}")
    return problems


def _validation_due(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """Whether the worker should judge ``news`` at check: every value is known, and the config, its secrets
    or the worker's address differ from the last inputs (a no-change ``up`` sends no request)."""
    keys = ("connect_url", "config", "secret_config")
    values = [news.get("connect_url"), *dict(news.get("config") or {}).values(),
              *dict(news.get("secret_config") or {}).values()]
    if any(is_unknown(value) for value in values) or not all(isinstance(news.get(k), Mapping) for k in keys[1:]):
        return False
    return any(olds.get(key) != news.get(key) for key in keys)


def _refused_by_worker(props: Mapping[str, Any], secrets: list[str]) -> list[CheckFailure]:
    """What the worker's validate endpoint refuses in the declared config, asked
    within ``probe_timeout`` (a read: ``PUT /connector-plugins/{class}/config/validate`` changes nothing).
    A worker that does not answer in that time is named in a warning, and the config is validated at ``up``
    (before it is written)."""
    name, url = props["connector_name"], props["connect_url"]
    timeout = float(props.get("probe_timeout") or DEFAULT_PROBE_TIMEOUT)
    body = {**props["config"], **props["secret_config"], "name": name}
    try:
        with client_of(ConnectClient, props, "connect_url", ready_timeout=timeout) as client:
            client.probe()
            with client.http.capped(timeout):
                validation = client.validate(body)
    except PluginNotInstalled as exc:
        return [CheckFailure("config", f"connector {name!r}: {exc}")]
    except (ServiceTimeout, requests.RequestException) as exc:
        pulumi.log.warn(f"{masked(str(exc), secrets)}; connector {name!r}: its config is validated by Kafka "
                        "Connect at `up`")
        return []
    return [CheckFailure("config", masked(f"Kafka Connect at {url} refuses the config of connector {name!r}: "
                                          f"{error}", secrets)) for error in validation.errors]


def _live_state(status: Mapping[str, Any] | None, declared: str) -> str:
    """running/paused/stopped/failed as Connect reports it; transitional states keep the declared one."""
    if status is None:
        return declared
    if has_failed(status):
        return "failed"
    state = status.get("connector", {}).get("state")
    tasks = status.get("tasks", [])
    if state in LIVE_STATES and all(task.get("state") == state for task in tasks):
        return LIVE_STATES[state]
    return declared


class ConnectorProvider(ReadBackProvider):
    """Create-or-adopt, update in place, read drift and delete one connector through the Connect REST API.
    A replacement (new ``connector_name``) is created before the old connector is deleted."""

    contract = CONTRACT
    id_output = "connector_name"
    client_class = ConnectClient
    url_input = "connect_url"
    delete_before_replace = False
    redacted_error = ConnectorError

    def normalised(self, news: dict[str, Any]) -> dict[str, Any]:
        """Defaults filled, ``config``/``secret_config`` as Connect's string maps, ``state`` in lower case."""
        inputs = CONTRACT.with_defaults(news)
        inputs["config"] = _string_map(news.get("config"), "config", lambda prop, reason: None)
        inputs["secret_config"] = _string_map(news.get("secret_config"), "secret_config", lambda prop, reason: None)
        if not is_unknown(inputs["state"]):
            inputs["state"] = str(inputs["state"]).lower()
        return inputs

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures: list[CheckFailure] = []

        def fail(prop: str, reason: str) -> None:
            failures.append(CheckFailure(prop, reason))

        name = news.get("connector_name")
        problem = None if is_unknown(name) else _name_problem(name)
        if problem:
            fail("connector_name", problem)
        config = _string_map(news.get("config"), "config", fail)
        secret = _string_map(news.get("secret_config"), "secret_config", fail)
        if isinstance(config, Mapping):
            cls = config.get("connector.class")
            if not is_unknown(cls) and not (cls or "").strip():
                fail("config", "config must contain 'connector.class' (the connector plugin's class name)")
            failures += [CheckFailure("config", reason) for key, value in sorted(config.items())
                         if (reason := password_in_url(f"config[{key!r}]", value))]
            failures += [CheckFailure("config", reason) for reason in _offline_problems(config)]
            for key in sorted(key for key in config if key.lower().endswith("password")):
                fail("config", f"{key!r} looks like a password: declare it in secret_config so that it stays "
                               "out of outputs and state")
            declared_name = config.get("name", name)
            if not is_unknown(declared_name) and not is_unknown(name) and declared_name != name:
                fail("config", f"config['name'] must equal connector_name {name!r} (or be left out)")
        if isinstance(secret, Mapping):
            for key in sorted({"connector.class", "name"} & set(secret)):
                fail("secret_config", f"{key!r} belongs in config, not in secret_config")
            if isinstance(config, Mapping):
                for key in sorted(set(config) & set(secret) - {"connector.class", "name"}):
                    fail("secret_config", f"key {key!r} is in both config and secret_config; keep it in one")
        state = news["state"]
        if not is_unknown(state) and state not in DESIRED:
            fail("state", f"state must be 'running' or 'paused', not {state!r}")
        for key in ("ready_timeout", "probe_timeout"):
            timeout = news[key]
            if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                            or timeout <= 0):
                fail(key, f"{key} must be a positive number of seconds, not {timeout!r}")
        return failures

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The checks without network, then, for a new or changed config that passes them, the worker's own
        judgement (:func:`_refused_by_worker`): a preview refuses what ``up`` would be refused."""
        result = super().check(olds, news)
        if result.failures or not _validation_due(olds, result.inputs):
            return result
        return CheckResult(result.inputs, _refused_by_worker(result.inputs, CONTRACT.secret_values(result.inputs)))

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        salt = (olds or {}).get("secret_salt") or new_salt()
        return self._apply(props, salt=salt, previous=olds)

    def client(self, props: Mapping[str, Any]) -> ConnectClient:
        if not props.get("connect_url"):
            raise ConnectorError(f"connector {props.get('connector_name')!r}: its state has no connect_url "
                                 "(importing connectors is not supported; declare the resource instead)")
        return super().client(props)

    def read_back(self, client: ConnectClient, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        return _read_back(client, props.get("connector_name") or id_, props)

    def delete_object(self, client: ConnectClient, id_: str) -> None:
        if not client.delete_connector(id_):
            pulumi.log.info(f"Connector {id_!r} was already gone from {client.endpoint.url}; nothing to delete")

    def _apply(self, props: Mapping[str, Any], *, salt: str, previous: Mapping[str, Any] | None) -> dict[str, Any]:
        """Write config (create or adopt) when needed, converge the declared state and wait for it."""
        name, url, state = props["connector_name"], props["connect_url"], props.get("state", "running")
        config, secret_config = dict(props["config"]), dict(props.get("secret_config") or {})
        timeout = float(props.get("ready_timeout") or DEFAULT_READY_TIMEOUT)
        desired = DESIRED[state]
        with self.client(props) as client:
            client.wait_ready()
            before = client.status(name)
            news = {**props, "secret_config": secret_config}
            written = previous is None or before is None or any(
                CONTRACT.by_name[key].differs(previous, news) for key in WRITTEN_FIELDS)
            if written:
                self._write_config(client, name, config, secret_config, previous)
            live_state = (before or {}).get("connector", {}).get("state", "RUNNING")
            if desired == "PAUSED" and live_state != "PAUSED":
                if before is None:  # pausing a connector that has not started yet pre-empts its start
                    client.wait_for_state(name, "RUNNING", timeout)
                client.pause(name)
            elif desired == "RUNNING" and live_state in ("PAUSED", "STOPPED"):
                client.resume(name)
            restarted = has_failed(before)
            if restarted:
                client.restart(name)
            client.wait_for_state(name, desired, timeout, failed_grace=RESTART_GRACE if restarted else 0.0)
            declared = {"connect_url": url, "username": props.get("username"), "password": props.get("password"),
                        "connector_name": name, "config": config, "state": state,
                        "ready_timeout": timeout, "secret_config_keys": sorted(secret_config),
                        "secret_config_hash": secret_hash(secret_config, salt), "secret_salt": salt}
            outs = _read_back(client, name, declared)
        if outs is None:
            raise ConnectorError(f"connector {name!r}: Kafka Connect at {url} accepted it but does not list it")
        wrong = _read_back_differences(outs, config, secret_config) if written else []
        if wrong:
            raise ConnectorError(f"connector {name!r}: Kafka Connect at {url} accepted the config but reads back "
                                 f"different values: {'; '.join(wrong)}")
        return outs

    @staticmethod
    def _write_config(client: ConnectClient, name: str, config: dict[str, str], secret_config: dict[str, str],
                      previous: Mapping[str, Any] | None) -> None:
        url = client.endpoint.url
        body = {**config, **secret_config, "name": name}
        try:
            validation = client.validate(body)
        except PluginNotInstalled as exc:
            raise ConnectorError(f"connector {name!r}: {exc}") from None
        if validation.errors:
            listing = "\n".join(f"  - {error}" for error in validation.errors)
            raise ConnectorError(f"connector {name!r}: Kafka Connect at {url} rejects the config "
                                 f"({len(validation.errors)} error(s)):\n{listing}")
        unknown = validation.unknown_keys(body)
        if unknown:
            pulumi.log.warn(f"Connector {name!r}: {config['connector.class']} at {url} defines no setting named "
                            f"{', '.join(repr(key) for key in unknown)}; Connect stores such keys but nothing "
                            "reads them (a typo?)")
        created = client.put_config(name, body)
        if not created and previous is None:
            report_adopted(f"Connector {name!r}", url, "applied the declared config")
        elif created and previous is not None:
            pulumi.log.info(f"Connector {name!r} was missing at {url}: created it again")


def _read_back(client: ConnectClient, name: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The connector as the worker has it, in the shape of the outputs (None when it does not exist): the
    declared config keys with their live values, the live state, and ``secret_config_hash`` marked
    DRIFTED when a secret key is missing live. Used by create, update and read."""
    live = client.get_config(name)
    if live is None:
        return None
    status = client.status(name)
    outs = {key: props[key] for key in OUT_KEYS if key in props}
    outs["config"] = {key: live[key] for key in props.get("config") or {} if key in live}
    outs["connector_class"] = live.get("connector.class")
    outs["state"] = _live_state(status, props.get("state", "running"))
    if any(key not in live for key in props.get("secret_config_keys") or []):
        outs["secret_config_hash"] = DRIFTED  # a secret key was removed out of band: the next up rewrites it
    return outs


def _read_back_differences(outs: Mapping[str, Any] | None, config: Mapping[str, str],
                           secret_config: Mapping[str, str]) -> list[str]:
    """What the read-back after a write shows differently from what was declared."""
    if outs is None:
        return ["the connector is missing"]
    live = outs["config"]
    wrong = [f"{key} (declared {value!r}, live {live.get(key)!r})" for key, value in config.items()
             if live.get(key) != value]
    if outs.get("secret_config_hash") == DRIFTED:
        wrong.append(f"a secret setting among {', '.join(sorted(secret_config))} (missing)")
    return wrong


if TYPE_CHECKING:  # typed inputs of Connector (python -m tools.generated)
    class Connector(DeclaredResource):
        """The inputs and fields of the ``Connector`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            connect_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            connector_name: pulumi.Input[Any],
            config: pulumi.Input[Any],
            secret_config: pulumi.Input[Any] | None = None,
            state: pulumi.Input[Any] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        connect_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        connector_name: pulumi.Output[Any]
        config: pulumi.Output[Any]
        secret_config: pulumi.Output[Any]
        state: pulumi.Output[Any]
        connector_class: pulumi.Output[Any]
        secret_config_keys: pulumi.Output[Any]
        secret_config_hash: pulumi.Output[Any]
        secret_salt: pulumi.Output[Any]
else:
    Connector = declare(CONTRACT, ConnectorProvider, module="connect", name="Connector", doc="""\
    A connector created (or adopted) by name, updated in place, awaited until it and its tasks run.

    ``config`` holds the plain settings (must include ``connector.class``); ``secret_config`` the sensitive ones
    (passwords, API keys): sent to Connect, kept out of outputs and state, where only a salted hash is stored.
    ``state`` ``"paused"`` pauses the connector declaratively (a new one once its tasks run: Kafka Connect 4.3.1
    drops the start of a connector paused before it started, ``WorkerConnector.transitionTo``, and leaves it
    PAUSED with no task). ``ready_timeout`` is the deadline of each
    operation (docs/resources/README.md). Changing ``connector_name`` replaces the connector; everything else is
    updated in place (docs/resources/connector.md).""")
