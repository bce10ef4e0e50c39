"""Dashboard JSON handling: loading the files (clickstream/content/dashboards.py: UTF-8, one uid per file), the
schema check of the fields the provider relies on (providers/grafana/dashboards.py), ``${DS_<KEY>}``
resolution and the canonical form. Pure functions, no network; and the stack program refusing two
dashboard files with one uid at preview."""
from __future__ import annotations

import json
import shutil

import pytest

from clickstream.content.dashboards import DashboardError, load_dashboard, load_dashboards
from clickstream.stack import analytics
from providers.grafana.dashboards import canonical, placeholders, resolve
from tests.pulumi_mocks import run_stack

PANEL = {"id": 1, "type": "timeseries", "title": "Events", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
         "datasource": {"type": "elasticsearch", "uid": "${DS_EVENTS}"},
         "targets": [{"refId": "A", "datasource": {"uid": "${DS_EVENTS}"}, "query": "status:${DS_NOT_A_UID_X}"}]}
DASHBOARD = {"uid": "clicks", "title": "Clicks", "time": {"from": "now-15m", "to": "now"}, "refresh": "5s",
             "panels": [PANEL]}


def write(tmp_path, content, name="dash.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_load_dashboard_returns_a_valid_dashboard(tmp_path):
    assert load_dashboard(write(tmp_path, DASHBOARD)) == DASHBOARD


def test_load_dashboard_names_the_file_and_position_of_bad_json(tmp_path):
    path = write(tmp_path, '{"uid": "x",\n  "title": }')
    with pytest.raises(DashboardError, match=rf"{path}: not valid JSON: .* line 2 column 12"):
        load_dashboard(path)


def test_load_dashboard_names_a_missing_file(tmp_path):
    with pytest.raises(DashboardError, match=r"missing.json: cannot read dashboard file"):
        load_dashboard(tmp_path / "missing.json")


def test_load_dashboard_tolerates_a_utf8_byte_order_mark(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + json.dumps({**DASHBOARD, "title": "Klicks \u00fcber Zeit"}).encode())
    assert load_dashboard(path)["title"] == "Klicks \u00fcber Zeit"


def test_load_dashboard_names_the_file_of_non_utf8_content(tmp_path):
    latin1 = json.dumps({**DASHBOARD, "title": "Klicks \u00fcber Zeit"}, ensure_ascii=False).encode("latin-1")
    path = write(tmp_path, latin1)
    with pytest.raises(DashboardError, match=rf"^{path}: not UTF-8 text: byte 0xfc at offset \d+ .*as UTF-8"):
        load_dashboard(path)


def test_load_dashboards_refuses_two_files_with_one_uid_naming_both(tmp_path):
    first, other = write(tmp_path, DASHBOARD, "a.json"), write(tmp_path, {**DASHBOARD, "uid": "other"}, "b.json")
    again = write(tmp_path, {**DASHBOARD, "title": "Copy"}, "c.json")
    assert [path for path, _ in load_dashboards([first, other])] == [first, other]
    with pytest.raises(DashboardError, match=rf"^{first} and {again} both declare dashboard uid 'clicks'"):
        load_dashboards([first, other, again])


def test_preview_refuses_two_dashboard_files_with_one_uid(tmp_path, monkeypatch):
    """Caught before anything is deployed: each would overwrite the other's dashboard on every apply."""
    for path in sorted(analytics.DASHBOARD_DIR.glob("*.json")):
        shutil.copy(path, tmp_path / path.name)
    copy = json.loads((tmp_path / "clickstream.json").read_text())
    (tmp_path / "zz_copy.json").write_text(json.dumps({**copy, "title": "A copy"}))
    monkeypatch.setattr(analytics, "DASHBOARD_DIR", tmp_path)
    with pytest.raises(DashboardError) as caught:
        run_stack("dev", preview=True)
    assert str(caught.value).startswith(f"{tmp_path / 'clickstream.json'} and {tmp_path / 'zz_copy.json'} both "
                                        f"declare dashboard uid {copy['uid']!r}")


def test_load_dashboard_lists_every_missing_field_with_the_panel_title(tmp_path):
    bad = {"uid": "u" * 41, "title": "", "refresh": 5,
           "panels": [{"id": 1, "type": "stat", "title": "Errors"}, {**PANEL, "id": 1}]}
    with pytest.raises(DashboardError) as caught:
        load_dashboard(write(tmp_path, bad))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "dash.json"))
    for expected in ("must be 1-40 characters", "title must be a non-empty string", 'time must be an object',
                     "refresh must be a string", "panels[0] ('Errors'): gridPos must have integer h, w, x and y",
                     "panels[0] ('Errors'): datasource must be an object", "panels[0] ('Errors'): targets must be",
                     "panels[1] ('Events'): id 1 is also used by panels[0] ('Errors')"):
        assert expected in message


