"""The dynamic provider behind ``GrafanaDashboard`` (``/api/dashboards``, keyed by the dashboard's uid).

The uid is the dashboard's only identity (titles need not be unique in a folder since Grafana 11.3), and
saves overwrite by uid, so a 412 can only be a version mismatch from a concurrent save.

Props: ``dashboard`` (as declared, with ``${DS_<KEY>}`` placeholders), ``datasource_uids``
(``DS_<KEY>`` -> uid) and ``folder_uid``. State keeps ``content_hash``, a hash of the canonical resolved
dashboard, and Grafana's ``version``; diff compares hashes, so an unchanged dashboard is never re-saved.
Grafana bumps ``version`` on every save, so ``read`` treats a different live version as an out-of-band
edit and records the live content's hash (Grafana may reformat what it stores, so content alone is not
compared).
"""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure

from providers.contract import IN_PLACE, OUTPUT, Contract, Field, adoption, read_back_of_write
from providers.declare import DeclaredResource, declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider
from providers.grafana.dashboards import (
    canonical,
    check_uid,
    dashboard_problems,
    placeholders,
    reference_problems,
    resolve,
)
from providers.http import PreconditionFailed
from providers.inputs import is_unknown, whole_numbers

SAVE_MESSAGE = "Saved by Pulumi (clickstream-iac)"


def content_hash(dashboard: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(canonical(dashboard), sort_keys=True).encode()).hexdigest()


def _folder(value: Any) -> str | None:
    return value or None  # Grafana reports the General folder as ""


def _content_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    dashboard, uids = news.get("dashboard"), news.get("datasource_uids") or {}
    return (is_unknown(dashboard) or is_unknown(uids)
            or content_hash(resolve(dashboard, uids)) != olds.get("content_hash"))


def _uid_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    dashboard = news.get("dashboard")
    return not is_unknown(dashboard) and (dashboard or {}).get("uid") != olds.get("uid")


def _folder_changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    return is_unknown(news.get("folder_uid")) or _folder(news.get("folder_uid")) != _folder(olds.get("folder_uid"))


CONTRACT = Contract("GrafanaDashboard", [
    *CONNECTION,
    Field("dashboard", IN_PLACE, required=True, changed=_content_changed, replaced_when=_uid_changed,
          replaced_doc="dashboard.uid", doc="the dashboard JSON, compared by a hash of its canonical form"),
    Field("datasource_uids", IN_PLACE, doc="`DS_<KEY>` -> uid of a datasource the dashboard uses"),
    Field("folder_uid", IN_PLACE, changed=_folder_changed, doc="the folder (none: General)"),
    Field("uid", OUTPUT, doc="`dashboard.uid`"),
    Field("url", OUTPUT, doc="relative URL `/d/<uid>/<slug>`"),
    Field("version", OUTPUT, doc="Grafana's version; a different live version is an out-of-band edit"),
    Field("content_hash", OUTPUT, doc="hash of the canonical resolved dashboard"),
    Field("adopted", OUTPUT, doc="the dashboard existed before it was created here"),
])


