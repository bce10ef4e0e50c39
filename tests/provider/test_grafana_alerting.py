"""GrafanaAlertRule / GrafanaContactPoint / GrafanaNotificationPolicy against a FAKE Grafana 12.4 alerting
provisioning API (tests/fakes/grafana.py names the Grafana sources it follows): create, adopt, no-op (zero
requests), update, replace, drift on refresh, delete, error paths, secrets hashed, dill round trip, and the
stack's whole alerting (two rules, webhook contact point, policy) applied, refreshed and destroyed."""
from __future__ import annotations

import json
from typing import Any

import pytest

from clickstream.content import alerting
from providers.contract import DRIFTED
from providers.grafana.alert_rule import AlertRuleProvider
from providers.grafana.contact_point import ContactPointProvider
from providers.grafana.notification_policy import NotificationPolicyProvider
from providers.http import BadRequest, Conflict
from tests.fakes.grafana import DEFAULT_POLICY_TREE, FakeGrafana
from tests.provider.pulumi_engine import (
    CheckFailed,
    Deployment,
    Registered,
    check,
    destroy,
    dill_round_trip,
    refresh,
    up,
)

pytestmark = pytest.mark.fake
ADMIN_PASSWORD = "grafana-Admin-pw-42"
WEBHOOK = "https://hooks.example.com/alerts/t0ken-Secret-123"
ERROR_BURST = alerting.ALERTS[0]


@pytest.fixture
def grafana():
    with FakeGrafana(username="admin", password=ADMIN_PASSWORD) as fake:
        yield fake


def connection(grafana: FakeGrafana) -> dict[str, Any]:
    return {"grafana_url": grafana.url, "username": "admin", "password": ADMIN_PASSWORD, "ready_timeout": 5}


def rule_props(grafana: FakeGrafana, alert: alerting.Alert = ERROR_BURST, **rule: Any) -> dict[str, Any]:
    return {**connection(grafana), "uid": alert.uid, "rule": {**alerting.alert_rule(alert, "clickstream"), **rule}}


def contact_props(grafana: FakeGrafana, url: str = WEBHOOK) -> dict[str, Any]:
    return {**connection(grafana), "uid": alerting.CONTACT_POINT_UID, "name": alerting.CONTACT_POINT_NAME,
            "type": "webhook", "settings": {"httpMethod": "POST"}, "secure_settings": {"url": url}}


def policy_props(grafana: FakeGrafana, **policy: Any) -> dict[str, Any]:
    return {**connection(grafana), "policy": {**alerting.webhook_policy(), **policy}}


def mutations(grafana: FakeGrafana) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in grafana.mutating_calls]


def assert_secrets_hashed(outs: dict[str, Any]) -> None:
    assert WEBHOOK not in json.dumps(outs) and "t0ken" not in json.dumps(outs)
    assert [key for key, value in outs.items() if value == ADMIN_PASSWORD] == ["password"]


# alert rules -----------------------------------------------------------------------------------------
def test_rule_create_then_no_op_and_clean_refresh_send_nothing(grafana):
    provider = AlertRuleProvider()
    deployed = up(provider, rule_props(grafana))
    assert deployed.id == ERROR_BURST.uid and deployed.outs["adopted"] is False
    assert mutations(grafana) == [("POST", "/api/v1/provisioning/alert-rules")]
    live = grafana.alert_rules[ERROR_BURST.uid]
    assert live["title"] == "Error burst" and live["data"][0]["datasourceUid"] == "es-errors-per-min-alert"
    grafana.reset_calls()
    assert up(provider, rule_props(grafana), deployed) is deployed
    assert grafana.calls == []
    refreshed = refresh(provider, deployed)  # Grafana added id, updated, provenance: not declared
    assert refreshed is not None and refreshed.outs == deployed.outs
    assert provider.diff(refreshed.id, refreshed.outs, check(provider, rule_props(grafana))).changes is False
    assert grafana.mutating_calls == []


def test_rule_update_is_one_put_and_an_out_of_band_edit_is_drift_that_up_undoes(grafana):
    provider = AlertRuleProvider()
    deployed = up(provider, rule_props(grafana))
    grafana.reset_calls()
    updated = up(provider, rule_props(grafana, title="Error burst!"), deployed)
    assert mutations(grafana) == [("PUT", f"/api/v1/provisioning/alert-rules/{ERROR_BURST.uid}")]
    assert grafana.alert_rules[ERROR_BURST.uid]["title"] == "Error burst!"
    grafana.alert_rules[ERROR_BURST.uid]["noDataState"] = "Alerting"
    refreshed = refresh(provider, updated)
    assert refreshed is not None and refreshed.outs["rule"]["noDataState"] == "Alerting"
    restored = up(provider, rule_props(grafana, title="Error burst!"), refreshed)
    assert grafana.alert_rules[ERROR_BURST.uid]["noDataState"] == "OK" and restored.outs["adopted"] is False


