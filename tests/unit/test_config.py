"""Unit tier: stack configuration (no network, no Docker).

The stack files and Pulumi.yaml are the REAL project files; config is validated by the real
``stackconfig``; the last tests run the real ``__main__.py`` under Pulumi mocks (a FAKE engine).
"""
from __future__ import annotations

import typing

import pulumi
import pytest
import yaml

from stackconfig import SECRET_KEYS, ConfigError, StackConfig, check_stack, parse_config
from tests.pulumi_mocks import ROOT, base_config, run_stack

STACKS = ("dev", "staging", "prod", "operators", "external")
PLATFORMS = {"dev": "docker", "external": "external"}  # the others: kubernetes
GOOD_SECRETS = {"clickstream:grafanaAdminPassword": "grafana-pw", "clickstream:elasticsearchPassword": "es-pw"}
K8S = {"platform": "kubernetes", "kubeContext": "clickstream-staging", "elasticsearchSecurity": "true"}


def problems(raw: dict[str, str], stack: str = "dev") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(stack, raw)
    return str(caught.value)


def stack_problems(config: dict[str, str], secret_keys=None, stack: str = "dev") -> str:
    """The ConfigError of a whole stack config (namespaced keys, secrets included)."""
    secret_keys = [k for k in config if k in GOOD_SECRETS] if secret_keys is None else secret_keys
    with pytest.raises(ConfigError) as caught:
        check_stack(stack, config, secret_keys)
    return str(caught.value)


# --- the stacks' own config files ------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_file_validates(stack):
    cfg = parse_config(stack, base_config(stack))
    assert cfg.platform == PLATFORMS.get(stack, "kubernetes")
    assert cfg.role == ("operators" if stack == "operators" else "pipeline")


@pytest.mark.parametrize("stack", ["staging", "prod", "operators"])
def test_kubernetes_stack_files_name_their_own_context(stack):
    cfg = parse_config(stack, base_config(stack))
    assert cfg.kube_context == f"clickstream-{stack}"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_staging_and_prod_share_the_clusters_operators(stack):
    assert parse_config(stack, base_config(stack)).install_operators is False


def test_dev_stack_is_one_of_each_service_on_docker():
    cfg = parse_config("dev", base_config("dev"))
    assert (cfg.kafka_brokers, cfg.replication_factor, cfg.min_insync_replicas) == (1, 1, 1)
    assert (cfg.connect_workers, cfg.ksqldb_servers, cfg.elasticsearch_nodes) == (1, 1, 1)


def test_prod_stack_is_a_real_cluster():
    cfg = parse_config("prod", base_config("prod"))
    assert (cfg.kafka_brokers, cfg.replication_factor, cfg.min_insync_replicas) == (3, 3, 2)
    assert cfg.connect_workers >= 2 and cfg.ksqldb_servers >= 2 and cfg.elasticsearch_nodes == 3
    assert cfg.elasticsearch_security and cfg.protect


@pytest.mark.parametrize("stack", ("staging", "prod", "operators", "external"))
def test_non_dev_stack_files_hold_no_passwords(stack):
    raw = base_config(stack)
    assert not set(raw) & set(SECRET_KEYS), "passwords must be set with `pulumi config set --secret`"


# --- invalid values: the message names the key, the value and what is allowed -----------------------