def test_row_panels_need_no_datasource_and_their_collapsed_panels_are_checked(tmp_path):
    row = {"id": 10, "type": "row", "title": "More", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 8},
           "collapsed": True, "panels": [{**PANEL, "id": 11, "targets": []}]}
    with pytest.raises(DashboardError, match=r"panels\[1\] \('More'\).panels\[0\] \('Events'\): targets must be"):
        load_dashboard(write(tmp_path, {**DASHBOARD, "panels": [PANEL, row]}))


def test_placeholders_are_found_everywhere_and_resolved_without_touching_the_input():
    assert placeholders(DASHBOARD) == {"DS_EVENTS", "DS_NOT_A_UID_X"}
    resolved = resolve(DASHBOARD, {"DS_EVENTS": "es-events", "DS_NOT_A_UID_X": "x"})
    assert resolved["panels"][0]["datasource"]["uid"] == "es-events"
    assert resolved["panels"][0]["targets"][0]["query"] == "status:x"
    assert DASHBOARD["panels"][0]["datasource"]["uid"] == "${DS_EVENTS}"


def test_canonical_form_ignores_what_grafana_sets_and_key_order():
    saved = {**dict(reversed(list(DASHBOARD.items()))), "id": 7, "version": 3, "iteration": 123}
    assert canonical(saved) == canonical(DASHBOARD)
    assert canonical({**DASHBOARD, "refresh": "10s"}) != canonical(DASHBOARD)


DECLARED = {"DS_EVENTS": "es-events", "DS_NOT_A_UID_X": "es-x"}


