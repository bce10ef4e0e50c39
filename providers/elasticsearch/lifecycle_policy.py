"""The dynamic provider behind ``IndexLifecyclePolicy``: one index lifecycle (ILM) policy, keyed by name.

Retention: an index template names the policy (setting ``index.lifecycle.name``), so every index it creates
is managed by it, e.g. deleted some days after its creation. Elasticsearch 8.19 (x-pack ``ilm``, license
level basic, in every default distribution; not in a node without x-pack, whose answer is named):

- ``PUT _ilm/policy/<name>`` with ``{"policy": ...}`` creates the policy or stores a new version of it (a
  repeat is harmless); ``GET`` answers ``{"<name>": {"version", "modified_date", "policy", "in_use_by":
  {"indices", "data_streams", "composable_templates"}}}``, the policy with defaults added (``min_age``
  ``"0ms"``, ``delete_searchable_snapshot``), and 404 ``resource_not_found_exception`` for none.
- ``DELETE`` of a policy that an index still uses is refused, 400 ``illegal_argument_exception`` "Cannot
  delete policy [x]. It is in use by one or more indices: [...]" (``TransportDeleteLifecycleAction``; index
  templates naming it do not count); of a missing one, 404. The delete here first detaches the policy from
  the indices ``in_use_by`` names (``POST <indices>/_ilm/remove``: they are kept, unmanaged), then deletes,
  again while an index took the policy meanwhile, until the deadline.
- A name is refused by ``LifecyclePolicy.validatePolicyName``: empty, with ``,`` or a space, starting with
  ``_``, longer than 255 bytes.

Outputs are the inputs plus ``adopted``; ``policy`` is the declared part of the live policy after a read.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pulumi

from providers.contract import (
    IDENTITY,
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    ReadBackProvider,
    adoption,
    body_changed,
    connection,
    declared_part,
    read_back_of_write,
)
from providers.declare import DeclaredResource, declare
from providers.elasticsearch.client import ElasticsearchClient
from providers.http import BadRequest, retrying

MAX_NAME_BYTES = 255
NO_ILM = "no handler found for uri"  # a node without x-pack's ILM has no ``_ilm`` routes


class LifecyclePolicyError(Exception):
    """Elasticsearch cannot hold the policy (no ILM there)."""


def check_policy_name(name: Any) -> str | None:
    """Why ``name`` is not a legal policy name (``LifecyclePolicy.validatePolicyName``), or None."""
    if not isinstance(name, str) or not name:
        return "policy_name must be a non-empty string"
    if "," in name or " " in name:
        return f"policy_name {name!r} must not contain ',' or spaces"
    if name.startswith("_"):
        return f"policy_name {name!r} must not start with '_'"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"policy_name {name!r} must be at most {MAX_NAME_BYTES} bytes"
    return None


def check_policy(policy: Any) -> str | None:
    """Why ``policy`` is not a usable ``policy`` object (no network: a mapping with known ``phases``), or None."""
    if not isinstance(policy, Mapping):
        return "policy must be a mapping (the `policy` object of PUT _ilm/policy)"
    phases = policy.get("phases")
    if not isinstance(phases, Mapping) or not phases:
        return "policy.phases must be a non-empty mapping of phase name to {min_age, actions}"
    unknown = sorted(set(phases) - {"hot", "warm", "cold", "frozen", "delete"})
    return (f"policy.phases has unknown phase(s) {', '.join(unknown)} (allowed: hot, warm, cold, frozen, delete)"
            if unknown else None)


def _path(name: str) -> str:
    return f"/_ilm/policy/{name}"


CONTRACT = Contract("IndexLifecyclePolicy", [
    *connection("elasticsearch_url", secrets_=("password", "api_key"), service="Elasticsearch"),
    Field("policy_name", IDENTITY, required=True, annotation="str", doc="the policy's name",
          problem=check_policy_name),
    Field("policy", IN_PLACE, required=True, changed=body_changed("policy"), problem=check_policy,
          doc="the `policy` object of `PUT _ilm/policy` (phases, `_meta`); compared on its declared part"),
    Field("adopted", OUTPUT, doc="the policy existed before it was created here"),
])


class LifecyclePolicyProvider(ReadBackProvider):
    """Create/adopt, update, read and delete one ILM policy. Holds no state."""

    contract = CONTRACT
    id_output = "policy_name"
    client_class = ElasticsearchClient
    url_input = "elasticsearch_url"

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        name, where = props["policy_name"], f"Elasticsearch at {props['elasticsearch_url']}"
        with self.client(props) as es:
            es.wait_ready()
            adopted = adoption(olds, lambda: _live(es, name) is not None, f"lifecycle policy {name!r}", where)
            es.send("PUT", _path(name), {"policy": props["policy"]})
            outs = self.read_back(es, name, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"lifecycle policy {name!r}", where)

    def read_back(self, es: ElasticsearchClient, name: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        live = _live(es, name)
        if live is None:
            return None
        return {**props, "policy_name": name, "policy": declared_part(props.get("policy"), live.get("policy"))}

    def delete_object(self, es: ElasticsearchClient, name: str) -> None:
        """Detach the policy from the indices that use it (Elasticsearch refuses to delete it while one
        does), then delete it; again while a new index took it meanwhile."""
        def attempt() -> None:
            live = _live(es, name)
            if live is None:
                return
            indices = sorted((live.get("in_use_by") or {}).get("indices") or [])
            if indices:
                pulumi.log.warn(f"lifecycle policy {name!r}: detached from {', '.join(indices)}, which Elasticsearch "
                                "keeps from now on without it (delete them by hand when no longer needed)")
                es.send("POST", f"/{','.join(indices)}/_ilm/remove")
            es.delete(_path(name))

        retrying(lambda exc: isinstance(exc, BadRequest) and "in use" in exc.message, timeout=es.within())(attempt)


def _live(es: ElasticsearchClient, name: str) -> dict[str, Any] | None:
    """The policy's entry of ``GET _ilm/policy/<name>`` (``version``, ``policy``, ``in_use_by``), or None."""
    try:
        answer = es.get_or_none(_path(name))
    except BadRequest as exc:
        if NO_ILM in exc.message:
            raise LifecyclePolicyError(f"Elasticsearch at {es.endpoint.url} has no index lifecycle management "
                                       f"(no _ilm API: a distribution without x-pack); turn retention off or use "
                                       f"the default distribution ({exc.message})") from None
        raise
    return None if answer is None else answer.get(name)


if TYPE_CHECKING:  # typed inputs of IndexLifecyclePolicy (python -m tools.generated)
    class IndexLifecyclePolicy(DeclaredResource):
        """The inputs and fields of the ``IndexLifecyclePolicy`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            elasticsearch_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            api_key: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            policy_name: pulumi.Input[str],
            policy: pulumi.Input[Any],
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        elasticsearch_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        api_key: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        policy_name: pulumi.Output[str]
        policy: pulumi.Output[Any]
        adopted: pulumi.Output[Any]
else:
    IndexLifecyclePolicy = declare(CONTRACT, LifecyclePolicyProvider, module="elasticsearch",
                                   name="IndexLifecyclePolicy", doc="""\
        ``PUT _ilm/policy/<policy_name>`` with ``policy``; an index template names it in its
        ``index.lifecycle.name`` setting. Its delete first detaches it from the indices that still use it.""")
