"""Unit tier: the external platform (services that already run; only the application layer is deployed).

Config validation through the real ``stackconfig`` (the example stack file ``Pulumi.external.yaml`` included),
and the real ``__main__.py`` under Pulumi mocks (a FAKE engine): what it declares, where each service's
credentials go, and that every credential stays a secret.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from stackconfig import ConfigError, check_stack
from tests.pulumi_mocks import base_config, is_secret, run_stack

URLS = {"kafkaBootstrap": "broker-1.example.com:9092,broker-2.example.com:9092",
        "connectUrl": "https://connect.example.com", "ksqldbUrl": "https://ksqldb.example.com:443",
        "elasticsearchUrl": "https://es.example.com", "grafanaUrl": "https://grafana.example.com"}
GRAFANA = {"clickstream:grafanaAdminPassword": "grafana-pw"}
LOGINS = {"connectUser": "connect-user", "ksqldbUser": "KSQLAPIKEY", "elasticsearchUser": "sink-writer",
          "kafkaSecurityProtocol": "SASL_SSL", "kafkaUser": "KAFKAAPIKEY"}
SECRETS = {"connectPassword": "connect-pw-1", "ksqldbPassword": "ksql-api-secret", "elasticsearchPassword": "es-pw-1",
           "elasticsearchApiKey": "ZXMtaWQ6ZXMta2V5", "grafanaToken": "glsa_service_account_token",
           "kafkaPassword": "kafka-api-secret"}
KAFKA_PASSWORD = {"clickstream:kafkaPassword": "kafka-api-secret"}


def external(**values: str) -> dict[str, str]:
    """A whole external stack config (namespaced), with ``values`` (camelCase keys) on top of the URLs."""
    return {"clickstream:platform": "external", **{f"clickstream:{k}": v for k, v in {**URLS, **values}.items()}}


def refused(config: dict[str, str], secret_keys=(), stack: str = "external") -> str:
    with pytest.raises(ConfigError) as caught:
        check_stack(stack, config, list(secret_keys))
    return str(caught.value)


# --- the stack file and the config ------------------------------------------------------------------

def test_example_stack_file_is_an_external_stack_at_local_addresses():
    config = {f"clickstream:{k}": v for k, v in base_config("external").items()}
    cfg = check_stack("external", {**config, **GRAFANA}, list(GRAFANA))
    assert (cfg.platform, cfg.connect_url, cfg.kafka_bootstrap) == ("external", "http://localhost:8083",
                                                                   "localhost:9092")


def test_every_missing_address_is_named():
    message = refused({"clickstream:platform": "external", **GRAFANA}, GRAFANA)
    assert "set kafkaBootstrap, connectUrl, ksqldbUrl, elasticsearchUrl, grafanaUrl" in message


@pytest.mark.parametrize("key", ["connectUrl", "ksqldbUrl", "elasticsearchUrl", "elasticsearchInternalUrl",
                                 "grafanaUrl"])
def test_a_url_with_a_password_inside_is_refused_naming_the_key_never_the_password(key):
    message = refused({**external(**{key: "https://admin:hunter22@svc.example.com"}), **GRAFANA}, GRAFANA)
    line = next(line for line in message.splitlines() if f"clickstream:{key} = " in line)
    assert "must not hold credentials (user:password@)" in line and "svc.example.com" in line
    assert "hunter22" not in message and "admin:" not in message


@pytest.mark.parametrize("key, value, allowed", [
    ("connectUrl", "connect.example.com:8083", "must be the http(s) base URL"),
    ("grafanaUrl", "ftp://grafana.example.com", "must be the http(s) base URL"),
    ("ksqldbUrl", "https://ksqldb.example.com/?x=1", "without spaces, query or fragment"),
    ("kafkaBootstrap", "https://broker:9092", "comma-separated host:port pairs"),
    ("kafkaBootstrap", "broker-1:9092, broker-2:9092", "comma-separated host:port pairs"),
    ("connectUser", "user:name", "other than ':'"),
    ("kafkaSecurityProtocol", "SASL", "'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'"),
    ("kafkaSaslMechanism", "GSSAPI", "'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512'"),
    ("kafkaUser", " KEY", "printable ASCII, no leading or trailing spaces"),
])
def test_an_invalid_external_value_names_key_value_and_what_is_allowed(key, value, allowed):
    message = refused({**external(**{key: value}), **GRAFANA}, GRAFANA)
    line = next(line for line in message.splitlines() if f"clickstream:{key} = " in line)
    assert repr(value) in line and allowed in line, message


def test_external_keys_on_a_platform_that_runs_the_services_are_refused():
    message = refused({**GRAFANA, "clickstream:connectUrl": "https://connect.example.com",
                       "clickstream:ksqldbUser": "key"}, GRAFANA, stack="dev")
    assert "connectUrl, ksqldbUser only apply to platform 'external', but platform is 'docker'" in message


def test_external_secrets_on_another_platform_are_refused():
    secrets = {**GRAFANA, "clickstream:connectPassword": "pw-123", "clickstream:grafanaToken": "tok"}
    message = refused(secrets, secrets, stack="dev")
    assert "clickstream:connectPassword is set, but only the external platform reads it" in message
    assert "clickstream:grafanaToken is set, but only the external platform reads it" in message


def test_a_user_needs_its_password_and_a_password_its_user():
    message = refused({**external(connectUser="u"), **GRAFANA, "clickstream:ksqldbPassword": "pw-123"},
                      [*GRAFANA, "clickstream:ksqldbPassword"])
    assert "clickstream:connectPassword is not set (connectUser is set)" in message
    assert "clickstream:ksqldbPassword is set, but clickstream:ksqldbUser is not" in message


def test_a_kafka_login_on_a_platform_that_runs_kafka_itself_is_refused():
    config = {**GRAFANA, **KAFKA_PASSWORD, "clickstream:kafkaSecurityProtocol": "SASL_SSL",
              "clickstream:kafkaUser": "KEY"}
    message = refused(config, [*GRAFANA, *KAFKA_PASSWORD], stack="dev")
    assert ("kafkaSecurityProtocol = 'SASL_SSL', kafkaUser = 'KEY': the Kafka login only applies to platform "
            "'external' (platform is 'docker'") in message
    assert "clickstream:kafkaPassword is set, but only the external platform reads it" in message
    assert "kafka-api-secret" not in message


def test_a_sasl_protocol_needs_the_kafka_user_and_its_password():
    message = refused({**external(kafkaSecurityProtocol="SASL_SSL"), **GRAFANA}, GRAFANA)
    assert ("kafkaSecurityProtocol 'SASL_SSL' logs in to Kafka: set kafkaUser (Confluent Cloud: the API key) and "
            "the secret kafkaPassword") in message
    message = refused({**external(kafkaSecurityProtocol="SASL_PLAINTEXT", kafkaUser="KEY"), **GRAFANA}, GRAFANA)
    assert "clickstream:kafkaPassword is not set (kafkaUser is set)" in message
    message = refused({**external(), **GRAFANA, **KAFKA_PASSWORD}, [*GRAFANA, *KAFKA_PASSWORD])
    assert "clickstream:kafkaPassword is set, but clickstream:kafkaUser is not" in message


def test_a_kafka_login_without_sasl_is_refused_naming_what_would_take_it():
    message = refused({**external(kafkaUser="KEY", kafkaSaslMechanism="SCRAM-SHA-512"), **GRAFANA,
                       **KAFKA_PASSWORD}, [*GRAFANA, *KAFKA_PASSWORD])
    assert ("kafkaUser = 'KEY', kafkaSaslMechanism = 'SCRAM-SHA-512' only apply with a SASL login, but "
            "kafkaSecurityProtocol is 'PLAINTEXT': set kafkaSecurityProtocol to SASL_SSL (Confluent Cloud) or "
            "SASL_PLAINTEXT, or remove them") in message


def test_the_kafka_password_must_be_a_secret_and_is_never_quoted():
    config = {**external(kafkaSecurityProtocol="SASL_SSL", kafkaUser="KEY"), **GRAFANA, **KAFKA_PASSWORD}
    message = refused(config, GRAFANA)
    assert "clickstream:kafkaPassword is set as plain text" in message and "kafka-api-secret" not in message
    blank = {"clickstream:kafkaPassword": "  "}
    assert "clickstream:kafkaPassword (value not shown) is empty or blank" in refused(
        {**config, **blank}, [*GRAFANA, *blank])
    cfg = check_stack("external", {**config, "clickstream:kafkaSaslMechanism": "SCRAM-SHA-256",
                                   "clickstream:kafkaPassword": "pässwort-non-ascii"}, [*GRAFANA, *KAFKA_PASSWORD])
    assert (cfg.kafka_security_protocol, cfg.kafka_sasl_mechanism, cfg.kafka_user) == ("SASL_SSL", "SCRAM-SHA-256",
                                                                                        "KEY")


def test_grafana_takes_a_token_or_the_admin_password_not_both():
    token = {"clickstream:grafanaToken": "glsa_x"}
    assert check_stack("external", {**external(), **token}, list(token)).platform == "external"
    assert "grafanaAdminPassword is not set (or the secret grafanaToken instead)" in refused(external())
    both = {**GRAFANA, **token}
    assert "grafanaToken and clickstream:grafanaAdminPassword are both set" in refused({**external(), **both}, both)


def test_tokens_must_be_secrets_and_usable():
    token = {"clickstream:grafanaToken": "two words"}
    message = refused({**external(), **token, "clickstream:elasticsearchApiKey": "plain-key"}, list(token))
    assert "clickstream:grafanaToken (value not shown) must be the token as the service issued it" in message
    assert "clickstream:elasticsearchApiKey is set as plain text" in message and "plain-key" not in message


def test_elasticsearch_security_is_not_a_setting_of_the_external_platform():
    message = refused({**external(elasticsearchSecurity="true"), **GRAFANA}, GRAFANA)
    assert "on the external platform Elasticsearch runs as it is" in message


# --- the program --------------------------------------------------------------------------------------

def graph(config: dict[str, str] | None = None, secrets: dict[str, str] | None = None):
    return run_stack("external", {**URLS, **(config or {})},
                     secrets={"grafanaAdminPassword": "grafana-pw"} if secrets is None else secrets)


def app_layer(g, type_suffix: str) -> list:
    return [r for r in g.resources if r.type.startswith("pulumi-python:dynamic") and r.type.endswith(type_suffix)]


def outside_secrets(value: Any) -> Any:
    """``value`` with every secret replaced: what would be stored in clear."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: outside_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [outside_secrets(v) for v in value]
    return value


