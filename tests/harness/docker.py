"""Apache Kafka (KRaft) and a Kafka Connect worker in Docker via testcontainers, one Docker network.

Images are the stack's defaults (``StackConfig``). The worker's environment and command can be replaced
(the integration tier passes the dev stack's own, which install datagen + the ES sink). Host ports are
fixed at start so a restarted Connect container keeps its URL. A host folder is mounted into the worker at
the same path (``work_dir``), so file connectors behave as with the JVM backend. Container logs are
copied to ``log_dir`` by ``save_logs``.
"""
from __future__ import annotations

import pathlib
import shutil
from typing import Any, Iterable, Mapping

from testcontainers.community.kafka import KafkaContainer
from testcontainers.core.container import DockerContainer
from testcontainers.core.exceptions import ContainerStartException
from testcontainers.core.network import Network

from stackconfig import StackConfig
from tests.harness.processes import HarnessError, free_port, make_work_dir, remove_stale_work_dirs
from tests.harness.readiness import FILE_AND_MIRROR_PLUGINS, wait_for_connect

KAFKA_ALIAS, CONNECT_ALIAS = "kafka", "connect"
KAFKA_INTERNAL_BOOTSTRAP = f"{KAFKA_ALIAS}:9092"  # the BROKER listener testcontainers sets up
CONNECT_REST_PORT = 8083


def connect_environment(bootstrap: str) -> dict[str, str]:
    """cp-kafka-connect settings for one worker with JSON converters and replication factor 1."""
    return {
        "CONNECT_BOOTSTRAP_SERVERS": bootstrap,
        "CONNECT_GROUP_ID": "kafka-harness",
        "CONNECT_LISTENERS": f"http://0.0.0.0:{CONNECT_REST_PORT}",
        "CONNECT_REST_ADVERTISED_HOST_NAME": CONNECT_ALIAS,
        "CONNECT_CONFIG_STORAGE_TOPIC": "connect-configs",
        "CONNECT_OFFSET_STORAGE_TOPIC": "connect-offsets",
        "CONNECT_STATUS_STORAGE_TOPIC": "connect-status",
        "CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR": "1",
        "CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR": "1",
        "CONNECT_STATUS_STORAGE_REPLICATION_FACTOR": "1",
        "CONNECT_OFFSET_STORAGE_PARTITIONS": "1",
        "CONNECT_STATUS_STORAGE_PARTITIONS": "1",
        "CONNECT_KEY_CONVERTER": "org.apache.kafka.connect.json.JsonConverter",
        "CONNECT_VALUE_CONVERTER": "org.apache.kafka.connect.json.JsonConverter",
        "CONNECT_KEY_CONVERTER_SCHEMAS_ENABLE": "false",
        "CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE": "false",
        "CONNECT_OFFSET_FLUSH_INTERVAL_MS": "1000",
        "CONNECT_SCHEDULED_REBALANCE_MAX_DELAY_MS": "0",
        "CONNECT_PLUGIN_PATH": "/usr/share/java,/usr/share/confluent-hub-components",
    }


class DockerKafkaConnect:
    """Kafka + Connect containers on a private network. Use as a context manager or call close()."""

    kind = "docker"

    def __init__(self, log_dir: pathlib.Path, *, config: StackConfig | None = None,
                 connect_env: Mapping[str, str] | None = None, connect_command: list[str] | None = None,
                 required_plugins: Iterable[str] = FILE_AND_MIRROR_PLUGINS, start_timeout: float = 300):
        self.log_dir = pathlib.Path(log_dir)
        self.config = config or StackConfig()
        self.connect_env = dict(connect_env or connect_environment(KAFKA_INTERNAL_BOOTSTRAP))
        self.connect_command = connect_command
        self.required_plugins = tuple(required_plugins)
        self.start_timeout = start_timeout
        self.network: Network | None = None
        self._kafka: Any = None  # a KafkaContainer once started
        self._connect: Any = None  # a DockerContainer once started
        self._work: pathlib.Path | None = None
        self.connect_port = 0

    @property
    def bootstrap_servers(self) -> str:
        return self._kafka.get_bootstrap_server()

    @property
    def connect_url(self) -> str:
        return f"http://{self._connect.get_container_host_ip()}:{self.connect_port}"

    @property
    def work_dir(self) -> pathlib.Path:
        """A host folder mounted into the worker at the same path (for file connectors)."""
        assert self._work is not None, "harness not started"
        return self._work

    def start(self) -> "DockerKafkaConnect":
        """Start Kafka, then the worker; wait until the worker lists ``required_plugins``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_work_dirs("kafka-harness-")
        self._work = make_work_dir("kafka-harness-")
        self._work.chmod(0o777)  # the worker runs as a non-root user
        try:
            self.network = Network().create()
            self._kafka = (KafkaContainer(self.config.kafka_image).with_kraft()
                           .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")  # as the project's brokers
                           .with_network(self.network).with_network_aliases(KAFKA_ALIAS))
            self._kafka.start(timeout=int(self.start_timeout))
            self.connect_port = free_port()
            self._connect = (DockerContainer(self.config.connect_image)
                             .with_network(self.network).with_network_aliases(CONNECT_ALIAS)
                             .with_bind_ports(CONNECT_REST_PORT, self.connect_port)
                             .with_volume_mapping(str(self._work), str(self._work), "rw")
                             .with_envs(**self.connect_env))
            if self.connect_command:
                self._connect.with_command(self.connect_command)
            self._connect.start()
            self.wait_connect()
        except BaseException:
            self.close()
            raise
        return self

    def _check_connect_alive(self) -> None:
        if not self.connect_running():
            raise HarnessError(f"the Kafka Connect container stopped; logs: {self.save_logs()}")

    def wait_connect(self) -> None:
        wait_for_connect(self.connect_url, self.required_plugins, timeout=self.start_timeout,
                         check_alive=self._check_connect_alive, logs=f"{self.log_dir} (written on failure)")

    def connect_running(self) -> bool:
        if self._connect is None:
            return False
        self._connect.reload()
        return self._connect.status == "running"

    def start_connect(self, wait: bool = True) -> None:
        """Start the stopped Connect container again (same host port); by default wait until it is ready."""
        self._connect.get_wrapped_container().start()
        if wait:
            self.wait_connect()

    def stop_connect(self) -> None:
        self._connect.get_wrapped_container().stop(timeout=30)

    def restart_connect(self) -> None:
        self.stop_connect()
        self.start_connect()

    def save_logs(self) -> pathlib.Path:
        """Copy both containers' output into ``log_dir`` and return it."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, container in (("kafka", self._kafka), ("connect", self._connect)):
            if container is None:
                continue
            try:
                stdout, stderr = container.get_logs()
            except ContainerStartException:  # never created
                continue
            (self.log_dir / f"{name}.log").write_bytes(stdout + stderr)
        return self.log_dir

    def close(self) -> None:
        """Save the logs, remove the containers and the network, and delete the work folder."""
        try:
            self.save_logs()
        finally:
            for container in (self._connect, self._kafka):
                if container is not None:
                    container.stop()  # removes the container; a no-op if it was never created
            if self.network is not None:
                self.network.remove()
            if self._work is not None:
                shutil.rmtree(self._work, ignore_errors=True)
            self._connect = self._kafka = self.network = self._work = None

    def __enter__(self) -> "DockerKafkaConnect":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
