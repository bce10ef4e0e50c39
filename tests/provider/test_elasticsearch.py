"""IndexTemplate provider and ElasticsearchClient against a FAKE and a REAL Elasticsearch 8.19.20.

Tests taking ``es_backend`` run twice: on the fake (tests/fakes/elasticsearch.py) and on a real node
(tests/harness: Maven Central jars on the JVM, or testcontainers). ``test_real_and_fake_answer_alike``
sends the same bad requests to both and fails when their answers diverge. Tests named ``test_fake_...``
stage what only a fake can (faults, security: the real node has no x-pack).
"""
from __future__ import annotations

import copy

import pytest
import requests
from pulumi.output import Unknown

from clickstream.content import connectors
from providers.elasticsearch import ElasticsearchClient
from providers.elasticsearch.index_template import CONTRACT, IndexTemplateProvider, normalise_body
from providers.http import ApiError, Endpoint, ServiceTimeout
from tests.fakes.elasticsearch import FakeElasticsearch
from tests.provider.elasticsearch_backend import ElasticsearchBackend, divergences, es_backend, filled  # noqa: F401  (the fixture)
from tests.provider.pulumi_engine import CheckFailed, check, destroy, dill_round_trip, refresh, up

PASSWORD = "es-Secret-pw-123"
MAPPING = {"properties": {"EVENT_TS": {"type": "date", "format": "epoch_millis"}, "USERID": {"type": "integer"}}}


