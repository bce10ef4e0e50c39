"""The dynamic provider behind ``GrafanaFolder`` (``/api/folders``, keyed by uid).

Replacing a folder (new uid) deletes the old one first, and Grafana deletes the dashboards inside it;
the dashboards that name the new folder are then saved again by their own update (an upsert).
"""
from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, \
    UpdateResult

from providers.grafana.common import CONNECTION_KEYS, changed, client, connection_failures
from providers.grafana.dashboards import check_uid
from providers.http import ApiError
from providers.inputs import is_unknown


class FolderProvider(ResourceProvider):
    """Props: ``uid`` and ``title``."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = connection_failures(news)
        if not is_unknown(news.get("uid")) and (reason := check_uid(news.get("uid"))):
            failures.append(CheckFailure("uid", reason))
        title = news.get("title")
        if not is_unknown(title) and (not isinstance(title, str) or not title.strip()):
            failures.append(CheckFailure("title", "title must be a non-empty string"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed(olds, news, CONNECTION_KEYS + ("uid", "title"))
        return DiffResult(changes=bool(changes), replaces=["uid"] if "uid" in changes else [],
                          delete_before_replace=True)

    def _upsert(self, props: dict[str, Any]) -> bool:
        """Create the folder or rename the existing one; returns whether it existed already."""
        uid, title = props["uid"], props["title"]
        with client(props) as grafana:
            grafana.wait_ready()
            existing = grafana.get_folder(uid)
            if existing is None:
                try:
                    grafana.create_folder(uid, title)
                    return False
                except ApiError as exc:  # created concurrently, or Grafana refuses the title
                    if exc.status != 409 or grafana.get_folder(uid) is None:
                        raise
            if existing is None or existing.get("title") != title:
                grafana.update_folder(uid, title)
        return True

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["uid"], {**props, "adopted": self._upsert(props)})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._upsert(news)
        return UpdateResult({**news, "adopted": olds.get("adopted", False)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with client(props) as grafana:
            grafana.wait_ready()
            live = grafana.get_folder(id_)
        if live is None:
            return ReadResult("", {})
        return ReadResult(id_, {**props, "uid": id_, "title": live.get("title")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with client(props) as grafana:
            grafana.wait_ready()
            grafana.delete_folder(id_)
