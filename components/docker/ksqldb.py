"""ksqlDB on Docker: one cp-ksqldb-server pointed at Kafka and at the Connect worker."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.base import ServiceComponent
from components.docker.common import Health, Spec, env_list, once_healthy, run_container
from components.docker.connect import ConnectService
from components.docker.kafka import KafkaService
from components.service_settings import KSQLDB_PORT as PORT
from components.service_settings import ksqldb_settings
from stackconfig import StackConfig


class KsqldbService(ServiceComponent):
    """ksqlDB server: URLs are ``http://host:port`` of the REST API (``/ksql``, ``/info``)."""

    def __init__(self, name: str, cfg: StackConfig, network: docker.Network, kafka: KafkaService,
                 connect: ConnectService, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:docker:Ksqldb", name, None, opts)
        env = pulumi.Output.all(kafka.internal_url, connect.internal_url).apply(
            lambda urls: env_list(ksqldb_settings(cfg, urls[0], urls[1])))
        spec = Spec(
            service="ksqldb",
            image=cfg.ksqldb_image,
            env=env,
            ports={PORT: cfg.ksqldb_port},
            health=Health(test=["CMD", "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{PORT}/healthcheck"],
                          start_period=60, wait_timeout=300),
        )
        self.container = run_container(cfg, spec, network, parent=self,
                                       depends_on=[kafka.container, connect.container]).container
        self.publish(self.container.name.apply(lambda h: f"http://{h}:{PORT}"),
                     once_healthy(f"http://localhost:{cfg.ksqldb_port}", self.container))