def body_for(backend, **overrides) -> dict:
    """A template body whose pattern only this test uses."""
    return {"index_patterns": [f"{backend.prefix}events*"], "priority": 200,
            "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                         "mappings": copy.deepcopy(MAPPING)}, **overrides}


def props(backend, name: str, body: dict | None = None, **overrides) -> dict:
    return {"elasticsearch_url": backend.url, "verify": True, "ready_timeout": 30, "template_name": name,
            "body": body if body is not None else body_for(backend), **overrides}


def writes(calls) -> list[tuple[str, str]]:
    """The state-changing requests among recorded ``(method, url)`` calls (``_simulate`` changes nothing)."""
    return [(method, url.split("/", 3)[3]) for method, url in calls
            if method in ("PUT", "POST", "DELETE") and "/_simulate" not in url]


@pytest.fixture
def provider():
    return IndexTemplateProvider()


# ---- the lifecycle, on both backends ------------------------------------------------------------------
def test_create_validates_with_simulate_then_puts(es_backend, provider, http_calls):
    name = es_backend.template_name("create")
    deployed = up(provider, props(es_backend, name))
    paths = [(method, url.split("/", 3)[3]) for method, url in http_calls]
    assert paths.index(("POST", f"_index_template/_simulate/{name}")) < paths.index(("PUT", f"_index_template/{name}"))
    assert deployed.id == name and deployed.outs["adopted"] is False
    stored = es_backend.stored(name)
    assert stored["template"]["settings"] == {"index": {"number_of_shards": "1", "number_of_replicas": "0"}}
    assert stored["composed_of"] == [] and stored["template"]["mappings"] == MAPPING


def test_second_apply_with_same_inputs_makes_no_http_call(es_backend, provider, http_calls):
    name = es_backend.template_name("noop")
    deployed = up(provider, props(es_backend, name))
    http_calls.clear()
    assert up(provider, props(es_backend, name), deployed) is deployed
    assert http_calls == []


def test_refresh_of_unchanged_template_shows_no_diff_despite_normalisation(es_backend, provider):
    name = es_backend.template_name("refresh")
    deployed = refresh(provider, up(provider, props(es_backend, name)))
    assert deployed.outs["body"]["template"]["settings"] == {"index": {"number_of_shards": "1",
                                                                       "number_of_replicas": "0"}}
    assert provider.diff(deployed.id, deployed.outs, props(es_backend, name)).changes is False


def test_body_change_updates_in_place(es_backend, provider, http_calls):
    name = es_backend.template_name("update")
    deployed = up(provider, props(es_backend, name))
    http_calls.clear()
    body = body_for(es_backend)
    body["template"]["mappings"]["properties"]["PAGES"] = {"type": "long"}
    updated = up(provider, props(es_backend, name, body), deployed)
    assert updated.id == deployed.id
    assert writes(http_calls) == [("PUT", f"_index_template/{name}")]
    assert "PAGES" in es_backend.stored(name)["template"]["mappings"]["properties"]


def test_rename_replaces_deleting_the_old_template_first(es_backend, provider, http_calls):
    old, new = es_backend.template_name("old"), es_backend.template_name("new")
    deployed = up(provider, props(es_backend, old))
    http_calls.clear()
    renamed = up(provider, props(es_backend, new), deployed)
    assert renamed.id == new
    assert writes(http_calls) == [("DELETE", f"_index_template/{old}"), ("PUT", f"_index_template/{new}")]
    assert es_backend.stored(old) is None


def test_delete_and_delete_when_already_gone(es_backend, provider):
    name = es_backend.template_name("delete")
    deployed = up(provider, props(es_backend, name))
    destroy(provider, deployed)
    assert es_backend.stored(name) is None
    destroy(provider, deployed)  # 404 index_template_missing_exception is success
    answer = es_backend.call("DELETE", f"/_index_template/{name}")
    assert answer.status_code == 404 and answer.json()["error"]["type"] == "index_template_missing_exception"


def test_create_adopts_an_existing_template_and_says_so(es_backend, provider):
    name = es_backend.template_name("adopt")
    assert es_backend.call("PUT", f"/_index_template/{name}",
                           {"index_patterns": [f"{es_backend.prefix}events*"], "priority": 200}).status_code == 200
    deployed = up(provider, props(es_backend, name))
    assert deployed.outs["adopted"] is True
    assert normalise_body(es_backend.stored(name)) == normalise_body(body_for(es_backend))


def test_refresh_detects_out_of_band_edit_and_up_restores_it(es_backend, provider):
    name = es_backend.template_name("drift")
    deployed = up(provider, props(es_backend, name))
    assert es_backend.call("PUT", f"/_index_template/{name}", body_for(es_backend, priority=300)).status_code == 200
    drifted = refresh(provider, deployed)
    assert provider.diff(drifted.id, drifted.outs, props(es_backend, name)).changes is True
    up(provider, props(es_backend, name), drifted)
    assert es_backend.stored(name)["priority"] == 200


def test_refresh_of_template_deleted_out_of_band_drops_it(es_backend, provider):
    name = es_backend.template_name("gone")
    deployed = up(provider, props(es_backend, name))
    es_backend.call("DELETE", f"/_index_template/{name}")
    assert refresh(provider, deployed) is None


def test_simulate_returns_the_resolved_template(es_backend):
    name = es_backend.template_name("simulate")
    with ElasticsearchClient(Endpoint(es_backend.url)) as client:
        resolved = client.simulate_index_template(name, body_for(es_backend))
    assert resolved["template"]["settings"] == {"index": {"number_of_shards": "1", "number_of_replicas": "0"}}
    assert resolved["template"]["mappings"] == MAPPING and resolved["overlapping"] == []
    assert es_backend.stored(name) is None


# ---- errors in Elasticsearch's own words, on both backends -------------------------------------------
def test_bad_mapping_error_names_the_field_and_the_type_and_writes_nothing(es_backend, provider, http_calls):
    name = es_backend.template_name("badmap")
    body = body_for(es_backend)
    body["template"]["mappings"]["properties"]["USERID"]["type"] = "integr"
    with pytest.raises(ApiError) as caught:
        up(provider, props(es_backend, name, body))
    assert caught.value.status == 400
    assert str(caught.value).endswith(
        f"composable template [{name}] template after composition is invalid; caused by: The mapper type "
        "[integr] declared on field [USERID] does not exist. It might have been created within a future version "
        "or requires a plugin to be installed. Check the documentation.")
    assert writes(http_calls) == [] and es_backend.stored(name) is None


@pytest.mark.parametrize("change, expected", [
    ({"template": {"settings": {"number_of_shards": 1, "bogus_setting": 2}}},
     "Validation Failed: 1: unknown setting [index.bogus_setting] please check that any required plugins are "
     "installed"),
    ({"template": {"mappings": {"properties": {"X": {"type": "keyword", "bogusparam": 1}}}}},
     "caused by: unknown parameter [bogusparam] on mapper [X] of type [keyword]"),
    ({"composed_of": ["no-such-component"]},
     "specifies component templates [no-such-component] that do not exist"),
    ({"template": {"lifecycle": {"data_retention": "7d"}}},
     "specifies lifecycle configuration that can only be used in combination with a data stream"),
])
def test_invalid_template_is_refused_with_elasticsearchs_reason(es_backend, provider, change, expected):
    name = es_backend.template_name("invalid")
    with pytest.raises(ApiError) as caught:
        up(provider, props(es_backend, name, body_for(es_backend, **change)))
    assert caught.value.status == 400 and expected in str(caught.value)
    assert es_backend.stored(name) is None


def test_same_priority_overlap_is_reported_before_mapping_errors(es_backend, provider):
    first, second = es_backend.template_name("first"), es_backend.template_name("second")
    up(provider, props(es_backend, first))
    body = body_for(es_backend, index_patterns=[f"{es_backend.prefix}events_x*"])
    body["template"]["mappings"]["properties"]["USERID"]["type"] = "integr"
    with pytest.raises(ApiError, match=rf"from existing templates \[{first}\] .* same priority \[200\]"):
        up(provider, props(es_backend, second, body))


# ---- the project's own template, and documents shaped like the sink's ----------------------------------
def test_sink_documents_get_date_and_keyword_fields_from_the_projects_template(es_backend, provider):
    """EVENT_TS (epoch millis) -> date in the default format, strings -> keyword, counts -> long: what the
    Grafana panels need."""
    index = es_backend.index("events_per_min")
    body = connectors.index_template([], replicas=0)
    body["index_patterns"] = [index]  # the project's body, on a name only this test uses
    up(provider, props(es_backend, es_backend.template_name("clickstream"), body))
    document = {"EVENT_TS": 1764162000000, "USERNAME": "Reeva43", "CITY": "San Francisco", "EVENTS": 7}
    assert es_backend.call("POST", f"/{index}/_doc?refresh=true", document).status_code == 201
    mapping = es_backend.call("GET", f"/{index}/_mapping").json()[index]["mappings"]["properties"]
    # the project's format is Elasticsearch's default (epoch millis in, RFC 3339 doc values out for Grafana),
    # so the index mapping leaves it out
    assert mapping["EVENT_TS"] == {"type": "date"}
    assert mapping["USERNAME"] == mapping["CITY"] == {"type": "keyword"}
    assert mapping["EVENTS"] == {"type": "long"}


# ---- the fake held to the real node --------------------------------------------------------------------
BAD_REQUESTS = [
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "mapping": {}}),
    ("PUT", "/_index_template/{p}t", {"priority": 5}),
    ("PUT", "/_index_template/{p}t", None),
    ("PUT", "/_index_template/{P}T", {"index_patterns": ["{p}q*"]}),
    ("PUT", "/_index_template/_{p}t", {"index_patterns": ["{p}q*"]}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "template": {"settings": {"bogus": 1}}}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "template": {
        "mappings": {"properties": {"X": {"type": "bogus"}}}}}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "template": {
        "mappings": {"properties": {"X": {"type": "date", "formatt": "epoch_millis"}}}}}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "template": {
        "mappings": {"properties": {"O": {"type": "object", "bogus": True}}}}}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "template": {"mappings": {"bogus": 1}}}),
    ("PUT", "/_index_template/{P} t", {"index_patterns": ["{p}q*", "_{p}q"], "template": {
        "settings": {"index": {"bogus": 1, "number_of_shards": 1}}}}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "composed_of": ["{p}missing"]}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}q*"], "template": {"lifecycle": {}}}),
    ("PUT", "/_index_template/{p}t", {"index_patterns": ["{p}base_x*"], "priority": 7}),
    ("POST", "/_index_template/_simulate/{p}t", {"index_patterns": ["{p}q*"], "template": {
        "mappings": {"properties": {"X": {"type": "bogus"}}}}}),
    ("DELETE", "/_index_template/{p}missing", None),
    ("GET", "/_index_template/{p}missing", None),
    ("GET", "/{p}missing/_mapping", None),
    ("DELETE", "/{p}missing", None),
]