@pytest.mark.parametrize("key, value, allowed", [
    ("platform", "swarm", "Input should be 'docker', 'kubernetes' or 'external'"),
    ("kafkaHostPort", "80", "greater than or equal to 1024"),
    ("kafkaHostPort", "65536", "less than or equal to 65535"),
    ("kafkaHostPort", "9092-9094", "valid integer"),
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
    ("role", "everything", "Input should be 'pipeline' or 'operators'"),
    ("ingressController", "haproxy", "Input should be 'ingress-nginx' or 'traefik'"),
    ("installOperators", "sometimes", "valid boolean"),
    ("elasticsearchRetentionDays", "-1", "greater than or equal to 0"),
    ("elasticsearchRetentionDays", "3651", "less than or equal to 3650"),
    ("elasticsearchRetentionDays", "a week", "valid integer"),
    # the high-bandwidth threshold is derived from these (clickstream/content/rates.py)
    ("highBandwidthPercent", "100", "greater than or equal to 101"),
    ("sessionizePauseSeconds", "30", "greater than or equal to 31"),
    # JVM heaps within sane bounds per service
    ("kafkaHeap", "1m", "from 256m to 31g"),
    ("kafkaHeap", "99999999999g", "from 256m to 31g"),
    ("connectHeap", "128m", "from 512m to 31g"),
    ("ksqldbHeap", "64g", "from 512m to 31g"),
    ("elasticsearchHeap", "256m", "from 512m to 31g"),
    # storage sizes within sane bounds per volume
    ("kafkaStorage", "1Mi", "from 1Gi to 64Ti"),
    ("elasticsearchStorage", "999999Ti", "from 1Gi to 64Ti"),
    ("grafanaStorage", "1Mi", "from 256Mi to 100Gi"),
    ("grafanaStorage", "5Ti", "from 256Mi to 100Gi"),
    # Kubernetes names: DNS rules
    ("ingressDomain", "Example.COM", "must be empty or a DNS name"),
    ("ingressDomain", "example..com", "must be empty or a DNS name"),
    ("ingressDomain", "-bad.example.com", "must be empty or a DNS name"),
    ("ingressDomain", "a" * 64 + ".com", "must be empty or a DNS name"),
    ("ingressDomain", "https://example.com", "must be empty or a DNS name"),
    ("storageClass", "fast_ssd", "must be empty or a DNS name"),
    ("storageClass", "Fast", "must be empty or a DNS name"),
    ("ingressClass", "nginx public", "must be empty or a DNS name"),
    ("ingressClass", "nginx-", "must be empty or a DNS name"),
    # the Grafana admin user travels in HTTP basic authentication
    ("grafanaAdminUser", "ad:min", "other than ':'"),
    ("grafanaAdminUser", "ad\nmin", "printable ASCII"),
    ("grafanaAdminUser", "Jürgen", "printable ASCII"),
    ("grafanaAdminUser", "管理员", "printable ASCII"),
    ("grafanaAdminUser", "   ", "without leading or trailing spaces"),
    ("grafanaAdminUser", " admin", "without leading or trailing spaces"),
    ("kubeContext", "prod\n", "kubeconfig context name"),
    ("ingressAllowList", "10.0.0.0/33", "entry 1 '10.0.0.0/33' is no IP network"),
    ("ingressAllowList", "office", "entry 1 'office' is no IP network"),
    # an allow list made only of separators would render an empty list
    ("ingressAllowList", ", ,", "entry 1 is empty"),
    ("ingressAllowList", " ", "entry 1 is empty"),
    ("ingressAllowList", "10.0.0.0/8,,10.1.0.0/16", "entry 2 is empty"),
    ("ingressAllowList", "10.0.0.0/8,", "entry 2 is empty"),
    ("ingressDomain", ".".join(["a" * 60] * 4), "at most 253 characters, so ingressDomain at most 239"),
])
def test_invalid_value_names_key_value_and_what_is_allowed(key, value, allowed):
    message = problems({key: value})
    line = next(line for line in message.splitlines() if f"clickstream:{key} = " in line)
    assert repr(value) in line and allowed in line, message


@pytest.mark.parametrize("key, value", [
    ("highBandwidthPercent", "1000"), ("kafkaHeap", "256m"), ("kafkaHeap", "31g"),
    ("elasticsearchStorage", "64Ti"), ("grafanaStorage", "256Mi"), ("ingressDomain", "clickstream.example.com"),
    ("storageClass", "gp3"), ("ingressClass", "nginx-internal"), ("grafanaAdminUser", "ops admin"),
    ("kubeContext", "arn:aws:eks:eu-west-1:123456789012:cluster/prod"),
    ("ingressAllowList", "203.0.113.0/24, 198.51.100.7, 2001:db8::/32"),
])
def test_boundary_and_realistic_values_are_accepted(key, value):
    parse_config("dev", {key: value})


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
    assert ("host ports must be distinct, got 8088 more than once among Kafka's [9092] (kafkaHostPort + 0 .. "
            "kafkaBrokers - 1, one per broker), connectPort 8083, ksqldbPort 8088, elasticsearchPort 9200, "
            "grafanaPort 8088") in message


