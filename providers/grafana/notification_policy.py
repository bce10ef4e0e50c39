"""``GrafanaNotificationPolicy``: the notification policy tree of the Grafana organization.

Grafana 12.4 (``pkg/services/ngalert/api/api_provisioning.go``): an organization has exactly one tree.
``GET /api/v1/provisioning/policies`` is 200 with it; ``PUT`` replaces it (202 ``{"message": "policies
updated"}``; 400 when it fails validation, e.g. a ``receiver`` that names no contact point); ``DELETE``
resets it to Grafana's default (202 with the default tree: every alert to ``grafana-default-email``).
Without ``X-Disable-Provenance`` the tree is marked provisioned (read-only in the UI).

The tree always exists, so ``create`` takes over what is there: when its declared keys already hold the
declared values it is adopted without a write, else it is replaced. ``delete`` resets it to the default.
"""
from __future__ import annotations

from typing import Any, Mapping

from pulumi.dynamic import CheckFailure

from providers.contract import IN_PLACE, OUTPUT, Contract, Field, read_back_of_write, report_adopted
from providers.declare import declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider, body_changed, declared_part
from providers.inputs import is_unknown, whole_numbers

PATH = "/api/v1/provisioning/policies"
TREE = "policies"  # the id of the one tree of the organization

CONTRACT = Contract("GrafanaNotificationPolicy", [
    *CONNECTION,
    Field("policy", IN_PLACE, required=True, changed=body_changed("policy"),
          doc="the policy tree: `receiver` (a contact point's name), `group_by`, timings, nested `routes`"),
    Field("tree", OUTPUT, doc=f"`{TREE}`: the organization has one tree"),
    Field("adopted", OUTPUT, doc="the live tree already held the declared values when it was created here"),
])


class NotificationPolicyProvider(GrafanaProvider):
    """Replace, read and reset the organization's notification policy tree."""

    contract = CONTRACT
    id_output = "tree"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures: list[CheckFailure] = []
        policy = news.get("policy")
        if is_unknown(policy):
            return failures
        if not isinstance(policy, Mapping):
            return [*failures, CheckFailure("policy", "policy must be a mapping (the policy tree)")]
        if not is_unknown(policy.get("receiver")) and (not isinstance(policy.get("receiver"), str)
                                                        or not policy.get("receiver")):
            failures.append(CheckFailure("policy", "policy.receiver must name the contact point every alert goes "
                                                   "to unless a nested route matches"))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        where = f"Grafana at {props['grafana_url']}"
        with self.client(props) as grafana:
            grafana.wait_ready()
            declared = whole_numbers(props["policy"])
            adopted = bool((olds or {}).get("adopted"))
            if olds is None and whole_numbers(declared_part(declared, grafana.get_or_none(PATH))) == declared:
                adopted = True
                report_adopted("the notification policy tree", where, "it already routes as declared")
            else:
                grafana.send("PUT", PATH, declared)
            outs = self.read_back(grafana, TREE, {**props, "adopted": adopted})
        return read_back_of_write(outs, "the notification policy tree", where)

    def read_back(self, grafana: GrafanaClient, tree: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The declared keys of the live tree."""
        live = grafana.get_or_none(PATH)
        return None if live is None else {**props, "tree": tree, "policy": declared_part(props.get("policy"), live)}

    def delete_object(self, grafana: GrafanaClient, tree: str) -> None:
        grafana.delete(PATH)


GrafanaNotificationPolicy = declare(CONTRACT, NotificationPolicyProvider, module="grafana",
                                    name="NotificationPolicy", doc="""\
The organization's notification policy tree (one per organization): ``policy`` routes every alert to
``policy["receiver"]`` unless a nested route matches; deleting it resets Grafana's default tree.""")
