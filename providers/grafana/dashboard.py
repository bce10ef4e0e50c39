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
from typing import Any, Mapping

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, \
    UpdateResult

from providers.grafana.common import CONNECTION_KEYS, changed, client, connection_failures
from providers.grafana.dashboards import canonical, check_uid, dashboard_problems, placeholders, resolve
from providers.http import ApiError
from providers.inputs import is_unknown, whole_numbers

SAVE_MESSAGE = "Saved by Pulumi (clickstream-iac)"


def content_hash(dashboard: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(canonical(dashboard), sort_keys=True).encode()).hexdigest()


def _folder(value: Any) -> str | None:
    return value or None  # Grafana reports the General folder as ""


class DashboardProvider(ResourceProvider):
    """Create/adopt (overwrite by uid), update, read and delete one dashboard."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = connection_failures(news)
        dashboard, uids = news.get("dashboard"), news.get("datasource_uids") or {}
        if not isinstance(uids, Mapping):
            if not is_unknown(uids):
                failures.append(CheckFailure("datasource_uids", "datasource_uids must map DS_<KEY> to a uid"))
            return CheckResult(news, failures)
        if is_unknown(dashboard):
            return CheckResult(news, failures)
        failures += [CheckFailure("dashboard", reason) for reason in dashboard_problems(whole_numbers(dashboard))]
        missing = sorted(placeholders(dashboard) - set(uids))
        if missing:
            failures.append(CheckFailure("datasource_uids", "no datasource uid for "
                                         + ", ".join(f"${{{key}}}" for key in missing)
                                         + f" (used in dashboard {dashboard.get('uid')!r})"))
        failures += [CheckFailure("datasource_uids", reason) for key, uid in uids.items()
                     if not is_unknown(uid) and (reason := check_uid(uid, f"datasource_uids[{key!r}]"))]
        folder = news.get("folder_uid")
        if folder is not None and not is_unknown(folder) and (reason := check_uid(folder, "folder_uid")):
            failures.append(CheckFailure("folder_uid", reason))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed(olds, news, CONNECTION_KEYS)
        if is_unknown(news.get("folder_uid")) or _folder(news.get("folder_uid")) != _folder(olds.get("folder_uid")):
            changes.append("folder_uid")
        dashboard, uids = news["dashboard"], news.get("datasource_uids") or {}
        if is_unknown(dashboard) or is_unknown(uids) or content_hash(resolve(dashboard, uids)) != olds.get("content_hash"):
            changes.append("dashboard")
        replaces = ["dashboard"] if not is_unknown(dashboard) and dashboard.get("uid") != olds.get("uid") else []
        return DiffResult(changes=bool(changes), replaces=replaces, delete_before_replace=True)

    def _save(self, props: dict[str, Any], *, create: bool) -> dict[str, Any]:
        resolved = resolve(props["dashboard"], props.get("datasource_uids") or {})
        uid = resolved["uid"]
        with client(props) as grafana:
            grafana.wait_ready()
            adopted = create and grafana.get_dashboard(uid) is not None
            try:
                saved = grafana.save_dashboard(resolved, props.get("folder_uid"), SAVE_MESSAGE)
            except ApiError as exc:
                if exc.status != 412:
                    raise
                raise ApiError(exc.method, exc.url, 412,
                               f"{exc.message} (dashboard uid {uid!r}): Grafana reports a version mismatch, the "
                               "dashboard was saved by someone else while this one was being saved; run the update "
                               "again (it overwrites by uid)", exc.body) from None
        outs = {**props, "uid": uid, "url": saved["url"], "version": saved["version"],
                "content_hash": content_hash(resolved)}
        return {**outs, "adopted": adopted} if create else outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._save(props, create=True)
        return CreateResult(outs["uid"], outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**self._save(news, create=False), "adopted": olds.get("adopted", False)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with client(props) as grafana:
            grafana.wait_ready()
            live = grafana.get_dashboard(id_)
        if live is None:
            return ReadResult("", {})
        meta = live.get("meta") or {}
        version = live["dashboard"].get("version", meta.get("version"))
        outs = {**props, "uid": id_, "url": meta.get("url", props.get("url")), "version": version,
                "folder_uid": _folder(meta.get("folderUid"))}
        if version != props.get("version"):
            outs["content_hash"] = content_hash(live["dashboard"])
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with client(props) as grafana:
            grafana.wait_ready()
            grafana.delete_dashboard(id_)