def test_external_stack_declares_no_infrastructure_and_exports_the_given_urls():
    g = graph()
    components = sorted(r.type for r in g.resources if r.type.startswith("clickstream:external:"))
    assert components == sorted(f"clickstream:external:{kind}"
                                for kind in ("Kafka", "Connect", "Ksqldb", "Elasticsearch", "Grafana"))
    assert not [r for r in g.resources if r.type.startswith(("docker:", "kubernetes:"))]
    assert {key: g.exports[key] for key in URLS} == URLS
    for connector in app_layer(g, ":Connector"):
        assert connector.inputs["connect_url"] == URLS["connectUrl"] and connector.inputs.get("username") is None
        assert connector.inputs.get("password") is None
    aliases = app_layer(g, ":IndexAlias")
    assert aliases and all(a.inputs["kafka_bootstrap"] == URLS["kafkaBootstrap"]
                           and a.inputs["kafka_security_protocol"] == "PLAINTEXT"
                           and a.inputs.get("kafka_username") is None and a.inputs.get("kafka_password") is None
                           for a in aliases)


def test_each_service_gets_its_login_and_every_credential_stays_secret():
    g = graph({**LOGINS, "elasticsearchInternalUrl": "http://es.internal:9200"},
              {k: v for k, v in SECRETS.items()})
    for connector in app_layer(g, ":Connector"):
        assert connector.inputs["username"] == "connect-user" and is_secret(connector.inputs["password"])
    ksql = app_layer(g, ":Stream") + app_layer(g, ":Table")
    assert ksql and all(r.inputs["username"] == "KSQLAPIKEY" and is_secret(r.inputs["password"]) for r in ksql)
    (template,) = app_layer(g, ":IndexTemplate")
    assert is_secret(template.inputs["api_key"]) and template.inputs.get("username") is None
    sinks = [c for c in app_layer(g, ":Connector") if c.inputs["connector_name"].startswith("es-sink-")]
    assert sinks and all(s.inputs["config"]["connection.url"] == "http://es.internal:9200"
                         and s.inputs["config"]["connection.username"] == "sink-writer"
                         and is_secret(s.inputs["secret_config"]) for s in sinks)
    grafana = [r for r in g.resources if r.type.startswith("pulumi-python:dynamic/grafana:")]
    assert grafana and all(is_secret(r.inputs["api_key"]) and r.inputs.get("username") is None for r in grafana)
    aliases = app_layer(g, ":IndexAlias")
    assert aliases and all(a.inputs["kafka_security_protocol"] == "SASL_SSL" and a.inputs["kafka_sasl_mechanism"] ==
                           "PLAIN" and a.inputs["kafka_username"] == "KAFKAAPIKEY"
                           and is_secret(a.inputs["kafka_password"]) for a in aliases)
    datasources = app_layer(g, ":Datasource")
    assert all(d.inputs["datasource"]["basicAuthUser"] == "sink-writer" for d in datasources)
    in_clear = json.dumps([outside_secrets(r.inputs) for r in g.resources]) + json.dumps(g.exports)
    assert not [name for name, value in SECRETS.items() if value in in_clear]


def test_external_stack_fails_at_preview_naming_a_missing_address():
    config = {k: v for k, v in URLS.items() if k != "grafanaUrl"}
    with pytest.raises(ConfigError, match="set grafanaUrl"):
        run_stack("external", {**config, "grafanaUrl": ""}, preview=True)