def test_rule_deleted_out_of_band_is_gone_on_refresh_and_created_again(grafana):
    provider = AlertRuleProvider()
    deployed = up(provider, rule_props(grafana))
    del grafana.alert_rules[ERROR_BURST.uid]
    assert refresh(provider, deployed) is None
    assert up(provider, rule_props(grafana)).outs["adopted"] is False
    assert ERROR_BURST.uid in grafana.alert_rules


def test_rule_that_exists_is_adopted_with_a_put(grafana):
    grafana.alert_rules[ERROR_BURST.uid] = {**alerting.alert_rule(ERROR_BURST, "clickstream"), "uid": ERROR_BURST.uid,
                                            "title": "made by hand", "id": 99}
    deployed = up(AlertRuleProvider(), rule_props(grafana))
    assert deployed.outs["adopted"] is True
    assert mutations(grafana) == [("PUT", f"/api/v1/provisioning/alert-rules/{ERROR_BURST.uid}")]
    assert grafana.alert_rules[ERROR_BURST.uid]["title"] == "Error burst"


def test_a_new_uid_replaces_the_rule_deleting_the_old_one_first(grafana):
    provider = AlertRuleProvider()
    stack = Deployment()
    stack.up([Registered("rule", provider, rule_props(grafana))])
    grafana.reset_calls()
    assert stack.up([Registered("rule", provider, {**rule_props(grafana), "uid": "other-uid"})]) == {"rule": "replace"}
    assert mutations(grafana) == [("DELETE", f"/api/v1/provisioning/alert-rules/{ERROR_BURST.uid}"),
                                  ("POST", "/api/v1/provisioning/alert-rules")]
    assert set(grafana.alert_rules) == {"other-uid"}


@pytest.mark.parametrize(("rule", "expected"), [
    ({"noDataState": None}, "rule.noDataState is required"),
    ({"execErrState": "Panic"}, "rule.execErrState must be one of Error, Alerting, OK, KeepLast, not 'Panic'"),
    ({"condition": "Z"}, "rule.condition 'Z' must be the refId of a rule.data entry (A, B, C)"),
    ({"uid": "x"}, "rule.uid is not declared here"),
    ({"title": "t" * 191}, "rule.title is longer than 190 characters"),
])
def test_rule_check_refuses_bad_bodies_naming_the_key(grafana, rule, expected):
    with pytest.raises(CheckFailed, match=expected.replace("(", r"\(").replace(")", r"\)")):
        check(AlertRuleProvider(), rule_props(grafana, **rule))


def test_rule_check_refuses_a_bad_uid_and_grafanas_refusal_is_in_its_words(grafana):
    with pytest.raises(CheckFailed, match="uid 'bad uid!' must be 1-40 characters"):
        check(AlertRuleProvider(), {**rule_props(grafana), "uid": "bad uid!"})
    grafana.fail_next("POST", "/api/v1/provisioning/alert-rules", 400, {"message": "invalid alert rule: broken"})
    with pytest.raises(BadRequest, match="invalid alert rule: broken"):
        up(AlertRuleProvider(), rule_props(grafana))


def test_rule_delete_is_one_request_and_tolerates_a_rule_already_gone(grafana):
    provider = dill_round_trip(AlertRuleProvider())
    deployed = up(provider, rule_props(grafana))
    grafana.reset_calls()
    destroy(provider, deployed)
    destroy(provider, deployed)
    assert grafana.alert_rules == {}
    assert mutations(grafana) == [("DELETE", f"/api/v1/provisioning/alert-rules/{ERROR_BURST.uid}")] * 2


# contact points --------------------------------------------------------------------------------------
def test_contact_point_keeps_its_webhook_url_only_as_a_hash(grafana):
    provider = ContactPointProvider()
    deployed = up(provider, contact_props(grafana))
    assert grafana.contact_points[alerting.CONTACT_POINT_UID]["settings"] == {"httpMethod": "POST", "url": WEBHOOK}
    assert deployed.outs["secure_keys"] == ["url"] and deployed.outs["secure_settings_hash"] not in ("", DRIFTED)
    assert "secure_settings" not in deployed.outs and deployed.outs["adopted"] is False
    assert_secrets_hashed(deployed.outs)
    grafana.reset_calls()
    assert up(provider, contact_props(grafana), deployed) is deployed and grafana.calls == []
    refreshed = refresh(provider, deployed)
    assert refreshed is not None and refreshed.outs == deployed.outs and grafana.mutating_calls == []


def test_contact_point_url_changed_out_of_band_is_drift_and_a_new_url_is_an_update(grafana):
    provider = ContactPointProvider()
    deployed = up(provider, contact_props(grafana))
    grafana.contact_points[alerting.CONTACT_POINT_UID]["settings"]["url"] = "https://elsewhere.example.com/"
    refreshed = refresh(provider, deployed)
    assert refreshed is not None and refreshed.outs["secure_settings_hash"] == DRIFTED
    grafana.reset_calls()
    restored = up(provider, contact_props(grafana), refreshed)
    assert grafana.contact_points[alerting.CONTACT_POINT_UID]["settings"]["url"] == WEBHOOK
    assert mutations(grafana) == [("PUT", f"/api/v1/provisioning/contact-points/{alerting.CONTACT_POINT_UID}")]
    rotated = "https://hooks.example.com/alerts/n3w-Token-456"
    assert provider.diff(restored.id, restored.outs, check(provider, contact_props(grafana, rotated))).changes
    updated = up(provider, contact_props(grafana, rotated), restored)
    assert grafana.contact_points[alerting.CONTACT_POINT_UID]["settings"]["url"] == rotated
    assert updated.outs["secret_salt"] == deployed.outs["secret_salt"] and rotated not in json.dumps(updated.outs)


