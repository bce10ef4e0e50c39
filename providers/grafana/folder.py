"""The dynamic provider behind ``GrafanaFolder`` (``/api/folders``, keyed by uid).

Replacing a folder (new uid) deletes the old one first, and Grafana deletes the dashboards inside it;
the dashboards that name the new folder are then saved again by their own update (an upsert).
"""
from __future__ import annotations

from typing import Any, Mapping

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, UpdateResult

from providers.contract import IDENTITY, IN_PLACE, OUTPUT, Contract, Field, read_back_of_write, report_adopted
from providers.grafana.common import CONNECTION, GrafanaProvider, connection_failures
from providers.grafana.client import GrafanaClient
from providers.grafana.dashboards import check_uid
from providers.http import Conflict
from providers.inputs import is_unknown

CONTRACT = Contract("GrafanaFolder", [
    *CONNECTION,
    Field("uid", IDENTITY, required=True, doc="the folder's uid"),
    Field("title", IN_PLACE, required=True, doc="the folder's title"),
    Field("adopted", OUTPUT, doc="the folder existed before it was created here"),
])


class FolderProvider(GrafanaProvider):
    """Props: ``uid`` and ``title``."""

    contract = CONTRACT

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = CONTRACT.with_defaults(news)
        failures = connection_failures(news)
        if not is_unknown(news.get("uid")) and (reason := check_uid(news.get("uid"))):
            failures.append(CheckFailure("uid", reason))
        title = news.get("title")
        if not is_unknown(title) and (not isinstance(title, str) or not title.strip()):
            failures.append(CheckFailure("title", "title must be a non-empty string"))
        return CONTRACT.result(news, failures)

    def _upsert(self, props: dict[str, Any], adopted: bool | None) -> dict[str, Any]:
        """Create the folder or rename the existing one, then read it back. ``adopted`` None: this is a
        create, which adopts a folder that exists already."""
        uid, title = props["uid"], props["title"]
        with self.client(props) as grafana:
            grafana.wait_ready()
            existing = grafana.get_folder(uid)
            if existing is None:
                try:
                    grafana.create_folder(uid, title)
                except Conflict:  # created concurrently (or Grafana refuses the title: then it is not there)
                    if grafana.get_folder(uid) is None:
                        raise
                    grafana.update_folder(uid, title)
            elif existing.get("title") != title:
                grafana.update_folder(uid, title)
            if adopted is None:
                adopted = existing is not None
                if adopted:
                    report_adopted(f"Grafana folder {uid!r}", props["grafana_url"])
            outs = self.read_back(grafana, uid, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"folder {uid!r}", f"Grafana at {props['grafana_url']}")

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props["uid"], self._upsert(props, adopted=None))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._upsert(news, adopted=bool(olds.get("adopted", False))))

    def read_back(self, grafana: GrafanaClient, uid: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The folder as Grafana has it, in the shape of the outputs (None when there is none). Used by
        create, update and read."""
        live = grafana.get_folder(uid)
        return None if live is None else {**props, "uid": uid, "title": live.get("title")}

    def delete_object(self, grafana: GrafanaClient, uid: str) -> None:
        grafana.delete_folder(uid)
