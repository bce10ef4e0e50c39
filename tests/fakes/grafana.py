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
- Alerting provisioning API (``pkg/services/ngalert/api/api_provisioning.go``; bodies from
  ``pkg/services/ngalert/api/tooling/definitions``): alert rules ``GET .../alert-rules/:uid`` 200 or 404
  with an EMPTY body (``response.Empty``); ``POST .../alert-rules`` 201 with the stored rule, 400 for a
  missing required key (title, folderUID, ruleGroup, condition, data, noDataState, execErrState: an
  empty state is not a state option) or a uid that exists
  (``ErrAlertRuleUniqueConstraintViolation`` is answered 400, not 409); ``PUT .../:uid`` 200, 404 (empty)
  for an unknown uid; ``DELETE .../:uid`` 204 whether or not the rule existed. Grafana adds to the stored
  rule what was not sent (``id``, ``orgID``, ``updated``, ``provenance`` "api" — this fake does not model
  ``X-Disable-Provenance`` — and defaults for ``for``, ``isPaused``, ``labels`` and ``annotations``).
  Contact points (``pkg/services/ngalert/provisioning/contactpoints.go``): ``GET .../contact-points``
  (``?name=`` filters) lists them sorted by name with secure settings as ``[REDACTED]`` (webhook:
  ``password``, ``authorization_credentials``; its ``url`` is not secure, from the integration schema);
  ``POST`` 202 (400 for an existing uid), ``PUT .../:uid`` 202 (404 for an unknown uid; a secure setting
  sent as ``[REDACTED]`` keeps its stored value), ``DELETE .../:uid`` 202, 409 "Contact point is currently
  referenced by a notification policy." (``ErrContactPointReferenced``). The policy tree: ``GET
  .../policies`` 200; ``PUT`` 202 ``{"message": "policies updated"}``, 400 when a ``receiver`` names no
  contact point; ``DELETE`` 202 with the default tree (receiver ``grafana-default-email``).
- Rule state (``pkg/services/ngalert/api/prometheus/api_prometheus.go``, ``GET
  /api/prometheus/grafana/api/v1/rules``): ``{"status": "success", "data": {"groups": [{"name", "file",
  "folderUid", "rules": [{"uid", "name", "state", "health", "lastError", "type": "alerting", ...}]}]}}``;
  ``state`` is inactive, pending, firing or recovering, ``health`` ok, nodata or error (``lastError``
  says why); ``rule_states`` stages them per rule uid (default: inactive, ok).
