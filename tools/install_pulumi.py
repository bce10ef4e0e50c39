"""Install the pinned Pulumi CLI into the project (``.tools/pulumi``), touching nothing outside it.

``python tools/install_pulumi.py [--dest DIR] [--base-url URL] [--python PY] [--rerun COMMAND]`` takes
the first route that works (a failure names it and says to run ``COMMAND`` again):

1. a ``pulumi`` of the pinned version already on PATH: linked into the destination, nothing downloaded;
2. Pulumi's official release archive for this OS and CPU (``pulumi-v<version>-<linux|darwin>-<x64|arm64>.tar.gz``,
   a ``pulumi/`` folder with the CLI and its language hosts), its SHA-256 checked against the release's
   checksum file (``pulumi-<version>-checksums.txt``, lines of ``<sha256>  <file>`` as Pulumi's GoReleaser
   publishes them). Every socket operation has a short timeout (``STALL_TIMEOUT``), so an unreachable host
   fails within seconds while a slow but moving download goes on;
3. where Go is installed: the CLI built from the Go module proxy (``github.com/pulumi/pulumi/pkg/v3`` at
   the pinned tag, command ``cmd/pulumi``, the version stamped in with ``-ldflags``). The first build on a
   machine takes minutes (about 16 on 2 cores); later builds reuse Go's module and build caches.

Every route also writes ``pulumi-resource-pulumi-python`` (the provider plugin of Python dynamic resources:
``python -u -m pulumi.dynamic``, with the project's virtualenv Python) beside the CLI; without it the engine
tries to download that plugin. Each route fills a temporary folder beside the destination and only then
swaps it in, so a failure leaves the previous installation as it was. Re-running with the pinned version
installed makes no request and builds nothing. Standard library only: it runs before the virtualenv exists.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from typing import Callable

VERSION = "3.274.1"
BASE_URL = "https://github.com/pulumi/pulumi/releases/download/v{version}"
ROOT = pathlib.Path(__file__).resolve().parent.parent
DEST = ROOT / ".tools" / "pulumi"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
MARKER = ".version"
STALL_TIMEOUT = 10.0  # seconds for a connection, and for each read of a download
OS_NAMES = {"Linux": "linux", "Darwin": "darwin"}
CPU_NAMES = {"x86_64": "x64", "amd64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}
DYNAMIC_PLUGIN = "pulumi-resource-pulumi-python"
GO_MODULE = "github.com/pulumi/pulumi/pkg/v3"
GO_COMMAND = f"{GO_MODULE}/cmd/pulumi"
GO_SDK = "github.com/pulumi/pulumi/sdk/v3"
# pkg/v3's go.mod replaces atotto/clipboard with this fork; a build outside that module must say so itself
GO_REPLACES = ("github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e",)


class InstallError(Exception):
    """The CLI could not be installed; the message says why and what to do."""


class Unreachable(InstallError):
    """A release file could not be downloaded (the only failure after which Go builds the CLI instead)."""


def archive_name(version: str, system: str | None = None, machine: str | None = None) -> str:
    system, machine = system or platform.system(), machine or platform.machine()
    if system not in OS_NAMES or machine not in CPU_NAMES:
        raise InstallError(f"Pulumi publishes no archive for {system}/{machine} that this installer handles: "
                           "install the Pulumi CLI yourself (https://www.pulumi.com/docs/install/) and put it on PATH")
    return f"pulumi-v{version}-{OS_NAMES[system]}-{CPU_NAMES[machine]}.tar.gz"


def installed_version(dest: pathlib.Path) -> str | None:
    marker = dest / MARKER
    if (dest / "pulumi").is_file() and (dest / DYNAMIC_PLUGIN).is_file() and marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    return None


def cli_version(executable: str | os.PathLike[str]) -> str | None:
    """What ``<executable> version`` prints, without the leading ``v`` (None when it does not run)."""
    try:
        done = subprocess.run([str(executable), "version"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().removeprefix("v") if done.returncode == 0 else None


def pinned_on_path(version: str, dest: pathlib.Path) -> pathlib.Path | None:
    """A ``pulumi`` of ``version`` on PATH outside ``dest``."""
    search = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                             if p and pathlib.Path(p).resolve() != dest.resolve())
    found = shutil.which("pulumi", path=search)
    return pathlib.Path(found).resolve() if found and cli_version(found) == version else None


def download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"downloading {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"cannot reach {url}: {reason}; check the network (or a proxy: HTTPS_PROXY)") from None


def expected_sha256(checksums: str, archive: str, url: str) -> str:
    for line in checksums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == archive:
            return parts[0].lower()
    raise InstallError(f"{url} lists no checksum for {archive}")


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = archive.getmembers()
    for member in members:
        path = pathlib.PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or path.parts[:1] != ("pulumi",) \
                or not (member.isfile() or member.isdir()):
            raise InstallError(f"refusing to unpack {member.name!r}: not a plain file under pulumi/")
    return members


def from_archive(folder: pathlib.Path, version: str, base_url: str | None, timeout: float,
                 archive: str | None) -> None:
    """The release archive's ``pulumi/`` folder unpacked into ``folder``, after its checksum matched."""
    base = (base_url or BASE_URL).format(version=version).rstrip("/")
    archive = archive or archive_name(version)
    checksums_url = f"{base}/pulumi-{version}-checksums.txt"
    want = expected_sha256(download(checksums_url, timeout).decode("utf-8", "replace"), archive, checksums_url)
    data = download(f"{base}/{archive}", timeout)
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise InstallError(f"checksum mismatch for {base}/{archive}: expected sha256 {want} ({checksums_url}), "
                           f"got {got}; nothing was installed. If it persists when you run it again, the download "
                           "is being altered on its way (proxy?)")
    with tempfile.TemporaryDirectory(dir=folder.parent) as unpack:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as unpacked:
            if hasattr(tarfile, "data_filter"):  # Python's own guard, where present
                unpacked.extractall(unpack, members=_safe_members(unpacked), filter="data")
            else:
                unpacked.extractall(unpack, members=_safe_members(unpacked))
        if not (pathlib.Path(unpack) / "pulumi" / "pulumi").is_file():
            raise InstallError(f"{archive} has no pulumi/pulumi executable")
        folder.rmdir()
        (pathlib.Path(unpack) / "pulumi").rename(folder)