def test_each_broker_takes_a_host_port():
    """On Kubernetes broker i is port-forwarded from kafkaHostPort + i: a later broker's port may collide."""
    message = problems({**K8S, "kafkaBrokers": "3", "kafkaHostPort": "8081"}, "staging")
    assert "host ports must be distinct, got 8083 more than once among Kafka's [8081, 8082, 8083]" in message
    parse_config("staging", {**K8S, "kafkaBrokers": "3", "kafkaHostPort": "8084"})  # 8084-8086: all free


def test_the_last_brokers_host_port_must_be_a_port():
    message = problems({**K8S, "kafkaBrokers": "3", "kafkaHostPort": "65534"}, "staging")
    assert ("kafkaHostPort (65534) + kafkaBrokers (3) - 1 must be <= 65535: broker i is reached at local port "
            "kafkaHostPort + i; lower kafkaHostPort to at most 65533") in message
    assert parse_config("staging", {**K8S, "kafkaBrokers": "3", "kafkaHostPort": "65533"}).kafka_host_port == 65533


def test_an_invalid_broker_count_skips_the_host_port_rules():
    """The port rules read kafkaBrokers: with an invalid count only the count is reported."""
    message = problems({**K8S, "kafkaBrokers": "10", "kafkaHostPort": "65535"}, "staging")
    assert "clickstream:kafkaBrokers = '10'" in message and "kafkaHostPort (" not in message


def test_ingress_needs_a_domain():
    assert "adminAccess 'ingress' needs ingressDomain" in problems({**K8S, "adminAccess": "ingress",
                                                                      "ingressAllowList": "10.0.0.0/8"})


def test_ingress_without_an_allow_list_is_refused():
    message = problems({**K8S, "adminAccess": "ingress", "ingressDomain": "example.com"})
    assert "exposes Kafka Connect and ksqlDB, which have no authentication of their own: set " \
           "ingressAllowList" in message


def test_kubernetes_needs_a_named_context():
    message = problems({**K8S, "kubeContext": ""}, "staging")
    assert "the kubernetes platform needs kubeContext: name the kubeconfig context" in message


def test_operators_role_needs_kubernetes():
    assert "role 'operators' installs the shared Kubernetes operators: it needs platform 'kubernetes'" in \
        problems({"role": "operators"})


def test_operators_stack_needs_no_secrets_and_no_elasticsearch_security():
    config = {f"clickstream:{k}": v for k, v in base_config("operators").items()}
    assert check_stack("operators", config, []).role == "operators"


def test_unknown_key_is_named_with_its_value_the_closest_key_and_the_allowed_keys():
    message = problems({"kafkaBroker": "1"})
    assert "clickstream:kafkaBroker = '1': unknown key (did you mean clickstream:kafkaBrokers?)" in message
    assert "kafkaBrokers" in message.split("allowed keys:")[1]


def test_unknown_secret_key_is_named_without_its_value():
    config = {**GOOD_SECRETS, "clickstream:grafanaAdminPasword": "typo-secret-pw"}
    message = stack_problems(config, secret_keys=list(config))
    assert "clickstream:grafanaAdminPasword (value not shown): unknown key (did you mean " \
           "clickstream:grafanaAdminPassword?)" in message
    assert "typo-secret-pw" not in message


# --- no problem hides another ------------------------------------------------------------------------

def test_an_unknown_key_hides_no_bad_value_and_no_rule():
    message = problems({"kafkaBroker": "1", "kafkaHeap": "lots", "grafanaPort": "8088"})
    assert "clickstream:kafkaBroker = '1': unknown key" in message
    assert "clickstream:kafkaHeap = 'lots'" in message
    assert "host ports must be distinct" in message


