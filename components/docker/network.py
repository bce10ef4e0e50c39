"""The stack's one user-defined bridge network: containers reach each other by container name."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from stackconfig import StackConfig


def create_network(cfg: StackConfig) -> docker.Network:
    return docker.Network(
        "network",
        name=f"{cfg.name_prefix}-net",
        driver="bridge",
        labels=[docker.NetworkLabelArgs(label="com.clickstream.stack", value=pulumi.get_stack())],
    )