def _answer(backend, method: str, path: str, body) -> tuple:
    """Status, error type and the chain of reasons of one request (names made unique to the backend)."""
    fill = {"p": backend.prefix, "P": backend.prefix.upper()}
    answer = backend.call(method, path.format_map(fill), filled(body, fill))
    error = answer.json()["error"] if answer.status_code >= 400 else {}
    chain = []
    while isinstance(error, dict) and error:
        chain.append((error.get("type"), str(error.get("reason")).replace(backend.prefix, "<p>")
                      .replace(backend.prefix.upper(), "<P>")))
        error = error.get("caused_by")
    return answer.status_code, chain


@pytest.mark.real
def test_real_and_fake_answer_alike(request):
    """Every bad request gets the same status, error type and reasons (outermost to deepest) from both."""
    real = request.getfixturevalue("elasticsearch_node")
    with FakeElasticsearch(builtin_templates=False) as fake:
        backends = [ElasticsearchBackend(fake.url, "fake", fake=fake), ElasticsearchBackend(real.url, "real")]
        try:
            for backend in backends:
                backend.templates.append(f"{backend.prefix}base")
                assert backend.call("PUT", f"/_index_template/{backend.prefix}base",
                                    {"index_patterns": [f"{backend.prefix}base*"], "priority": 7}).status_code == 200
            diverging = divergences(backends, BAD_REQUESTS, _answer)
            assert not diverging, "the fake diverges from Elasticsearch 8.19.20:\n" + diverging
        finally:
            backends[1].cleanup()


