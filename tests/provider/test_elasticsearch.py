"""IndexTemplate provider and ElasticsearchClient against a FAKE Elasticsearch 8.19 (tests/fakes).

No real Elasticsearch runs on this machine; every test here is fake-backed.
"""
from __future__ import annotations

import copy
import socket

import pytest
from pulumi.output import Unknown

from providers.elasticsearch import ElasticsearchClient
from providers.elasticsearch.provider import IndexTemplateProvider, normalise_body
from providers.elasticsearch.resource import SECRET_OUTPUTS
from providers.http import ApiError, Endpoint, ServiceTimeout
from tests.fakes.elasticsearch import FakeElasticsearch
from tests.provider.pulumi_engine import CheckFailed, check, destroy, dill_round_trip, refresh, up

pytestmark = pytest.mark.fake
PASSWORD = "es-Secret-pw-123"
BODY = {
    "index_patterns": ["events_per_min*"],
    "priority": 200,
    "template": {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": {"EVENT_TS": {"type": "date", "format": "epoch_millis"},
                                    "USERID": {"type": "integer"}}},
    },
}


@pytest.fixture
def es():
    with FakeElasticsearch(username="elastic", password=PASSWORD) as fake:
        yield fake


@pytest.fixture
def provider():
    return IndexTemplateProvider()


def props(es, **overrides):
    base = {"elasticsearch_url": es.url, "username": "elastic", "password": PASSWORD, "verify": True,
            "ready_timeout": 5, "template_name": "clickstream-events", "body": copy.deepcopy(BODY)}
    return {**base, **overrides}


def mutations(es):
    return [(c.method, c.path) for c in es.mutating_calls]


def test_fake_create_validates_with_simulate_then_puts(es, provider):
    deployed = up(provider, props(es))
    paths = [(c.method, c.path) for c in es.calls]
    simulate = paths.index(("POST", "/_index_template/_simulate/clickstream-events"))
    assert simulate < paths.index(("PUT", "/_index_template/clickstream-events"))
    assert deployed.id == "clickstream-events" and deployed.outs["adopted"] is False
    stored = es.templates["clickstream-events"]
    assert stored["template"]["settings"] == {"index": {"number_of_shards": "1", "number_of_replicas": "0"}}
    assert [k for k, v in deployed.outs.items() if v == PASSWORD] == SECRET_OUTPUTS


def test_fake_second_apply_with_same_inputs_makes_no_http_call(es, provider):
    deployed = up(provider, props(es))
    es.reset_calls()
    assert up(provider, props(es), deployed) is deployed
    assert es.calls == []


def test_fake_refresh_of_unchanged_template_shows_no_diff_despite_es_normalisation(es, provider):
    deployed = refresh(provider, up(provider, props(es)))
    assert deployed.outs["body"]["template"]["settings"] == {"index": {"number_of_shards": "1",
                                                                       "number_of_replicas": "0"}}
    assert provider.diff(deployed.id, deployed.outs, props(es)).changes is False


def test_fake_settings_written_flat_or_nested_normalise_alike():
    flat = {"index_patterns": "a*", "template": {"settings": {"index.refresh_interval": "5s", "codec": "best"}}}
    nested = {"index_patterns": ["a*"], "composed_of": [],
              "template": {"settings": {"index": {"refresh_interval": "5s", "codec": "best"}}}}
    assert normalise_body(flat) == normalise_body(nested)


def test_fake_body_change_updates_in_place(es, provider):
    deployed = up(provider, props(es))
    es.reset_calls()
    body = copy.deepcopy(BODY)
    body["template"]["mappings"]["properties"]["PAGES"] = {"type": "long"}
    updated = up(provider, props(es, body=body), deployed)
    assert updated.id == deployed.id
    assert mutations(es) == [("PUT", "/_index_template/clickstream-events")]
    assert "PAGES" in es.templates["clickstream-events"]["template"]["mappings"]["properties"]


def test_fake_rename_replaces_deleting_the_old_template_first(es, provider):
    deployed = up(provider, props(es))
    es.reset_calls()
    renamed = up(provider, props(es, template_name="clickstream-events-v2"), deployed)
    assert renamed.id == "clickstream-events-v2"
    assert mutations(es) == [("DELETE", "/_index_template/clickstream-events"),
                             ("PUT", "/_index_template/clickstream-events-v2")]
    assert "clickstream-events" not in es.templates


def test_fake_delete_and_delete_when_already_gone(es, provider):
    deployed = up(provider, props(es))
    destroy(provider, deployed)
    assert "clickstream-events" not in es.templates
    destroy(provider, deployed)  # 404 resource_not_found_exception is success
    assert es.calls[-1].status == 404


def test_fake_create_adopts_an_existing_template_and_says_so(es, provider):
    with ElasticsearchClient(Endpoint(es.url, "elastic", PASSWORD)) as client:
        client.put_index_template("clickstream-events", {"index_patterns": ["events_per_min*"], "priority": 200})
    deployed = up(provider, props(es))
    assert deployed.outs["adopted"] is True
    assert normalise_body(es.templates["clickstream-events"]) == normalise_body(BODY)


