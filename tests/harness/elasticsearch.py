"""A real Elasticsearch node for tests: one local JVM built from Maven Central jars, or a container.

JVM: the pinned server jar, the Netty4 HTTP transport plugin and the test framework, whose ``MockNode``
starts a node in-process (``ElasticsearchTestNode.java``, compiled once into the jar cache; needs a JDK).
The node has no x-pack: no security, no built-in ``logs``/``metrics`` templates, no ``GET /`` (the
rest-root module). Elasticsearch refuses to run as root, so as root the JVM runs as user ``nobody``
(``setpriv``); its home folder is a temporary folder owned by that user and removed on ``close``; it
serves until its standard input closes, and dies with its parent (``setpriv --pdeathsig``). It listens on
a free 127.0.0.1 port; logs go to ``log_dir``.

Docker: the stack's own image (``StackConfig.elasticsearch_image``) through testcontainers, single-node,
security off (x-pack present).
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
from typing import Any

from stackconfig import StackConfig
from tests.harness.maven import CACHE_DIR, ELASTICSEARCH, cached_classpath, resolve_classpath
from tests.harness.processes import (
    HarnessError,
    JavaProcess,
    free_port,
    java_executable,
    javac_executable,
    make_work_dir,
    privilege_drop_unavailable,
    remove_stale_work_dirs,
    run_tool,
    unprivileged_account,
)
from tests.harness.readiness import wait_for_elasticsearch

LAUNCHER = pathlib.Path(__file__).with_name("ElasticsearchTestNode.java")
WORK_PREFIX = "es-harness-"


def launcher_classes(classpath: list[str], log_file: pathlib.Path,
                     cache_dir: pathlib.Path = CACHE_DIR) -> pathlib.Path:
    """The folder with the compiled launcher, compiled once per source version into the jar cache."""
    source = LAUNCHER.read_bytes()
    folder = cache_dir / ELASTICSEARCH.folder / f"launcher-{hashlib.sha256(source).hexdigest()[:16]}"
    if (folder / "ElasticsearchTestNode.class").exists():
        return folder
    partial = folder.with_name(f"{folder.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    run_tool("javac ElasticsearchTestNode.java",
             [javac_executable(), "-d", str(partial), "-cp", ":".join(classpath), str(LAUNCHER)], log_file)
    try:
        partial.rename(folder)
    except OSError:  # another session compiled it first
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def unreadable_by_others(paths: list[pathlib.Path]) -> pathlib.Path | None:
    """The first of ``paths`` (or a folder above one) that another user cannot read or enter, else None."""
    for path in paths:
        for part in [path, *path.parents]:
            mode = part.stat().st_mode
            if not mode & (0o001 if part.is_dir() else 0o004):
                return part
    return None


def jvm_unavailable() -> str | None:
    """None when a JDK, (unless the jars are cached) Maven and a way to run as non-root exist, else why not."""
    missing = []
    for tool in (java_executable, javac_executable):
        try:
            tool()
        except HarnessError:
            missing.append(tool.__name__.split("_")[0])
    if shutil.which("mvn") is None and cached_classpath(jars=ELASTICSEARCH) is None:
        missing.append("mvn")
    if missing:
        return (f"{' and '.join(missing)} not installed (needed to run Elasticsearch from Maven Central jars; "
                "javac comes with a JDK, e.g. 'apt-get install openjdk-17-jdk-headless')")
    return privilege_drop_unavailable()


class JvmElasticsearch:
    """One started-on-demand Elasticsearch node. Use as a context manager or call close()."""

    kind = "jvm"

    def __init__(self, log_dir: pathlib.Path, *, start_timeout: float = 180, heap: str = "512m"):
        self.log_dir = pathlib.Path(log_dir)
        self.start_timeout = start_timeout
        self.heap = heap
        self.http_port = 0
        self._home: pathlib.Path | None = None
        self._node: JavaProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int | None:
        return None if self._node is None else self._node.pid

    def save_logs(self) -> pathlib.Path:
        """The folder with the logs (the JVM writes them there as it runs)."""
        return self.log_dir

    def start(self) -> "JvmElasticsearch":
        """Resolve the jars, compile the launcher, start the node and wait for status yellow."""
        classpath = resolve_classpath(jars=ELASTICSEARCH)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / "elasticsearch.log"
        classes = launcher_classes(classpath, log_file)
        remove_stale_work_dirs(WORK_PREFIX)
        account = unprivileged_account()
        if account is not None and (closed := unreadable_by_others([classes, pathlib.Path(classpath[0])])):
            raise HarnessError(f"Elasticsearch must run as an unprivileged user, who cannot read {closed}: let "
                               f"other users read the jar cache (e.g. chmod o+rx on {closed}), or run as non-root")
        self._home = make_work_dir(WORK_PREFIX)
        try:
            self.http_port = free_port()
            settings = self._home / "node.json"
            settings.write_text(json.dumps({
                "cluster.name": "es-harness",
                "node.name": "es-harness",
                "path.home": str(self._home),
                "network.host": "127.0.0.1",
                "http.port": self.http_port,
                "transport.port": free_port(),
                "discovery.type": "single-node",
                # the disk of a test machine may be fuller than the production watermarks allow
                "cluster.routing.allocation.disk.threshold_enabled": False,
            }))
            if account is not None:
                for path in (self._home, settings):
                    os.chown(path, *account)
            self._node = JavaProcess(
                "Elasticsearch node",
                [java_executable(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseSerialGC",
                 "-XX:-UsePerfData", "-Djava.awt.headless=true", "-Dtests.security.manager=false",
                 f"-Djava.io.tmpdir={self._home}", "-cp", ":".join([str(classes), *classpath]),
                 "ElasticsearchTestNode", str(settings)],
                log_file, account=account, stdin_pipe=True)
            self._node.start()
            wait_for_elasticsearch(self.url, timeout=self.start_timeout, check_alive=self._node.check_alive,
                                   logs=str(log_file))
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop the node and remove its folder (logs stay in ``log_dir``)."""
        if self._node is not None:
            self._node.stop()
            self._node = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def __enter__(self) -> "JvmElasticsearch":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class DockerElasticsearch:
    """The stack's Elasticsearch image in a container (testcontainers). Use as a context manager or call close()."""

    kind = "docker"

    def __init__(self, log_dir: pathlib.Path, *, config: StackConfig | None = None, start_timeout: float = 300):
        self.log_dir = pathlib.Path(log_dir)
        self.config = config or StackConfig()
        self.start_timeout = start_timeout
        self._container: Any = None  # an ElasticSearchContainer once started

    @property
    def url(self) -> str:
        return f"http://{self._container.get_container_host_ip()}:{self._container.get_exposed_port(9200)}"

    def start(self) -> "DockerElasticsearch":
        from testcontainers.community.elasticsearch import ElasticSearchContainer

        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._container = (ElasticSearchContainer(self.config.elasticsearch_image, mem_limit="2g")
                               .with_env("discovery.type", "single-node")
                               .with_env("ES_JAVA_OPTS", "-Xms512m -Xmx512m"))
            self._container.start()
            wait_for_elasticsearch(self.url, timeout=self.start_timeout, check_alive=self._check_alive,
                                   logs=f"{self.log_dir} (written on failure)")
        except BaseException:
            self.close()
            raise
        return self

    def _check_alive(self) -> None:
        self._container.get_wrapped_container().reload()
        if self._container.get_wrapped_container().status != "running":
            raise HarnessError(f"the Elasticsearch container stopped; logs: {self.save_logs()}")

    def save_logs(self) -> pathlib.Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self._container is not None and self._container.get_wrapped_container() is not None:
            stdout, stderr = self._container.get_logs()
            (self.log_dir / "elasticsearch.log").write_bytes(stdout + stderr)
        return self.log_dir

    def close(self) -> None:
        try:
            self.save_logs()
        finally:
            if self._container is not None:
                self._container.stop()
            self._container = None

    def __enter__(self) -> "DockerElasticsearch":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
