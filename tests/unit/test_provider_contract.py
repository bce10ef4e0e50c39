"""Unit tier (no network): the provider contract (``providers/contract.py``), the HTTP error classes and
deadline of ``providers/http.py``, and the field tables in ``docs/resources/`` that must equal the code's."""
from __future__ import annotations

import hashlib
import json
import pathlib
import re

import pulumi
import pytest
from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown

from providers import contract
from providers.contract import (
    DEFAULT_READY_TIMEOUT,
    DRIFTED,
    IDENTITY,
    IN_PLACE,
    Contract,
    Field,
    adoption,
    gone,
    secret_field,
    secret_hash,
    secret_unchanged,
)
from providers.http import (
    ApiError,
    Conflict,
    Deadline,
    Endpoint,
    HttpClient,
    NotFound,
    ServerError,
    Unauthorized,
    api_error,
    or_none,
)
from providers.kinds import KINDS

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "resources"
TABLES = list({kind.contract.resource: kind.contract for kind in KINDS}.values())  # the ksqlDB kinds share one

EXAMPLE = Contract("Example", [
    *contract.connection("url"),
    Field("name", IDENTITY, required=True),
    Field("body", IN_PLACE, default="{}"),
    secret_field("secret", "secret_hash", "salt", doc="a secret input"),
])


@pytest.mark.parametrize("table", TABLES, ids=[c.resource for c in TABLES])
def test_each_resource_page_shows_its_field_table_as_the_code_has_it(table):
    blocks = [block for page in sorted(DOCS.glob("*.md"))
              for block in re.findall(r"<!-- fields: [^\n]*-->\n(.*?)\n<!-- /fields -->",
                                      page.read_text(encoding="utf-8"), flags=re.S)]
    assert table.markdown() in blocks, (
        f"a page of docs/resources must hold the field table of {table.resource} between <!-- fields: ... --> "
        f"and <!-- /fields --> (`python -m tools.generated` rewrites it), exactly as the code renders it:\n\n"
        f"{table.markdown()}")


def test_check_fills_defaults_and_names_each_missing_required_input_once():
    result = EXAMPLE.result(EXAMPLE.with_defaults({"name": ""}), [CheckFailure("name", "bad name")])
    assert result.inputs["ready_timeout"] == DEFAULT_READY_TIMEOUT and result.inputs["body"] == "{}"
    assert [(f.property, f.reason) for f in result.failures] == [
        ("url", "url is required (base URL of the service)"), ("name", "bad name")]


def test_check_does_not_count_a_value_not_known_yet_as_missing():
    _, failures = EXAMPLE.check({"url": Unknown(), "name": Unknown()})
    assert failures == []


def test_diff_sorts_identity_into_replaces_and_the_rest_into_updates():
    olds = {"url": "http://a", "name": "n", "body": "{}", "salt": "s", "secret_hash": secret_hash({}, "s")}
    assert EXAMPLE.changes(olds, dict(olds)) == ([], [])
    assert EXAMPLE.changes(olds, dict(olds, url="http://b", name="m")) == (["name"], ["url"])
    assert EXAMPLE.changes(olds, dict(olds, body=Unknown())) == ([], ["body"])
    diff = EXAMPLE.diff(olds, dict(olds, name="m"))
    assert diff.changes and diff.replaces == ["name"] and diff.delete_before_replace is True


def test_diff_treats_a_left_out_input_like_its_default_and_an_empty_string_like_none():
    olds = {"url": "http://a", "name": "n", "username": "", "salt": "s", "secret_hash": secret_hash({}, "s")}
    assert EXAMPLE.changes(olds, {"url": "http://a", "name": "n", "username": None, "ready_timeout": 300,
                                  "body": "{}"}) == ([], [])


def test_a_part_of_an_in_place_field_can_be_its_identity():
    table = Contract("T", [Field("doc", IN_PLACE, replaced_when=lambda o, n: n["doc"]["uid"] != o["doc"]["uid"],
                                 replaced_doc="doc.uid")])
    old = {"doc": {"uid": "a", "title": "x"}}
    assert table.changes(old, {"doc": {"uid": "a", "title": "y"}}) == ([], ["doc"])
    assert table.changes(old, {"doc": {"uid": "b", "title": "x"}}) == (["doc"], [])
    assert "replaces when `doc.uid` changes" in table.markdown()


def test_secret_hash_sees_a_change_without_keeping_the_value():
    stored = secret_hash({"password": "hunter2"}, "salt")
    assert "hunter2" not in stored
    assert secret_unchanged({"password": "hunter2"}, "salt", stored)
    assert not secret_unchanged({"password": "hunter3"}, "salt", stored)
    assert not secret_unchanged({"password": "hunter2"}, "other", stored)
    assert not secret_unchanged(Unknown(), "salt", stored)
    assert not secret_unchanged({"password": "hunter2"}, "salt", DRIFTED)
    assert not secret_unchanged({"password": "hunter2"}, None, stored)


def _grafana_hash_of_the_first_release(values: dict[str, str], salt_hex: str) -> str:
    """What GrafanaDatasource stored before the contract module: JSON with spaces, the salt as hex bytes."""
    if not values:
        return ""
    data = json.dumps(values, sort_keys=True).encode()
    return hashlib.pbkdf2_hmac("sha256", data, bytes.fromhex(salt_hex), 100_000).hex()


