"""Fixtures of the engine tier: the pinned CLI, the services the application layer is deployed to, and
an editable copy of ``ksql/``.

``pipeline`` (module scope; ``fresh_pipeline``: one test's own): new fakes of Kafka Connect (with the
datagen and Elasticsearch sink plugins), ksqlDB and Grafana, the session's real Elasticsearch node (its
``clickstream`` template removed first) and real Kafka broker. Two :class:`~tests.engine.proxy.CountingProxy`
stand in front of each HTTP service (two URLs for one service: a URL change), so every request the
engine's providers send is counted, for real services and fakes alike. ``ksql_dir`` (module scope;
``fresh_ksql_dir``: one test's own): a copy of ``ksql/`` the program reads instead.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
from typing import Iterator

import pytest
import requests

from clickstream.content import connectors
from clickstream.stack import analytics
from tests.app_layer import CONTENT_PLUGINS
from tests.engine.proxy import CountingProxy
from tests.engine.workspace import GRAFANA_PASSWORD, EngineStack, cli_missing
from tests.fakes.connect import FakeConnect
from tests.fakes.grafana import FakeGrafana
from tests.fakes.ksqldb import FakeKsqlDb

HTTP_SERVICES = ("connect", "ksqldb", "elasticsearch", "grafana")


@pytest.fixture(scope="session")
def pulumi_cli() -> None:
    if (missing := cli_missing()) is not None:
        if os.environ.get("REQUIRE_REAL_SERVICES"):
            pytest.fail(f"REQUIRE_REAL_SERVICES is set, but {missing}", pytrace=False)
        pytest.skip(missing)


@dataclasses.dataclass
class Pipeline:
    connect: FakeConnect
    ksqldb: FakeKsqlDb
    grafana: FakeGrafana
    elasticsearch_url: str  # the real node, directly
    proxies: dict[str, tuple[CountingProxy, CountingProxy]]
    kafka_bootstrap: str

    def endpoints(self, which: int = 0) -> dict[str, str]:
        """Service -> URL, through the first (0) or second (1) proxy of each service."""
        return {"kafka": self.kafka_bootstrap, **{name: pair[which].url for name, pair in self.proxies.items()}}

    def requests(self) -> dict[str, int]:
        """Requests each service received through its proxies since the last ``reset_calls``."""
        return {name: sum(len(proxy.calls) for proxy in pair) for name, pair in self.proxies.items()}

    def writes(self) -> dict[str, list[tuple[str, str]]]:
        found = {name: [call for proxy in pair for call in proxy.writes()] for name, pair in self.proxies.items()}
        return {name: calls for name, calls in found.items() if calls}

    def template_exists(self) -> bool:
        answer = requests.get(f"{self.elasticsearch_url}/_index_template/{connectors.INDEX_TEMPLATE_NAME}",
                              timeout=30)
        return answer.status_code == 200

    def reset_calls(self) -> None:
        for pair in self.proxies.values():
            for proxy in pair:
                proxy.reset_calls()
        for fake in (self.connect, self.ksqldb, self.grafana):
            fake.reset_calls()


@contextlib.contextmanager
def running_pipeline(kafka_connect, elasticsearch_node) -> Iterator[Pipeline]:
    requests.delete(f"{elasticsearch_node.url}/_index_template/{connectors.INDEX_TEMPLATE_NAME}", timeout=30)
    with contextlib.ExitStack() as running:
        connect = running.enter_context(FakeConnect(extra_plugins=CONTENT_PLUGINS))
        ksqldb = running.enter_context(FakeKsqlDb())
        grafana = running.enter_context(FakeGrafana(username="admin", password=GRAFANA_PASSWORD))
        targets = {"connect": connect.url, "ksqldb": ksqldb.url, "elasticsearch": elasticsearch_node.url,
                   "grafana": grafana.url}
        proxies = {name: (running.enter_context(CountingProxy(targets[name])),
                          running.enter_context(CountingProxy(targets[name]))) for name in HTTP_SERVICES}
        yield Pipeline(connect, ksqldb, grafana, elasticsearch_node.url, proxies, kafka_connect.bootstrap_servers)


@pytest.fixture(scope="module")
def pipeline(pulumi_cli, kafka_connect, elasticsearch_node) -> Iterator[Pipeline]:
    """Shared by the ordered steps of one module."""
    with running_pipeline(kafka_connect, elasticsearch_node) as services:
        yield services


@pytest.fixture
def fresh_pipeline(pulumi_cli, kafka_connect, elasticsearch_node) -> Iterator[Pipeline]:
    """A test's own services (new fakes, the Elasticsearch template removed)."""
    with running_pipeline(kafka_connect, elasticsearch_node) as services:
        yield services


class KsqlDir:
    """A copy of ``ksql/`` that the program reads while the fixture lives."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        shutil.copytree(analytics.KSQL_DIR, folder)

    def edit(self, file: str, old: str, new: str) -> None:
        """Replace the one occurrence of ``old`` in ``file``."""
        path = self.folder / file
        text = path.read_text()
        assert text.count(old) == 1, f"{file}: {old!r} occurs {text.count(old)} times, expected once"
        path.write_text(text.replace(old, new))


@contextlib.contextmanager
def ksql_copy(folder: pathlib.Path) -> Iterator[KsqlDir]:
    copy = KsqlDir(folder / "ksql")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analytics, "KSQL_DIR", copy.folder)
        yield copy


@pytest.fixture(scope="module")
def ksql_dir(tmp_path_factory) -> Iterator[KsqlDir]:
    with ksql_copy(tmp_path_factory.mktemp("ksql")) as copy:
        yield copy


@pytest.fixture
def fresh_ksql_dir(tmp_path) -> Iterator[KsqlDir]:
    with ksql_copy(tmp_path) as copy:
        yield copy


@pytest.fixture(scope="module")
def engine_stack(pipeline, ksql_dir, tmp_path_factory) -> EngineStack:
    return EngineStack(tmp_path_factory.mktemp("engine-stack"), pipeline.endpoints())
