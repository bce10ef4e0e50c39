"""JVM processes for the harness: each runs in its own process group with its output in a log file."""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess

LOG4J2_PROPERTIES = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
"""


class HarnessError(Exception):
    """The harness could not start or stop a service; the message names the log file to read."""


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` or ``java`` on PATH; HarnessError when neither exists."""
    home = os.environ.get("JAVA_HOME")
    candidate = pathlib.Path(home, "bin", "java") if home else None
    if candidate and candidate.exists():
        return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise HarnessError("Java is not installed: install a JDK/JRE 17+ (e.g. 'apt-get install "
                           "openjdk-17-jre-headless') to run Apache Kafka for the tests")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_properties(path: pathlib.Path, values: dict[str, object]) -> pathlib.Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def java_command(main_class: str, args: list[str], classpath: list[str], log4j_config: pathlib.Path,
                 heap: str) -> list[str]:
    """A quick-starting JVM command line (small heap, serial GC, C1 only) for ``main_class``."""
    return [java_executable(), f"-Xmx{heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:-UsePerfData", "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j_config}",
            "-cp", ":".join(classpath), main_class, *args]


class JavaProcess:
    """One long-running JVM in its own process group; stdout and stderr go to ``log_file``."""

    def __init__(self, name: str, command: list[str], log_file: pathlib.Path):
        self.name, self.command, self.log_file = name, command, log_file
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def check_alive(self) -> None:
        """Raise HarnessError (naming the log) if the process has exited."""
        if not self.running():
            code = None if self._process is None else self._process.returncode
            raise HarnessError(f"{self.name} is not running (exit code {code}); see {self.log_file}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the process group, wait up to ``timeout`` s, then SIGKILL it. Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        # reap leftovers of the group (a JVM forks no children, but be strict about strays)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_tool(name: str, command: list[str], log_file: pathlib.Path, timeout: float = 120) -> None:
    """Run a short-lived JVM tool to completion; HarnessError naming the log if it fails."""
    with open(log_file, "ab") as log:
        try:
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    timeout=timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{name} did not finish within {timeout:g} s; see {log_file}") from None
    if result.returncode != 0:
        raise HarnessError(f"{name} failed with exit code {result.returncode}; see {log_file}")
