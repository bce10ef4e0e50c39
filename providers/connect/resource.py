"""``Connector``: one Kafka Connect connector as a Pulumi resource (provider: ``ConnectorProvider``)."""
from __future__ import annotations

from typing import Literal, Mapping

import pulumi
import pulumi.dynamic

from providers.connect.provider import CONTRACT, ConnectorProvider
from providers.contract import DEFAULT_READY_TIMEOUT


class Connector(pulumi.dynamic.Resource, module="connect", name="Connector"):
    """A connector created (or adopted) by name, updated in place, awaited until it and its tasks run.

    ``config`` holds the plain settings (must include ``connector.class``); ``secret_config`` holds the
    sensitive ones (passwords, API keys): they are sent to Connect but kept out of outputs and state,
    where only a salted hash is stored. ``state`` ``"paused"`` pauses the connector declaratively.
    ``ready_timeout`` is the deadline of each operation: the wait for Connect, every retry and the wait
    for the declared state end there (docs/resources/README.md).
    Changing ``connector_name`` replaces the connector; everything else is updated in place
    (the field table: ``providers.connect.provider.CONTRACT``, docs/resources/connector.md).
    """

    connector_name: pulumi.Output[str]
    state: pulumi.Output[str]
    connector_class: pulumi.Output[str]
    config: pulumi.Output[dict]

    def __init__(self, resource_name: str, *, connect_url: pulumi.Input[str], connector_name: str,
                 config: Mapping[str, pulumi.Input[str]], secret_config: Mapping[str, pulumi.Input[str]] | None = None,
                 state: Literal["running", "paused"] = "running", ready_timeout: float = DEFAULT_READY_TIMEOUT,
                 opts: pulumi.ResourceOptions | None = None):
        props = {
            "connect_url": connect_url,
            "connector_name": connector_name,
            "config": dict(config),
            "secret_config": {key: pulumi.Output.secret(value) for key, value in (secret_config or {}).items()},
            "state": state,
            "ready_timeout": ready_timeout,
            "connector_class": None,
            "secret_config_hash": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            additional_secret_outputs=CONTRACT.secret_outputs))
        super().__init__(ConnectorProvider(), resource_name, props, opts)
