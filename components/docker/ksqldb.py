"""ksqlDB on Docker: one cp-ksqldb-server pointed at Kafka and at the Connect worker."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from clickstream.config import StackConfig
from components.base import ServiceComponent
from components.docker.common import Health, Spec, env_list, heap_opts, run_container
from components.docker.connect import ConnectService
from components.docker.kafka import KafkaService

PORT = 8088


def ksqldb_env(cfg: StackConfig, bootstrap: str, connect_url: str) -> dict[str, str]:
    rf = str(cfg.replication_factor)
    return {
        "KSQL_BOOTSTRAP_SERVERS": bootstrap,
        "KSQL_LISTENERS": f"http://0.0.0.0:{PORT}",
        "KSQL_KSQL_SERVICE_ID": f"{cfg.name_prefix}_ksql_",
        "KSQL_KSQL_CONNECT_URL": connect_url,
        "KSQL_KSQL_INTERNAL_TOPIC_REPLICAS": rf,
        "KSQL_KSQL_INTERNAL_TOPIC_MIN_INSYNC_REPLICAS": str(cfg.min_insync_replicas),
        "KSQL_KSQL_STREAMS_REPLICATION_FACTOR": rf,
        "KSQL_KSQL_LOGGING_PROCESSING_TOPIC_REPLICATION_FACTOR": rf,
        "KSQL_KSQL_LOGGING_PROCESSING_TOPIC_AUTO_CREATE": "true",
        "KSQL_KSQL_LOGGING_PROCESSING_STREAM_AUTO_CREATE": "true",
        "KSQL_HEAP_OPTS": heap_opts(cfg.ksqldb_heap),
    }


class KsqldbService(ServiceComponent):
    """ksqlDB server: URLs are ``http://host:port`` of the REST API (``/ksql``, ``/info``)."""

    def __init__(self, name: str, cfg: StackConfig, network: docker.Network, kafka: KafkaService,
                 connect: ConnectService, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("clickstream:docker:Ksqldb", name, None, opts)
        env = pulumi.Output.all(kafka.internal_url, connect.internal_url).apply(
            lambda urls: env_list(ksqldb_env(cfg, urls[0], urls[1])))
        spec = Spec(
            service="ksqldb",
            image=cfg.ksqldb_image,
            env=env,
            ports={PORT: cfg.ksqldb_port},
            health=Health(test=["CMD", "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{PORT}/healthcheck"],
                          start_period="60s", timeout_s=300),
        )
        self.container = run_container(cfg, spec, network, parent=self,
                                       depends_on=[kafka.container, connect.container]).container
        self.publish(self.container.name.apply(lambda h: f"http://{h}:{PORT}"),
                     f"http://localhost:{cfg.ksqldb_port}")