"""
from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from tests.fakes.server import FakeServer

VERSION = "12.4.0"
PROVISIONING = "/api/v1/provisioning"
RULE_REQUIRED = ("title", "folderUID", "ruleGroup", "condition", "data", "noDataState", "execErrState")
RULE_DEFAULTS = {"for": "0s", "isPaused": False, "annotations": {}, "labels": {}}
SECURE_SETTINGS = {"webhook": {"password", "authorization_credentials"}}
REDACTED = "[REDACTED]"
DEFAULT_POLICY_TREE = {"receiver": "grafana-default-email", "group_by": ["grafana_folder", "alertname"]}
DEFAULT_RECEIVER = "grafana-default-email"
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
        self.alert_rules: dict[str, dict] = {}
        self.contact_points: dict[str, dict] = {}  # uid -> stored contact point, secure values in clear
        self.policy_tree: dict = copy.deepcopy(DEFAULT_POLICY_TREE)
        self.rule_states: dict[str, tuple[str, str, str]] = {}  # uid -> (state, health, lastError)
        self.route("GET", f"{PROVISIONING}/alert-rules/([^/]+)", self._get_alert_rule)
        self.route("POST", f"{PROVISIONING}/alert-rules", self._create_alert_rule)
        self.route("PUT", f"{PROVISIONING}/alert-rules/([^/]+)", self._update_alert_rule)
        self.route("DELETE", f"{PROVISIONING}/alert-rules/([^/]+)", self._delete_alert_rule)
        self.route("GET", f"{PROVISIONING}/contact-points", self._list_contact_points)
        self.route("POST", f"{PROVISIONING}/contact-points", self._create_contact_point)
        self.route("PUT", f"{PROVISIONING}/contact-points/([^/]+)", self._update_contact_point)
        self.route("DELETE", f"{PROVISIONING}/contact-points/([^/]+)", self._delete_contact_point)
        self.route("GET", f"{PROVISIONING}/policies", lambda body, query: (200, copy.deepcopy(self.policy_tree)))
        self.route("PUT", f"{PROVISIONING}/policies", self._put_policy_tree)
        self.route("DELETE", f"{PROVISIONING}/policies", self._reset_policy_tree)
        self.route("GET", "/api/prometheus/grafana/api/v1/rules", self._rule_statuses)

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

    # alerting ---------------------------------------------------------------------------------------
    def _stored_rule(self, uid: str, body: dict, id_: int) -> dict:
        fields = {k: v for k, v in body.items() if k not in ("id", "orgID", "provenance", "updated")}
        return {**RULE_DEFAULTS, **fields, "uid": uid, "id": id_, "orgID": 1, "provenance": "api",
                "updated": f"2026-01-01T00:00:{id_ % 60:02d}Z"}

    def _get_alert_rule(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        rule = self.alert_rules.get(uid)
        return (404, None) if rule is None else (200, copy.deepcopy(rule))

    def _create_alert_rule(self, body: Any, query: dict) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"message": "bad request data"}
        missing = [key for key in RULE_REQUIRED if not body.get(key)]
        if missing:
            return 400, {"message": f"invalid alert rule: {missing[0]} is required"}
        uid = body.get("uid") or f"r{next(self._ids)}"
        if uid in self.alert_rules:
            return 400, {"message": "failed to insert alert rules: a conflicting alert rule is found: rule UID "
                                    "under the same organisation should be unique"}
        self.alert_rules[uid] = self._stored_rule(uid, body, next(self._ids))
        return 201, copy.deepcopy(self.alert_rules[uid])

    def _update_alert_rule(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        current = self.alert_rules.get(uid)
        if current is None:
            return 404, None
        if not isinstance(body, dict) or [key for key in RULE_REQUIRED if not body.get(key)]:
            return 400, {"message": f"invalid alert rule: {', '.join(RULE_REQUIRED)} are required"}
        self.alert_rules[uid] = self._stored_rule(uid, body, current["id"])
        return 200, copy.deepcopy(self.alert_rules[uid])

    def _delete_alert_rule(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        self.alert_rules.pop(uid, None)
        return 204, None

    def _contact_point_view(self, point: dict) -> dict:
        secure = SECURE_SETTINGS.get(point["type"], set())
        settings = {k: (REDACTED if k in secure and v else v) for k, v in point["settings"].items()}
        return {**copy.deepcopy(point), "settings": settings}

    def _list_contact_points(self, body: Any, query: dict) -> tuple[int, Any]:
        points = sorted(self.contact_points.values(), key=lambda p: p["name"])
        return 200, [self._contact_point_view(p) for p in points if query.get("name") in (None, p["name"])]

    def _contact_point(self, body: Any, uid: str) -> dict | None:
        if not isinstance(body, dict) or not body.get("name") or not body.get("type"):
            return None
        return {"uid": uid, "name": body["name"], "type": body["type"], "settings": dict(body.get("settings") or {}),
                "disableResolveMessage": bool(body.get("disableResolveMessage")), "provenance": "api"}

    def _create_contact_point(self, body: Any, query: dict) -> tuple[int, Any]:
        uid = (body or {}).get("uid") or f"c{next(self._ids)}"
        point = self._contact_point(body, uid)
        if point is None:
            return 400, {"message": "contact point is not valid: name and type are required"}
        if uid in self.contact_points:
            return 400, {"message": f"contact point with uid {uid!r} already exists"}
        self.contact_points[uid] = point
        return 202, self._contact_point_view(point)

    def _update_contact_point(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        current = self.contact_points.get(uid)
        if current is None:
            return 404, {"message": f"contact point with uid {uid!r} not found"}
        point = self._contact_point(body, uid)
        if point is None:
            return 400, {"message": "contact point is not valid: name and type are required"}
        point["settings"] = {k: current["settings"].get(k) if v == REDACTED else v
                             for k, v in point["settings"].items()}
        self.contact_points[uid] = point
        return 202, {"message": "contactpoint updated"}

    def _receivers(self, route: dict) -> set[str]:
        return {route.get("receiver", "")} | {r for child in route.get("routes") or [] for r in self._receivers(child)}

    def _delete_contact_point(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        point = self.contact_points.get(uid)
        if point is not None and point["name"] in self._receivers(self.policy_tree):
            return 409, {"message": "Contact point is currently referenced by a notification policy."}
        self.contact_points.pop(uid, None)
        return 202, {"message": "contactpoint deleted"}

    def _put_policy_tree(self, body: Any, query: dict) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body.get("receiver"):
            return 400, {"message": "invalid object specification: root route must specify a default receiver"}
        known = {p["name"] for p in self.contact_points.values()} | {DEFAULT_RECEIVER}
        unknown = sorted(self._receivers(body) - known)
        if unknown:
            return 400, {"message": f"invalid object specification: receiver '{unknown[0]}' does not exist"}
        self.policy_tree = {**copy.deepcopy(body), "provenance": "api"}
        return 202, {"message": "policies updated"}

    def _reset_policy_tree(self, body: Any, query: dict) -> tuple[int, Any]:
        self.policy_tree = copy.deepcopy(DEFAULT_POLICY_TREE)
        return 202, copy.deepcopy(self.policy_tree)

    def _rule_statuses(self, body: Any, query: dict) -> tuple[int, Any]:
        groups: dict[tuple[str, str], list] = {}
        for uid, rule in self.alert_rules.items():
            state, health, error = self.rule_states.get(uid, ("inactive", "ok", ""))
            groups.setdefault((rule["folderUID"], rule["ruleGroup"]), []).append(
                {"uid": uid, "name": rule["title"], "folderUid": rule["folderUID"], "state": state, "health": health,
                 "lastError": error, "type": "alerting", "labels": rule.get("labels") or {}, "alerts": []})
        return 200, {"status": "success", "data": {"groups": [
            {"name": group, "file": (self.folders.get(folder) or {}).get("title", folder), "folderUid": folder,
             "rules": rules} for (folder, group), rules in sorted(groups.items())]}}
