"""The interface every infrastructure component offers, on both platforms."""
from __future__ import annotations

import dataclasses

import pulumi


class ServiceComponent(pulumi.ComponentResource):
    """A deployed service. ``internal_url``: how other services reach it (in-network / in-cluster).
    ``admin_url``: how ``pulumi up`` (the application layer) reaches its API from where it runs.
    ``revision``: changes whenever the service comes back with empty state (a container without a volume
    re-created), so the application layer re-applies what it keeps there; constant for persistent services."""

    internal_url: pulumi.Output[str]
    admin_url: pulumi.Output[str]
    revision: pulumi.Output[str]

    def publish(self, internal_url: pulumi.Input[str], admin_url: pulumi.Input[str],
                revision: pulumi.Input[str] = "", **extra) -> None:
        self.internal_url = pulumi.Output.from_input(internal_url)
        self.admin_url = pulumi.Output.from_input(admin_url)
        self.revision = pulumi.Output.from_input(revision)
        self.register_outputs({"internal_url": self.internal_url, "admin_url": self.admin_url,
                               "revision": self.revision, **extra})


@dataclasses.dataclass(frozen=True)
class Services:
    """The five services of the pipeline, as deployed on one platform. ``port_forward_commands``: what a
    user runs so the admin URLs answer from where ``pulumi up`` runs (empty when they answer as they are)."""

    kafka: ServiceComponent
    connect: ServiceComponent
    ksqldb: ServiceComponent
    elasticsearch: ServiceComponent
    grafana: ServiceComponent
    port_forward_commands: tuple[str, ...] = ()
