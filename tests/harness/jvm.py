"""Apache Kafka (one KRaft broker+controller) and a distributed Kafka Connect worker as local JVMs.

Jars come from Maven Central (``tests.harness.maven``). Everything listens on free 127.0.0.1 ports; data
lives in a temporary folder removed on ``close`` (and by the next start if this process is killed); each
JVM dies with its parent (``tests.harness.processes``); logs are written to ``log_dir`` and kept.

Besides its PLAINTEXT listener the broker has a ``SASL_PLAINTEXT`` one with the ``PLAIN`` mechanism
(``sasl_bootstrap_servers``), which admits one login, ``sasl_login`` (a password drawn for each start): the
tests of a Kafka login (the alias swap's) run on it. Apache Kafka's broker settings for it (docs "Security",
"Authentication using SASL/PLAIN"): the listener in ``listeners`` and ``listener.security.protocol.map``,
``sasl.enabled.mechanisms``, and the JAAS entry of the listener, ``listener.name.<listener, lower
case>.plain.sasl.jaas.config``, whose ``user_<name>="<password>"`` options are the users it admits.
"""
from __future__ import annotations

import base64
import pathlib
import secrets
import shutil
import uuid

from tests.harness.maven import resolve_classpath
from tests.harness.processes import (
    LOG4J2_PROPERTIES,
    HarnessError,
    JavaProcess,
    free_port,
    java_command,
    make_work_dir,
    remove_stale_work_dirs,
    run_tool,
    write_properties,
)
from tests.harness.readiness import FILE_AND_MIRROR_PLUGINS, wait_for_broker, wait_for_connect

WORK_PREFIX = "kafka-harness-"
SASL_LISTENER = "SASL"  # the listener that asks for a login
SASL_USER = "swap"