def test_a_misspelt_placeholder_or_an_undeclared_datasource_is_refused_naming_the_file(tmp_path):
    lower = json.loads(json.dumps(DASHBOARD).replace("${DS_EVENTS}", "${ds_events}"))
    literal = {**DASHBOARD, "uid": "lit", "panels": [{**PANEL, "datasource": {"uid": "es-nobody-declared"}}]}
    unknown = {**DASHBOARD, "uid": "unk", "panels": [{**PANEL, "targets": [{"refId": "A", "expr": "${DS_OTHER}"}]}]}
    fine = {**DASHBOARD, "uid": "fine", "panels": [{**PANEL, "datasource": {"uid": "grafana"}},
                                                   {**PANEL, "id": 2, "datasource": {"uid": "${datasource}"}}],
            "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "elasticsearch"}]}}
    paths = [write(tmp_path, body, f"{name}.json") for name, body in
             (("lower", lower), ("literal", literal), ("unknown", unknown), ("fine", fine))]
    with pytest.raises(DashboardError) as caught:
        load_dashboards(paths, DECLARED)
    message = str(caught.value).splitlines()
    assert f"{paths[0]}: datasource placeholder ${{ds_events}} must be written ${{DS_EVENTS}}" in message
    assert f"{paths[1]}: panels[0] ('Events'): datasource uid 'es-nobody-declared' is not a declared datasource " \
           "(use a ${DS_<KEY>} placeholder; declared uids: es-events, es-x)" in message
    assert f"{paths[2]}: no datasource for DS_OTHER; declared: DS_EVENTS, DS_NOT_A_UID_X" in message
    assert not any(str(paths[3]) in line for line in message) and len(message) == 3
    assert [path for path, _ in load_dashboards([paths[3]], DECLARED)] == [paths[3]]


def test_preview_refuses_a_dashboard_naming_a_datasource_no_resource_declares(tmp_path, monkeypatch):
    for path in sorted(analytics.DASHBOARD_DIR.glob("*.json")):
        shutil.copy(path, tmp_path / path.name)
    body = json.loads((tmp_path / "clickstream.json").read_text())
    body["panels"][0]["datasource"] = {"type": "elasticsearch", "uid": "es-typo"}
    (tmp_path / "clickstream.json").write_text(json.dumps(body))
    monkeypatch.setattr(analytics, "DASHBOARD_DIR", tmp_path)
    with pytest.raises(DashboardError, match=rf"^{tmp_path / 'clickstream.json'}: panels\[0\] .*datasource uid "
                                             r"'es-typo' is not a declared datasource"):
        run_stack("dev", preview=True)


def test_every_datasource_reference_anywhere_in_a_dashboard_must_name_a_declared_datasource(tmp_path):
    """Nested rows, targets, templating variables, annotations, old string names and $variables: each
    reference is checked where Grafana would look it up, and named by its place."""
    row = {"id": 10, "type": "row", "title": "More", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 8}, "collapsed": True,
           "panels": [{**PANEL, "id": 11, "targets": [{"refId": "A", "datasource": {"uid": "es-nested-typo"}}]}]}
    bad = {**DASHBOARD, "panels": [{**PANEL, "targets": [{"refId": "A", "datasource": "Elasticsearch events"}]},
                                   {**PANEL, "id": 2, "datasource": {"uid": "$nobody"}},
                                   {**PANEL, "id": 3, "datasource": {"uid": "${interval}"}}, row],
           "templating": {"list": [
               {"name": "status", "type": "query", "datasource": {"type": "elasticsearch", "uid": "es-var-typo"},
                "query": "{}"},
               {"name": "interval", "type": "interval", "query": "1m,5m"}]},
           "annotations": {"list": [{"name": "Deploys", "datasource": {"uid": "${DS_ANNOTATIONS}"}, "enable": True},
                                    {"name": "Annotations & Alerts", "builtIn": 1,
                                     "datasource": {"type": "grafana", "uid": "-- Grafana --"}}]}}
    with pytest.raises(DashboardError) as caught:
        load_dashboards([write(tmp_path, bad)], DECLARED)
    message = str(caught.value)
    for expected in (
            "panels[0] ('Events').targets[0]: datasource 'Elasticsearch events' is an old name reference",
            "panels[1] ('Events'): datasource uid '$nobody' names no variable of this dashboard "
            "(its datasource variables: none)",
            "panels[2] ('Events'): datasource uid '${interval}' names variable 'interval' of type 'interval', "
            "not a datasource variable",
            "panels[3] ('More').panels[0] ('Events').targets[0]: datasource uid 'es-nested-typo' is not a declared",
            "templating.list[0] ('status'): datasource uid 'es-var-typo' is not a declared datasource",
            "no datasource for DS_ANNOTATIONS"):
        assert expected in message, message
    assert "Annotations & Alerts" not in message  # Grafana's own datasource


def test_the_dashboard_provider_checks_every_datasource_reference_too():
    from providers.grafana.dashboard import DashboardProvider
    dashboard = {**DASHBOARD, "templating": {"list": [{"name": "x", "type": "query", "datasource": "ES"}]}}
    result = DashboardProvider().check({}, {"grafana_url": "http://grafana:3000", "dashboard": dashboard,
                                            "datasource_uids": {"DS_EVENTS": "es-events", "DS_NOT_A_UID_X": "x"}})
    assert [(f.property, f.reason.split(":")[0]) for f in result.failures] == [
        ("dashboard", "templating.list[0] ('x')")]
