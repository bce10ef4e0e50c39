"""The dev stack's WHOLE application layer (every dynamic resource the real ``__main__.py`` declares)
applied, re-applied, refreshed and destroyed against the FAKES of Kafka Connect, ksqlDB, Elasticsearch and
Grafana, driven the way the engine drives it (tests/provider/pulumi_engine.Deployment)."""
from __future__ import annotations

import functools

import pytest

from clickstream import connectors
from tests.app_layer import app_layer, fake_services, pointed_at
from tests.provider.pulumi_engine import Deployment, Registered

pytestmark = pytest.mark.fake


@functools.lru_cache(maxsize=1)
def declared() -> tuple[Registered, ...]:
    return tuple(app_layer("dev"))


def total_calls(fakes) -> int:
    return (len(fakes.connect.calls) + len(fakes.ksqldb.calls) + len(fakes.elasticsearch.calls)
            + len(fakes.grafana.calls))


def test_fake_whole_app_layer_applies_converges_with_zero_calls_and_destroys_cleanly():
    with fake_services() as fakes:
        resources = pointed_at(list(declared()), fakes)
        stack = Deployment()
        assert set(stack.up(resources).values()) == {"create"}

        derived = {t.lower() for t in connectors.DERIVED_TABLES}
        assert len(fakes.connect.connectors) == 3 + len(derived)
        assert {name for name, c in fakes.connect.connectors.items()
                if c.config["connector.class"] == connectors.ELASTICSEARCH_SINK_CLASS} == \
            {f"es-sink-{t.replace('_', '-')}" for t in derived}
        sources = {"CLICKSTREAM", "WEB_USERS", "CLICKSTREAM_CODES", *connectors.DERIVED_TABLES}
        assert sources <= set(fakes.ksqldb.user_sources)
        assert "clickstream" in fakes.elasticsearch.templates
        assert {ds["jsonData"]["index"] for ds in fakes.grafana.datasources.values()} == derived
        assert set(fakes.grafana.dashboards) == {"clickstream-analysis", "clickstream-high-bandwidth"}

        before = total_calls(fakes)
        assert set(stack.up(resources).values()) == {"same"}
        assert total_calls(fakes) == before, "a no-op apply must not call any service"

        assert "gone" not in stack.refresh().values(), "refresh lost something right after apply"
        assert set(stack.up(resources).values()) == {"same"}, "refresh shows drift right after a clean apply"

        stack.destroy()
        assert fakes.connect.connectors == {}
        assert set(fakes.ksqldb.user_sources) == set() and fakes.ksqldb.queries == {}
        assert fakes.ksqldb.calls_to("POST", "/ksql/terminate") == []
        assert "clickstream" not in fakes.elasticsearch.templates
        assert fakes.grafana.datasources == {} and fakes.grafana.dashboards == {} and fakes.grafana.folders == {}