def test_a_bad_value_hides_no_cross_key_rule():
    message = problems({"kafkaHeap": "lots", "grafanaPort": "8088", "adminAccess": "ingress",
                        "role": "operators"})
    assert "clickstream:kafkaHeap = 'lots'" in message
    assert "host ports must be distinct, got 8088 more than once" in message
    assert "adminAccess 'ingress' needs ingressDomain" in message
    assert "role 'operators' installs the shared Kubernetes operators" in message


def test_a_bad_value_hides_no_per_stack_rule():
    message = problems({**base_config("prod"), "kafkaHeap": "lots", "protect": "false", "minInsyncReplicas": "1",
                        "replicationFactor": "2", "kafkaBrokers": "1"}, "prod")
    assert "clickstream:kafkaHeap = 'lots'" in message
    assert "replicationFactor (2) must be <= kafkaBrokers (1)" in message
    assert "stack 'prod': protect must be true" in message
    assert "stack 'prod': replicationFactor must be >= 3 and minInsyncReplicas >= 2, got 2 and 1" in message


def test_every_kind_of_problem_in_one_message():
    config = {"clickstream:kafkaBroker": "1", "clickstream:kafkaHeap": "lots", "clickstream:grafanaPort": "8088",
              "clickstream:elasticsearchSecurity": "true", "clikstream:protect": "true"}
    message = stack_problems(config, stack="dev")
    for expected in ("clikstream:protect belong to no namespace", "clickstream:kafkaBroker = '1': unknown key",
                     "clickstream:kafkaHeap = 'lots'", "host ports must be distinct",
                     "grafanaAdminPassword is not set", "elasticsearchPassword is not set"):
        assert expected in message, message


def test_a_rule_reading_an_invalid_value_is_not_judged_on_a_default():
    """kafkaBrokers='x' is reported; replicationFactor is not compared with a broker count nobody set."""
    message = problems({**K8S, "kafkaBrokers": "x", "replicationFactor": "3"}, "staging")
    assert "clickstream:kafkaBrokers = 'x'" in message
    assert "must be <= kafkaBrokers" not in message


# --- allowed, with a warning at preview ------------------------------------------------------------

INGRESS = {"adminAccess": "ingress", "ingressDomain": "example.com"}


@pytest.mark.parametrize("allow_list, everyone", [
    ("0.0.0.0/0", "0.0.0.0/0"), ("203.0.113.0/24, ::/0", "::/0"), ("10.0.0.0/8,0.0.0.0/0", "0.0.0.0/0")])
def test_an_allow_list_admitting_every_address_is_warned_about_at_preview(monkeypatch, allow_list, everyone):
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    run_stack("staging", {**INGRESS, "ingressAllowList": allow_list}, preview=True)
    (warning,) = warned
    assert f"clickstream:ingressAllowList holds {everyone}: every address can reach" in warning


def test_a_narrow_allow_list_is_not_warned_about(monkeypatch):
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    run_stack("staging", {**INGRESS, "ingressAllowList": "203.0.113.0/24"}, preview=True)
    assert warned == []


# --- secrets: set, set as secrets, usable; never quoted --------------------------------------------

@pytest.mark.parametrize("key, password, reason", [
    ("grafanaAdminPassword", "", "is empty or blank"),
    ("grafanaAdminPassword", "   \t ", "is empty or blank"),
    ("elasticsearchPassword", " ", "is empty or blank"),
    ("grafanaAdminPassword", "pässwörd-ß", "characters other than printable ASCII"),
    ("grafanaAdminPassword", "密码密码密码密码", "characters other than printable ASCII"),
    ("elasticsearchPassword", "secret€uro!", "characters other than printable ASCII"),
    ("elasticsearchPassword", "line\nbreak", "characters other than printable ASCII"),
    ("grafanaAdminPassword", "a1b2", "shorter than 5 characters"),
])
def test_unusable_password_is_refused_without_showing_it(key, password, reason):
    message = stack_problems({**GOOD_SECRETS, "clickstream:elasticsearchSecurity": "true",
                              f"clickstream:{key}": password})
    line = next(line for line in message.splitlines() if f"clickstream:{key} (value not shown)" in line)
    assert reason in line, message
    if password.strip():
        assert password not in message
    # what a UnicodeEncodeError would quote: any character outside printable ASCII (newlines end lines)
    unusual = {c for c in password if not " " <= c <= "~"} - {"\n"}
    assert not unusual & set(message), "a character of the password appears in the message"


