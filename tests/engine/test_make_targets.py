"""``make preview``, ``make up``, ``make status`` and ``make destroy`` of an external stack, end to end, as a
user runs them: ``make`` itself in a copy of the project (its venv and its CLI, the one the installer gave,
linked in), with the Makefile's own local backend and passphrase file, against in-process services that
already run: the fakes of Connect, ksqlDB, Elasticsearch and Grafana of ``tests/status_chain.py``, with data
"flowing" (ksqlDB traffic on the source topics, documents in every index), so ``make up``'s readiness
gate and ``make status`` see every link OK.

One test of ordered steps: the first ``make preview`` creates the stack and stops at configuration naming
the missing secret; with the config set, preview, up (deploys, then waits for data), status (exit 0) and
destroy (nothing left on the services) all succeed. And a fresh copy's ``make preview`` of ``dev`` gets
past configuration (``make`` generates the Grafana password; no alert webhook is needed) to the Docker
provider plugin, which this machine cannot have.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess
from typing import Iterator

import pytest

from clickstream.operations import declared_links
from tests.app_layer import CONTENT_PLUGINS, GRAFANA_PASSWORD, FakeServices
from tests.engine.workspace import ROOT
from tests.fakes.connect import FakeConnect
from tests.fakes.ksqldb import FakeKsqlDb
from tests.status_chain import FlowingElasticsearch, HealthCheckingGrafana, make_data_flow

PROJECT_FILES = ("Makefile", "Pulumi.yaml", "Pulumi.external.yaml", "__main__.py", "pyproject.toml")
PROJECT_DIRS = ("stackconfig", "components", "providers", "clickstream", "ksql", "dashboards", "tools")


@contextlib.contextmanager
def running_services() -> Iterator[FakeServices]:
    with FakeConnect(extra_plugins=CONTENT_PLUGINS) as connect, FakeKsqlDb() as ksqldb, \
            FlowingElasticsearch() as es, HealthCheckingGrafana(username="admin", password=GRAFANA_PASSWORD) as grafana:
        yield FakeServices(connect, ksqldb, es, grafana)


def project_copy(folder: pathlib.Path) -> pathlib.Path:
    """The project's files in ``folder``, with its installed venv and CLI linked in (make finds both in place:
    the venv counts as installed for this pyproject.toml, the CLI as the pinned version)."""
    folder.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, folder / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    for name in (".venv", ".tools"):
        (folder / name).symlink_to((ROOT / name).resolve(), target_is_directory=True)
    installed = (folder / ".venv" / ".installed").stat().st_mtime
    os.utime(folder / "pyproject.toml", (installed - 1, installed - 1))
    return folder


@pytest.fixture
def project(pulumi_cli, tmp_path) -> pathlib.Path:
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("the project's venv is not installed: run `make venv`")
    return project_copy(tmp_path / "project")


def user_environment(tmp_path: pathlib.Path) -> dict[str, str]:
    """This process's environment without the engine's and make's settings (the Makefile sets its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MAKE"))}
    env.update(PULUMI_HOME=str(tmp_path / "pulumi-home"), PYTHONPATH="")
    return env


def test_make_preview_of_a_fresh_dev_stack_gets_past_configuration(project, tmp_path):
    preview = subprocess.run(["make", "preview"], cwd=project, env=user_environment(tmp_path), capture_output=True,
                             text=True, timeout=900)
    said = preview.stdout + preview.stderr
    assert "Generated a Grafana admin password for dev" in said, said
    assert "configuration value" not in said and "invalid config" not in said, said
    if preview.returncode != 0:
        assert "resource plugin 'pulumi-resource-docker'" in said, said  # not found, or not downloadable


def test_make_preview_up_status_destroy_of_an_external_stack(project, tmp_path):
    env = user_environment(tmp_path)

    def make(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", *args, "STACK=external"], cwd=project, env=env, capture_output=True,
                              text=True, timeout=900)

    def pulumi(*args: str) -> None:
        done = subprocess.run([str(project / ".tools" / "pulumi" / "pulumi"), *args, "--stack", "external"],
                              cwd=project, capture_output=True, text=True, timeout=300, env={
                                  **env, "PULUMI_BACKEND_URL": f"file://{project / '.pulumi-state'}",
                                  "PULUMI_CONFIG_PASSPHRASE_FILE": str(project / ".pulumi-state" / "passphrase")})
        assert done.returncode == 0, done.stderr

    first = make("preview")
    assert first.returncode != 0
    assert "clickstream:grafanaAdminPassword is not set" in first.stdout + first.stderr, first.stdout + first.stderr

    with running_services() as services:
        make_data_flow(services, declared_links.declared_chain())
        for key, service in (("connectUrl", "connect"), ("ksqldbUrl", "ksqldb"), ("elasticsearchUrl", "elasticsearch"),
                             ("grafanaUrl", "grafana")):
            pulumi("config", "set", key, services.url(service))
        pulumi("config", "set", "--secret", "grafanaAdminPassword", GRAFANA_PASSWORD)

        preview = make("preview")
        assert preview.returncode == 0, preview.stdout + preview.stderr
        assert "clickstream:external:Connect" in preview.stdout and services.connect.mutating_calls == []

        up = make("up", "WAIT_FOR_DATA=300")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Data flows from the generator to the dashboards" in up.stdout, up.stdout
        assert f"Grafana: {services.grafana.url}" in up.stdout
        assert len(services.connect.connectors) == 3 + len(declared_links.declared_chain().indexes)

        checked = make("status")
        assert checked.returncode == 0, checked.stdout + checked.stderr

        destroyed = make("destroy")
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
        assert services.connect.connectors == {} and services.ksqldb.user_sources == {}
        assert services.grafana.dashboards == {} and services.grafana.datasources == {}
    assert GRAFANA_PASSWORD not in (project / "Pulumi.external.yaml").read_text()
