"""Unit tier: stack configuration (no network, no Docker).

The stack files and Pulumi.yaml are the REAL project files; config is validated by the real
``clickstream.config``; the last tests run the real ``__main__.py`` under Pulumi mocks (a FAKE engine).
"""
from __future__ import annotations

import typing

import pytest
import yaml

from clickstream.config import SECRET_KEYS, ConfigError, StackConfig, parse_config
from tests.pulumi_mocks import ROOT, base_config, run_stack

STACKS = ("dev", "staging", "prod")


def problems(raw: dict[str, str], stack: str = "dev") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(stack, raw)
    return str(caught.value)


# --- the stacks' own config files ------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_file_validates(stack):
    cfg = parse_config(stack, base_config(stack))
    assert cfg.platform == ("docker" if stack == "dev" else "kubernetes")


def test_dev_stack_is_one_of_each_service_on_docker():
    cfg = parse_config("dev", base_config("dev"))
    assert (cfg.kafka_brokers, cfg.replication_factor, cfg.min_insync_replicas) == (1, 1, 1)
    assert (cfg.connect_workers, cfg.ksqldb_servers, cfg.elasticsearch_nodes) == (1, 1, 1)


def test_prod_stack_is_a_real_cluster():
    cfg = parse_config("prod", base_config("prod"))
    assert (cfg.kafka_brokers, cfg.replication_factor, cfg.min_insync_replicas) == (3, 3, 2)
    assert cfg.connect_workers >= 2 and cfg.ksqldb_servers >= 2 and cfg.elasticsearch_nodes == 3
    assert cfg.elasticsearch_security and cfg.protect


@pytest.mark.parametrize("stack", ("staging", "prod"))
def test_non_dev_stack_files_hold_no_passwords(stack):
    raw = base_config(stack)
    assert not set(raw) & set(SECRET_KEYS), "passwords must be set with `pulumi config set --secret`"


# --- invalid values: the message names the key, the value and what is allowed -----------------------

@pytest.mark.parametrize("key, value, allowed", [
    ("platform", "swarm", "Input should be 'docker' or 'kubernetes'"),
    ("kafkaHostPort", "80", "greater than or equal to 1024"),
    ("grafanaPort", "70000", "less than or equal to 65535"),
    ("connectPort", "http", "valid integer"),
    ("kafkaImage", "confluentinc/cp-kafka", "pinned by an explicit tag other than 'latest'"),
    ("grafanaImage", "grafana/grafana:latest", "pinned by an explicit tag other than 'latest'"),
    ("kafkaHeap", "1GB", "JVM heap size such as '512m' or '2g'"),
    ("elasticsearchHeap", "0g", "JVM heap size such as '512m' or '2g'"),
    ("namePrefix", "Click_Stream", "must be a DNS label"),
    ("datagenVersion", "latest", "must be a released version"),
    ("elasticsearchSecurity", "maybe", "valid boolean"),
    ("kafkaStorage", "10GB", "storage quantity such as '512Mi'"),
    ("adminAccess", "nodeport", "Input should be 'port-forward' or 'ingress'"),
])
def test_invalid_value_names_key_value_and_what_is_allowed(key, value, allowed):
    message = problems({key: value})
    line = next(line for line in message.splitlines() if f"clickstream:{key} = " in line)
    assert repr(value) in line and allowed in line, message


def test_every_invalid_key_is_reported_at_once():
    message = problems({"kafkaHostPort": "80", "kafkaHeap": "lots"})
    assert "clickstream:kafkaHostPort = '80'" in message and "clickstream:kafkaHeap = 'lots'" in message


def test_replication_factor_above_broker_count_is_rejected():
    message = problems({"platform": "kubernetes", "kafkaBrokers": "2", "replicationFactor": "3"}, "staging")
    assert "replicationFactor (3) must be <= kafkaBrokers (2)" in message


def test_min_insync_replicas_above_replication_factor_is_rejected():
    message = problems({"platform": "kubernetes", "kafkaBrokers": "3", "replicationFactor": "2",
                        "minInsyncReplicas": "3"}, "staging")
    assert "minInsyncReplicas (3) must be <= replicationFactor (2)" in message


@pytest.mark.parametrize("key", ["kafkaBrokers", "connectWorkers", "ksqldbServers", "elasticsearchNodes"])
def test_docker_platform_runs_one_of_each_service(key):
    raw = {"platform": "docker", key: "2"}
    if key == "kafkaBrokers":
        raw["replicationFactor"] = "1"
    assert "the docker platform runs one of each service" in problems(raw)


def test_host_ports_must_be_distinct():
    message = problems({"grafanaPort": "8088"})
    assert "host ports must be distinct, got [9092, 8083, 8088, 9200, 8088]" in message


def test_ingress_needs_a_domain():
    assert "adminAccess 'ingress' needs ingressDomain" in problems({"platform": "kubernetes",
                                                                      "adminAccess": "ingress"})


def test_unknown_key_is_named_with_the_allowed_keys():
    message = problems({"kafkaBroker": "1"})
    assert "unknown config key(s) clickstream:kafkaBroker" in message
    assert "kafkaBrokers" in message.split("allowed keys:")[1]


# --- Pulumi.yaml declares exactly the same keys, types and defaults ---------------------------------

_YAML_TYPE = {str: "string", int: "integer", bool: "boolean"}


def _yaml_type(annotation) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        (kind,) = {type(choice) for choice in typing.get_args(annotation)}
        return _YAML_TYPE[kind]
    return _YAML_TYPE[annotation]


def _declared() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_pulumi_yaml_declares_exactly_the_stack_config_keys():
    optional_secrets = {"elasticsearchPassword"}
    assert set(_declared()) | optional_secrets == set(StackConfig.keys())


@pytest.mark.parametrize("name", list(StackConfig.model_fields))
def test_pulumi_yaml_type_and_default_match_the_model(name):
    field = StackConfig.model_fields[name]
    declared = _declared()[field.alias or name]
    assert declared["type"] == _yaml_type(field.annotation)
    assert declared["default"] == field.default
    assert declared.get("description"), "every key needs a description (docs/configuration.md lists it)"


def test_pulumi_yaml_grafana_password_is_a_secret_without_default():
    declared = _declared()["grafanaAdminPassword"]
    assert declared.get("secret") is True and "default" not in declared


# --- the program itself fails at preview ------------------------------------------------------------

def test_program_fails_at_preview_on_an_invalid_value():
    with pytest.raises(ConfigError, match=r"clickstream:kafkaHostPort = '22'"):
        run_stack("dev", {"kafkaHostPort": "22"}, preview=True)


def test_program_fails_at_preview_without_grafana_password():
    with pytest.raises(ConfigError, match="grafanaAdminPassword is not set"):
        run_stack("dev", secrets={}, preview=True)


def test_program_fails_when_security_is_on_without_elasticsearch_password():
    with pytest.raises(ConfigError, match="elasticsearchPassword must be set"):
        run_stack("dev", {"elasticsearchSecurity": "true"}, secrets={"grafanaAdminPassword": "pw"},
                  preview=True)


def test_program_fails_at_preview_for_a_docker_cluster():
    with pytest.raises(ConfigError, match="docker platform runs one of each service"):
        run_stack("dev", {"kafkaBrokers": "3", "replicationFactor": "1"}, preview=True)