def go_build(folder: pathlib.Path, version: str, go: str, log: Callable[[str], None] = print) -> None:
    """``pulumi`` built with ``go`` from the Go module proxy into ``folder``."""
    log(f"Building the Pulumi CLI {version} from the Go module proxy: the first build on this machine takes "
        "minutes (about 16 on 2 cores, 2.3 GB of memory); later builds reuse Go's caches (seconds)")
    with tempfile.TemporaryDirectory(prefix="pulumi-cli-build-") as module:
        steps = [[go, "mod", "init", "pulumi-cli-build"],
                 *([go, "mod", "edit", f"-replace={replace}"] for replace in GO_REPLACES),
                 [go, "get", f"{GO_COMMAND}@v{version}", f"{GO_SDK}@v{version}"],
                 [go, "build", "-o", str(folder / "pulumi"),
                  "-ldflags", f"-X {GO_SDK}/go/common/version.Version=v{version}", GO_COMMAND]]
        for step in steps:
            done = subprocess.run(step, cwd=module, capture_output=True, text=True)
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
                raise InstallError(f"building the Pulumi CLI with Go failed at `{' '.join(step)}` "
                                   f"(exit {done.returncode}):\n{tail}")
    if cli_version(folder / "pulumi") != version:
        raise InstallError(f"the Pulumi CLI built with Go does not report version {version}")


def write_dynamic_plugin(folder: pathlib.Path, python: pathlib.Path) -> None:
    """The provider plugin of Python dynamic resources, run by the project's Python. The engine may start it
    in any folder: ``PYTHONSAFEPATH`` (Python 3.11+) keeps that folder off ``sys.path``, so the providers a
    program serialized are loaded from ``PYTHONPATH`` and the virtualenv, never from a stray folder."""
    plugin = folder / DYNAMIC_PLUGIN
    plugin.write_text(f'#!/bin/sh\nPYTHONSAFEPATH=1 exec "{python}" -u -m pulumi.dynamic "$@"\n', encoding="utf-8")
    plugin.chmod(0o755)


def install(dest: pathlib.Path = DEST, version: str = VERSION, base_url: str | None = None,
            timeout: float = STALL_TIMEOUT, archive: str | None = None, python: pathlib.Path = VENV_PYTHON,
            go: str = "go", log: Callable[[str], None] = print) -> pathlib.Path:
    """The path of the installed ``pulumi`` executable; does nothing when ``version`` is installed.
    ``go``: the Go command of the last route (a name looked up on PATH, or a path)."""
    if installed_version(dest) == version:
        return dest / "pulumi"
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".pulumi-", dir=dest.parent))
    try:
        fresh = staging / "pulumi"
        fresh.mkdir()
        if (found := pinned_on_path(version, dest)) is not None:
            (fresh / "pulumi").symlink_to(found)
            log(f"Using the Pulumi CLI {version} on PATH ({found})")
        else:
            try:
                from_archive(fresh, version, base_url, timeout, archive)
                log(f"Installed the Pulumi CLI {version} from the official archive (checksum verified)")
            except Unreachable as unreachable:
                go_path = shutil.which(go)
                if go_path is None:
                    raise InstallError(f"{unreachable}. No Go toolchain ({go!r}) to build it instead: install "
                                       f"Go (https://go.dev/dl/) or put a Pulumi CLI {version} on PATH") from None
                log(f"The official archive is out of reach ({unreachable})")
                go_build(fresh, version, go_path, log)
        write_dynamic_plugin(fresh, python.absolute())
        (fresh / MARKER).write_text(version + "\n", encoding="utf-8")
        if dest.exists():
            dest.rename(staging / "previous")
        fresh.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / "pulumi"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=pathlib.Path, default=DEST, help="install folder (default .tools/pulumi)")
    parser.add_argument("--version", default=VERSION, help=f"Pulumi CLI version (default, pinned: {VERSION})")
    parser.add_argument("--base-url", help="where the release files are (default: the GitHub release)")
    parser.add_argument("--python", type=pathlib.Path, default=VENV_PYTHON,
                        help="the Python that runs dynamic providers (default: the project's .venv)")
    parser.add_argument("--rerun", default="make up", help="the command a failure says to run again "
                                                           "(the Makefile passes the target that was run)")
    args = parser.parse_args(argv)
    try:
        path = install(args.dest, args.version, args.base_url, python=args.python)
    except InstallError as exc:
        print(f"install_pulumi: {exc}\nThen re-run `{args.rerun}`.", file=sys.stderr)
        return 1
    return 0 if path.is_file() else 1


if __name__ == "__main__":
    sys.exit(main())