def test_fake_refresh_detects_out_of_band_edit_and_up_restores_it(es, provider):
    deployed = up(provider, props(es))
    es.templates["clickstream-events"]["priority"] = 300
    drifted = refresh(provider, deployed)
    assert provider.diff(drifted.id, drifted.outs, props(es)).changes is True
    up(provider, props(es), drifted)
    assert es.templates["clickstream-events"]["priority"] == 200


def test_fake_refresh_of_template_deleted_out_of_band_drops_it(es, provider):
    deployed = up(provider, props(es))
    del es.templates["clickstream-events"]
    assert refresh(provider, deployed) is None


def test_fake_waits_while_cluster_unavailable_then_applies(es, provider):
    es.unavailable(3)  # 503 master_not_discovered_exception
    up(provider, props(es))
    assert "clickstream-events" in es.templates
    assert [c.status for c in es.calls[:3]] == [503, 503, 503]


def test_fake_red_cluster_times_out_naming_the_url(es, provider):
    es.health = "red"
    with pytest.raises(ServiceTimeout, match=rf"Elasticsearch at {es.url}/_cluster/health .*status 'red'"):
        up(provider, props(es, ready_timeout=1))
    assert es.mutating_calls == []


def test_fake_nothing_listening_times_out_naming_the_url(provider):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(ServiceTimeout, match=rf"timed out after 1 s waiting for Elasticsearch at {url}"):
        provider.create({"elasticsearch_url": url, "ready_timeout": 1, "template_name": "t", "body": BODY})


def test_fake_bad_mapping_fails_in_simulate_with_elasticsearch_reason_and_writes_nothing(es, provider):
    body = copy.deepcopy(BODY)
    body["template"]["mappings"]["properties"]["USERID"]["type"] = "integr"
    with pytest.raises(ApiError) as caught:
        up(provider, props(es, body=body))
    assert caught.value.status == 400
    assert "No handler for type [integr] declared on field [USERID]" in str(caught.value)
    assert es.mutating_calls == []


def test_fake_same_priority_overlap_is_reported_by_elasticsearch(es, provider):
    up(provider, props(es))
    with pytest.raises(ApiError, match=r"same priority \[200\]"):
        up(provider, props(es, template_name="other", body={**BODY, "index_patterns": ["events_per_min_x*"]}))


def test_fake_bad_password_fails_fast_naming_the_user_not_the_password(es, provider):
    with pytest.raises(ApiError) as caught:
        up(provider, props(es, password="wrong-password"))
    message = str(caught.value)
    assert caught.value.status == 401 and "user 'elastic'" in message and "elasticsearchPassword" in message
    assert "unable to authenticate user [elastic]" in message
    assert "wrong-password" not in message and PASSWORD not in message
    assert len(es.calls) == 1


@pytest.mark.parametrize("overrides, expected", [
    ({"template_name": "Clickstream"}, "must be lower case"),
    ({"template_name": "click*"}, "must not contain wildcards"),
    ({"template_name": "_hidden"}, "must not start with"),
    ({"body": {"priority": 200}}, "index_patterns must be a non-empty list"),
    ({"body": {"index_patterns": ["*"], "priority": 200}}, "matches every index"),
    ({"body": {"index_patterns": ["logs-click-*"], "priority": 100}}, "set body.priority above 100"),
    ({"body": {"index_patterns": ["logs*"]}}, "may overlap the built-in templates for ['logs-*-*']"),
    ({"body": {"index_patterns": ["a*"], "mapping": {}}}, "unknown key 'mapping'"),
    ({"body": {"index_patterns": ["a*"], "template": {"setings": {}}}}, "unknown key 'setings'"),
    ({"elasticsearch_url": "localhost:9200"}, "http(s) URL"),
])
def test_fake_check_rejects_bad_inputs_without_network(es, provider, overrides, expected):
    with pytest.raises(CheckFailed) as caught:
        check(provider, props(es, **overrides))
    assert expected in str(caught.value)
    assert es.calls == []


def test_fake_preview_with_unknown_inputs_checks_and_diffs_without_failing(es, provider):
    deployed = up(provider, props(es))
    # what the engine's Check/Diff pass for values not known during preview (rpc.deserialize_properties)
    news = props(es, elasticsearch_url=Unknown(), body={**BODY, "priority": Unknown()})
    assert check(provider, news)
    assert provider.diff(deployed.id, deployed.outs, news).changes is True
    assert check(provider, props(es, body=Unknown(), template_name=Unknown()))


def test_fake_provider_survives_pulumis_dill_round_trip(es, provider):
    restored = dill_round_trip(provider)
    assert type(restored) is IndexTemplateProvider
    assert up(restored, props(es)).id == "clickstream-events"