def test_password_set_as_plain_config_is_detected():
    message = stack_problems({**GOOD_SECRETS}, secret_keys=["clickstream:elasticsearchPassword"])
    assert "clickstream:grafanaAdminPassword is set as plain text" in message
    assert "pulumi config rm grafanaAdminPassword" in message and "grafana-pw" not in message


def test_every_missing_secret_is_reported_at_once():
    message = stack_problems({"clickstream:elasticsearchSecurity": "true"})
    assert "clickstream:grafanaAdminPassword is not set" in message
    assert "clickstream:elasticsearchPassword is not set (elasticsearchSecurity is true)" in message


def test_missing_secrets_are_reported_with_invalid_values():
    message = stack_problems({"clickstream:elasticsearchSecurity": "true", "clickstream:kafkaHeap": "1m"})
    assert "clickstream:kafkaHeap = '1m'" in message
    assert "grafanaAdminPassword is not set" in message and "elasticsearchPassword is not set" in message


@pytest.mark.parametrize("key", ["clikstream:kafkaHeap", "clickstream-prod:protect", "kuberentes:context"])
def test_key_in_an_unknown_namespace_is_refused(key):
    message = stack_problems({**GOOD_SECRETS, key: "x"})
    assert f"config key(s) {key} belong to no namespace this project reads" in message


@pytest.mark.parametrize("key", ["kubernetes:context", "docker:host", "pulumi:template"])
def test_provider_and_engine_namespaces_are_accepted(key):
    assert check_stack("dev", {**GOOD_SECRETS, key: "x"}, list(GOOD_SECRETS)).platform == "docker"


def test_valid_secrets_pass():
    config = {**GOOD_SECRETS, "clickstream:elasticsearchSecurity": "true"}
    assert check_stack("dev", config, list(GOOD_SECRETS)).elasticsearch_security


# --- Pulumi.yaml declares exactly the same keys, types and defaults ---------------------------------

_YAML_TYPE = {str: "string", int: "integer", bool: "boolean"}


def _yaml_type(annotation) -> str:
    if typing.get_origin(annotation) is tuple:
        return "array"
    if typing.get_origin(annotation) is typing.Literal:
        (kind,) = {type(choice) for choice in typing.get_args(annotation)}
        return _YAML_TYPE[kind]
    return _YAML_TYPE[annotation]


def _declared() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_pulumi_yaml_declares_exactly_the_stack_config_keys_but_the_secrets():
    assert set(_declared()) == set(StackConfig.keys()) - set(SECRET_KEYS)


@pytest.mark.parametrize("name", list(StackConfig.model_fields))
def test_pulumi_yaml_type_and_default_match_the_model(name):
    field = StackConfig.model_fields[name]
    declared = _declared()[field.alias or name]
    assert declared["type"] == _yaml_type(field.annotation)
    assert declared["default"] == (list(field.default) if isinstance(field.default, tuple) else field.default)
    assert declared.get("description"), "every key needs a description (docs/configuration.md lists it)"


def test_pulumi_yaml_names_every_secret_it_leaves_to_stackconfig():
    """A declared secret would be required by the CLI on every stack (a secret cannot have a default), so the
    secrets are left to ``check_stack``; the comment in Pulumi.yaml names each one."""
    text = (ROOT / "Pulumi.yaml").read_text()
    comment = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert all(key in comment for key in SECRET_KEYS), comment


# --- the program itself fails at preview ------------------------------------------------------------

def test_program_fails_at_preview_on_an_invalid_value():
    with pytest.raises(ConfigError, match=r"clickstream:kafkaHostPort = '22'"):
        run_stack("dev", {"kafkaHostPort": "22"}, preview=True)


def test_program_fails_at_preview_without_grafana_password():
    with pytest.raises(ConfigError, match="grafanaAdminPassword is not set"):
        run_stack("dev", secrets={}, preview=True)


