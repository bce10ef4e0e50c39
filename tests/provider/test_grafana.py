"""GrafanaDatasource / GrafanaFolder / GrafanaDashboard providers and GrafanaClient against a FAKE
Grafana 12.4 HTTP API (tests/fakes/grafana.py, which names the Grafana sources it follows). No real Grafana
can run on this machine (no Docker; Grafana is not on Maven Central or PyPI); all tests are fake-backed.
"""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
import requests
from pulumi.output import Unknown

from providers.contract import secret_hash
from providers.grafana import GrafanaClient
from providers.grafana.dashboard import DashboardProvider
from providers.grafana.datasource import CONTRACT as DATASOURCE_CONTRACT
from providers.grafana.datasource import DatasourceProvider, DatasourceUnhealthy
from providers.grafana.folder import FolderProvider
from providers.http import ApiError, Endpoint, ServiceTimeout
from tests.fakes.grafana import FakeGrafana
from tests.provider.pulumi_engine import CheckFailed, Deployed, check, destroy, dill_round_trip, refresh, up

pytestmark = pytest.mark.fake
ADMIN_PASSWORD = "grafana-Admin-pw-42"
ES_PASSWORD = "es-Reader-pw-77"
DATASOURCE: dict[str, Any] = {"name": "ES events_per_min", "type": "elasticsearch", "url": "http://elasticsearch:9200",
              "access": "proxy", "basicAuth": True, "basicAuthUser": "elastic",
              "jsonData": {"index": "events_per_min", "timeField": "EVENT_TS", "interval": "Daily"}}
DASHBOARD = {
    "uid": "clickstream", "title": "Clickstream analysis", "time": {"from": "now-15m", "to": "now"},
    "refresh": "5s", "schemaVersion": 41,
    "panels": [{"id": 1, "type": "timeseries", "title": "Events per minute",
                "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                "datasource": {"type": "elasticsearch", "uid": "${DS_EVENTS_PER_MIN}"},
                "targets": [{"refId": "A", "datasource": {"type": "elasticsearch", "uid": "${DS_EVENTS_PER_MIN}"},
                             "timeField": "EVENT_TS", "metrics": [{"id": "1", "type": "max", "field": "EVENTS"}]}]}],
}


@pytest.fixture
def grafana():
    with FakeGrafana(username="admin", password=ADMIN_PASSWORD) as fake:
        yield fake


def connection(grafana, **overrides):
    return {"grafana_url": grafana.url, "username": "admin", "password": ADMIN_PASSWORD, "ready_timeout": 5,
            **overrides}


def ds_props(grafana, **overrides):
    return {**connection(grafana), "uid": "es-events-per-min", "datasource": copy.deepcopy(DATASOURCE),
            "secure_json_data": {"basicAuthPassword": ES_PASSWORD}, **overrides}


def folder_props(grafana, **overrides):
    return {**connection(grafana), "uid": "clickstream", "title": "Clickstream", **overrides}


def dash_props(grafana, **overrides):
    return {**connection(grafana), "dashboard": copy.deepcopy(DASHBOARD), "folder_uid": None,
            "datasource_uids": {"DS_EVENTS_PER_MIN": "es-events-per-min"}, **overrides}


def mutations(grafana):
    return [(c.method, c.path) for c in grafana.mutating_calls]


def client(grafana):
    return GrafanaClient(Endpoint(grafana.url, "admin", ADMIN_PASSWORD))


def assert_no_plain_secret(outs):
    """Secrets appear only under keys Pulumi stores as secret; secure_json_data values nowhere."""
    dumped = json.dumps(outs)
    assert ES_PASSWORD not in dumped
    assert [k for k, v in outs.items() if v == ADMIN_PASSWORD] == ["password"]
    assert "password" in DATASOURCE_CONTRACT.secret_outputs


