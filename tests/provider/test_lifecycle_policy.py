"""IndexLifecyclePolicy (index retention) against a FAKE Elasticsearch 8.19.20 with ILM, and against the
FAKE and the REAL node without it.

The real node of the harness has no x-pack (its ``ilm`` module is not published on Maven Central), so the
policy's lifecycle runs on the fake (tests/fakes/elasticsearch.py, whose ILM rules name their source), and
``es_backend`` tests hold the fake without ILM to what the real node answers: no ``_ilm`` routes, and a
template naming a policy refused as an unknown setting.
"""
from __future__ import annotations

import pytest
import requests

from providers.elasticsearch.index_template import IndexTemplateProvider
from providers.elasticsearch.lifecycle_policy import LifecyclePolicyError, LifecyclePolicyProvider
from tests.fakes.elasticsearch import FakeElasticsearch
from tests.provider.elasticsearch_backend import es_backend  # noqa: F401  (the fixture)
from tests.provider.pulumi_engine import CheckFailed, check, destroy, dill_round_trip, refresh, up


def retention(days: int) -> dict:
    return {"phases": {"hot": {"actions": {}}, "delete": {"min_age": f"{days}d", "actions": {"delete": {}}}},
            "_meta": {"managed_by": "clickstream-iac"}}


def props(url: str, name: str = "clickstream-retention", days: int = 7, **overrides) -> dict:
    return {"elasticsearch_url": url, "ready_timeout": 30, "policy_name": name, "policy": retention(days),
            **overrides}


def writes(calls) -> list[tuple[str, str]]:
    return [(method, url.split("/", 3)[3]) for method, url in calls if method in ("PUT", "POST", "DELETE")]


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.fake)])
def es(request):
    with FakeElasticsearch(builtin_templates=False) as fake:
        yield fake


@pytest.fixture
def provider():
    return LifecyclePolicyProvider()


def template_naming(policy: str, pattern: str = "clicks*") -> dict:
    return {"index_patterns": [pattern], "priority": 200,
            "template": {"settings": {"number_of_replicas": 0, "index.lifecycle.name": policy}}}


def test_create_puts_the_policy_and_reads_back_its_declared_part(es, provider, http_calls):
    deployed = up(provider, props(es.url))
    assert writes(http_calls) == [("PUT", "_ilm/policy/clickstream-retention")]
    assert deployed.id == "clickstream-retention" and deployed.outs["adopted"] is False
    assert deployed.outs["policy"] == retention(7)  # min_age 0ms and delete_searchable_snapshot left out
    stored = es.policies["clickstream-retention"]["policy"]["phases"]
    assert stored["hot"]["min_age"] == "0ms" and stored["delete"]["actions"]["delete"] == {
        "delete_searchable_snapshot": True}


def test_a_second_apply_and_a_clean_refresh_change_nothing(es, provider, http_calls):
    deployed = up(provider, props(es.url))
    http_calls.clear()
    assert up(provider, props(es.url), deployed) is deployed
    assert http_calls == []
    refreshed = refresh(provider, deployed)
    assert refreshed is not None and provider.diff(refreshed.id, refreshed.outs, props(es.url)).changes is False


def test_other_days_update_the_policy_in_place_as_a_new_version(es, provider, http_calls):
    deployed = up(provider, props(es.url))
    http_calls.clear()
    updated = up(provider, props(es.url, days=30), deployed)
    assert updated.id == deployed.id and writes(http_calls) == [("PUT", "_ilm/policy/clickstream-retention")]
    assert es.policies["clickstream-retention"]["version"] == 2
    assert es.policies["clickstream-retention"]["policy"]["phases"]["delete"]["min_age"] == "30d"


def test_refresh_shows_an_out_of_band_edit_and_up_restores_the_declared_policy(es, provider):
    deployed = up(provider, props(es.url))
    es.policies["clickstream-retention"]["policy"]["phases"]["delete"]["min_age"] = "1d"
    drifted = refresh(provider, deployed)
    assert provider.diff(drifted.id, drifted.outs, props(es.url)).changes is True
    up(provider, props(es.url), drifted)
    assert es.policies["clickstream-retention"]["policy"]["phases"]["delete"]["min_age"] == "7d"


def test_a_policy_deleted_by_hand_is_gone_on_refresh_and_created_again(es, provider):
    deployed = up(provider, props(es.url))
    del es.policies["clickstream-retention"]
    assert refresh(provider, deployed) is None
    again = up(provider, props(es.url))
    assert again.outs["adopted"] is False and "clickstream-retention" in es.policies