# ---- what only the fake can stage ----------------------------------------------------------------------
@pytest.fixture
def secured():
    with FakeElasticsearch(username="elastic", password=PASSWORD) as fake:
        yield fake


def secured_props(es, **overrides):
    return {"elasticsearch_url": es.url, "username": "elastic", "password": PASSWORD, "verify": True,
            "ready_timeout": 5, "template_name": "clickstream-events",
            "body": {"index_patterns": ["events_per_min*"], "priority": 200, "template": {"mappings": MAPPING}},
            **overrides}


@pytest.mark.fake
def test_fake_password_is_a_secret_output(secured, provider):
    deployed = up(provider, secured_props(secured))
    assert [k for k, v in deployed.outs.items() if v == PASSWORD] == ["password"]
    assert "password" in CONTRACT.secret_outputs


@pytest.mark.fake
def test_fake_api_key_authenticates_as_elasticsearch_reads_it_and_a_wrong_one_is_named_not_quoted(provider):
    """``Authorization: ApiKey <encoded key>`` (the external platform's elasticsearchApiKey), no basic auth."""
    key = "ZXMta2V5LWlkOmVzLWtleS1zZWNyZXQ="
    with FakeElasticsearch(api_key=key) as es:
        props = {**secured_props(es, api_key=key), "username": None, "password": None}
        deployed = up(provider, props)
        assert "clickstream-events" in es.templates and deployed.outs["api_key"] == key
        assert "api_key" in CONTRACT.secret_outputs
        with pytest.raises(ApiError) as caught:
            up(provider, {**props, "template_name": "other", "api_key": "d3Jvbmcta2V5"})
    assert caught.value.status == 401 and "the API key" in str(caught.value)
    assert "elasticsearchApiKey" in str(caught.value) and "d3Jvbmcta2V5" not in str(caught.value)


