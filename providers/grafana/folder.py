"""The dynamic provider behind ``GrafanaFolder`` (``/api/folders``, keyed by uid).

Replacing a folder (new uid) deletes the old one first, and Grafana deletes the dashboards inside it;
the dashboards that name the new folder are then saved again by their own update (an upsert).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure

from providers.contract import IDENTITY, IN_PLACE, OUTPUT, Contract, Field, adoption, read_back_of_write
from providers.declare import DeclaredResource, declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider
from providers.grafana.dashboards import check_uid
from providers.http import Conflict
from providers.inputs import is_unknown

CONTRACT = Contract("GrafanaFolder", [
    *CONNECTION,
    Field("uid", IDENTITY, required=True, annotation="str", problem=check_uid, doc="the folder's uid"),
    Field("title", IN_PLACE, required=True, doc="the folder's title"),
    Field("adopted", OUTPUT, doc="the folder existed before it was created here"),
])


class FolderProvider(GrafanaProvider):
    """Props: ``uid`` and ``title``."""

    contract = CONTRACT
    id_output = "uid"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        """Reasons the inputs are not a usable folder (no network)."""
        failures: list[CheckFailure] = []
        title = news.get("title")
        if not is_unknown(title) and (not isinstance(title, str) or not title.strip()):
            failures.append(CheckFailure("title", "title must be a non-empty string"))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """Create the folder or rename the existing one, then read it back."""
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
            where = f"Grafana at {props['grafana_url']}"
            adopted = adoption(olds, lambda: existing is not None, f"folder {uid!r}", where)
            outs = self.read_back(grafana, uid, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"folder {uid!r}", where)

    def read_back(self, grafana: GrafanaClient, uid: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The folder as Grafana has it, in the shape of the outputs (None when there is none). Used by
        create, update and read."""
        live = grafana.get_folder(uid)
        return None if live is None else {**props, "uid": uid, "title": live.get("title")}

    def delete_object(self, grafana: GrafanaClient, uid: str) -> None:
        grafana.delete_folder(uid)


if TYPE_CHECKING:  # typed inputs of GrafanaFolder (python -m tools.generated)
    class GrafanaFolder(DeclaredResource):
        """The inputs and fields of the ``GrafanaFolder`` field table, typed."""

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
            title: pulumi.Input[Any],
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
        title: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    GrafanaFolder = declare(CONTRACT, FolderProvider, module="grafana", name="Folder",
                            doc="A folder, by ``uid``, with ``title``.")
