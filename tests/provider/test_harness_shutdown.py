"""The test harness leaves nothing behind however pytest ends (tests/harness/processes.py).

Each test runs a small pytest session in a subprocess whose session fixture starts a process the way the
harness starts its JVMs (``JavaProcess``: own process group, under the parent-death watchdog) in a
folder from ``make_work_dir``; the test then signals that pytest. SIGTERM and SIGHUP must stop the
process and remove the folder through the fixture's teardown, as Ctrl-C does; after SIGKILL the watchdog
must kill the process, and the next harness start removes the folder.
"""
from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import uuid

import pytest

from providers.http import wait_until
from tests.harness.processes import remove_stale_work_dirs

ROOT = pathlib.Path(__file__).resolve().parents[2]
INNER_TEST = '''
import pathlib
import shutil
import signal

import pytest

from tests.harness.processes import JavaProcess, make_work_dir


@pytest.fixture(scope="session")
def service():
    folder = make_work_dir({prefix!r})
    # like the Kafka JVMs: no standard input to notice the parent's death by, only the watchdog
    process = JavaProcess("stand-in service", ["tail", "-f", "/dev/null"], folder / "service.log")
    process.start()
    try:
        yield process, folder
    finally:
        process.stop()
        shutil.rmtree(folder)


def test_runs_until_signalled(service):
    process, folder = service
    partial = pathlib.Path({report!r} + ".partial")
    partial.write_text(f"{{process.pid}} {{folder}}")
    partial.rename({report!r})  # the outer test never reads half a report
    signal.pause()  # until the outer test signals this pytest
'''


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def start_session(tmp_path: pathlib.Path) -> tuple[subprocess.Popen, int, pathlib.Path, str]:
    """A pytest subprocess whose session fixture runs a stand-in service; returns it, the service pid, its
    folder and the folder prefix once the test body runs."""
    prefix, report = f"harness-shutdown-{uuid.uuid4().hex[:8]}-", tmp_path / "report.txt"
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(INNER_TEST.format(prefix=prefix, report=str(report)))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider", "-p", "tests.harness.fixtures",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: report.exists() or session.poll() is not None, timeout=60,
                   description="the inner pytest session to start its stand-in service")
    except BaseException:
        session.kill()
        raise
    if session.poll() is not None:
        pytest.fail(f"the inner pytest session ended early:\n{session.communicate()[0]}")
    pid, folder = report.read_text().split(" ", 1)
    return session, int(pid), pathlib.Path(folder), prefix


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_termination_signal_stops_the_services_and_removes_their_folders(tmp_path, sig):
    session, pid, folder, _ = start_session(tmp_path)
    assert alive(pid) and folder.is_dir()
    session.send_signal(sig)
    output = session.communicate(timeout=60)[0]
    assert not alive(pid), output
    assert not folder.exists(), output
    assert "KeyboardInterrupt" in output and f"received {sig.name}" in output


def test_sigkilled_session_leaves_no_process_and_its_folder_is_removed_by_the_next_start(tmp_path):
    session, pid, folder, prefix = start_session(tmp_path)
    session.kill()
    session.communicate(timeout=60)
    wait_until(lambda: not alive(pid), timeout=30,
               description=f"the parent-death watchdog to kill the stand-in service (pid {pid})")
    assert folder.is_dir()  # nobody could clean up
    assert remove_stale_work_dirs(prefix) == [folder]
    assert not folder.exists()


def test_folders_of_running_sessions_are_kept(tmp_path):
    session, pid, folder, prefix = start_session(tmp_path)
    try:
        assert remove_stale_work_dirs(prefix) == [] and folder.is_dir()
    finally:
        session.send_signal(signal.SIGTERM)
        session.communicate(timeout=60)
    assert not folder.exists() and not alive(pid)
