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

from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure

from providers.contract import (
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    body_changed,
    declared_part,
    read_back_of_write,
    report_adopted,
)
from providers.declare import DeclaredResource, declare
from providers.grafana.client import GrafanaClient
from providers.grafana.common import CONNECTION, GrafanaProvider
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


if TYPE_CHECKING:  # typed inputs of GrafanaNotificationPolicy (python -m tools.generated)
    class GrafanaNotificationPolicy(DeclaredResource):
        """The inputs and fields of the ``GrafanaNotificationPolicy`` field table, typed."""

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
            policy: pulumi.Input[Any],
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
        policy: pulumi.Output[Any]
        tree: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    GrafanaNotificationPolicy = declare(CONTRACT, NotificationPolicyProvider, module="grafana",
                                        name="NotificationPolicy", doc="""\
    The organization's notification policy tree (one per organization): ``policy`` routes every alert to
    ``policy["receiver"]`` unless a nested route matches; deleting it resets Grafana's default tree.""")