def test_contact_point_that_exists_is_adopted_and_one_a_policy_uses_cannot_be_deleted(grafana):
    grafana.contact_points[alerting.CONTACT_POINT_UID] = {
        "uid": alerting.CONTACT_POINT_UID, "name": alerting.CONTACT_POINT_NAME, "type": "webhook",
        "settings": {"url": "https://old.example.com/"}, "disableResolveMessage": False, "provenance": ""}
    provider = ContactPointProvider()
    deployed = up(provider, contact_props(grafana))
    assert deployed.outs["adopted"] is True and mutations(grafana) == [
        ("PUT", f"/api/v1/provisioning/contact-points/{alerting.CONTACT_POINT_UID}")]
    up(NotificationPolicyProvider(), policy_props(grafana))
    with pytest.raises(Conflict, match="currently referenced by a notification policy"):
        destroy(provider, deployed)


def test_contact_point_check_names_each_bad_input(grafana):
    with pytest.raises(CheckFailed, match="type must be a non-empty string"):
        check(ContactPointProvider(), {**contact_props(grafana), "type": ""})
    with pytest.raises(CheckFailed, match="url in both settings and secure_settings"):
        check(ContactPointProvider(), {**contact_props(grafana), "settings": {"url": "https://x.example.com"}})


# the notification policy tree ------------------------------------------------------------------------
def test_policy_replaces_the_tree_and_destroy_resets_grafanas_default(grafana):
    up(ContactPointProvider(), contact_props(grafana))
    provider = NotificationPolicyProvider()
    grafana.reset_calls()
    deployed = up(provider, policy_props(grafana))
    assert deployed.id == "policies" and deployed.outs["adopted"] is False
    assert mutations(grafana) == [("PUT", "/api/v1/provisioning/policies")]
    assert grafana.policy_tree["receiver"] == alerting.CONTACT_POINT_NAME
    grafana.reset_calls()
    assert up(provider, policy_props(grafana), deployed) is deployed and grafana.calls == []
    destroy(provider, deployed)
    assert grafana.policy_tree == DEFAULT_POLICY_TREE


def test_policy_already_as_declared_is_adopted_without_a_write_and_a_reset_is_drift(grafana):
    up(ContactPointProvider(), contact_props(grafana))
    grafana.policy_tree = {**alerting.webhook_policy(), "routes": [{"receiver": alerting.CONTACT_POINT_NAME}]}
    provider = NotificationPolicyProvider()
    grafana.reset_calls()
    deployed = up(provider, policy_props(grafana))
    assert deployed.outs["adopted"] is True and grafana.mutating_calls == []
    grafana.policy_tree = dict(DEFAULT_POLICY_TREE)  # reset by hand
    refreshed = refresh(provider, deployed)
    assert refreshed is not None and refreshed.outs["policy"]["receiver"] == "grafana-default-email"
    up(provider, policy_props(grafana), refreshed)
    assert grafana.policy_tree["receiver"] == alerting.CONTACT_POINT_NAME


def test_policy_naming_no_contact_point_fails_in_grafanas_words(grafana):
    with pytest.raises(BadRequest, match="receiver 'nobody' does not exist"):
        up(NotificationPolicyProvider(), policy_props(grafana, receiver="nobody"))
    with pytest.raises(CheckFailed, match="policy.receiver must name the contact point"):
        check(NotificationPolicyProvider(), policy_props(grafana, receiver=""))


# the stack's alerting as one deployment ---------------------------------------------------------------
def test_the_stacks_alerting_goes_through_its_whole_lifecycle(grafana):
    """Providers as the provider host loads them (dill), as in ``pulumi up``."""
    program = [Registered(f"rule-{a.uid}", dill_round_trip(AlertRuleProvider()), rule_props(grafana, a))
               for a in alerting.ALERTS]
    program += [Registered("contact", dill_round_trip(ContactPointProvider()), contact_props(grafana)),
                Registered("policy", dill_round_trip(NotificationPolicyProvider()), policy_props(grafana))]
    stack = Deployment()
    assert set(stack.up(program).values()) == {"create"}
    assert sorted(grafana.alert_rules) == sorted(a.uid for a in alerting.ALERTS)
    grafana.reset_calls()
    assert set(stack.up(program).values()) == {"same"} and grafana.calls == []
    assert set(stack.refresh().values()) == {"same"} and grafana.mutating_calls == []
    for stored in stack.state.values():
        assert_secrets_hashed(stored.deployed.outs)
    stack.destroy()
    assert grafana.alert_rules == {} and grafana.contact_points == {} and grafana.policy_tree == DEFAULT_POLICY_TREE
