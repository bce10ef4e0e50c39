"""The dev stack's WHOLE application layer (30 dynamic resources from the real ``__main__.py``) applied,
re-applied, refreshed and destroyed through its providers, in dependency order, against the FAKES of
Kafka Connect, ksqlDB, Elasticsearch and Grafana — the way the engine drives them (tests/app_layer.py)."""
from __future__ import annotations

import functools

import pytest

from clickstream import connectors
from tests.app_layer import AppResource, app_layer, fake_services, pointed_at
from tests.provider.pulumi_engine import destroy, refresh, up

pytestmark = pytest.mark.fake


@functools.lru_cache(maxsize=1)
def declared() -> tuple[AppResource, ...]:
    return tuple(app_layer("dev"))


def total_calls(fakes) -> int:
    return (len(fakes.connect.calls) + len(fakes.ksqldb.requests) + len(fakes.elasticsearch.calls)
            + len(fakes.grafana.calls))


def test_fake_whole_app_layer_applies_converges_with_zero_calls_and_destroys_cleanly():
    with fake_services() as fakes:
        resources = pointed_at(list(declared()), fakes)
        deployed = [up(r.provider, r.inputs) for r in resources]

        derived = {t.lower() for t in connectors.DERIVED_TABLES}
        assert len(fakes.connect.connectors) == 3 + len(derived)
        assert {name for name, c in fakes.connect.connectors.items()
                if c.config["connector.class"] == connectors.ELASTICSEARCH_SINK_CLASS} == \
            {f"es-sink-{t.replace('_', '-')}" for t in derived}
        assert {"CLICKSTREAM", "WEB_USERS", "CLICKSTREAM_CODES", *connectors.DERIVED_TABLES} <= set(fakes.ksqldb.sources)
        assert "clickstream" in fakes.elasticsearch.templates
        assert {ds["jsonData"]["index"] for ds in fakes.grafana.datasources.values()} == derived
        assert set(fakes.grafana.dashboards) == {"clickstream-analysis", "clickstream-high-bandwidth"}

        before = total_calls(fakes)
        again = [up(r.provider, r.inputs, old) for r, old in zip(resources, deployed)]
        assert again == deployed
        assert total_calls(fakes) == before, "a no-op apply must not call any service"

        refreshed = [refresh(r.provider, d) for r, d in zip(resources, deployed)]
        assert all(refreshed), "refresh found something missing right after apply"
        assert not [r.name for r, d in zip(resources, refreshed)
                    if r.provider.diff(d.id, d.outs, d.inputs).changes], "refresh shows drift after a clean apply"

        for resource, state in reversed(list(zip(resources, deployed))):
            destroy(resource.provider, state)
        assert fakes.connect.connectors == {}
        assert set(fakes.ksqldb.sources) == set() and fakes.ksqldb.queries == {}
        assert fakes.ksqldb.terminate_endpoint_calls == 0
        assert "clickstream" not in fakes.elasticsearch.templates
        assert fakes.grafana.datasources == {} and fakes.grafana.dashboards == {} and fakes.grafana.folders == {}