def _cluster_id() -> str:
    """A random KRaft cluster id in Kafka's format (URL-safe base64 of 16 bytes, no padding), never starting
    with '-': the storage tool would read it as an option (Kafka's ``Uuid.randomUuid`` draws again too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


class JvmKafkaConnect:
    """A started-on-demand Kafka broker + Connect worker pair. Use as a context manager or call close()."""

    kind = "jvm"

    def __init__(self, log_dir: pathlib.Path, *, start_timeout: float = 180, heap: str = "512m"):
        self.log_dir = pathlib.Path(log_dir)
        self.start_timeout = start_timeout
        self.heap = heap
        self._data: pathlib.Path | None = None
        self._broker: JavaProcess | None = None
        self._connect: JavaProcess | None = None
        self.kafka_port = self.controller_port = self.connect_port = self.sasl_port = 0
        self.sasl_login = (SASL_USER, "")  # (user, password) the SASL listener admits, set on start

    # ---- the fixture interface -------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def sasl_bootstrap_servers(self) -> str:
        """The SASL_PLAINTEXT listener (mechanism PLAIN), which admits ``sasl_login`` only."""
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def connect_url(self) -> str:
        return f"http://127.0.0.1:{self.connect_port}"

    @property
    def work_dir(self) -> pathlib.Path:
        """A folder the Connect worker sees at the same path (for file connectors)."""
        return self._folder / "files"

    @property
    def _folder(self) -> pathlib.Path:
        assert self._data is not None, "harness not started"
        return self._data

    @property
    def pids(self) -> dict[str, int | None]:
        """Process ids of the broker and the worker (None when not running)."""
        return {"broker": self._broker.pid if self._broker else None,
                "worker": self._connect.pid if self._connect else None}

    def connect_running(self) -> bool:
        return self._connect is not None and self._connect.running()

    def save_logs(self) -> pathlib.Path:
        """The folder with the logs (the JVMs write them there as they run)."""
        return self.log_dir

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "JvmKafkaConnect":
        """Resolve the jars, format KRaft storage, start the broker, then the worker; wait for both."""
        classpath = resolve_classpath()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_work_dirs(WORK_PREFIX)
        self._data = make_work_dir(WORK_PREFIX)
        self.work_dir.mkdir()
        self.kafka_port, self.controller_port, self.connect_port = free_port(), free_port(), free_port()
        self.sasl_port, self.sasl_login = free_port(), (SASL_USER, secrets.token_urlsafe(16))
        log4j = self._folder / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES)
        try:
            self._start_broker(classpath, log4j)
            self._connect = JavaProcess(
                "Kafka Connect worker",
                java_command("org.apache.kafka.connect.cli.ConnectDistributed",
                             [str(self._connect_properties())], classpath, log4j, self.heap),
                self.log_dir / "connect.log")
            self.start_connect()
        except BaseException:
            self.close()
            raise
        return self

    def _start_broker(self, classpath: list[str], log4j: pathlib.Path) -> None:
        properties = write_properties(self._folder / "server.properties", {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "controller.listener.names": "CONTROLLER",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.kafka_port},CONTROLLER://127.0.0.1:{self.controller_port},"
                         f"{SASL_LISTENER}://127.0.0.1:{self.sasl_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.kafka_port},"
                                    f"{SASL_LISTENER}://127.0.0.1:{self.sasl_port}",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map":
                f"PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,{SASL_LISTENER}:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": "PLAIN",
            f"listener.name.{SASL_LISTENER.lower()}.plain.sasl.jaas.config":
                'org.apache.kafka.common.security.plain.PlainLoginModule required '
                f'user_{self.sasl_login[0]}="{self.sasl_login[1]}";',
            "log.dirs": self._folder / "kafka-data",
            "num.partitions": 1,
            # as the project's brokers: every topic is created by whoever writes it, never by a client's
            # metadata request (docs/architecture.md, "Kafka topics")
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": 0,
        })
        run_tool("Kafka storage format",
                 java_command("kafka.tools.StorageTool", ["format", "-t", _cluster_id(), "-c", str(properties)],
                              classpath, log4j, "256m"),
                 self.log_dir / "kafka-storage-format.log")
        self._broker = JavaProcess("Kafka broker", java_command("kafka.Kafka", [str(properties)], classpath,
                                                                log4j, self.heap),
                                   self.log_dir / "kafka.log")
        self._broker.start()
        wait_for_broker("127.0.0.1", self.kafka_port, timeout=self.start_timeout,
                        check_alive=self._broker.check_alive, logs=str(self._broker.log_file))

    def _connect_properties(self) -> pathlib.Path:
        return write_properties(self._folder / "connect-distributed.properties", {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": "kafka-harness",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
            "value.converter.schemas.enable": "false",
            "config.storage.topic": "connect-configs",
            "offset.storage.topic": "connect-offsets",
            "status.storage.topic": "connect-status",
            "config.storage.replication.factor": 1,
            "offset.storage.replication.factor": 1,
            "status.storage.replication.factor": 1,
            "offset.storage.partitions": 1,
            "status.storage.partitions": 1,
            "offset.flush.interval.ms": 1000,
            "listeners": f"http://127.0.0.1:{self.connect_port}",
            "rest.advertised.host.name": "127.0.0.1",
            "rest.advertised.port": self.connect_port,
            # the file and MirrorMaker connectors are on the classpath with ServiceLoader manifests
            "plugin.discovery": "service_load",
            # one worker: reassign a restarted worker's connectors at once, not after 5 minutes
            "scheduled.rebalance.max.delay.ms": 0,
        })

    def start_connect(self, wait: bool = True) -> None:
        """Start the Connect worker (same ports as before); by default wait until its REST API is ready."""
        if self._connect is None:
            raise HarnessError("the harness is not started")
        self._connect.start()
        if wait:
            self.wait_connect()

    def wait_connect(self) -> None:
        if self._connect is None:
            raise HarnessError("the harness is not started")
        wait_for_connect(self.connect_url, FILE_AND_MIRROR_PLUGINS, timeout=self.start_timeout,
                         check_alive=self._connect.check_alive, logs=str(self._connect.log_file))

    def stop_connect(self) -> None:
        """Stop the Connect worker (graceful, bounded); connectors stay in the config topic."""
        if self._connect is not None:
            self._connect.stop()

    def restart_connect(self) -> None:
        self.stop_connect()
        self.start_connect()

    def close(self) -> None:
        """Stop the worker, then the broker, and remove the data folder (logs stay in ``log_dir``)."""
        for process in (self._connect, self._broker):
            if process is not None:
                process.stop()
        if self._data is not None:
            shutil.rmtree(self._data, ignore_errors=True)
            self._data = None

    def __enter__(self) -> "JvmKafkaConnect":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
