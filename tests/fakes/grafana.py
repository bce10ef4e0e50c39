"""A FAKE Grafana 12.4 HTTP API for provider tests: health, datasources (with their health check), queries,
folders and dashboards by uid.

What it models, and where each rule comes from in grafana/grafana (``pkg/api``; ``pkg/services``):

- Errors are ``{"message": ...}``; 404 ``... not found``; 401 for bad credentials (``pkg/api/response``).
- Datasources (``pkg/api/datasources.go``): ``POST /api/datasources`` answers 409 with
  ``datasources.ErrDataSourceNameExists``/``ErrDataSourceUidExists`` ("data source with the same name|uid
  already exists"); ``PUT /api/datasources/uid/:uid`` answers 409 "Failed to update datasource: data source
  with the same name already exists" and, for a stale ``version``, 409 "Datasource has already been
  updated by someone else. Please reload and try again". ``secureJsonData`` is write-only: stored apart
  and reported only as ``secureJsonFields: {key: true}``.
- ``GET /api/datasources/uid/:uid/health`` (``CheckDatasourceHealthWithUID``): 200 ``{"status": "OK",
  "message"}`` or 400 ``{"status": "ERROR", "message"}`` from the plugin's ``CheckHealth``; an unknown uid
  is 500 "Unable to load datasource metadata". The Elasticsearch plugin's check is a cluster health call
  (``pkg/tsdb/elasticsearch/healthcheck.go``: "Elasticsearch cluster is healthy" / "... is not healthy");
  ``datasource_health`` stages the answer per uid.
- ``POST /api/ds/query`` (``pkg/api/ds_query.go``): 400 "bad request data" for an unreadable body, 404 "Data
  source not found" for an unknown datasource uid, else 200 ``{"results": {refId: {"status": 200,
  "frames": [...]}}}``; ``query_frames`` stages the frames per datasource uid.
- Dashboards (``pkg/api/dashboard.go``, ``pkg/services/dashboards``): keyed by uid; since Grafana 11.3
  titles need not be unique in a folder (grafana/grafana PR 90687), so there is no "name-exists" any
  more; saving without ``overwrite`` over a newer version is 412 ``{"status": "version-mismatch",
  "message": "The dashboard has been changed by someone else"}``. Deleting a folder deletes its dashboards.
- Health (``GET /api/health``): ``{"database": "ok", "version"}``; ``unavailable(n)`` answers 503
  ``"database": "failing"``.
"""
from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from tests.fakes.server import FakeServer

