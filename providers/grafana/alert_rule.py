"""``GrafanaAlertRule``: one Grafana-managed alert rule, by uid, through the alerting provisioning API.

Grafana 12.4 (``pkg/services/ngalert/api/api_provisioning.go``, ``.../tooling/definitions``):
``GET /api/v1/provisioning/alert-rules/:uid`` is 200 with the rule or 404 with an empty body;
``POST /api/v1/provisioning/alert-rules`` is 201, and 400 for a rule that fails validation or a uid that
exists already (a unique-constraint violation, not 409); ``PUT .../:uid`` is 200, 404 when there is no
such rule; ``DELETE .../:uid`` is 204, also when there was none. A rule created in a new group gets the
default evaluation interval (1 minute). Requests without ``X-Disable-Provenance`` mark the rule
provisioned ("api"): the UI shows it read-only, so changes go through code.

Identity is the uid; the ``rule`` body (title, folderUID, ruleGroup, condition, data, noDataState,
execErrState, for, labels, annotations, isPaused) updates in place. ``read`` records the declared keys of
the live rule (what Grafana adds on its own is left out), so ``pulumi refresh`` shows an out-of-band edit.
``noDataState`` and ``execErrState`` are required: Grafana parses an empty one as an unknown state option.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure

from providers.contract import (
    IDENTITY,
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    adoption,
    body_changed,
    declared_part,
    read_back_of_write,
)
from providers.declare import DeclaredResource, declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider, provision
from providers.grafana.dashboards import check_uid
from providers.inputs import is_unknown

PATH = "/api/v1/provisioning/alert-rules"
REQUIRED_KEYS = ("title", "folderUID", "ruleGroup", "condition", "data", "noDataState", "execErrState")
RESERVED_KEYS = {"uid", "id", "orgID", "provenance", "updated"}  # the uid input, or Grafana's bookkeeping
NO_DATA_STATES = ("NoData", "Alerting", "OK", "KeepLast")
ERROR_STATES = ("Error", "Alerting", "OK", "KeepLast")
MAX_NAME = 190  # Grafana's limit for a rule's title and its group's name

CONTRACT = Contract("GrafanaAlertRule", [
    *CONNECTION,
    Field("uid", IDENTITY, required=True, annotation="str", problem=check_uid, doc="the rule's uid"),
    Field("rule", IN_PLACE, required=True, changed=body_changed("rule"),
          doc="the provisioning API's rule body without `uid`: title, folderUID, ruleGroup, condition, data, ..."),
    Field("adopted", OUTPUT, doc="the rule existed before it was created here"),
])


def rule_problems(rule: Any) -> list[str]:
    """Reasons ``rule`` is not a rule body Grafana 12.4 accepts (no network)."""
    if not isinstance(rule, Mapping):
        return ["rule must be a mapping (the provisioning API's rule body)"]
    problems = [f"rule.{key} is required" for key in REQUIRED_KEYS if not is_unknown(rule.get(key))
                and rule.get(key) in (None, "", [])]
    problems += [f"rule.{key} is not declared here: use the resource's uid input or leave it to Grafana"
                 for key in sorted(RESERVED_KEYS & set(rule))]
    for key in ("title", "ruleGroup"):
        value = rule.get(key)
        if isinstance(value, str) and len(value) > MAX_NAME:
            problems.append(f"rule.{key} is longer than {MAX_NAME} characters")
    for key, allowed in (("noDataState", NO_DATA_STATES), ("execErrState", ERROR_STATES)):
        if key in rule and not is_unknown(rule[key]) and rule[key] not in allowed:
            problems.append(f"rule.{key} must be one of {', '.join(allowed)}, not {rule[key]!r}")
    data = rule.get("data")
    if isinstance(data, list) and data and not is_unknown(rule.get("condition")):
        refs = [query.get("refId") for query in data if isinstance(query, Mapping)]
        if len(refs) != len(data) or not all(isinstance(ref, str) and ref for ref in refs):
            problems.append("every rule.data entry must be a mapping with a refId")
        elif rule.get("condition") not in refs:
            problems.append(f"rule.condition {rule.get('condition')!r} must be the refId of a rule.data entry "
                            f"({', '.join(map(str, refs))})")
    return problems


class AlertRuleProvider(GrafanaProvider):
    """Create/adopt, update, read and delete one alert rule by uid."""

    contract = CONTRACT
    id_output = "uid"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures: list[CheckFailure] = []
        if not is_unknown(news.get("rule")):
            failures += [CheckFailure("rule", reason) for reason in rule_problems(news.get("rule"))]
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """PUT the rule when it exists (adopting it on create), else POST it; then read it back."""
        uid, where = props["uid"], f"Grafana at {props['grafana_url']}"
        body = {**props["rule"], "uid": uid}
        with self.client(props) as grafana:
            grafana.wait_ready()
            exists = grafana.get_or_none(f"{PATH}/{uid}") is not None
            adopted = adoption(olds, lambda: exists, f"alert rule {uid!r}", where)
            provision(grafana, PATH, uid, body, exists, lambda: grafana.get_or_none(f"{PATH}/{uid}"))
            outs = self.read_back(grafana, uid, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"alert rule {uid!r}", where)

    def read_back(self, grafana: GrafanaClient, uid: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The rule as Grafana has it, its declared keys only (None when there is none)."""
        live = grafana.get_or_none(f"{PATH}/{uid}")
        return None if live is None else {**props, "uid": uid, "rule": declared_part(props.get("rule"), live)}

    def delete_object(self, grafana: GrafanaClient, uid: str) -> None:
        grafana.delete(f"{PATH}/{uid}")


if TYPE_CHECKING:  # typed inputs of GrafanaAlertRule (python -m tools.generated)
    class GrafanaAlertRule(DeclaredResource):
        """The inputs and fields of the ``GrafanaAlertRule`` field table, typed."""

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
            rule: pulumi.Input[Any],
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
        rule: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    GrafanaAlertRule = declare(CONTRACT, AlertRuleProvider, module="grafana", name="AlertRule", doc="""\
    A Grafana-managed alert rule, by ``uid``; ``rule`` is the provisioning API's body (folderUID, ruleGroup,
    title, condition, data, noDataState, execErrState, for, labels, annotations).""")