def test_program_reports_every_missing_secret_at_preview():
    with pytest.raises(ConfigError) as caught:
        run_stack("prod", secrets={}, preview=True)
    assert "grafanaAdminPassword is not set" in str(caught.value)
    assert "elasticsearchPassword is not set" in str(caught.value)


def test_program_fails_at_preview_on_a_plain_text_password():
    with pytest.raises(ConfigError, match="grafanaAdminPassword is set as plain text") as caught:
        run_stack("dev", {"grafanaAdminPassword": "plain-pw-1"}, secrets={}, preview=True)
    assert "plain-pw-1" not in str(caught.value)


def test_program_fails_at_preview_on_a_misspelt_namespace():
    with pytest.raises(ConfigError, match="clikstream:kafkaHeap belong to no namespace"):
        run_stack("dev", {"clikstream:kafkaHeap": "2g"}, preview=True)


def test_program_fails_when_security_is_on_without_elasticsearch_password():
    with pytest.raises(ConfigError, match="elasticsearchPassword is not set"):
        run_stack("dev", {"elasticsearchSecurity": "true"}, secrets={"grafanaAdminPassword": "pw-grafana"},
                  preview=True)


def test_program_fails_at_preview_for_a_docker_cluster():
    with pytest.raises(ConfigError, match="docker platform runs one of each service"):
        run_stack("dev", {"kafkaBrokers": "3", "replicationFactor": "1"}, preview=True)


def test_program_fails_at_preview_for_a_kubernetes_stack_without_context():
    with pytest.raises(ConfigError, match="the kubernetes platform needs kubeContext"):
        run_stack("staging", {"kubeContext": ""}, preview=True)


# --- the alert webhook: optional, a secret, an http(s) URL; never quoted ---------------------------------

WEBHOOK = "https://hooks.example.com/alerts/t0ken-123"


def test_alert_webhook_is_optional_and_accepted_as_a_secret_url():
    check_stack("dev", {**GOOD_SECRETS, "clickstream:alertWebhookUrl": WEBHOOK},
                secret_keys=[*GOOD_SECRETS, "clickstream:alertWebhookUrl"])


def test_alert_webhook_set_as_plain_config_or_not_a_url_is_refused_without_showing_it():
    plain = stack_problems({**GOOD_SECRETS, "clickstream:alertWebhookUrl": WEBHOOK}, secret_keys=list(GOOD_SECRETS))
    assert "clickstream:alertWebhookUrl is set as plain text" in plain and "rotate a token it carries" in plain
    assert "t0ken" not in plain
    bad = stack_problems({**GOOD_SECRETS, "clickstream:alertWebhookUrl": "hooks.example.com/t0ken"},
                         secret_keys=[*GOOD_SECRETS, "clickstream:alertWebhookUrl"])
    assert "clickstream:alertWebhookUrl (value not shown) must be an http(s) URL" in bad and "t0ken" not in bad


# --- the namespace and the durability of replicated topics ---------------------------------------------

@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease", "default", "kube-flannel"])
def test_a_system_namespace_is_refused_naming_the_key(namespace):
    message = problems({**K8S, "namespace": namespace}, "staging")
    assert f"namespace '{namespace}' is a namespace of the cluster itself (kube-system, kube-public, " \
           "kube-node-lease, default, kube-*)" in message


def test_min_insync_replicas_equal_to_a_replication_factor_above_one_is_refused_on_every_stack():
    assert "minInsyncReplicas (3) must be < replicationFactor (3) when replicationFactor > 1" in problems(
        {**base_config("prod"), "minInsyncReplicas": "3"}, "prod")
    assert "minInsyncReplicas (2) must be < replicationFactor (2)" in problems(
        {**K8S, "kafkaBrokers": "3", "replicationFactor": "2", "minInsyncReplicas": "2"}, "staging")
    assert parse_config("staging", {**K8S, "kafkaBrokers": "3", "replicationFactor": "3", "minInsyncReplicas": "2"})
    assert parse_config("dev", {"replicationFactor": "1", "minInsyncReplicas": "1"})