def test_state_written_by_the_first_release_shows_no_change():
    salt = "00ff" * 8
    values = {"basicAuthPassword": "hunter2"}
    earlier = _grafana_hash_of_the_first_release(values, salt)
    assert earlier != secret_hash(values, salt)
    assert secret_unchanged(values, salt, earlier)
    assert not secret_unchanged({"basicAuthPassword": "changed"}, salt, earlier)
    assert secret_unchanged({}, salt, "")  # no secrets: the first release stored ""


def test_connector_state_of_the_first_release_keeps_its_hash():
    """The Connector stored secret_hash(salt, values) with the same encoding the contract uses."""
    first_release = hashlib.pbkdf2_hmac("sha256", b'{"k":"v"}', b"salt", 100_000).hex()
    assert secret_hash({"k": "v"}, "salt") == first_release


def test_gone_is_an_empty_id():
    assert gone().id == "" and gone().outs == {}


def test_adoption_is_reported_through_pulumi_log_on_create_only(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: said.append(message))
    assert adoption(None, lambda: True, "folder 'f'", "Grafana at http://g") is True
    assert adoption(None, lambda: False, "folder 'g'", "Grafana at http://g") is False
    assert adoption({"adopted": True}, lambda: pytest.fail("not asked on update"), "x", "y") is True
    assert said == ["folder 'f' already existed at Grafana at http://g: adopted it"]


@pytest.mark.parametrize(("status", "cls"), [(404, NotFound), (409, Conflict), (401, Unauthorized),
                                             (500, ServerError), (503, ServerError), (418, ApiError)])
def test_http_errors_are_classes_chosen_by_status_with_the_servers_words(status, cls):
    error = api_error("GET", "http://x/y", status, "the server's own words", {"k": 1})
    assert type(error) is cls and isinstance(error, ApiError)
    assert str(error) == f"GET http://x/y -> HTTP {status}: the server's own words"
    reworded = error.reworded("other words")
    assert type(reworded) is cls and reworded.status == status and reworded.body == {"k": 1}


def test_or_none_turns_only_a_404_that_means_gone_into_none():
    def missing():
        raise api_error("GET", "http://x", 404, "no such thing", {"error_code": 404})

    def failing():
        raise api_error("GET", "http://x", 500, "broken")

    assert or_none(missing) is None
    assert or_none(lambda: 1) == 1
    with pytest.raises(NotFound):
        or_none(missing, gone=lambda exc: False)
    with pytest.raises(ServerError):
        or_none(failing)


def test_a_deadline_cuts_every_retry_window_and_never_goes_negative():
    deadline = Deadline(0.0)
    assert deadline.remaining() == 0.0 and deadline.remaining(60) == 0.0
    assert Deadline(100).remaining(5) == 5
    with HttpClient(Endpoint("http://x"), deadline=Deadline(2)) as http:
        assert http.within(60) <= 2
    with HttpClient(Endpoint("http://x")) as http:
        assert http.within(60) == 60


URL_WITH_PASSWORD = "http://admin:hunter2@localhost:9200"


@pytest.mark.parametrize("table", TABLES, ids=[c.resource for c in TABLES])
def test_a_password_written_into_the_service_url_is_refused_at_check_naming_the_input(table):
    (url,) = [f.name for f in table.fields if f.name.endswith("_url") and f.required]
    _, failures = table.check({url: URL_WITH_PASSWORD})
    (failure,) = [f for f in failures if f.property == url]
    assert failure.reason.startswith(f"{url} carries a password (http://admin:[secret]@localhost:9200)")
    assert "hunter2" not in failure.reason
    _, failures = table.check({url: "http://admin@localhost:9200"})  # a user name alone is no secret
    assert url not in {f.property for f in failures}


def test_a_provider_check_reports_the_password_in_its_url():
    from providers.connect import ConnectorProvider
    result = ConnectorProvider().check({}, {"connect_url": "https://u:p4ss@connect:8083", "connector_name": "c",
                                            "config": {"connector.class": "FileStreamSink", "topics": "t"}})
    assert [(f.property, "p4ss" in f.reason) for f in result.failures] == [("connect_url", False)]


def test_a_password_in_a_url_of_a_connector_config_or_a_datasource_is_refused_naming_the_key():
    from providers.connect import ConnectorProvider
    from providers.grafana.datasource import datasource_problems
    result = ConnectorProvider().check({}, {"connect_url": "http://connect:8083", "connector_name": "c", "config": {
        "connector.class": "ElasticsearchSink", "topics": "t", "connection.url": URL_WITH_PASSWORD}})
    assert [f.reason for f in result.failures] == [
        "config['connection.url'] carries a password (http://admin:[secret]@localhost:9200): URLs are kept in plain "
        "text in state, logs and errors; give the credentials in their secret inputs instead"]
    (problem,) = datasource_problems({"name": "n", "type": "prometheus", "url": URL_WITH_PASSWORD})
    assert problem.startswith("datasource.url carries a password (http://admin:[secret]@") and "hunter2" not in problem
