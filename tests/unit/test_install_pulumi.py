"""Unit tier: the project-local Pulumi CLI installer (tools/install_pulumi.py) against a local HTTP server
serving a small release (a ``pulumi/`` archive and its checksum file): a good checksum installs and a
re-run makes no request; a bad checksum, an unreachable or silent server or an unsafe archive install
nothing and keep what was there. The other two routes with stand-in executables: a pinned ``pulumi`` on
PATH is linked (no request), and without the archive a ``go`` builds it with the pinned recipe. Every
route writes the dynamic-provider plugin. Also the ``vm.max_map_count`` check (tools/check_max_map_count.py)."""
from __future__ import annotations

import functools
import hashlib
import io
import os
import pathlib
import re
import shlex
import socket
import subprocess
import tarfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from tools import check_max_map_count, install_pulumi

VERSION = "9.9.9"
ROOT = pathlib.Path(__file__).resolve().parents[2]
ARCHIVE = "pulumi-v9.9.9-linux-x64.tar.gz"


def archive(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


GOOD = archive({"pulumi/pulumi": "#!/bin/sh\necho v9.9.9\n", "pulumi/pulumi-language-python": "#!/bin/sh\n"})


class Release:
    """A folder served over HTTP on 127.0.0.1; ``requests`` lists the paths asked for."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.requests: list[str] = []
        release = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                release.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def publish(self, data: bytes, checksum: str | None = None) -> None:
        (self.folder / ARCHIVE).write_bytes(data)
        digest = checksum or hashlib.sha256(data).hexdigest()
        (self.folder / f"pulumi-{VERSION}-checksums.txt").write_text(
            f"{'0' * 64}  pulumi-v{VERSION}-darwin-arm64.tar.gz\n{digest}  {ARCHIVE}\n")


@pytest.fixture
def release(tmp_path) -> Iterator[Release]:
    folder = tmp_path / "release"
    folder.mkdir()
    served = Release(folder)
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


NO_GO = "no-such-go-command"


def install(dest: pathlib.Path, base_url: str, go: str = NO_GO, timeout: float = 10) -> pathlib.Path:
    return install_pulumi.install(dest, VERSION, base_url, timeout=timeout, archive=ARCHIVE, go=go,
                                  python=pathlib.Path("/venv/bin/python"))


def executable(path: pathlib.Path, script: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


@pytest.fixture
def only_on_path(tmp_path, monkeypatch) -> pathlib.Path:
    """PATH is one empty folder (plus the shell's own): no pulumi, no go unless a test puts one there."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return folder


def test_good_checksum_installs_into_the_project_folder_and_a_rerun_downloads_nothing(release, tmp_path):
    release.publish(GOOD)
    dest = tmp_path / ".tools" / "pulumi"
    path = install(dest, release.url)
    assert path == dest / "pulumi"
    assert subprocess.run([str(path)], capture_output=True, text=True, check=True).stdout == "v9.9.9\n"
    assert (dest / "pulumi-language-python").is_file() and install_pulumi.installed_version(dest) == VERSION
    assert sorted(p.name for p in dest.parent.iterdir()) == ["pulumi"], "staging folders left behind"
    assert release.requests == [f"/pulumi-{VERSION}-checksums.txt", f"/{ARCHIVE}"]
    install(dest, release.url)
    assert len(release.requests) == 2, "an installed pinned version must not be downloaded again"


def test_bad_checksum_installs_nothing_and_keeps_the_previous_cli(release, tmp_path):
    dest = tmp_path / "pulumi"
    dest.mkdir()
    (dest / "pulumi").write_text("previous\n")
    (dest / install_pulumi.DYNAMIC_PLUGIN).write_text("previous\n")
    (dest / install_pulumi.MARKER).write_text("9.9.8\n")
    release.publish(GOOD, checksum="ab" * 32)
    with pytest.raises(install_pulumi.InstallError, match=f"checksum mismatch for {release.url}/{ARCHIVE}: "
                                                          f"expected sha256 {'ab' * 32}.*nothing was installed"):
        install(dest, release.url, go="go")  # a tampered download is not a reason to build instead
    assert (dest / "pulumi").read_text() == "previous\n" and install_pulumi.installed_version(dest) == "9.9.8"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pulumi", "release"]


def test_unreachable_release_without_go_says_which_url_and_how_to_get_the_cli(tmp_path, only_on_path):
    dest = tmp_path / "pulumi"
    unreachable = (rf"cannot reach http://127\.0\.0\.1:9/pulumi-{VERSION}-checksums\.txt: .*check the network"
                   rf".*\. No Go toolchain \('{NO_GO}'\) to build it instead: install Go.*CLI {VERSION} on PATH")
    with pytest.raises(install_pulumi.InstallError, match=unreachable):
        install(dest, "http://127.0.0.1:9")
    assert not dest.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def test_a_host_that_never_answers_fails_within_the_stall_timeout(tmp_path, only_on_path):
    with socket.socket() as silent:  # accepts connections (backlog) and never sends a byte
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        with pytest.raises(install_pulumi.InstallError, match="cannot reach .*timed out"):
            install(tmp_path / "pulumi", f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        assert time.monotonic() - started < 5
    assert install_pulumi.STALL_TIMEOUT <= 15, "an unreachable release host must not hold `make test` for long"


def test_a_pinned_cli_on_path_is_linked_and_nothing_is_downloaded(release, tmp_path, only_on_path):
    on_path = executable(only_on_path / "pulumi", f"echo v{VERSION}\n")
    dest = tmp_path / ".tools" / "pulumi"
    assert install(dest, release.url) == dest / "pulumi"
    assert (dest / "pulumi").resolve() == on_path.resolve() and release.requests == []
    assert install_pulumi.installed_version(dest) == VERSION
    executable(only_on_path / "pulumi", "echo v9.9.8\n")  # another version on PATH is not taken
    assert install_pulumi.pinned_on_path(VERSION, dest) is None


GO = """echo "$PWD $*" >> "$(dirname "$0")/go.log"
case "$1" in
  build) out="$3"; printf '#!/bin/sh\\necho v9.9.9\\n' > "$out"; chmod +x "$out";;
  get) [ -n "$FAIL_GET" ] && { echo "go: module lookup disabled" >&2; exit 1; };;
esac
exit 0
"""


def test_without_the_archive_go_builds_the_pinned_cli_with_the_version_stamped_in(tmp_path, only_on_path):
    go = executable(only_on_path / "go", GO)
    dest = tmp_path / ".tools" / "pulumi"
    said: list[str] = []
    path = install_pulumi.install(dest, VERSION, "http://127.0.0.1:9", timeout=10, archive=ARCHIVE, go="go",
                                  python=pathlib.Path("/venv/bin/python"), log=said.append)
    assert subprocess.run([str(path), "version"], capture_output=True, text=True).stdout == "v9.9.9\n"
    assert any("first build on this machine takes minutes" in line for line in said), said
    calls = [line.split(" ", 1) for line in (go.parent / "go.log").read_text().splitlines()]
    assert len({folder for folder, _ in calls}) == 1, "every step runs in one scratch module"
    assert [args for _, args in calls[:3]] == [
        "mod init pulumi-cli-build",
        f"mod edit -replace={install_pulumi.GO_REPLACES[0]}",
        f"get github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v{VERSION} github.com/pulumi/pulumi/sdk/v3@v{VERSION}"]
    assert re.fullmatch(rf"build -o {dest.parent}/\.pulumi-\w+/pulumi/pulumi -ldflags -X github\.com/pulumi/"
                        rf"pulumi/sdk/v3/go/common/version\.Version=v{VERSION} github\.com/pulumi/pulumi/pkg/v3/"
                        "cmd/pulumi", calls[3][1]), "built into the staging folder, version stamped in"
    assert not pathlib.Path(calls[0][0]).exists(), "the scratch module is removed"
    assert install_pulumi.installed_version(dest) == VERSION
    assert install_pulumi.install(dest, VERSION, "http://127.0.0.1:9", go="go") == path
    assert len((go.parent / "go.log").read_text().splitlines()) == 4, "an installed CLI is not built again"


def test_a_failed_go_build_names_the_step_and_keeps_the_previous_cli(tmp_path, only_on_path, monkeypatch):
    executable(only_on_path / "go", GO)
    monkeypatch.setenv("FAIL_GET", "1")
    dest = tmp_path / "pulumi"
    dest.mkdir()
    (dest / "pulumi").write_text("previous\n")
    with pytest.raises(install_pulumi.InstallError, match=r"building the Pulumi CLI with Go failed at `.*go get "
                                                          r"github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v9\.9\.9 .*"
                                                          r"\(exit 1\):\ngo: module lookup disabled"):
        install(dest, "http://127.0.0.1:9", go="go")
    assert (dest / "pulumi").read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "pulumi"]


def test_the_dynamic_provider_plugin_runs_pulumi_dynamic_with_the_given_python(release, tmp_path):
    release.publish(GOOD)
    python = executable(tmp_path / "venv" / "python", 'echo "PYTHONSAFEPATH=$PYTHONSAFEPATH $*"\n')
    dest = tmp_path / "cli"
    install_pulumi.install(dest, VERSION, release.url, archive=ARCHIVE, go=NO_GO, python=python)
    plugin = dest / install_pulumi.DYNAMIC_PLUGIN
    ran = subprocess.run([str(plugin), "127.0.0.1:5000"], capture_output=True, text=True, check=True)
    assert ran.stdout == "PYTHONSAFEPATH=1 -u -m pulumi.dynamic 127.0.0.1:5000\n"


@pytest.mark.parametrize("goal, stack, rerun", [
    ("preview", "dev", "make preview"), ("status", "dev", "make status"), ("destroy", "dev", "make destroy"),
    ("up", "staging", "make up STACK=staging"), ("status", "staging", "make status STACK=staging"),
])
def test_offline_failures_name_the_make_target_that_was_run(tmp_path, capsys, only_on_path, goal, stack, rerun):
    made = subprocess.run(["make", "-n", goal, f"STACK={stack}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    (line,) = [line for line in made.splitlines() if "tools/install_pulumi.py" in line]
    passed = shlex.split(line)[shlex.split(line).index("--rerun") + 1]
    assert passed == rerun
    dest = tmp_path / "pulumi"
    assert install_pulumi.main(["--dest", str(dest), "--base-url", "http://127.0.0.1:9", "--rerun", passed]) == 1
    said = capsys.readouterr().err
    assert f"Then re-run `{rerun}`." in said and ("make up" not in said or goal == "up")


def test_missing_checksum_line_or_unsafe_archive_is_refused(release, tmp_path):
    dest = tmp_path / "pulumi"
    (release.folder / f"pulumi-{VERSION}-checksums.txt").write_text(f"{'0' * 64}  other.tar.gz\n")
    with pytest.raises(install_pulumi.InstallError, match=f"lists no checksum for {ARCHIVE}"):
        install(dest, release.url)
    release.publish(archive({"pulumi/pulumi": "x", "../escape": "x"}))
    with pytest.raises(install_pulumi.InstallError, match="refusing to unpack '../escape'"):
        install(dest, release.url)
    assert not dest.exists() and not (tmp_path / "escape").exists()


def test_command_line_exit_codes(release, tmp_path, capsys, monkeypatch, only_on_path):
    monkeypatch.setattr(install_pulumi, "archive_name", lambda version: ARCHIVE)
    release.publish(GOOD)
    dest = tmp_path / "cli"
    assert install_pulumi.main(["--dest", str(dest), "--version", VERSION, "--base-url", release.url]) == 0
    assert "Installed the Pulumi CLI 9.9.9" in capsys.readouterr().out
    assert install_pulumi.main(["--dest", str(dest), "--version", VERSION, "--base-url", release.url]) == 0
    assert capsys.readouterr().out == ""
    assert install_pulumi.main(["--dest", str(tmp_path / "x"), "--version", VERSION,
                                "--base-url", "http://127.0.0.1:9"]) == 1
    assert "install_pulumi: cannot reach" in capsys.readouterr().err


@pytest.mark.parametrize("system, machine, name", [
    ("Linux", "x86_64", "pulumi-v3.274.1-linux-x64.tar.gz"),
    ("Linux", "aarch64", "pulumi-v3.274.1-linux-arm64.tar.gz"),
    ("Darwin", "arm64", "pulumi-v3.274.1-darwin-arm64.tar.gz"),
    ("Darwin", "x86_64", "pulumi-v3.274.1-darwin-x64.tar.gz"),
])
def test_archive_names_follow_the_release(system, machine, name):
    assert install_pulumi.archive_name("3.274.1", system, machine) == name


def test_unsupported_platform_says_what_to_do():
    with pytest.raises(install_pulumi.InstallError, match="Windows/AMD64.*pulumi.com/docs/install"):
        install_pulumi.archive_name("3.274.1", "Windows", "AMD64")


@pytest.mark.parametrize("value, system, expected", [
    ("65530\n", "Linux", "vm.max_map_count is 65530, Elasticsearch needs at least 262144"),
    ("262144\n", "Linux", None),
    ("65530\n", "Darwin", None),
])
def test_max_map_count_check(tmp_path, value, system, expected):
    setting = tmp_path / "max_map_count"
    setting.write_text(value)
    found = check_max_map_count.problem(setting, system)
    if expected is None:
        assert found is None
    else:
        assert found.startswith(expected) and "sudo sysctl -w vm.max_map_count=262144" in found
