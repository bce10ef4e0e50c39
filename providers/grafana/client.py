"""A small client for the Grafana HTTP API (``/api/...``, Grafana 12): health, datasources, folders and
dashboards, all addressed by uid; the kinds that keep their paths in their own module (alerting) use the
base client's ``get_or_none``, ``send`` and ``delete``."""
from __future__ import annotations

from typing import Any, Mapping

import requests

from providers.http import ApiError, ServiceClient

# 500 too: Grafana on SQLite answers a transient 500 ("database is locked") under parallel writes. Every
# request here may be repeated: reads and deletes are idempotent, updates and dashboard saves (overwrite)
# write the same state again, and creates carry their uid, so a repeat that follows a create which did
# succeed gets a 409 that the providers treat as "exists already".
RETRY_STATUSES = (500, 502, 503, 504)


class GrafanaClient(ServiceClient):
    """Talks to one Grafana. Create it inside a provider method and close it there."""

    service = "Grafana"
    credentials = "the Grafana admin user/password (config secret grafanaAdminPassword) or the API key"
    retry_statuses = RETRY_STATUSES

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until ``GET /api/health`` reports the database ok (ServiceTimeout names the URL)."""
        self._wait_ready("/api/health", ready=_database_ok, what="Grafana", timeout=timeout)

    # datasources -------------------------------------------------------------------------------------
    def get_datasource(self, uid: str) -> dict | None:
        return self.get_or_none(f"/api/datasources/uid/{uid}")

    def get_datasource_by_name(self, name: str) -> dict | None:
        return self.get_or_none(f"/api/datasources/name/{name}")

    def create_datasource(self, body: Mapping[str, Any]) -> dict:
        """``POST /api/datasources``; a duplicate name or uid raises ApiError 409."""
        return self._request("POST", "/api/datasources", json=dict(body)).json()["datasource"]

    def update_datasource(self, uid: str, body: Mapping[str, Any]) -> dict:
        return self._request("PUT", f"/api/datasources/uid/{uid}", json=dict(body)).json()["datasource"]

    def datasource_health(self, uid: str) -> tuple[str, str] | None:
        """``(status, message)`` of Grafana's health check of the datasource (``GET /api/datasources/uid/:uid/
        health``: 200 ``OK``, 400 ``ERROR``), or None when its plugin has no health check (404, 501). Not
        retried: a 500 here may be the plugin failing to reach its backend, which the caller waits out."""
        try:
            response = self.http.request("GET", f"/api/datasources/uid/{uid}/health", ok=(200, 400), attempts=1)
        except ApiError as exc:
            if exc.status in (404, 501):
                return None
            raise self.auth_error(exc) from None
        body = response.json()
        return str(body.get("status")), str(body.get("message"))

    def delete_datasource(self, uid: str) -> bool:
        """False when it was already gone."""
        return self.delete(f"/api/datasources/uid/{uid}")

    # folders -----------------------------------------------------------------------------------------
    def get_folder(self, uid: str) -> dict | None:
        return self.get_or_none(f"/api/folders/{uid}")

    def create_folder(self, uid: str, title: str) -> dict:
        return self._request("POST", "/api/folders", json={"uid": uid, "title": title}).json()

    def update_folder(self, uid: str, title: str) -> dict:
        """Rename with ``overwrite`` so an out-of-band edit (a newer version) cannot cause 412."""
        return self._request("PUT", f"/api/folders/{uid}", json={"title": title, "overwrite": True}).json()

    def delete_folder(self, uid: str) -> bool:
        """Delete the folder (Grafana deletes the dashboards in it too); False when already gone."""
        return self.delete(f"/api/folders/{uid}")

    # dashboards --------------------------------------------------------------------------------------
    def get_dashboard(self, uid: str) -> dict | None:
        """``{"dashboard": {...}, "meta": {"version", "folderUid", "url", ...}}`` or None."""
        return self.get_or_none(f"/api/dashboards/uid/{uid}")

    def save_dashboard(self, dashboard: Mapping[str, Any], folder_uid: str | None, message: str) -> dict:
        """Create or overwrite the dashboard with ``dashboard["uid"]``; returns {id, uid, url, version, ...}."""
        payload = {"dashboard": {**dashboard, "id": None}, "folderUid": folder_uid or "", "overwrite": True,
                   "message": message}
        return self._request("POST", "/api/dashboards/db", json=payload).json()

    def delete_dashboard(self, uid: str) -> bool:
        return self.delete(f"/api/dashboards/uid/{uid}")


def _database_ok(response: requests.Response) -> bool:
    try:
        return response.json().get("database") == "ok"
    except ValueError:
        return False