class DashboardProvider(GrafanaProvider):
    """Create/adopt (overwrite by uid), update, read and delete one dashboard."""

    contract = CONTRACT
    id_output = "uid"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        """Reasons the inputs are not a usable dashboard (no network)."""
        failures: list[CheckFailure] = []
        dashboard, uids = news.get("dashboard"), news.get("datasource_uids") or {}
        if not isinstance(uids, Mapping):
            if not is_unknown(uids):
                failures.append(CheckFailure("datasource_uids", "datasource_uids must map DS_<KEY> to a uid"))
            return failures
        if is_unknown(dashboard):
            return failures
        if not isinstance(dashboard, Mapping):
            return failures
        failures += [CheckFailure("dashboard", reason) for reason in dashboard_problems(whole_numbers(dashboard))]
        missing = sorted(placeholders(dashboard) - set(uids))
        if missing:
            failures.append(CheckFailure("datasource_uids", "no datasource uid for "
                                         + ", ".join(f"${{{key}}}" for key in missing)
                                         + f" (used in dashboard {dashboard.get('uid')!r})"))
        if not any(is_unknown(uid) for uid in uids.values()):  # a datasource created in this run: checked at up
            failures += [CheckFailure("dashboard", reason) for reason in reference_problems(dashboard, uids.values())]
        failures += [CheckFailure("datasource_uids", reason) for key, uid in uids.items()
                     if not is_unknown(uid) and (reason := check_uid(uid, f"datasource_uids[{key!r}]"))]
        folder = news.get("folder_uid")
        if folder is not None and not is_unknown(folder) and (reason := check_uid(folder, "folder_uid")):
            failures.append(CheckFailure("folder_uid", reason))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """Save (overwrite by uid), then read back."""
        resolved = resolve(props["dashboard"], props.get("datasource_uids") or {})
        uid, where = resolved["uid"], f"Grafana at {props['grafana_url']}"
        with self.client(props) as grafana:
            grafana.wait_ready()
            adopted = adoption(olds, lambda: grafana.get_dashboard(uid) is not None, f"dashboard {uid!r}", where)
            try:
                saved = grafana.save_dashboard(resolved, props.get("folder_uid"), SAVE_MESSAGE)
            except PreconditionFailed as exc:
                raise exc.reworded(f"{exc.message} (dashboard uid {uid!r}): Grafana reports a version mismatch, "
                                   "the dashboard was saved by someone else while this one was being saved; run "
                                   "the update again (it overwrites by uid)") from None
            declared = {**props, "uid": uid, "url": saved["url"], "version": saved["version"],
                        "content_hash": content_hash(resolved), "adopted": adopted}
            outs = self.read_back(grafana, uid, declared)
        return read_back_of_write(outs, f"dashboard {uid!r}", where)

    def read_back(self, grafana: GrafanaClient, uid: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The dashboard as Grafana has it, in the shape of the outputs (None when there is none): its url,
        version and folder; when its version is not the recorded one (an out-of-band save), the hash of
        the live content. Used by create, update and read."""
        live = grafana.get_dashboard(uid)
        if live is None:
            return None
        meta = live.get("meta") or {}
        version = live["dashboard"].get("version", meta.get("version"))
        outs = {**props, "uid": uid, "url": meta.get("url", props.get("url")), "version": version,
                "folder_uid": _folder(meta.get("folderUid"))}
        if version != props.get("version"):
            outs["content_hash"] = content_hash(live["dashboard"])
        return outs

    def delete_object(self, grafana: GrafanaClient, uid: str) -> None:
        grafana.delete_dashboard(uid)


if TYPE_CHECKING:  # typed inputs of GrafanaDashboard (python -m tools.generated)
    class GrafanaDashboard(DeclaredResource):
        """The inputs and fields of the ``GrafanaDashboard`` field table, typed."""

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
            dashboard: pulumi.Input[Any],
            datasource_uids: pulumi.Input[Any] | None = None,
            folder_uid: pulumi.Input[Any] | None = None,
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
        dashboard: pulumi.Output[Any]
        datasource_uids: pulumi.Output[Any]
        folder_uid: pulumi.Output[Any]
        uid: pulumi.Output[Any]
        url: pulumi.Output[Any]
        version: pulumi.Output[Any]
        content_hash: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    GrafanaDashboard = declare(CONTRACT, DashboardProvider, module="grafana", name="Dashboard", doc="""\
    A dashboard, by ``dashboard["uid"]``, saved with overwrite into ``folder_uid`` (None: General).
    ``datasource_uids`` maps each ``DS_<KEY>`` used as ``${DS_<KEY>}`` in the dashboard to a datasource uid;
    ``url`` is relative (``/d/<uid>/<slug>``).""")
