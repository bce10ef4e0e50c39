"""Infrastructure: one component per service, with a Docker and a Kubernetes implementation, and the
external platform's components for services that already run (``components.external``)."""
from __future__ import annotations

from components.base import ServiceComponent, Services
from stackconfig import Secrets, StackConfig

__all__ = ["ServiceComponent", "Services", "deploy_operators", "deploy_services"]


def deploy_services(cfg: StackConfig, secrets: Secrets) -> Services:
    """Declare the whole service stack on the platform the stack config chooses."""
    if cfg.platform == "external":
        from components.external import deploy as external

        return external(cfg)
    if cfg.platform == "docker":
        from components.docker import deploy
    else:
        from components.kubernetes import deploy
    return deploy(cfg, secrets)


def deploy_operators(cfg: StackConfig) -> None:
    """Declare the cluster's shared Kubernetes operators (a stack with ``role: operators``)."""
    from components.kubernetes import deploy_operators as deploy

    deploy(cfg)
