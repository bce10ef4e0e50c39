"""Processes and folders of the harness: each JVM runs in its own process group with its output in a log
file, dies with the process that started it, and leaves no folder behind.

Clean shutdown on every signal a runner sends: ``interrupt_on_termination`` turns SIGTERM and SIGHUP into
KeyboardInterrupt (as SIGINT already is), so pytest's fixture teardown and ``with`` blocks stop the JVMs and
remove their folders. A SIGKILLed parent cannot clean up, so every JVM the main thread starts runs under
``setpriv --pdeathsig KILL`` (the kernel kills it when its parent dies; see ``supervised``), and
``make_work_dir`` records the owner so the next harness start removes folders whose owner is gone
(``remove_stale_work_dirs``). Elasticsearch, which serves until its standard input closes, also stops when
its parent dies from any thread.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading

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
OWNER_FILE = ".harness-owner"  # "<pid> <start time>" of the process that created a work folder
UNPRIVILEGED_USER = "nobody"  # who runs a JVM that refuses root (Elasticsearch)


class HarnessError(Exception):
    """The harness could not start or stop a service; the message names the log file to read."""


def _jdk_tool(name: str) -> str:
    home = os.environ.get("JAVA_HOME")
    candidate = pathlib.Path(home, "bin", name) if home else None
    if candidate and candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        package = "openjdk-17-jre-headless" if name == "java" else "openjdk-17-jdk-headless"
        raise HarnessError(f"{name} is not installed: install a Java 17+ {'JRE' if name == 'java' else 'JDK'} "
                           f"(e.g. 'apt-get install {package}') to run the test services")
    return found


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` or ``java`` on PATH; HarnessError when neither exists."""
    return _jdk_tool("java")


def javac_executable() -> str:
    """``$JAVA_HOME/bin/javac`` or ``javac`` on PATH (a JDK); HarnessError when neither exists."""
    return _jdk_tool("javac")


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


# ---- who runs the process, and a watchdog that kills it with its parent -------------------------------
def unprivileged_account() -> tuple[int, int] | None:
    """(uid, gid) to run a root-refusing JVM as: None when this process is not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    return entry.pw_uid, entry.pw_gid


def privilege_drop_unavailable() -> str | None:
    """None when a root-refusing JVM can be started here, else the reason."""
    if os.geteuid() != 0:
        return None
    if shutil.which("setpriv") is None:
        return "running as root and 'setpriv' (util-linux) is missing to start the JVM as an unprivileged user"
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return f"running as root and there is no user {UNPRIVILEGED_USER!r} to start the JVM as"
    return None


def supervised(command: list[str], account: tuple[int, int] | None = None) -> list[str]:
    """``command`` under ``setpriv``: run as ``account`` (uid, gid) when given, and killed (SIGKILL) when its
    parent dies. The kernel's "parent" is the *thread* that starts it, so the watchdog is set only when the
    main thread starts it (a process started from another thread would die with that thread). Without
    setpriv the command runs as is (no parent-death watchdog)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if account is not None:
            raise HarnessError(privilege_drop_unavailable() or "setpriv is missing")
        return command
    prefix = [setpriv]
    if account is not None:
        uid, gid = account
        prefix += [f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    if threading.current_thread() is threading.main_thread():
        prefix += ["--pdeathsig", "KILL"]
    return [*prefix, *command] if len(prefix) > 1 else command


# ---- work folders ---------------------------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """The start time (clock ticks since boot) of process ``pid``, or None if there is no such process."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def make_work_dir(prefix: str) -> pathlib.Path:
    """A new temporary folder that records this process as its owner (see ``remove_stale_work_dirs``)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    (folder / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}")
    return folder


def remove_stale_work_dirs(prefix: str) -> list[pathlib.Path]:
    """Remove the folders ``make_work_dir(prefix)`` made for processes that no longer run (e.g. a SIGKILLed
    pytest). Folders of running processes, and folders without an owner record, are left alone."""
    removed = []
    for folder in pathlib.Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            pid, started = (folder / OWNER_FILE).read_text().split()
        except (OSError, ValueError):
            continue
        if _start_time(int(pid)) != started:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


# ---- signals -----------------------------------------------------------------------------------------
def interrupt_on_termination() -> None:
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, once (later ones are ignored so
    the clean-up they trigger is not interrupted). A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, _frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


# ---- processes ---------------------------------------------------------------------------------------
class JavaProcess:
    """One long-running JVM in its own process group; stdout and stderr go to ``log_file``.

    It runs under ``supervised`` (dies with its parent), as ``account`` when given. With ``stdin_pipe`` its
    standard input stays open until ``stop`` (a process that serves until stdin closes stops gracefully).
    """

    def __init__(self, name: str, command: list[str], log_file: pathlib.Path, *,
                 account: tuple[int, int] | None = None, stdin_pipe: bool = False):
        self.name, self.command, self.log_file = name, command, log_file
        self.account, self.stdin_pipe = account, stdin_pipe
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                supervised(self.command, self.account), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE if self.stdin_pipe else subprocess.DEVNULL, start_new_session=True)

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def check_alive(self) -> None:
        """Raise HarnessError (naming the log) if the process has exited."""
        if not self.running():
            code = None if self._process is None else self._process.returncode
            raise HarnessError(f"{self.name} is not running (exit code {code}); see {self.log_file}")

    def stop(self, timeout: float = 30) -> None:
        """Close stdin, SIGTERM the process group, wait up to ``timeout`` s, then SIGKILL it. Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
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
    """Run a short-lived tool (a JVM, javac) to completion; HarnessError naming the log if it fails."""
    with open(log_file, "ab") as log:
        try:
            result = subprocess.run(supervised(command), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, timeout=timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{name} did not finish within {timeout:g} s; see {log_file}") from None
    if result.returncode != 0:
        raise HarnessError(f"{name} failed with exit code {result.returncode}; see {log_file}")
