"""An earlier release of the project, materialised from git at test time into a folder of its own."""
from __future__ import annotations

import io
import pathlib
import subprocess
import tarfile

from tests.engine.workspace import ROOT, EngineStack

FIRST_RELEASE = "63c4354"  # the first release's program: one KsqlStatements resource for all of ksql/
QUERY_ID_VERSIONS = "b448076"  # the release whose index versions were digests of the tables' query ids


def checkout(commit: str, folder: pathlib.Path) -> pathlib.Path:
    """The tree of ``commit`` (``git archive``) unpacked into ``folder``."""
    done = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit],
                          capture_output=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"cannot read commit {commit} from {ROOT} (a shallow clone lacks it: fetch the full "
                           f"history): {done.stderr.decode(errors='replace').strip()}")
    archive = done.stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tree:
        tree.extractall(folder, filter="data") if hasattr(tarfile, "data_filter") else tree.extractall(folder)
    return folder


def deploy(stack: EngineStack, root: pathlib.Path) -> None:
    """``pulumi up`` of the release at ``root`` on ``stack``; fails the test with the engine's output if it fails."""
    done = stack.run_release(root)
    assert done.returncode == 0, f"the release's up failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