# datasources -----------------------------------------------------------------------------------------
def test_fake_datasource_create_stores_secret_write_only_and_keeps_only_a_hash(grafana):
    deployed = up(DatasourceProvider(), ds_props(grafana))
    assert deployed.id == "es-events-per-min"
    assert deployed.outs["name"] == "ES events_per_min" and deployed.outs["adopted"] is False
    live = grafana.datasources["es-events-per-min"]
    assert live["jsonData"]["index"] == "events_per_min" and "database" not in DATASOURCE
    assert grafana.secrets["es-events-per-min"] == {"basicAuthPassword": ES_PASSWORD}
    with client(grafana) as c:
        assert c.get_datasource("es-events-per-min")["secureJsonFields"] == {"basicAuthPassword": True}
    assert_no_plain_secret(deployed.outs)
    assert deployed.outs["secure_json_data_hash"] and "secure_json_data" not in deployed.outs


def test_fake_datasource_second_apply_and_clean_refresh_make_no_write(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    grafana.reset_calls()
    assert up(provider, ds_props(grafana), deployed) is deployed
    assert grafana.calls == []
    refreshed = refresh(provider, deployed)  # Grafana adds defaults (user, database, ...): not declared
    assert provider.diff(refreshed.id, refreshed.outs, ds_props(grafana)).changes is False
    assert grafana.mutating_calls == []


def test_fake_datasource_state_of_the_first_release_shows_no_change_and_is_rehashed_by_the_next_update(grafana):
    """The first release stored the secrets' hash with the salt as hex bytes and JSON with spaces; such state
    must plan no change (no spurious update), and the next real update stores the current form."""
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    salt = deployed.outs["secret_salt"]
    secrets = {"basicAuthPassword": ES_PASSWORD}
    first_release = hashlib.pbkdf2_hmac("sha256", json.dumps(secrets, sort_keys=True).encode(), bytes.fromhex(salt),
                                        100_000).hex()
    old_state = Deployed(deployed.id, deployed.inputs, {**deployed.outs, "secure_json_data_hash": first_release})
    grafana.reset_calls()
    assert provider.diff(old_state.id, old_state.outs, ds_props(grafana)).changes is False
    assert up(provider, ds_props(grafana), old_state) is old_state and grafana.calls == []
    renamed = up(provider, ds_props(grafana, datasource={**DATASOURCE, "name": "Renamed"}), old_state)
    assert renamed.outs["secure_json_data_hash"] == secret_hash(secrets, salt) != first_release
    assert provider.diff(renamed.id, renamed.outs, ds_props(grafana, datasource={**DATASOURCE, "name": "Renamed"})
                         ).changes is False


def test_fake_datasource_changed_json_data_or_secret_or_name_updates_in_place(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    grafana.reset_calls()
    source = {**DATASOURCE, "name": "Events per minute", "jsonData": {**DATASOURCE["jsonData"], "timeField": "ts"}}
    deployed = up(provider, ds_props(grafana, datasource=source), deployed)
    deployed = up(provider, ds_props(grafana, datasource=source, secure_json_data={"basicAuthPassword": "new-pw"}),
                  deployed)
    assert mutations(grafana) == [("PUT", "/api/datasources/uid/es-events-per-min")] * 2
    live = grafana.datasources["es-events-per-min"]
    assert (live["name"], live["jsonData"]["timeField"]) == ("Events per minute", "ts")
    assert grafana.secrets["es-events-per-min"]["basicAuthPassword"] == "new-pw"
    assert deployed.outs["name"] == "Events per minute"


def test_fake_datasource_uid_change_replaces_deleting_first(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    grafana.reset_calls()
    replaced = up(provider, ds_props(grafana, uid="es-epm"), deployed)
    assert replaced.id == "es-epm"
    assert mutations(grafana) == [("DELETE", "/api/datasources/uid/es-events-per-min"), ("POST", "/api/datasources")]


def test_fake_datasource_delete_and_delete_when_already_gone(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    destroy(provider, deployed)
    assert grafana.datasources == {}
    destroy(provider, deployed)
    assert grafana.calls[-1].status == 404


def test_fake_datasource_create_adopts_one_with_the_same_uid(grafana):
    with client(grafana) as c:
        c.create_datasource({"uid": "es-events-per-min", "name": "old name", "type": "elasticsearch",
                             "jsonData": {"index": "x", "timeField": "t"}})
    deployed = up(DatasourceProvider(), ds_props(grafana))
    assert deployed.outs["adopted"] is True
    assert grafana.datasources["es-events-per-min"]["name"] == "ES events_per_min"


def test_fake_datasource_same_name_other_uid_is_refused_with_the_uid_to_declare(grafana):
    with client(grafana) as c:
        c.create_datasource({"uid": "handmade", "name": "ES events_per_min", "type": "elasticsearch"})
    with pytest.raises(ApiError) as caught:
        up(DatasourceProvider(), ds_props(grafana))
    assert caught.value.status == 409
    assert "already exists with uid 'handmade'" in str(caught.value) and "declare uid 'handmade'" in str(caught.value)
    assert set(grafana.datasources) == {"handmade"}


def test_fake_datasource_created_concurrently_409_same_uid_is_adopted(grafana):
    with client(grafana) as c:
        c.create_datasource({"uid": "es-events-per-min", "name": "racing", "type": "elasticsearch"})
    # the first look-up misses it (created in between), so POST gets Grafana's 409 for the uid
    grafana.fail_next("GET", "/api/datasources/uid/es-events-per-min", 404, {"message": "Data source not found"})
    grafana.reset_calls()
    deployed = up(DatasourceProvider(), ds_props(grafana))
    assert deployed.outs["adopted"] is True
    assert [(c.method, c.status) for c in grafana.mutating_calls] == [("POST", 409), ("PUT", 200)]
    assert grafana.datasources["es-events-per-min"]["name"] == "ES events_per_min"


def test_fake_datasource_health_is_checked_after_create_and_update(grafana):
    provider = DatasourceProvider()
    grafana.reset_calls()
    deployed = up(provider, ds_props(grafana))
    up(provider, ds_props(grafana, datasource={**DATASOURCE, "name": "renamed"}), deployed)
    health = [c for c in grafana.calls if c.path == "/api/datasources/uid/es-events-per-min/health"]
    assert [c.status for c in health] == [200, 200]


def test_fake_datasource_that_stays_unhealthy_is_reported_in_grafanas_words(grafana):
    grafana.datasource_health["es-events-per-min"] = ("ERROR", "Elasticsearch cluster is not healthy")
    with pytest.raises(DatasourceUnhealthy) as caught:
        up(DatasourceProvider(), ds_props(grafana, ready_timeout=1))
    message = str(caught.value)
    assert "datasource 'es-events-per-min' ('ES events_per_min')" in message
    assert "Grafana says: ERROR: Elasticsearch cluster is not healthy" in message
    assert ES_PASSWORD not in message and ADMIN_PASSWORD not in message


def test_fake_grafana_errors_that_echo_the_elasticsearch_password_the_datasource_carries_are_redacted(grafana):
    """Grafana's own client redacts only Grafana's credentials; the datasource's secure_json_data (the
    Elasticsearch password) is a credential of the stack too, and an error may quote it."""
    grafana.datasource_health["es-events-per-min"] = (
        "ERROR", f"Get \"http://elastic:{ES_PASSWORD}@elasticsearch:9200/_cluster/health\": dial tcp: i/o timeout")
    with pytest.raises(Exception) as unhealthy:
        up(DatasourceProvider(), ds_props(grafana, ready_timeout=1))
    grafana.fail_next("PUT", "/api/datasources/uid/es-events-per-min", 400,
                      {"message": f"invalid secureJsonData.basicAuthPassword {ES_PASSWORD!r}"})
    with pytest.raises(Exception) as refused:
        up(DatasourceProvider(), ds_props(grafana))
    for caught in (unhealthy, refused):
        message = str(caught.value)
        assert ES_PASSWORD not in message and "[secret]" in message, message
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "Grafana says: ERROR: Get" in str(unhealthy.value)


def test_fake_datasource_health_is_waited_for_while_the_backend_starts(grafana):
    grafana.fail_next("GET", "/api/datasources/uid/es-events-per-min/health", 400,
                      {"status": "ERROR", "message": "Elasticsearch cluster is not healthy"}, times=2)
    grafana.reset_calls()
    up(DatasourceProvider(), ds_props(grafana))
    health = [c.status for c in grafana.calls if c.path == "/api/datasources/uid/es-events-per-min/health"]
    assert health == [400, 400, 200]


def test_fake_datasource_of_a_plugin_without_health_check_passes(grafana):
    grafana.fail_next("GET", "/api/datasources/uid/es-events-per-min/health", 404, {"message": "Plugin not found"})
    assert up(DatasourceProvider(), ds_props(grafana)).id == "es-events-per-min"


def test_fake_transient_500_database_is_locked_is_retried(grafana):
    """Grafana on SQLite answers 500 under parallel writes; every request of the client may be repeated."""
    grafana.fail_next("POST", "/api/datasources", 500, {"message": "Failed to add datasource"}, times=2)
    grafana.fail_next("POST", "/api/dashboards/db", 500, {"message": "database is locked"})
    up(DatasourceProvider(), ds_props(grafana))
    deployed = up(DashboardProvider(), dash_props(grafana))
    assert deployed.outs["version"] == 1 and "es-events-per-min" in grafana.datasources
    assert [c.status for c in grafana.calls if c.method == "POST"] == [500, 500, 200, 500, 200]


def test_fake_datasource_create_retried_after_a_500_that_did_create_adopts_it(grafana):
    """A POST whose 500 came after Grafana stored the datasource: the repeat gets 409 and adopts it."""
    with client(grafana) as c:
        c.create_datasource({**DATASOURCE, "uid": "es-events-per-min"})
    grafana.fail_next("GET", "/api/datasources/uid/es-events-per-min", 404, {"message": "Data source not found"})
    grafana.fail_next("POST", "/api/datasources", 500, {"message": "Failed to add datasource"})
    grafana.reset_calls()
    deployed = up(DatasourceProvider(), ds_props(grafana))
    assert deployed.outs["adopted"] is True
    assert [(c.method, c.status) for c in grafana.mutating_calls] == [("POST", 500), ("POST", 409), ("PUT", 200)]


def test_fake_datasource_rename_onto_a_taken_name_reports_grafanas_message(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    with client(grafana) as c:
        c.create_datasource({"uid": "other", "name": "taken", "type": "elasticsearch"})
    with pytest.raises(ApiError, match="HTTP 409: Failed to update datasource: data source with the same name"):
        up(provider, ds_props(grafana, datasource={**DATASOURCE, "name": "taken"}), deployed)


def test_fake_query_and_health_endpoints_answer_like_grafana(grafana):
    up(DatasourceProvider(), ds_props(grafana))
    grafana.query_frames["es-events-per-min"] = [{"schema": {"fields": [{"name": "EVENTS"}]}}]
    auth = ("admin", ADMIN_PASSWORD)
    query = {"from": "now-15m", "to": "now",
             "queries": [{"refId": "A", "datasource": {"uid": "es-events-per-min"}, "query": "*"}]}
    answer = requests.post(f"{grafana.url}/api/ds/query", json=query, auth=auth, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["results"]["A"]["frames"][0]["schema"]["fields"] == [{"name": "EVENTS"}]
    unknown = {**query, "queries": [{"refId": "A", "datasource": {"uid": "nope"}}]}
    answer = requests.post(f"{grafana.url}/api/ds/query", json=unknown, auth=auth, timeout=5)
    assert (answer.status_code, answer.json()["message"]) == (404, "Data source not found")
    answer = requests.get(f"{grafana.url}/api/datasources/uid/nope/health", auth=auth, timeout=5)
    assert (answer.status_code, answer.json()["message"]) == (500, "Unable to load datasource metadata")
    assert requests.get(f"{grafana.url}/api/health", timeout=5).json()["version"] == "12.4.0"


def test_fake_datasource_refresh_detects_edits_deleted_secrets_and_deletion(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    grafana.datasources["es-events-per-min"]["jsonData"]["index"] = "edited"
    drifted = refresh(provider, deployed)
    assert drifted.outs["datasource"]["jsonData"]["index"] == "edited"
    assert provider.diff(drifted.id, drifted.outs, ds_props(grafana)).changes is True
    restored = up(provider, ds_props(grafana), drifted)
    assert grafana.datasources["es-events-per-min"]["jsonData"]["index"] == "events_per_min"
    grafana.secrets["es-events-per-min"].clear()
    drifted = refresh(provider, restored)
    assert provider.diff(drifted.id, drifted.outs, ds_props(grafana)).changes is True
    del grafana.datasources["es-events-per-min"]
    assert refresh(provider, drifted) is None


def test_fake_datasource_waits_for_grafana_health_then_creates(grafana):
    grafana.unavailable(2)  # /api/health answers 503 {"database": "failing"}
    up(DatasourceProvider(), ds_props(grafana))
    assert [c.status for c in grafana.calls[:2]] == [503, 503]
    assert "es-events-per-min" in grafana.datasources


def test_fake_grafana_never_healthy_times_out_naming_the_url(grafana):
    grafana.unavailable(10_000)
    with pytest.raises(ServiceTimeout, match=rf"Grafana at {grafana.url}/api/health to become ready.*failing"):
        up(DatasourceProvider(), ds_props(grafana, ready_timeout=1))


def test_fake_bad_admin_password_names_the_user_not_any_secret(grafana):
    with pytest.raises(ApiError) as caught:
        up(DatasourceProvider(), ds_props(grafana, password="wrong-pw"))
    message = str(caught.value)
    assert caught.value.status == 401 and "user 'admin'" in message and "Invalid username or password" in message
    assert "wrong-pw" not in message and ADMIN_PASSWORD not in message and ES_PASSWORD not in message


def test_fake_api_key_authenticates_instead_of_basic_auth():
    with FakeGrafana(username=None, password=None, token="glsa_token") as grafana:
        deployed = up(FolderProvider(), folder_props(grafana, username=None, password=None, api_key="glsa_token"))
        assert deployed.id in grafana.folders


def test_fake_grafana_400_message_is_surfaced(grafana):
    grafana.fail_next("POST", "/api/datasources", 400, {"message": "Invalid datasource url"})
    with pytest.raises(ApiError, match="HTTP 400: Invalid datasource url"):
        up(DatasourceProvider(), ds_props(grafana))


@pytest.mark.parametrize("overrides, expected", [
    ({"uid": "x" * 41}, "must be 1-40 characters"),
    ({"datasource": {**DATASOURCE, "database": "events"}}, "deprecated for Elasticsearch: put the index in jsonData"),
    ({"datasource": {**DATASOURCE, "jsonData": {"timeField": "t"}}}, "jsonData.index is required"),
    ({"datasource": {**DATASOURCE, "jsonData": {**DATASOURCE["jsonData"], "esVersion": "8.0.0"}}},
     "esVersion was removed"),
    ({"datasource": {**DATASOURCE, "secureJsonData": {}}}, "datasource.secureJsonData is not declared here"),
    ({"datasource": {"type": "elasticsearch"}}, "datasource.name must be a non-empty string"),
    ({"grafana_url": "grafana:3000"}, "http(s) base URL"),
])
def test_fake_datasource_check_rejects_bad_inputs_without_network(grafana, overrides, expected):
    with pytest.raises(CheckFailed) as caught:
        check(DatasourceProvider(), ds_props(grafana, **overrides))
    assert expected in str(caught.value) and ES_PASSWORD not in str(caught.value)
    assert grafana.calls == []


def test_fake_datasource_preview_with_unknown_secret_reports_a_change(grafana):
    provider = DatasourceProvider()
    deployed = up(provider, ds_props(grafana))
    news = ds_props(grafana, grafana_url=Unknown(), secure_json_data={"basicAuthPassword": Unknown()})
    assert check(provider, news)
    assert provider.diff(deployed.id, deployed.outs, news).changes is True
    wholly_unknown = ds_props(grafana, datasource=Unknown(), secure_json_data=Unknown())
    assert check(provider, wholly_unknown)
    assert provider.diff(deployed.id, deployed.outs, wholly_unknown).changes is True


# folders ---------------------------------------------------------------------------------------------
def test_fake_folder_lifecycle_create_noop_rename_delete(grafana):
    provider = FolderProvider()
    deployed = up(provider, folder_props(grafana))
    assert grafana.folders["clickstream"]["title"] == "Clickstream" and deployed.outs["adopted"] is False
    grafana.reset_calls()
    assert up(provider, folder_props(grafana), deployed) is deployed and grafana.calls == []
    grafana.folders["clickstream"]["version"] += 3  # edited elsewhere: a plain versioned PUT would get 412
    renamed = up(provider, folder_props(grafana, title="Clickstream analytics"), deployed)
    assert grafana.folders["clickstream"]["title"] == "Clickstream analytics"
    assert mutations(grafana) == [("PUT", "/api/folders/clickstream")]
    destroy(provider, renamed)
    destroy(provider, renamed)
    assert grafana.folders == {} and grafana.calls[-1].status == 404


def test_fake_folder_put_without_overwrite_gets_412_version_mismatch(grafana):
    up(FolderProvider(), folder_props(grafana))
    answer = requests.put(f"{grafana.url}/api/folders/clickstream", json={"title": "x", "version": 99},
                          auth=("admin", ADMIN_PASSWORD), timeout=5)
    assert answer.status_code == 412 and answer.json()["status"] == "version-mismatch"


def test_fake_folder_adopt_drift_and_replace(grafana):
    provider = FolderProvider()
    with client(grafana) as c:
        c.create_folder("clickstream", "Old title")
    deployed = up(provider, folder_props(grafana))
    assert deployed.outs["adopted"] is True and grafana.folders["clickstream"]["title"] == "Clickstream"
    grafana.folders["clickstream"]["title"] = "Renamed by hand"
    drifted = refresh(provider, deployed)
    assert provider.diff(drifted.id, drifted.outs, folder_props(grafana)).changes is True
    grafana.reset_calls()
    replaced = up(provider, folder_props(grafana, uid="clicks"), drifted)
    assert replaced.id == "clicks" and set(grafana.folders) == {"clicks"}
    assert mutations(grafana) == [("DELETE", "/api/folders/clickstream"), ("POST", "/api/folders")]


# dashboards ------------------------------------------------------------------------------------------
def test_fake_dashboard_create_resolves_datasource_placeholders(grafana):
    deployed = up(DashboardProvider(), dash_props(grafana))
    stored = grafana.dashboards["clickstream"]["dashboard"]
    assert stored["panels"][0]["datasource"]["uid"] == "es-events-per-min"
    assert stored["panels"][0]["targets"][0]["datasource"]["uid"] == "es-events-per-min"
    assert deployed.outs["url"] == "/d/clickstream/clickstream-analysis"
    assert deployed.outs["version"] == 1 and deployed.outs["adopted"] is False
    saved = [c for c in grafana.calls if c.method == "POST"]
    assert len(saved) == 1


def test_fake_dashboard_second_apply_and_clean_refresh_make_no_write(grafana):
    provider = DashboardProvider()
    deployed = up(provider, dash_props(grafana))
    grafana.reset_calls()
    assert up(provider, dash_props(grafana), deployed) is deployed and grafana.calls == []
    refreshed = refresh(provider, deployed)
    assert provider.diff(refreshed.id, refreshed.outs, dash_props(grafana)).changes is False
    assert grafana.mutating_calls == []


def test_fake_dashboard_content_datasource_and_folder_changes_overwrite_in_place(grafana):
    provider = DashboardProvider()
    with client(grafana) as c:
        c.create_folder("clickstream", "Clickstream")
    deployed = up(provider, dash_props(grafana))
    grafana.reset_calls()
    deployed = up(provider, dash_props(grafana, dashboard={**DASHBOARD, "refresh": "10s"}), deployed)
    deployed = up(provider, dash_props(grafana, dashboard={**DASHBOARD, "refresh": "10s"},
                                       datasource_uids={"DS_EVENTS_PER_MIN": "es-epm"}), deployed)
    deployed = up(provider, dash_props(grafana, dashboard={**DASHBOARD, "refresh": "10s"}, folder_uid="clickstream",
                                       datasource_uids={"DS_EVENTS_PER_MIN": "es-epm"}), deployed)
    assert mutations(grafana) == [("POST", "/api/dashboards/db")] * 3
    stored = grafana.dashboards["clickstream"]
    assert stored["folderUid"] == "clickstream" and stored["dashboard"]["refresh"] == "10s"
    assert stored["dashboard"]["panels"][0]["datasource"]["uid"] == "es-epm"
    assert deployed.outs["version"] == 4 and len(grafana.dashboards) == 1


def test_fake_dashboard_uid_change_replaces_deleting_first(grafana):
    provider = DashboardProvider()
    deployed = up(provider, dash_props(grafana))
    grafana.reset_calls()
    replaced = up(provider, dash_props(grafana, dashboard={**DASHBOARD, "uid": "clickstream-v2"}), deployed)
    assert replaced.id == "clickstream-v2" and set(grafana.dashboards) == {"clickstream-v2"}
    assert mutations(grafana) == [("DELETE", "/api/dashboards/uid/clickstream"), ("POST", "/api/dashboards/db")]


def test_fake_dashboard_delete_when_already_gone_and_with_its_folder(grafana):
    provider = DashboardProvider()
    folder = up(FolderProvider(), folder_props(grafana))
    deployed = up(provider, dash_props(grafana, folder_uid="clickstream"))
    destroy(FolderProvider(), folder)  # Grafana deletes the folder's dashboards too
    assert grafana.dashboards == {}
    destroy(provider, deployed)
    assert grafana.calls[-1].status == 404


def test_fake_dashboard_adopt_and_drift(grafana):
    provider = DashboardProvider()
    with client(grafana) as c:
        c.save_dashboard({**DASHBOARD, "title": "Old"}, None, "by hand")
    deployed = up(provider, dash_props(grafana))
    assert deployed.outs["adopted"] is True and deployed.outs["version"] == 2
    with client(grafana) as c:  # edited in the UI: Grafana bumps the version
        c.save_dashboard({**grafana.dashboards["clickstream"]["dashboard"], "title": "Edited"}, None, "by hand")
    drifted = refresh(provider, deployed)
    assert drifted.outs["version"] == 3
    assert provider.diff(drifted.id, drifted.outs, dash_props(grafana)).changes is True
    restored = up(provider, dash_props(grafana), drifted)
    assert grafana.dashboards["clickstream"]["dashboard"]["title"] == "Clickstream analysis"
    grafana.folders["elsewhere"] = {"id": 99, "uid": "elsewhere", "title": "Elsewhere", "version": 1}
    grafana.dashboards["clickstream"]["folderUid"] = "elsewhere"
    moved = refresh(provider, restored)
    assert moved.outs["folder_uid"] == "elsewhere"
    assert provider.diff(moved.id, moved.outs, dash_props(grafana)).changes is True
    del grafana.dashboards["clickstream"]
    assert refresh(provider, moved) is None


def test_fake_dashboard_save_without_overwrite_gets_412_but_the_provider_overwrites(grafana):
    provider = DashboardProvider()
    deployed = up(provider, dash_props(grafana))
    stale = {"dashboard": {**DASHBOARD, "version": 0}, "folderUid": "", "overwrite": False}
    answer = requests.post(f"{grafana.url}/api/dashboards/db", json=stale, auth=("admin", ADMIN_PASSWORD), timeout=5)
    assert answer.status_code == 412 and answer.json()["status"] == "version-mismatch"
    grafana.dashboards["clickstream"]["dashboard"]["version"] = 41  # saved elsewhere meanwhile
    updated = up(provider, dash_props(grafana, dashboard={**DASHBOARD, "title": "Clicks"}), deployed)
    assert updated.outs["version"] == 42


def test_fake_dashboard_412_is_explained_as_a_version_mismatch(grafana):
    grafana.fail_next("POST", "/api/dashboards/db", 412,
                      {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
    with pytest.raises(ApiError) as caught:
        up(DashboardProvider(), dash_props(grafana))
    message = str(caught.value)
    assert caught.value.status == 412 and "The dashboard has been changed by someone else" in message
    assert "version mismatch" in message and "dashboard uid 'clickstream'" in message and "title" not in message


def test_fake_dashboards_with_the_same_title_in_one_folder_are_separate_dashboards(grafana):
    """Grafana 11.3+: titles need not be unique in a folder; the uid is the only identity."""
    provider = DashboardProvider()
    first = up(provider, dash_props(grafana))
    second = up(provider, dash_props(grafana, dashboard={**DASHBOARD, "uid": "clickstream-copy"}))
    assert (first.id, second.id) == ("clickstream", "clickstream-copy")
    assert {d["dashboard"]["title"] for d in grafana.dashboards.values()} == {"Clickstream analysis"}
    assert len(grafana.dashboards) == 2


def test_fake_dashboard_missing_folder_error_is_surfaced(grafana):
    with pytest.raises(ApiError, match="HTTP 400: folder not found"):
        up(DashboardProvider(), dash_props(grafana, folder_uid="nope"))


@pytest.mark.parametrize("overrides, expected", [
    ({"datasource_uids": {}}, "no datasource uid for ${DS_EVENTS_PER_MIN} (used in dashboard 'clickstream')"),
    ({"dashboard": {**DASHBOARD, "uid": "u" * 41}}, "uid 'uuuu"),
    ({"dashboard": {**DASHBOARD, "panels": [{"id": 1, "type": "stat"}]}}, "panels[0]: gridPos must have integer"),
    ({"datasource_uids": {"DS_EVENTS_PER_MIN": "bad uid!"}}, "datasource_uids['DS_EVENTS_PER_MIN']"),
    ({"folder_uid": "f" * 41}, "folder_uid"),
])
def test_fake_dashboard_check_rejects_bad_inputs_without_network(grafana, overrides, expected):
    with pytest.raises(CheckFailed) as caught:
        check(DashboardProvider(), dash_props(grafana, **overrides))
    assert expected in str(caught.value)
    assert grafana.calls == []


def test_fake_dashboard_preview_with_unknown_datasource_uid_checks_and_reports_a_change(grafana):
    provider = DashboardProvider()
    deployed = up(provider, dash_props(grafana))
    news = dash_props(grafana, datasource_uids={"DS_EVENTS_PER_MIN": Unknown()}, folder_uid=Unknown())
    assert check(provider, news)
    assert provider.diff(deployed.id, deployed.outs, news).changes is True
    assert check(provider, dash_props(grafana, datasource_uids=Unknown()))


def test_fake_dashboard_bad_password_names_the_user_not_the_password(grafana):
    with pytest.raises(ApiError) as caught:
        up(DashboardProvider(), dash_props(grafana, password="nope-pw"))
    assert caught.value.status == 401 and "nope-pw" not in str(caught.value)
    assert_no_plain_secret(up(DashboardProvider(), dash_props(grafana)).outs)


@pytest.mark.parametrize("provider_class, make_props", [
    (DatasourceProvider, ds_props), (FolderProvider, folder_props), (DashboardProvider, dash_props)])
def test_fake_grafana_providers_survive_pulumis_dill_round_trip(grafana, provider_class, make_props):
    restored = dill_round_trip(provider_class())
    assert type(restored) is provider_class
    assert up(restored, make_props(grafana)).id


# a re-created (empty) Grafana instance ---------------------------------------------------------------
def test_fake_new_grafana_instance_gets_folder_datasource_and_dashboard_again():
    """The Docker Grafana keeps no volume: a new container id (``service_revision``) re-applies everything."""
    providers = (FolderProvider(), DatasourceProvider(), DashboardProvider())
    with FakeGrafana(username="admin", password=ADMIN_PASSWORD) as first:
        props = [folder_props(first, service_revision="container-1"),
                 ds_props(first, service_revision="container-1"),
                 dash_props(first, folder_uid="clickstream", service_revision="container-1")]
        deployed = [up(p, news) for p, news in zip(providers, props)]
    with FakeGrafana(username="admin", password=ADMIN_PASSWORD) as second:
        moved = {"grafana_url": second.url, "service_revision": "container-2"}
        for provider, news, old in zip(providers, props, deployed):
            up(provider, {**news, **moved}, old)
        assert client(second).get_folder("clickstream")["title"] == "Clickstream"
        assert client(second).get_datasource("es-events-per-min")["jsonData"]["index"] == "events_per_min"
        assert client(second).get_dashboard("clickstream")["meta"]["folderUid"] == "clickstream"
        # same instance again: nothing to do
        second.calls.clear()
        for provider, news, old in zip(providers, props, deployed):
            assert not provider.diff(old.id, {**old.outs, **moved}, {**news, **moved}).changes
        assert mutations(second) == []
