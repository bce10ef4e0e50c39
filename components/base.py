"""The interface every infrastructure component offers, on both platforms."""
from __future__ import annotations

import dataclasses

import pulumi


class ServiceComponent(pulumi.ComponentResource):
    """A deployed service. ``internal_url``: how other services reach it (in-network / in-cluster).
    ``admin_url``: how ``pulumi up`` (the application layer) reaches its API from where it runs."""

    internal_url: pulumi.Output[str]
    admin_url: pulumi.Output[str]

    def publish(self, internal_url: pulumi.Input[str], admin_url: pulumi.Input[str], **extra) -> None:
        self.internal_url = pulumi.Output.from_input(internal_url)
        self.admin_url = pulumi.Output.from_input(admin_url)
        self.register_outputs({"internal_url": self.internal_url, "admin_url": self.admin_url, **extra})


@dataclasses.dataclass(frozen=True)
class Services:
    """The five services of the pipeline, as deployed on one platform."""

    kafka: ServiceComponent
    connect: ServiceComponent
    ksqldb: ServiceComponent
    elasticsearch: ServiceComponent
    grafana: ServiceComponent
