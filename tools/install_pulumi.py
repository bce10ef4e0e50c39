"""Install the pinned Pulumi CLI into the project (``.tools/pulumi``), touching nothing outside it.

``python tools/install_pulumi.py [--dest DIR] [--base-url URL] [--rerun COMMAND]``: downloads Pulumi's
official release archive for this OS and CPU (``pulumi-v<version>-<linux|darwin>-<x64|arm64>.tar.gz``, a
``pulumi/`` folder with the CLI and its language hosts) and the release's checksum file
(``pulumi-<version>-checksums.txt``, lines of ``<sha256>  <file>``, as Pulumi's GoReleaser publishes them),
checks the archive's SHA-256 against it, unpacks into a temporary folder beside the destination and only then
swaps it in. A failed or tampered download leaves the previous installation as it was. Re-running with the
pinned version installed makes no request at all. Standard library only: it runs before the project's
virtualenv exists.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import pathlib
import platform
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

VERSION = "3.274.0"
BASE_URL = "https://github.com/pulumi/pulumi/releases/download/v{version}"
ROOT = pathlib.Path(__file__).resolve().parent.parent
DEST = ROOT / ".tools" / "pulumi"
MARKER = ".version"
TIMEOUT = 120.0  # seconds per download
OS_NAMES = {"Linux": "linux", "Darwin": "darwin"}
CPU_NAMES = {"x86_64": "x64", "amd64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}


class InstallError(Exception):
    """The CLI could not be installed; the message says why and what to do."""


def archive_name(version: str, system: str | None = None, machine: str | None = None) -> str:
    system, machine = system or platform.system(), machine or platform.machine()
    if system not in OS_NAMES or machine not in CPU_NAMES:
        raise InstallError(f"Pulumi publishes no archive for {system}/{machine} that this installer handles: "
                           "install the Pulumi CLI yourself (https://www.pulumi.com/docs/install/) and put it on PATH")
    return f"pulumi-v{version}-{OS_NAMES[system]}-{CPU_NAMES[machine]}.tar.gz"


def installed_version(dest: pathlib.Path) -> str | None:
    marker = dest / MARKER
    if (dest / "pulumi").is_file() and marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    return None


def download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise InstallError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InstallError(f"cannot reach {url}: {reason}; check the network (or a proxy: HTTPS_PROXY)") from None


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


def install(dest: pathlib.Path = DEST, version: str = VERSION, base_url: str | None = None,
            timeout: float = TIMEOUT, archive: str | None = None) -> pathlib.Path:
    """The path of the installed ``pulumi`` executable; downloads only when ``version`` is not installed."""
    if installed_version(dest) == version:
        return dest / "pulumi"
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
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".pulumi-", dir=dest.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as unpacked:
            if hasattr(tarfile, "data_filter"):  # Python's own guard, where present
                unpacked.extractall(staging, members=_safe_members(unpacked), filter="data")
            else:
                unpacked.extractall(staging, members=_safe_members(unpacked))
        fresh = staging / "pulumi"
        if not (fresh / "pulumi").is_file():
            raise InstallError(f"{archive} has no pulumi/pulumi executable")
        (fresh / MARKER).write_text(version + "\n", encoding="utf-8")
        old = staging / "previous"
        if dest.exists():
            dest.rename(old)
        fresh.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / "pulumi"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=pathlib.Path, default=DEST, help="install folder (default .tools/pulumi)")
    parser.add_argument("--version", default=VERSION, help=f"Pulumi CLI version (default, pinned: {VERSION})")
    parser.add_argument("--base-url", help="where the release files are (default: the GitHub release)")
    parser.add_argument("--rerun", default="make up", help="the command a failure says to run again "
                                                           "(the Makefile passes the target that was run)")
    args = parser.parse_args(argv)
    already = installed_version(args.dest) == args.version
    try:
        path = install(args.dest, args.version, args.base_url)
    except InstallError as exc:
        print(f"install_pulumi: {exc}\nThen re-run `{args.rerun}`.", file=sys.stderr)
        return 1
    if not already:
        print(f"Installed the Pulumi CLI {args.version} at {path} (checksum verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