VERSION = "12.4.0"
ES_HEALTHY = ("OK", "Elasticsearch cluster is healthy")
DATASOURCE_DEFAULTS = {"access": "proxy", "url": "", "user": "", "database": "", "basicAuth": False,
                       "basicAuthUser": "", "withCredentials": False, "isDefault": False, "jsonData": {},
                       "readOnly": False}


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class FakeGrafana(FakeServer):
    """``datasources``/``folders``/``dashboards`` map uid -> stored object; ``secrets`` holds the
    write-only secureJsonData per datasource uid (what Grafana would encrypt)."""

    def __init__(self, *, username: str | None = "admin", password: str | None = "admin",
                 token: str | None = None):
        super().__init__(username=username, password=password, token=token)
        self._ids = itertools.count(1)
        self.datasources: dict[str, dict] = {}
        self.secrets: dict[str, dict] = {}
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}  # uid -> {"dashboard": {...}, "folderUid": str}
        self.datasource_health: dict[str, tuple[str, str]] = {}  # uid -> (status, message); default: healthy
        self.query_frames: dict[str, list] = {}  # datasource uid -> frames its queries answer
        self.route("GET", "/api/health", lambda body, query: (200, self._health("ok")), public=True)
        self.route("POST", "/api/datasources", self._create_datasource)
        self.route("GET", "/api/datasources/uid/([^/]+)/health", self._datasource_health)
        self.route("GET", "/api/datasources/uid/([^/]+)", self._get_datasource)
        self.route("POST", "/api/ds/query", self._query, mutating=False)
        self.route("GET", "/api/datasources/name/([^/]+)", self._get_datasource_by_name)
        self.route("PUT", "/api/datasources/uid/([^/]+)", self._update_datasource)
        self.route("DELETE", "/api/datasources/uid/([^/]+)", self._delete_datasource)
        self.route("POST", "/api/folders", self._create_folder)
        self.route("GET", "/api/folders/([^/]+)", self._get_folder)
        self.route("PUT", "/api/folders/([^/]+)", self._update_folder)
        self.route("DELETE", "/api/folders/([^/]+)", self._delete_folder)
        self.route("POST", "/api/dashboards/db", self._save_dashboard)
        self.route("GET", "/api/dashboards/uid/([^/]+)", self._get_dashboard)
        self.route("DELETE", "/api/dashboards/uid/([^/]+)", self._delete_dashboard)

    @staticmethod
    def _health(database: str) -> dict:
        return {"commit": "fake", "database": database, "version": VERSION}

    def unavailable_response(self, path: str) -> tuple[int, Any]:
        return 503, self._health("failing")

    def unauthorized_response(self, path: str, user: str | None) -> tuple[int, Any]:
        message = "Invalid username or password" if user is not None else "Unauthorized"
        return 401, {"extra": None, "message": message, "messageId": "password-auth.failed", "statusCode": 401,
                     "traceID": ""}

    def not_found_response(self, method: str, path: str) -> tuple[int, Any]:
        return 404, {"message": "Not found"}

    # datasources ------------------------------------------------------------------------------------
    def _datasource_view(self, uid: str) -> dict:
        view = copy.deepcopy(self.datasources[uid])
        view["secureJsonFields"] = {key: True for key in self.secrets.get(uid, {})}
        return view

    def _name_taken(self, name: str, uid: str | None) -> bool:
        return any(d["name"] == name and u != uid for u, d in self.datasources.items())

    def _store_datasource(self, uid: str, body: dict, id_: int, version: int) -> None:
        fields = {k: v for k, v in body.items() if k not in ("secureJsonData", "id", "version", "orgId")}
        self.datasources[uid] = {**DATASOURCE_DEFAULTS, **fields, "id": id_, "uid": uid, "orgId": 1,
                                 "version": version}
        self.secrets.setdefault(uid, {}).update(body.get("secureJsonData") or {})

    def _create_datasource(self, body: dict, query: dict) -> tuple[int, Any]:
        if not body or not body.get("name") or not body.get("type"):
            return 400, {"message": "bad request data: name and type are required"}
        if self._name_taken(body["name"], None):
            return 409, {"message": "data source with the same name already exists"}
        uid = body.get("uid") or f"ds{next(self._ids)}"
        if uid in self.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        id_ = next(self._ids)
        self._store_datasource(uid, body, id_, 1)
        return 200, {"datasource": self._datasource_view(uid), "id": id_, "message": "Datasource added",
                     "name": body["name"]}

    def _get_datasource(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        return 200, self._datasource_view(uid)

    def _get_datasource_by_name(self, body: Any, query: dict, name: str) -> tuple[int, Any]:
        for uid, source in self.datasources.items():
            if source["name"] == name:
                return 200, self._datasource_view(uid)
        return 404, {"message": "Data source not found"}

    def _update_datasource(self, body: dict, query: dict, uid: str) -> tuple[int, Any]:
        current = self.datasources.get(uid)
        if current is None:
            return 404, {"message": "Data source not found"}
        if not body or not body.get("name") or not body.get("type"):
            return 400, {"message": "bad request data: name and type are required"}
        if body.get("version") and body["version"] < current["version"]:
            return 409, {"message": "Datasource has already been updated by someone else. Please reload and try again"}
        if self._name_taken(body["name"], uid):
            return 409, {"message": "Failed to update datasource: data source with the same name already exists"}
        self._store_datasource(uid, {**body, "uid": uid}, current["id"], current["version"] + 1)
        return 200, {"datasource": self._datasource_view(uid), "id": current["id"],
                     "message": "Datasource updated", "name": body["name"]}

    def _datasource_health(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 500, {"message": "Unable to load datasource metadata"}
        status, message = self.datasource_health.get(uid, ES_HEALTHY)
        return (200 if status == "OK" else 400), {"status": status, "message": message}

    def _query(self, body: Any, query: dict) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
            return 400, {"message": "bad request data"}
        results = {}
        for item in body["queries"]:
            uid = (item.get("datasource") or {}).get("uid")
            if uid not in self.datasources:
                return 404, {"message": "Data source not found"}
            results[item.get("refId", "A")] = {"status": 200, "frames": copy.deepcopy(self.query_frames.get(uid, []))}
        return 200, {"results": results}

    def _delete_datasource(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        if self.datasources.pop(uid, None) is None:
            return 404, {"message": "Data source not found"}
        self.secrets.pop(uid, None)
        return 200, {"message": "Data source deleted"}

    # folders ----------------------------------------------------------------------------------------
    def _create_folder(self, body: dict, query: dict) -> tuple[int, Any]:
        if not body or not str(body.get("title") or "").strip():
            return 400, {"message": "folder title cannot be empty"}
        uid = body.get("uid") or f"f{next(self._ids)}"
        if len(uid) > 40:
            return 400, {"message": "uid too long, max 40 characters"}
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.folders[uid] = {"id": next(self._ids), "uid": uid, "title": body["title"], "version": 1,
                             "url": f"/dashboards/f/{uid}/{slugify(body['title'])}"}
        return 200, copy.deepcopy(self.folders[uid])

    def _get_folder(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        return 200, copy.deepcopy(self.folders[uid])

    def _update_folder(self, body: dict, query: dict, uid: str) -> tuple[int, Any]:
        folder = self.folders.get(uid)
        if folder is None:
            return 404, {"message": "folder not found"}
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            return 412, {"message": "the folder has been changed by someone else", "status": "version-mismatch"}
        folder.update(title=body.get("title", folder["title"]), version=folder["version"] + 1)
        return 200, copy.deepcopy(folder)

    def _delete_folder(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        folder = self.folders.pop(uid, None)
        if folder is None:
            return 404, {"message": "folder not found"}
        for dash_uid in [u for u, d in self.dashboards.items() if d["folderUid"] == uid]:
            del self.dashboards[dash_uid]
        return 200, {"message": "Folder deleted", "id": folder["id"], "title": folder["title"]}

    # dashboards -------------------------------------------------------------------------------------
    def _save_dashboard(self, body: dict, query: dict) -> tuple[int, Any]:
        dashboard = copy.deepcopy((body or {}).get("dashboard") or {})
        folder_uid, overwrite = body.get("folderUid") or "", bool(body.get("overwrite"))
        if not str(dashboard.get("title") or "").strip():
            return 400, {"message": "Dashboard title cannot be empty", "status": "empty-name"}
        uid = dashboard.get("uid") or f"d{next(self._ids)}"
        if len(uid) > 40:
            return 400, {"message": "uid too long, max 40 characters", "status": "bad-uid"}
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found", "status": "folder-not-found"}
        existing = self.dashboards.get(uid)
        if existing and not overwrite and dashboard.get("version") != existing["dashboard"]["version"]:
            return 412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
        id_ = existing["dashboard"]["id"] if existing else next(self._ids)
        version = existing["dashboard"]["version"] + 1 if existing else 1
        dashboard.update(id=id_, uid=uid, version=version)
        self.dashboards[uid] = {"dashboard": dashboard, "folderUid": folder_uid}
        slug = slugify(dashboard["title"])
        return 200, {"id": id_, "uid": uid, "url": f"/d/{uid}/{slug}", "status": "success", "version": version,
                     "slug": slug, "folderUid": folder_uid}

    def _get_dashboard(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        dashboard, folder_uid = stored["dashboard"], stored["folderUid"]
        slug = slugify(dashboard["title"])
        meta = {"type": "db", "slug": slug, "url": f"/d/{uid}/{slug}", "version": dashboard["version"],
                "folderUid": folder_uid, "canSave": True,
                "folderTitle": self.folders[folder_uid]["title"] if folder_uid else "Dashboards"}
        return 200, {"dashboard": copy.deepcopy(dashboard), "meta": meta}

    def _delete_dashboard(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        stored = self.dashboards.pop(uid, None)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        title = stored["dashboard"]["title"]
        return 200, {"title": title, "message": f"Dashboard {title} deleted", "id": stored["dashboard"]["id"],
                     "uid": uid}