def test_an_existing_policy_is_adopted_and_updated(es, provider):
    es.policies["clickstream-retention"] = {"version": 3, "policy": retention(90)}
    deployed = up(provider, props(es.url))
    assert deployed.outs["adopted"] is True
    assert es.policies["clickstream-retention"]["policy"]["phases"]["delete"]["min_age"] == "7d"


def test_a_new_name_replaces_the_policy_deleting_the_old_one_first(es, provider, http_calls):
    deployed = up(provider, props(es.url))
    http_calls.clear()
    renamed = up(provider, props(es.url, name="clicks-retention"), deployed)
    assert renamed.id == "clicks-retention" and set(es.policies) == {"clicks-retention"}
    assert writes(http_calls) == [("DELETE", "_ilm/policy/clickstream-retention"),
                                  ("PUT", "_ilm/policy/clicks-retention")]


@pytest.mark.parametrize("overrides, expected", [
    ({"policy_name": "_hidden"}, "policy_name '_hidden' must not start with '_'"),
    ({"policy_name": "a,b"}, "policy_name 'a,b' must not contain ',' or spaces"),
    ({"policy_name": "x" * 256}, "must be at most 255 bytes"),
    ({"policy": {"phases": {}}}, "policy.phases must be a non-empty mapping"),
    ({"policy": {"phases": {"later": {"actions": {}}}}}, "unknown phase(s) later (allowed: hot, warm"),
    ({"policy": "7d"}, "policy must be a mapping"),
    ({"elasticsearch_url": "localhost:9200"}, "elasticsearch_url must be the http(s) base URL of Elasticsearch"),
])
def test_check_refuses_bad_inputs_naming_the_input(es, provider, overrides, expected):
    with pytest.raises(CheckFailed) as failed:
        check(provider, props(es.url, **overrides))
    assert expected in str(failed.value)


def test_delete_and_delete_when_already_gone(es, provider):
    deployed = up(provider, props(es.url))
    destroy(provider, deployed)
    assert es.policies == {}
    destroy(provider, deployed)


def test_delete_of_a_policy_in_use_detaches_it_from_its_indices_which_stay(es, provider, messages):
    """Elasticsearch refuses to delete a policy an index uses (400 "Cannot delete policy [x]. It is in use by
    one or more indices"); the delete detaches it first, keeping the indices and their documents."""
    deployed = up(provider, props(es.url))
    up(IndexTemplateProvider(), {"elasticsearch_url": es.url, "template_name": "clicks",
                                 "body": template_naming("clickstream-retention")})
    requests.post(f"{es.url}/clicks_1/_doc", json={"n": 1}, timeout=30)
    refused = requests.delete(f"{es.url}/_ilm/policy/clickstream-retention", timeout=30)
    assert refused.status_code == 400 and refused.json()["error"]["reason"] == (
        "Cannot delete policy [clickstream-retention]. It is in use by one or more indices: [clicks_1]")
    destroy(provider, deployed)
    assert es.policies == {} and es.indices["clicks_1"]["lifecycle"] is None and es.indices["clicks_1"]["docs"]
    assert any(m.startswith("warning: ") and "detached from clicks_1" in m for m in messages), messages


def test_the_provider_survives_dill(es, provider):
    assert up(dill_round_trip(provider), props(es.url)).outs["adopted"] is False


# ---- a node without ILM: the fake held to the real node ---------------------------------------------
@pytest.fixture
def without_ilm(es_backend):  # noqa: F811  (the fixture)
    """The URL of a node without ILM: the real node of the harness, or the fake with ``ilm=False``."""
    if es_backend.kind == "real":
        if es_backend.call("GET", f"/_ilm/policy/{es_backend.prefix}probe").status_code != 400:
            pytest.skip("this real node has ILM (x-pack: the Docker harness); these tests are about a node without it")
        yield es_backend
        return
    with FakeElasticsearch(builtin_templates=False, ilm=False) as fake:
        es_backend.url = fake.url
        yield es_backend


def test_a_node_without_ilm_is_named_as_such(without_ilm, provider):
    answer = without_ilm.call("GET", "/_ilm/policy/clickstream-retention")
    assert answer.status_code == 400 and answer.json()["error"].startswith("no handler found for uri")
    with pytest.raises(LifecyclePolicyError, match="has no index lifecycle management"):
        up(provider, props(without_ilm.url, name=without_ilm.prefix + "retention"))


def test_a_node_without_ilm_refuses_a_template_naming_a_policy(without_ilm):
    name = without_ilm.template_name("retention")
    answer = without_ilm.call("PUT", f"/_index_template/{name}", template_naming("p", f"{without_ilm.prefix}x*"))
    assert answer.status_code == 400 and "unknown setting [index.lifecycle.name]" in answer.json()["error"]["reason"]