@pytest.mark.fake
def test_fake_waits_while_cluster_unavailable_then_applies(secured, provider):
    secured.unavailable(3)  # 503 master_not_discovered_exception
    up(provider, secured_props(secured))
    assert "clickstream-events" in secured.templates
    assert [c.status for c in secured.calls[:3]] == [503, 503, 503]


@pytest.mark.fake
def test_fake_red_cluster_times_out_naming_the_url(secured, provider):
    secured.health = "red"
    with pytest.raises(ServiceTimeout, match=rf"Elasticsearch at {secured.url}/_cluster/health .*status 'red'"):
        up(provider, secured_props(secured, ready_timeout=1))
    assert secured.mutating_calls == []


@pytest.mark.fake
def test_fake_nothing_listening_times_out_naming_the_url(provider, unanswered_url):
    with pytest.raises(ServiceTimeout, match=rf"timed out after 1 s waiting for Elasticsearch at {unanswered_url}"):
        provider.create({"elasticsearch_url": unanswered_url, "ready_timeout": 1, "template_name": "t",
                         "body": {"index_patterns": ["a*"]}})


@pytest.mark.fake
def test_fake_bad_password_fails_fast_naming_the_user_not_the_password(secured, provider):
    with pytest.raises(ApiError) as caught:
        up(provider, secured_props(secured, password="wrong-password"))
    message = str(caught.value)
    assert caught.value.status == 401 and "user 'elastic'" in message and "elasticsearchPassword" in message
    assert "unable to authenticate user [elastic]" in message
    assert "wrong-password" not in message and PASSWORD not in message
    assert len(secured.calls) == 1


@pytest.mark.fake
def test_fake_distribution_builtin_templates_are_reported_as_overlapping(secured):
    with ElasticsearchClient(Endpoint(secured.url, "elastic", PASSWORD)) as client:
        resolved = client.simulate_index_template("mine", {"index_patterns": ["logs-click-*"], "priority": 200})
    assert resolved["overlapping"] == [{"name": "logs", "index_patterns": ["logs-*-*"]}]


@pytest.mark.fake
def test_fake_settings_written_flat_or_nested_normalise_alike():
    flat = {"index_patterns": "a*", "template": {"settings": {"index.refresh_interval": "5s", "codec": "best"}}}
    nested = {"index_patterns": ["a*"], "composed_of": [],
              "template": {"settings": {"index": {"refresh_interval": "5s", "codec": "best"}}}}
    assert normalise_body(flat) == normalise_body(nested)


@pytest.mark.fake
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
    ({"elasticsearch_url": "localhost:9200"}, "http(s) base URL"),
])
def test_fake_check_rejects_bad_inputs_without_network(secured, provider, overrides, expected):
    with pytest.raises(CheckFailed) as caught:
        check(provider, secured_props(secured, **overrides))
    assert expected in str(caught.value)
    assert secured.calls == []


@pytest.mark.fake
def test_fake_preview_with_unknown_inputs_checks_and_diffs_without_failing(secured, provider):
    deployed = up(provider, secured_props(secured))
    # what the engine's Check/Diff pass for values not known during preview (rpc.deserialize_properties)
    news = secured_props(secured, elasticsearch_url=Unknown(),
                         body={"index_patterns": ["events_per_min*"], "priority": Unknown()})
    assert check(provider, news)
    assert provider.diff(deployed.id, deployed.outs, news).changes is True
    assert check(provider, secured_props(secured, body=Unknown(), template_name=Unknown()))


@pytest.mark.fake
def test_fake_provider_survives_pulumis_dill_round_trip(secured, provider):
    restored = dill_round_trip(provider)
    assert type(restored) is IndexTemplateProvider
    assert up(restored, secured_props(secured)).id == "clickstream-events"


@pytest.mark.fake
def test_fake_unknown_route_answers_like_elasticsearch(secured):
    answer = requests.get(f"{secured.url}/_nope", auth=("elastic", PASSWORD), timeout=5)
    assert answer.status_code == 400 and answer.json()["error"].startswith("no handler found for uri [/_nope]")
