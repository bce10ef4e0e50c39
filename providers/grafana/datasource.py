"""The dynamic provider behind ``GrafanaDatasource`` (``/api/datasources``, keyed by uid)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure

from providers.contract import (
    DRIFTED,
    IDENTITY,
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    adoption,
    new_salt,
    password_in_url,
    read_back_of_write,
    secret_field,
    secret_hash,
)
from providers.declare import DeclaredResource, declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider
from providers.grafana.dashboards import check_uid
from providers.http import ApiError, Conflict, Forbidden, ServiceTimeout, Unauthorized, wait_until
from providers.inputs import is_unknown

# Keys of a datasource that have their own input (uid, secure_json_data) or are Grafana's bookkeeping.
RESERVED_DATASOURCE_KEYS = {"uid", "id", "orgId", "version", "secureJsonData", "secureJsonFields", "readOnly"}

CONTRACT = Contract("GrafanaDatasource", [
    *CONNECTION,
    Field("uid", IDENTITY, required=True, annotation="str", problem=check_uid,
          doc="the datasource's uid (dashboards refer to it)"),
    Field("datasource", IN_PLACE, required=True, doc="name, type, url, access, jsonData, ..."),
    secret_field("secure_json_data", "secure_json_data_hash", "secret_salt",
                 doc="write-only secrets; state keeps a salted hash"),
    Field("name", OUTPUT, doc="the name Grafana reports"),
    Field("secure_keys", OUTPUT, doc="names of the secure_json_data entries"),
    Field("secure_json_data_hash", OUTPUT, secret=True, doc=f"salted hash of secure_json_data; {DRIFTED!r} "
                                                            "after a secret was removed out of band"),
    Field("secret_salt", OUTPUT, doc="salt of the hash"),
    Field("adopted", OUTPUT, doc="the datasource existed before it was created here"),
])


class DatasourceProvider(GrafanaProvider):
    """Props: ``uid``, ``datasource`` (name, type, url, access, jsonData, ...), ``secure_json_data``.

    ``secure_json_data`` is write-only in Grafana; state keeps only ``secure_json_data_hash`` and its salt.
    A datasource with the declared name but another uid is not taken over: create fails and says which
    uid to declare (dashboards reference datasources by uid, so silently re-keying one would break them).
    After every create or update, Grafana's health check of the datasource must pass (waited for up to
    ``ready_timeout``: the backend may still be starting); a failure is reported in Grafana's words.
    """

    contract = CONTRACT
    id_output = "uid"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        """Reasons the inputs are not a usable datasource (no network)."""
        failures: list[CheckFailure] = []
        source = news.get("datasource")
        if isinstance(source, Mapping):
            failures += [CheckFailure("datasource", reason) for reason in datasource_problems(source)]
        elif not is_unknown(source):
            failures.append(CheckFailure("datasource", "datasource must be a mapping"))
        secure = news.get("secure_json_data") or {}
        if not is_unknown(secure) and not isinstance(secure, Mapping):
            failures.append(CheckFailure("secure_json_data", "secure_json_data must map names to secret values"))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """Create or update the datasource with ``props["uid"]``, wait for its health check, read it back
        (the secrets' hash keeps its salt across updates)."""
        uid, name, where = props["uid"], props["datasource"]["name"], f"Grafana at {props['grafana_url']}"
        salt = (olds or {}).get("secret_salt") or new_salt()
        body = {**props["datasource"], "uid": uid}
        if props.get("secure_json_data"):
            body["secureJsonData"] = dict(props["secure_json_data"])
        with self.client(props) as grafana:
            grafana.wait_ready()
            existed = self._write(grafana, uid, name, body)
            adopted = adoption(olds, lambda: existed, f"datasource {uid!r}", where)
            _wait_healthy(grafana, uid, name, props.get("ready_timeout") or grafana.endpoint.ready_timeout)
            outs = self.read_back(grafana, uid, _declared(props, adopted, salt))
        return read_back_of_write(outs, f"datasource {uid!r}", where)

    @staticmethod
    def _write(grafana: GrafanaClient, uid: str, name: str, body: dict[str, Any]) -> bool:
        if grafana.get_datasource(uid) is not None:
            grafana.update_datasource(uid, body)
            return True
        try:
            grafana.create_datasource(body)
        except Conflict as exc:
            if grafana.get_datasource(uid) is not None:  # created concurrently (or by a retried POST): adopt it
                grafana.update_datasource(uid, body)
                return True
            other = grafana.get_datasource_by_name(name)
            if other is None:
                raise
            raise exc.reworded(f"a datasource named {name!r} already exists with uid {other.get('uid')!r}, not "
                               f"{uid!r}: declare uid {other.get('uid')!r} to adopt it, or delete it in "
                               "Grafana") from None
        return False

    def read_back(self, grafana: GrafanaClient, uid: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The datasource as Grafana has it, in the shape of the outputs (None when there is none): the
        declared keys with their live values, and ``secure_json_data_hash`` marked DRIFTED when a secret
        was removed out of band (Grafana never returns the values themselves). Used by create, update and
        read."""
        live = grafana.get_datasource(uid)
        if live is None:
            return None
        declared = props.get("datasource") or {}
        current = {key: live.get(key) for key in declared}
        if isinstance(declared.get("jsonData"), Mapping):
            current["jsonData"] = {k: (live.get("jsonData") or {}).get(k) for k in declared["jsonData"]}
        outs = {**props, "uid": uid, "name": live.get("name"), "datasource": current}
        stored = live.get("secureJsonFields") or {}
        if not all(stored.get(key) for key in props.get("secure_keys") or []):
            outs["secure_json_data_hash"] = DRIFTED
        return outs

    def delete_object(self, grafana: GrafanaClient, uid: str) -> None:
        grafana.delete_datasource(uid)


def _declared(props: dict[str, Any], adopted: bool, salt: str) -> dict[str, Any]:
    """The outputs of a write: the inputs without the secret values, their names and salted hash."""
    secure = props.get("secure_json_data") or {}
    outs = {k: v for k, v in props.items() if k != "secure_json_data"}
    return {**outs, "name": props["datasource"]["name"], "adopted": adopted, "secret_salt": salt,
            "secure_keys": sorted(secure), "secure_json_data_hash": secret_hash(secure, salt)}


def _wait_healthy(grafana: GrafanaClient, uid: str, name: str, timeout: float) -> None:
    """Wait until Grafana's health check of the datasource says OK; DatasourceUnhealthy with Grafana's last
    message when it does not within ``timeout`` seconds. Plugins without a health check pass."""
    last = ["no answer yet"]

    def healthy() -> bool:
        try:
            answer = grafana.datasource_health(uid)
        except (Unauthorized, Forbidden):
            raise
        except ApiError as exc:
            last[0] = f"HTTP {exc.status}: {exc.message}"
            return False
        if answer is None or answer[0] == "OK":
            return True
        last[0] = f"{answer[0]}: {answer[1]}"
        return False

    try:
        wait_until(healthy, timeout=grafana.within(timeout), last_seen=lambda: last[0],
                   description=f"Grafana's health check of datasource {uid!r} to pass")
    except ServiceTimeout:
        raise DatasourceUnhealthy(f"Grafana's health check of datasource {uid!r} ({name!r}) did not pass within "
                                  f"{timeout:g} s; Grafana says: {last[0]}. Check the datasource's url and "
                                  "credentials, and that the service behind it runs.") from None


class DatasourceUnhealthy(Exception):
    """Grafana saved the datasource, but its health check fails; the message is Grafana's."""


def datasource_problems(source: Mapping[str, Any]) -> list[str]:
    """Reasons a declared datasource is not usable (Grafana 12 facts: docs/resources/elasticsearch-grafana.md)."""
    problems = []
    for key in ("name", "type"):
        if not is_unknown(source.get(key)) and (not isinstance(source.get(key), str) or not source.get(key)):
            problems.append(f"datasource.{key} must be a non-empty string")
    if reason := password_in_url("datasource.url", source.get("url")):
        problems.append(reason)
    problems += [f"datasource.{key} is not declared here: use the resource's own input or leave it to Grafana"
                 for key in source if key in RESERVED_DATASOURCE_KEYS]
    if source.get("type") == "elasticsearch":
        json_data: Mapping[str, Any] = source["jsonData"] if isinstance(source.get("jsonData"), Mapping) else {}
        if "database" in source:
            problems.append("datasource.database is deprecated for Elasticsearch: put the index in jsonData.index")
        if "esVersion" in json_data:
            problems.append("datasource.jsonData.esVersion was removed in Grafana 9+: drop it")
        problems += [f"datasource.jsonData.{key} is required for an Elasticsearch datasource"
                     for key in ("index", "timeField") if not json_data.get(key)]
    return problems


if TYPE_CHECKING:  # typed inputs of GrafanaDatasource (python -m tools.generated)
    class GrafanaDatasource(DeclaredResource):
        """The inputs and fields of the ``GrafanaDatasource`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            grafana_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            api_key: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            service_revision: pulumi.Input[Any] | None = None,
            uid: pulumi.Input[str],
            datasource: pulumi.Input[Any],
            secure_json_data: pulumi.Input[Any] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        grafana_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        api_key: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        service_revision: pulumi.Output[Any]
        uid: pulumi.Output[str]
        datasource: pulumi.Output[Any]
        secure_json_data: pulumi.Output[Any]
        name: pulumi.Output[Any]
        secure_keys: pulumi.Output[Any]
        secure_json_data_hash: pulumi.Output[Any]
        secret_salt: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    GrafanaDatasource = declare(CONTRACT, DatasourceProvider, module="grafana", name="Datasource", doc="""\
    A datasource, by ``uid``. ``datasource`` holds name, type, url, access, basicAuth..., jsonData (for
    Elasticsearch: ``jsonData.index`` and ``jsonData.timeField``); ``secure_json_data`` the write-only secrets
    (e.g. ``basicAuthPassword``), compared by a salted hash.""")
