"""VersionedIndex: one build's index ``<alias>_v<version>``, on a FAKE and a REAL
Elasticsearch 8.19.20 (the same test bodies on both, ``es_backend``), and the fake's alias answers held to the
real node's (``test_real_and_fake_answer_alias_requests_alike``)."""
from __future__ import annotations

import re

import pytest
from pulumi.output import Unknown

from providers.elasticsearch.versioned_index import CONTRACT, VersionedIndexProvider
from tests.fakes.elasticsearch import FakeElasticsearch
from tests.provider.elasticsearch_backend import ElasticsearchBackend, divergences, es_backend, filled  # noqa: F401  (the fixture)
from tests.provider.pulumi_engine import CheckFailed, check, destroy, dill_round_trip, refresh, up

MAPPINGS = {"properties": {"EVENT_TS": {"type": "date"}, "USERNAME": {"type": "keyword"}}}


@pytest.fixture
def provider():
    return VersionedIndexProvider()


@pytest.fixture
def names(es_backend):
    """alias, first and second version of an index only this test uses, and a template that maps every
    version (as the project's template does); all deleted afterwards."""
    alias = es_backend.index("events")
    versions = [es_backend.index(f"events_v{n}") for n in ("1a2b", "3c4d")]
    template = es_backend.template_name("versions")
    answer = es_backend.call("PUT", f"/_index_template/{template}", {
        "index_patterns": [f"{alias}_v*"], "priority": 200,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": MAPPINGS}})
    assert answer.status_code == 200, answer.text
    return alias, *versions


def props(backend, alias: str, index: str, **overrides) -> dict:
    return {"elasticsearch_url": backend.url, "verify": True, "ready_timeout": 60, "alias": alias, "index": index,
            **overrides}


def writes(calls) -> list[tuple[str, str]]:
    return [(method, url.split("/", 3)[3]) for method, url in calls if method in ("PUT", "POST", "DELETE")]


def behind(backend, alias: str) -> dict | None:
    """``GET <alias>/_alias`` as an operator would read it: index -> its aliases, None when nothing has the name."""
    answer = backend.call("GET", f"/{alias}/_alias")
    return {index: sorted(entry["aliases"]) for index, entry in answer.json().items()} \
        if answer.status_code == 200 else None


# ---- VersionedIndex, on both backends ------------------------------------------------------------------
def test_create_makes_the_versioned_index_from_the_template(es_backend, names, provider, http_calls):
    alias, first, _ = names
    http_calls.clear()
    deployed = up(provider, props(es_backend, alias, first))
    assert writes(http_calls) == [("PUT", first)]
    assert deployed.id == first and deployed.outs["adopted"] is False
    assert behind(es_backend, first) == {first: []} and behind(es_backend, alias) is None  # the alias is not its job
    assert es_backend.call("GET", f"/{first}/_mapping").json() == {first: {"mappings": MAPPINGS}}


def test_second_apply_makes_no_http_call_and_refresh_shows_no_change(es_backend, names, provider, http_calls):
    alias, first, _ = names
    deployed = up(provider, props(es_backend, alias, first))
    http_calls.clear()
    assert up(provider, props(es_backend, alias, first), deployed) is deployed
    assert http_calls == []
    refreshed = refresh(provider, deployed)
    assert provider.diff(refreshed.id, refreshed.outs, props(es_backend, alias, first)).changes is False


def test_a_new_version_is_a_new_index_created_before_the_old_one_goes(es_backend, names, provider):
    alias, first, second = names
    deployed = up(provider, props(es_backend, alias, first))
    diff = provider.diff(deployed.id, deployed.outs, props(es_backend, alias, second))
    assert diff.replaces == ["index"] and diff.delete_before_replace is False


def test_create_adopts_an_index_that_exists(es_backend, names, provider, http_calls):
    alias, first, _ = names
    assert es_backend.call("PUT", f"/{first}").status_code == 200
    deployed = up(provider, props(es_backend, alias, first))
    assert deployed.outs["adopted"] is True


def test_index_deleted_by_hand_is_gone_on_refresh_and_created_again(es_backend, names, provider):
    alias, first, _ = names
    deployed = up(provider, props(es_backend, alias, first))
    assert es_backend.call("DELETE", f"/{first}").status_code == 200
    assert refresh(provider, deployed) is None
    assert up(provider, props(es_backend, alias, first)).outs["adopted"] is False


def test_delete_leaves_an_index_the_alias_still_serves_and_deletes_one_it_does_not(es_backend, names, provider):
    """A swap that did not happen (the rebuild did not catch up) leaves readers on the old index: the engine's
    delete of the old version must not take it from them; the swap that replaces it deletes it."""
    alias, first, second = names
    old, new = up(provider, props(es_backend, alias, first)), up(provider, props(es_backend, alias, second))
    point_alias(es_backend, alias, first)
    destroy(provider, old)
    assert behind(es_backend, alias) == {first: [alias]}
    destroy(provider, new)
    assert behind(es_backend, second) is None
    destroy(provider, new)  # gone already: nothing to do


def count(backend, name: str) -> int:
    answer = backend.call("GET", f"/{name}/_count")
    assert answer.status_code == 200, answer.text
    return answer.json()["count"]


def test_a_new_build_under_the_same_name_refills_the_index_while_readers_keep_a_held_copy(
        es_backend, names, provider, http_calls):
    """The table rebuilt from the same statements (its query failed, it was dropped by hand): a new topic from
    offset 0, so the index is filled anew; readers keep the rows they saw on a write-blocked copy, which the
    alias serves until IndexAlias moves it back once the new build has caught up."""
    alias, first, _ = names
    held = es_backend.index(first.removeprefix(es_backend.prefix) + "-held")
    deployed = up(provider, props(es_backend, alias, first, build="CTAS_T_1"))
    point_alias(es_backend, alias, first)
    assert es_backend.call("POST", f"/{alias}/_doc?refresh=true", {"USERNAME": "old"}).status_code == 201
    http_calls.clear()
    refilled = up(provider, props(es_backend, alias, first, build="CTAS_T_2"), deployed)
    assert writes(http_calls) == [("PUT", f"{first}/_settings"), ("POST", f"{first}/_clone/{held}"),
                                  ("POST", "_aliases"), ("DELETE", first), ("PUT", first)]
    assert refilled.outs["build"] == "CTAS_T_2" and refilled.id == first
    assert behind(es_backend, alias) == {held: [alias]} and count(es_backend, alias) == 1, "readers keep their rows"
    assert behind(es_backend, first) == {first: []} and count(es_backend, first) == 0
    assert es_backend.call("GET", f"/{first}/_mapping").json() == {first: {"mappings": MAPPINGS}}
    assert es_backend.call("POST", f"/{first}/_doc", {"USERNAME": "new"}).status_code == 201, "not write-blocked"
    http_calls.clear()
    assert up(provider, props(es_backend, alias, first, build="CTAS_T_2"), refilled) is refilled
    assert http_calls == []
    # deleting the resource leaves the copy that still serves readers (the swap deletes it)
    destroy(provider, refilled)
    assert behind(es_backend, first) is None and behind(es_backend, alias) == {held: [alias]}


def test_a_refill_cut_short_anywhere_converges_on_the_next_run(es_backend, names, provider):
    alias, first, _ = names
    held = es_backend.index(first.removeprefix(es_backend.prefix) + "-held")
    deployed = up(provider, props(es_backend, alias, first, build="CTAS_T_1"))
    point_alias(es_backend, alias, first)
    assert es_backend.call("POST", f"/{alias}/_doc?refresh=true", {"USERNAME": "old"}).status_code == 201
    # cut short after the clone, before the alias moved: the copy is made again from what readers see
    assert es_backend.call("PUT", f"/{first}/_settings", {"index.blocks.write": True}).status_code == 200
    assert es_backend.call("POST", f"/{first}/_clone/{held}").status_code == 200
    refilled = up(provider, props(es_backend, alias, first, build="CTAS_T_2"), deployed)
    assert behind(es_backend, alias) == {held: [alias]} and count(es_backend, alias) == 1
    # cut short after the index was deleted (the engine kept the old state): made again, readers untouched
    assert es_backend.call("DELETE", f"/{first}").status_code == 200
    up(provider, props(es_backend, alias, first, build="CTAS_T_2"), deployed)
    assert behind(es_backend, first) == {first: []} and behind(es_backend, alias) == {held: [alias]}
    assert count(es_backend, alias) == 1 and refilled.outs["build"] == "CTAS_T_2"


def test_check_refuses_bad_names_without_network(es_backend, provider, http_calls):
    http_calls.clear()
    for overrides, expected in [({"alias": "Events"}, "alias 'Events' must be lower case"),
                                ({"alias": "_events", "index": "_events_v1"}, "must not start with _"),
                                ({"index": "events_1"}, "index 'events_1' must be named events_v<version>"),
                                ({"index": "events_v"}, "must be named events_v<version>"),
                                ({"elasticsearch_url": "localhost:9200"},
                                 "elasticsearch_url must be the http(s) base URL")]:
        with pytest.raises(CheckFailed, match=re.escape(expected)):
            check(provider, {**props(es_backend, "events", "events_v1"), **overrides})
    assert check(provider, props(es_backend, Unknown(), Unknown()))
    assert http_calls == []


def test_provider_survives_pulumis_dill_round_trip(es_backend, names, provider):
    alias, first, _ = names
    restored = dill_round_trip(provider)
    assert type(restored) is VersionedIndexProvider
    assert up(restored, props(es_backend, alias, first)).id == first
    assert CONTRACT.secret_outputs == ["password", "api_key"]


def point_alias(backend, alias: str, index: str) -> None:
    answer = backend.call("POST", "/_aliases", {"actions": [{"add": {"index": index, "alias": alias}}]})
    assert answer.status_code == 200, answer.text


# ---- the fake held to the real node --------------------------------------------------------------------
ALIAS_REQUESTS = [
    ("PUT", "/{p}a", None),
    ("PUT", "/{p}a", None),
    ("GET", "/{p}a/_alias", None),
    ("GET", "/{p}none/_alias", None),
    ("POST", "/_aliases", {"actions": [{"add": {"index": "{p}a", "alias": "{p}a"}}]}),
    ("POST", "/{p}a/_clone/{p}a_v1", None),
    ("PUT", "/{p}a/_settings", {"index.blocks.write": True}),
    ("POST", "/{p}a/_doc", {"X": 1}),
    ("POST", "/{p}a/_clone/{p}a_v1", {"settings": {"index.blocks.write": None}}),
    ("POST", "/{p}a/_clone/{p}a_v1", {"settings": {"index.blocks.write": None}}),
    ("POST", "/_aliases", {"actions": [{"add": {"index": "{p}a_v1", "alias": "{p}a"}},
                                       {"remove_index": {"index": "{p}a"}}]}),
    ("GET", "/{p}a/_alias", None),
    ("PUT", "/{p}a", None),
    ("DELETE", "/{p}a", None),
    ("POST", "/_aliases", {"actions": [{"remove_index": {"index": "{p}a"}}]}),
    ("POST", "/_aliases", {"actions": [{"add": {"index": "{p}none", "alias": "{p}x"}}]}),
    ("POST", "/_aliases", {"actions": [{"remove": {"index": "{p}a_v1", "alias": "{p}none"}}]}),
    ("PUT", "/{p}a_v2", None),
    ("POST", "/_aliases", {"actions": [{"add": {"index": "{p}a_v2", "alias": "{p}a"}}]}),
    ("GET", "/{p}a/_alias", None),
    ("POST", "/{p}a/_doc", {"X": 2}),
    ("POST", "/_aliases", {"actions": [{"remove_index": {"index": "{p}a_v1"}}]}),
    ("POST", "/{p}a/_doc", {"X": 3}),
    ("POST", "/{p}a/_doc?refresh=true", {"X": 4}),
    ("GET", "/{p}a/_count", None),
    ("GET", "/{p}a_v2/_count", None),
    ("GET", "/{p}none/_count", None),
]


def _answer(backend, method: str, path: str, body) -> tuple:
    """Status and body with the backend's prefix and index uuids made neutral (success bodies of writes
    differ only in node details: compared for errors and ``_alias`` reads)."""
    fill = {"p": backend.prefix}
    request_body = filled(body, fill)
    answer = backend.call(method, path.format_map(fill), request_body)
    payload = answer.json()
    if answer.status_code < 400 and not path.endswith("/_alias"):
        payload = {key: payload.get(key) for key in ("acknowledged", "errors", "index", "result", "count")}
    text = re.sub(r'("index_uuid": "|/)[A-Za-z0-9_-]{20,22}(?=["\]])', r"\1<uuid>",
                  _canonical(payload).replace(backend.prefix, "<p>"))
    return answer.status_code, text


def _canonical(value) -> str:
    import json
    return json.dumps(value, sort_keys=True)


@pytest.mark.real
def test_real_and_fake_answer_alias_requests_alike(request):
    """The requests the kind sends, and the refusals around them, in one sequence: same status and body."""
    real = request.getfixturevalue("elasticsearch_node")
    with FakeElasticsearch(builtin_templates=False) as fake:
        backends = [ElasticsearchBackend(fake.url, "fake", fake=fake), ElasticsearchBackend(real.url, "real")]
        backends[1].indices += [f"{backends[1].prefix}{name}" for name in ("a", "a_v1", "a_v2")]
        try:
            diverging = divergences(backends, ALIAS_REQUESTS, _answer)
            assert not diverging, "the fake diverges from Elasticsearch 8.19.20:\n" + diverging
        finally:
            backends[1].cleanup()
