"""``GrafanaContactPoint``: one contact point (one integration, e.g. a webhook), by uid.

Grafana 12.4 (``pkg/services/ngalert/api/api_provisioning.go``, ``pkg/services/ngalert/provisioning``):
``GET /api/v1/provisioning/contact-points`` lists every contact point (``uid``, ``name``, ``type``,
``settings``, ``disableResolveMessage``) with each secure setting shown as ``[REDACTED]``; ``POST`` is 202
with the contact point, 400 when it fails validation; ``PUT .../:uid`` is 202, 404 for an unknown uid;
``DELETE .../:uid`` is 202 (also for an unknown uid), 409 while a notification policy routes to it. Which
settings are secure is the integration's schema: for ``webhook`` the basic-auth ``password``,
``authorization_credentials`` and the HMAC secret — its ``url`` is not, so Grafana returns it in clear.

``settings`` holds the plain settings, ``secure_settings`` the ones that must stay out of state (a webhook
URL carrying a token, credentials): state keeps their salted hash. ``read`` marks the hash ``drifted``
when a secure setting is missing live, or when Grafana shows all of them in clear and they differ.
"""
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
    body_changed,
    declared_part,
    new_salt,
    read_back_of_write,
    secret_field,
    secret_hash,
)
from providers.declare import DeclaredResource, declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider, provision
from providers.grafana.dashboards import check_uid
from providers.inputs import is_unknown

PATH = "/api/v1/provisioning/contact-points"
REDACTED = "[REDACTED]"

CONTRACT = Contract("GrafanaContactPoint", [
    *CONNECTION,
    Field("uid", IDENTITY, required=True, annotation="str", problem=check_uid, doc="the contact point's uid"),
    Field("name", IN_PLACE, required=True, doc="the name notification policies route to"),
    Field("type", IN_PLACE, required=True, doc="the integration, e.g. `webhook`"),
    Field("settings", IN_PLACE, changed=body_changed("settings"), doc="the integration's plain settings"),
    secret_field("secure_settings", "secure_settings_hash", "secret_salt",
                 doc="settings kept out of state (a URL with a token, credentials); state keeps a salted hash"),
    Field("disable_resolve_message", IN_PLACE, default=False, doc="no message when an alert resolves"),
    Field("secure_keys", OUTPUT, doc="names of the secure_settings entries"),
    Field("secure_settings_hash", OUTPUT, secret=True, doc=f"salted hash of secure_settings; {DRIFTED!r} after "
                                                           "one was changed or removed out of band"),
    Field("secret_salt", OUTPUT, doc="salt of the hash"),
    Field("adopted", OUTPUT, doc="the contact point existed before it was created here"),
])


def _find(grafana: GrafanaClient, uid: str) -> dict[str, Any] | None:
    return next((point for point in grafana.get_or_none(PATH) or [] if point.get("uid") == uid), None)


class ContactPointProvider(GrafanaProvider):
    """Create/adopt, update, read and delete one contact point by uid."""

    contract = CONTRACT
    id_output = "uid"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures: list[CheckFailure] = []
        for key in ("name", "type"):
            value = news.get(key)
            if not is_unknown(value) and (not isinstance(value, str) or not value.strip()):
                failures.append(CheckFailure(key, f"{key} must be a non-empty string"))
        settings, secure = news.get("settings") or {}, news.get("secure_settings") or {}
        for key, value in (("settings", settings), ("secure_settings", secure)):
            if not is_unknown(value) and not isinstance(value, Mapping):
                failures.append(CheckFailure(key, f"{key} must map setting names to values"))
        both = sorted(set(settings) & set(secure)) if isinstance(settings, Mapping) and isinstance(secure, Mapping) \
            else []
        if both:
            failures.append(CheckFailure("secure_settings", f"{', '.join(both)} in both settings and "
                                                            "secure_settings: keep each in one"))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """PUT the contact point when it exists (adopting it on create), else POST it; then read it back
        (the hash keeps its salt across updates)."""
        uid, where = props["uid"], f"Grafana at {props['grafana_url']}"
        secure = dict(props.get("secure_settings") or {})
        salt = (olds or {}).get("secret_salt") or new_salt()
        body = {"uid": uid, "name": props["name"], "type": props["type"],
                "settings": {**(props.get("settings") or {}), **secure},
                "disableResolveMessage": bool(props.get("disable_resolve_message"))}
        with self.client(props) as grafana:
            grafana.wait_ready()
            exists = _find(grafana, uid) is not None
            adopted = adoption(olds, lambda: exists, f"contact point {uid!r}", where)
            provision(grafana, PATH, uid, body, exists, lambda: _find(grafana, uid))
            declared = {k: v for k, v in props.items() if k != "secure_settings"}
            declared.update(adopted=adopted, secret_salt=salt, secure_keys=sorted(secure),
                            secure_settings_hash=secret_hash(secure, salt))
            outs = self.read_back(grafana, uid, declared)
        return read_back_of_write(outs, f"contact point {uid!r}", where)

    def read_back(self, grafana: GrafanaClient, uid: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The contact point as Grafana has it, in the shape of the outputs (None when there is none)."""
        live = _find(grafana, uid)
        if live is None:
            return None
        settings = live.get("settings") or {}
        outs = {**props, "uid": uid, "name": live.get("name"), "type": live.get("type"),
                "settings": declared_part(props.get("settings") or {}, settings),
                "disable_resolve_message": bool(live.get("disableResolveMessage"))}
        keys = props.get("secure_keys") or []
        shown = {key: settings.get(key) for key in keys}
        if any(value is None for value in shown.values()) or (
                REDACTED not in shown.values() and keys
                and secret_hash(shown, str(props.get("secret_salt"))) != props.get("secure_settings_hash")):
            outs["secure_settings_hash"] = DRIFTED
        return outs

    def delete_object(self, grafana: GrafanaClient, uid: str) -> None:
        grafana.delete(f"{PATH}/{uid}")


if TYPE_CHECKING:  # typed inputs of GrafanaContactPoint (python -m tools.generated)
    class GrafanaContactPoint(DeclaredResource):
        """The inputs and fields of the ``GrafanaContactPoint`` field table, typed."""

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
            name: pulumi.Input[Any],
            type: pulumi.Input[Any],
            settings: pulumi.Input[Any] | None = None,
            secure_settings: pulumi.Input[Any] | None = None,
            disable_resolve_message: pulumi.Input[Any] | None = None,
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
        name: pulumi.Output[Any]
        type: pulumi.Output[Any]
        settings: pulumi.Output[Any]
        secure_settings: pulumi.Output[Any]
        disable_resolve_message: pulumi.Output[Any]
        secure_keys: pulumi.Output[Any]
        secure_settings_hash: pulumi.Output[Any]
        secret_salt: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    GrafanaContactPoint = declare(CONTRACT, ContactPointProvider, module="grafana", name="ContactPoint", doc="""\
    A contact point, by ``uid``: one integration (``type``, e.g. ``webhook``) with its ``settings``;
    ``secure_settings`` (e.g. a webhook ``url`` that carries a token) are sent to Grafana and kept in state only
    as a salted hash.""")
