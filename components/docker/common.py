"""Building blocks shared by the Docker components: names, labels, images, healthchecks, containers."""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import pulumi
import pulumi_docker as docker

from stackconfig import StackConfig

RESTART_POLICY = "unless-stopped"
STOP_GRACE_SECONDS = 30  # a clean shutdown (Kafka flushes its log, ES its translog) before a forced kill
HOST_IP = "127.0.0.1"  # published ports listen on the loopback interface only


def container_name(cfg: StackConfig, service: str) -> str:
    """``<namePrefix>-<service>``: the container name, also its hostname on the stack's network."""
    return f"{cfg.name_prefix}-{service}"


def env_list(env: Mapping[str, str]) -> list[str]:
    """Docker's ``KEY=value`` list, sorted so the order never causes a diff."""
    return [f"{key}={value}" for key, value in sorted(env.items())]


def go_duration(seconds: int) -> str:
    """``seconds`` written as Go's ``time.Duration.String()`` prints it: ``30s``, ``1m0s``, ``2m0s``, ``1h1m1s``.

    pulumi-docker 5.x (the kreuzwerker provider v4.5.0 inside) parses healthcheck durations with
    ``time.ParseDuration`` and reads them back from the container with ``Duration.String()``; any other
    spelling of the same time (``120s``) reads back different and shows a diff after every refresh.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"a healthcheck duration must be a whole, non-negative number of seconds, not {seconds!r}")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


@dataclasses.dataclass(frozen=True)
class Health:
    """A container healthcheck, every time in whole seconds; ``wait_timeout`` bounds how long
    ``pulumi up`` waits for the container to report healthy."""

    test: Sequence[str]
    start_period: int
    interval: int = 10
    timeout: int = 10
    retries: int = 10
    wait_timeout: int = 300

    def args(self) -> docker.ContainerHealthcheckArgs:
        return docker.ContainerHealthcheckArgs(tests=list(self.test), interval=go_duration(self.interval),
                                               timeout=go_duration(self.timeout), retries=self.retries,
                                               start_period=go_duration(self.start_period))


def shell_check(command: str) -> list[str]:
    """A healthcheck run by the container's shell (so ``$VARS`` of the container expand inside it)."""
    return ["CMD-SHELL", command]


@dataclasses.dataclass(frozen=True)
class SecretFile:
    """A secret a container reads from a file (its image's ``*_FILE`` setting): uploaded into the container
    before it starts, so it is in no part of the container's configuration (``docker inspect``: environment,
    command, labels), readable only by ``owner`` (the uid the image runs as), a Pulumi secret in the state."""

    path: str
    content: pulumi.Input[str]
    owner: int


@dataclasses.dataclass(frozen=True)
class Spec:
    """What one service container needs; :func:`run_container` turns it into Docker resources."""

    service: str
    image: str
    env: pulumi.Input[list[str]]
    ports: Mapping[int, int]  # container port -> host port
    health: Health
    command: Sequence[str] | None = None
    data_path: str | None = None  # where a named volume is mounted, if the service keeps data
    secret_files: Sequence[SecretFile] = ()


@dataclasses.dataclass(frozen=True)
class Deployed:
    container: docker.Container
    volume: docker.Volume | None


def run_container(cfg: StackConfig, spec: Spec, network: docker.Network, parent: pulumi.Resource,
                  depends_on: Sequence[pulumi.Resource] = ()) -> Deployed:
    """Pull ``spec.image`` and run it on ``network`` with its volume, ports, healthcheck and restart
    policy. ``pulumi up`` waits until Docker reports the container healthy (``wait=True``)."""
    name = container_name(cfg, spec.service)
    child = pulumi.ResourceOptions(parent=parent)
    labels = {"com.clickstream.stack": pulumi.get_stack(), "com.clickstream.service": spec.service}
    # A separate image resource pulls before the container is touched (a failed pull leaves the old
    # container running); keep_locally keeps the image cached when the stack is destroyed.
    image = docker.RemoteImage(f"{spec.service}-image", name=spec.image, keep_locally=True, opts=child)
    volume = None
    mounts = []
    if spec.data_path:
        volume = docker.Volume(
            f"{spec.service}-data", name=f"{name}-data",
            labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in labels.items()],
            opts=pulumi.ResourceOptions(parent=parent, protect=cfg.protect))
        mounts.append(docker.ContainerVolumeArgs(volume_name=volume.name, container_path=spec.data_path))
    container = docker.Container(
        f"{spec.service}-container",
        name=name,
        hostname=name,
        image=image.image_id,
        envs=spec.env,
        command=list(spec.command) if spec.command else None,
        ports=[docker.ContainerPortArgs(internal=inner, external=outer, ip=HOST_IP)
               for inner, outer in spec.ports.items()],
        volumes=mounts,
        uploads=[docker.ContainerUploadArgs(file=f.path, content=pulumi.Output.secret(f.content), owner=str(f.owner),
                                            group="0", permissions="0400") for f in spec.secret_files],
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[spec.service])],
        restart=RESTART_POLICY,
        healthcheck=spec.health.args(),
        wait=True,
        wait_timeout=spec.health.wait_timeout,
        destroy_grace_seconds=STOP_GRACE_SECONDS,
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in labels.items()],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
    return Deployed(container, volume)


def once_healthy(url: str, container: docker.Container) -> pulumi.Output[str]:
    """``url`` as an Output that resolves only once ``container`` is created and healthy (``wait=True``),
    so the application layer using it, even its checks, starts once the service answers; a container that
    ``pulumi up --refresh`` found stopped or removed is re-created first."""
    return container.id.apply(lambda _: url)
