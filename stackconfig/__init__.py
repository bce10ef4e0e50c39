"""Typed, validated stack configuration (namespace ``clickstream:``).

Every key is declared once here, with its type, default and allowed values; ``Pulumi.yaml`` declares the
same keys for the CLI (a unit test keeps the two in step). ``load_stack_config`` reads the stack's whole
config and fails the preview with ONE message listing every problem: unknown keys and keys in a
namespace this project does not read; each invalid value with its key, the value and what is allowed;
every rule across keys and of the stack (``stackconfig.rules``) among the valid values; every missing
secret; passwords set as plain config or unusable (blank, not printable ASCII, too short for Grafana); an
alert webhook URL set as plain config or not an http(s) URL; on the ``external`` platform, each service's
URL (never with credentials inside it) and its credentials, Kafka's login for the alias swap included. No
problem hides another. Secret values are checked in this process but never quoted, not even one character;
the program then reads them with ``get_secret``, so they stay ``pulumi.Output`` secrets. Passwords are never
given defaults. What is allowed but risky (an allow list admitting every address) is a warning of the preview
(``config_warnings``).
"""
from __future__ import annotations

import difflib
import ipaddress
import json
import re
import urllib.parse
from typing import Any, Collection, Literal, Mapping

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from stackconfig.rules import rule_problems

NAMESPACE = "clickstream"
SECRET_KEYS = ("grafanaAdminPassword", "elasticsearchPassword", "alertWebhookUrl",
               "connectPassword", "ksqldbPassword", "elasticsearchApiKey", "grafanaToken", "kafkaPassword")
PASSWORD_KEYS = ("grafanaAdminPassword", "elasticsearchPassword", "connectPassword", "ksqldbPassword",
                 "kafkaPassword")
TOKEN_KEYS = ("elasticsearchApiKey", "grafanaToken")
# the external platform: where each service already runs (admin URLs), and the logins that go with them
EXTERNAL_URL_KEYS = ("connectUrl", "ksqldbUrl", "elasticsearchUrl", "grafanaUrl")
EXTERNAL_KEYS = (*EXTERNAL_URL_KEYS, "kafkaBootstrap", "elasticsearchInternalUrl", "connectUser", "ksqldbUser",
                 "elasticsearchUser", "kafkaSecurityProtocol", "kafkaSaslMechanism", "kafkaUser")
# the secret that goes with each login of the external platform
EXTERNAL_LOGINS = {"connectUser": "connectPassword", "ksqldbUser": "ksqldbPassword",
                   "elasticsearchUser": "elasticsearchPassword", "kafkaUser": "kafkaPassword"}
# how the alias swap reaches Kafka on the external platform (librdkafka's security.protocol and sasl.mechanism;
# the mechanisms the confluent-kafka wheels build in, Kerberos and OAuth left out)
KAFKA_SECURITY_PROTOCOLS = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KAFKA_SASL_MECHANISMS = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
_BOOTSTRAP_RE = re.compile(r"^[A-Za-z0-9._-]+:[0-9]{1,5}(,[A-Za-z0-9._-]+:[0-9]{1,5})*$")
_IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[0-9]+)?[a-z0-9._/-]*:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DNS_LABEL_RE = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_MEMORY_RE = re.compile(r"^[1-9][0-9]*[mg]$")
_QUANTITY_RE = re.compile(r"^[1-9][0-9]*(Mi|Gi|Ti)$")
# a DNS-1123 subdomain (Kubernetes object names such as StorageClass and IngressClass, ingress hosts)
_DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_PRINTABLE_ASCII_RE = re.compile(r"^[\x20-\x7e]*$")


def _printable_trimmed(value: str, what: str) -> str:
    """``value`` when it is printable ASCII with no leading or trailing spaces; else ValueError saying it must be
    ``what``."""
    if value != value.strip() or not _PRINTABLE_ASCII_RE.match(value):
        raise ValueError(f"must be {what}: printable ASCII, no leading or trailing spaces")
    return value
# a ksqlDB stream or table name as the server knows it (a bare name upper-cased; the characters
# providers/ksqldb/lint.py allows in a name)
_OBJECT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,249}$")
_RETIRE_ALLOWED = ("must be a list of ksqlDB stream and table names as ksqlDB knows them (a bare name in upper "
                   "case), each once, e.g. [EVENTS_PER_MIN, PAGES_PER_MIN]")
# JVM heap bounds in MiB per service: below the minimum the service does not start or thrashes in GC;
# above 31g the JVM loses compressed object pointers (more heap, less usable memory)
HEAP_BOUNDS_MIB = {"kafkaHeap": (256, 31 * 1024), "connectHeap": (512, 31 * 1024),
                   "ksqldbHeap": (512, 31 * 1024), "elasticsearchHeap": (512, 31 * 1024)}
# PVC size bounds in MiB per volume (64Ti is the largest single volume of the common cloud block stores)
STORAGE_BOUNDS_MIB = {"kafkaStorage": (1024, 64 * 1024 * 1024), "elasticsearchStorage": (1024, 64 * 1024 * 1024),
                      "grafanaStorage": (256, 100 * 1024)}
# the longest admin ingress host is "elasticsearch.<ingressDomain>", at most 253 characters
_LONGEST_INGRESS_LABEL = "elasticsearch."
# Grafana refuses passwords of 4 characters or fewer when they are reset (`grafana cli admin
# reset-admin-password`, which the Kubernetes platform runs on every start of the Grafana pod)
GRAFANA_PASSWORD_MIN_LENGTH = 5
# config namespaces a stack file may hold besides this project's own: the engine's and the providers'
OTHER_NAMESPACES = ("pulumi", "docker", "kubernetes")


class ConfigError(Exception):
    """Invalid stack configuration; the message names each bad key, its value and what is allowed."""


class StackConfig(BaseModel):
    """All settings of one stack. Field aliases are the camelCase config keys. The model checks each key
    on its own; :func:`parse_config` and :func:`check_stack` add the rules across keys and stacks."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    platform: Literal["docker", "kubernetes", "external"] = "docker"
    role: Literal["pipeline", "operators"] = "pipeline"
    name_prefix: str = Field("clickstream", alias="namePrefix")
    # images, pinned by tag
    kafka_image: str = Field("confluentinc/cp-kafka:8.2.1", alias="kafkaImage")
    connect_image: str = Field("confluentinc/cp-kafka-connect:8.2.1", alias="connectImage")
    ksqldb_image: str = Field("confluentinc/cp-ksqldb-server:8.2.1", alias="ksqldbImage")
    elasticsearch_image: str = Field(
        "docker.elastic.co/elasticsearch/elasticsearch:8.19.20", alias="elasticsearchImage")
    grafana_image: str = Field("grafana/grafana:12.4.10", alias="grafanaImage")
    datagen_version: str = Field("0.7.4", alias="datagenVersion")
    elasticsearch_sink_version: str = Field("16.0.1", alias="elasticsearchSinkVersion")
    # sizing
    kafka_brokers: int = Field(1, ge=1, le=9, alias="kafkaBrokers")
    kafka_partitions: int = Field(1, ge=1, le=64, alias="kafkaPartitions")
    replication_factor: int = Field(1, ge=1, le=5, alias="replicationFactor")
    min_insync_replicas: int = Field(1, ge=1, le=5, alias="minInsyncReplicas")
    connect_workers: int = Field(1, ge=1, le=9, alias="connectWorkers")
    ksqldb_servers: int = Field(1, ge=1, le=9, alias="ksqldbServers")
    elasticsearch_nodes: int = Field(1, ge=1, le=9, alias="elasticsearchNodes")
    elasticsearch_retention_days: int = Field(0, ge=0, le=3650, alias="elasticsearchRetentionDays")  # 0: off
    kafka_heap: str = Field("1g", alias="kafkaHeap")
    connect_heap: str = Field("1g", alias="connectHeap")
    ksqldb_heap: str = Field("1g", alias="ksqldbHeap")
    elasticsearch_heap: str = Field("1g", alias="elasticsearchHeap")
    # ports published on the Docker host (docker platform only)
    kafka_host_port: int = Field(9092, ge=1024, le=65535, alias="kafkaHostPort")
    connect_port: int = Field(8083, ge=1024, le=65535, alias="connectPort")
    ksqldb_port: int = Field(8088, ge=1024, le=65535, alias="ksqldbPort")
    elasticsearch_port: int = Field(9200, ge=1024, le=65535, alias="elasticsearchPort")
    grafana_port: int = Field(3000, ge=1024, le=65535, alias="grafanaPort")
    # credentials and security (passwords are secrets, read separately)
    grafana_admin_user: str = Field("admin", min_length=1, alias="grafanaAdminUser")
    elasticsearch_security: bool = Field(False, alias="elasticsearchSecurity")
    # the analytics
    clickstream_interval_ms: int = Field(100, ge=1, le=60_000, alias="clickstreamIntervalMs")
    users_interval_ms: int = Field(1000, ge=1, le=60_000, alias="usersIntervalMs")
    codes_interval_ms: int = Field(1000, ge=1, le=60_000, alias="codesIntervalMs")
    # the `python -m clickstream sessionize` cycle; the high-bandwidth threshold is derived from it
    sessionize_run_seconds: int = Field(120, ge=10, le=3600, alias="sessionizeRunSeconds")
    sessionize_pause_seconds: int = Field(40, ge=31, le=3600, alias="sessionizePauseSeconds")
    high_bandwidth_percent: int = Field(125, ge=101, le=1000, alias="highBandwidthPercent")
    # kubernetes platform
    namespace: str = Field("clickstream", alias="namespace")
    kube_context: str = Field("", alias="kubeContext")
    install_operators: bool = Field(True, alias="installOperators")
    storage_class: str = Field("", alias="storageClass")
    kafka_storage: str = Field("10Gi", alias="kafkaStorage")
    elasticsearch_storage: str = Field("10Gi", alias="elasticsearchStorage")
    grafana_storage: str = Field("1Gi", alias="grafanaStorage")
    admin_access: Literal["port-forward", "ingress"] = Field("port-forward", alias="adminAccess")
    ingress_domain: str = Field("", alias="ingressDomain")
    ingress_class: str = Field("", alias="ingressClass")
    ingress_controller: Literal["ingress-nginx", "traefik"] = Field("ingress-nginx", alias="ingressController")
    ingress_allow_list: str = Field("", alias="ingressAllowList")
    protect: bool = Field(False, alias="protect")
    # the application layer: deployed ksqlDB objects to drop on purpose (docs/resources/ksqldb.md, "Retiring")
    retire: tuple[str, ...] = Field((), alias="retire")
    # external platform: services that already run; credentials are secrets, read separately
    kafka_bootstrap: str = Field("", alias="kafkaBootstrap")
    connect_url: str = Field("", alias="connectUrl")
    ksqldb_url: str = Field("", alias="ksqldbUrl")
    elasticsearch_url: str = Field("", alias="elasticsearchUrl")
    elasticsearch_internal_url: str = Field("", alias="elasticsearchInternalUrl")
    grafana_url: str = Field("", alias="grafanaUrl")
    connect_user: str = Field("", alias="connectUser")
    ksqldb_user: str = Field("", alias="ksqldbUser")
    elasticsearch_user: str = Field("", alias="elasticsearchUser")
    kafka_security_protocol: KAFKA_SECURITY_PROTOCOLS = Field("PLAINTEXT", alias="kafkaSecurityProtocol")
    kafka_sasl_mechanism: KAFKA_SASL_MECHANISMS = Field("PLAIN", alias="kafkaSaslMechanism")
    kafka_user: str = Field("", alias="kafkaUser")

    @field_validator("kafka_image", "connect_image", "ksqldb_image", "elasticsearch_image", "grafana_image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        if not _IMAGE_RE.match(value) or value.endswith(":latest"):
            raise ValueError("must be an image reference pinned by an explicit tag other than 'latest', "
                             "e.g. 'confluentinc/cp-kafka:8.2.1'")
        return value

    @field_validator("name_prefix", "namespace")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL_RE.match(value):
            raise ValueError("must be a DNS label: lower-case letters, digits and '-', starting with a "
                             "letter, at most 32 characters")
        return value

    @field_validator("kafka_heap", "connect_heap", "ksqldb_heap", "elasticsearch_heap")
    @classmethod
    def _jvm_memory(cls, value: str, info: ValidationInfo) -> str:
        return _sized(value, _MEMORY_RE, HEAP_BOUNDS_MIB[_alias(cls, info)], "m",
                      "a JVM heap size such as '512m' or '2g'")

    @field_validator("kafka_storage", "elasticsearch_storage", "grafana_storage")
    @classmethod
    def _quantity(cls, value: str, info: ValidationInfo) -> str:
        return _sized(value, _QUANTITY_RE, STORAGE_BOUNDS_MIB[_alias(cls, info)], "Mi",
                      "a storage quantity such as '512Mi', '10Gi' or '1Ti'")

    @field_validator("storage_class", "ingress_class", "ingress_domain")
    @classmethod
    def _dns_subdomain(cls, value: str) -> str:
        if value and (len(value) > 253 or not _DNS_SUBDOMAIN_RE.match(value)):
            raise ValueError("must be empty or a DNS name: dot-separated labels of lower-case letters, digits "
                             "and '-' (not at either end of a label), labels of at most 63 characters, at "
                             "most 253 in all")
        return value

    @field_validator("ingress_domain")
    @classmethod
    def _longest_host_fits(cls, value: str) -> str:
        if len(_LONGEST_INGRESS_LABEL + value) > 253:
            raise ValueError(f"is too long: the host '{_LONGEST_INGRESS_LABEL}<ingressDomain>' must be at most "
                             f"253 characters, so ingressDomain at most {253 - len(_LONGEST_INGRESS_LABEL)}")
        return value

    @field_validator("connect_url", "ksqldb_url", "elasticsearch_url", "elasticsearch_internal_url", "grafana_url")
    @classmethod
    def _service_url(cls, value: str, info: ValidationInfo) -> str:
        if value:
            service_url(value, _alias(cls, info))  # its ValueError says what is wrong
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        if value and not _BOOTSTRAP_RE.match(value):
            raise ValueError("must be Kafka bootstrap servers: comma-separated host:port pairs without spaces, "
                             "e.g. 'pkc-abc12.eu-west-1.aws.confluent.cloud:9092'")
        return value

    @field_validator("connect_user", "ksqldb_user", "elasticsearch_user")
    @classmethod
    def _optional_user(cls, value: str) -> str:
        return cls._basic_auth_user(value) if value else value

    @field_validator("kafka_user")
    @classmethod
    def _sasl_user(cls, value: str) -> str:
        return _printable_trimmed(value, "empty or a SASL user name (Confluent Cloud: the API key)")

    @field_validator("grafana_admin_user")
    @classmethod
    def _basic_auth_user(cls, value: str) -> str:
        if not value.strip() or value != value.strip():
            raise ValueError("must be a user name without leading or trailing spaces")
        if not _PRINTABLE_ASCII_RE.match(value) or ":" in value:
            raise ValueError("must hold only printable ASCII characters (space to '~') other than ':' "
                             "(HTTP basic authentication separates user and password with ':')")
        return value

    @field_validator("kube_context")
    @classmethod
    def _context_name(cls, value: str) -> str:
        return _printable_trimmed(value, "a kubeconfig context name")

    @field_validator("ingress_allow_list")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        if value:
            allow_list(value)  # its ValueError names the entry
        return value

    @field_validator("retire", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        """The CLI hands a list over as JSON text (``clickstream:retire: [EVENTS_PER_MIN]`` in the stack file)."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError(_RETIRE_ALLOWED) from None
        if not isinstance(value, (list, tuple)):
            raise ValueError(_RETIRE_ALLOWED)
        for position, name in enumerate(value, start=1):
            if not isinstance(name, str):
                raise ValueError(f"{_RETIRE_ALLOWED}: entry {position} {name!r} is not such a name")
        return value

    @field_validator("retire")
    @classmethod
    def _object_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for position, name in enumerate(value, start=1):
            if not _OBJECT_NAME_RE.match(name):
                raise ValueError(f"{_RETIRE_ALLOWED}: entry {position} {name!r} is not such a name")
            if name in value[:position - 1]:
                raise ValueError(f"{_RETIRE_ALLOWED}: entry {position} {name!r} is listed twice")
        return value

    @field_validator("datagen_version", "elasticsearch_sink_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.match(r"^[0-9]+\.[0-9]+\.[0-9]+$", value):
            raise ValueError("must be a released version such as '0.6.7'")
        return value

    @classmethod
    def field_name(cls, key: str) -> str:
        """The field of a config key (camelCase)."""
        return next(name for name, f in cls.model_fields.items() if (f.alias or name) == key)

    @classmethod
    def keys(cls) -> list[str]:
        """The config keys (camelCase) this project accepts, secrets included."""
        return sorted([f.alias or name for name, f in cls.model_fields.items()] + list(SECRET_KEYS))


class Secrets(BaseModel):
    """Secret config values, kept as ``pulumi.Output`` secrets (never plain strings)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    grafana_admin_password: Any = None
    elasticsearch_password: Any = None
    alert_webhook_url: Any = None  # None: no contact point, the alert rules notify no one
    # external platform
    connect_password: Any = None
    ksqldb_password: Any = None
    elasticsearch_api_key: Any = None
    grafana_token: Any = None
    kafka_password: Any = None


def _sized(value: str, pattern: re.Pattern[str], bounds: tuple[int, int], unit: str, what: str) -> str:
    """``value`` when it matches ``pattern`` and lies within ``bounds`` (MiB), else a ValueError saying so."""
    low, high = bounds
    if not pattern.match(value) or not low <= mebibytes(value) <= high:
        raise ValueError(f"must be {what}, from {_size(low, unit)} to {_size(high, unit)}")
    return value


def _alias(model: type[BaseModel], info: ValidationInfo) -> str:
    """The config key of the field being validated."""
    return str(model.model_fields[str(info.field_name)].alias)


def mebibytes(size: str) -> int:
    """A validated JVM size (``512m``, ``2g``) or storage quantity (``512Mi``, ``10Gi``, ``1Ti``) in MiB."""
    digits = re.match(r"^[0-9]+", size)
    assert digits is not None, size  # callers match the size's pattern first
    number = int(digits.group())
    unit = size[len(str(number)):].lower()
    return number * {"m": 1, "mi": 1, "g": 1024, "gi": 1024, "ti": 1024 * 1024}[unit]


def _size(mib: int, unit: str) -> str:
    """``mib`` written with the largest whole unit (``unit`` = ``m`` for JVM sizes, ``Mi`` for quantities)."""
    steps = [("m", 1), ("g", 1024)] if unit == "m" else [("Mi", 1), ("Gi", 1024), ("Ti", 1024 * 1024)]
    suffix, factor = next((s, f) for s, f in reversed(steps) if mib % f == 0)
    return f"{mib // factor}{suffix}"


def service_url(value: str, key: str) -> str:
    """``value`` when it is an http(s) URL of a service without credentials inside it, else a ValueError saying
    what is wrong (never quoting a password the URL holds)."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _PRINTABLE_ASCII_RE.match(value) \
            or " " in value or parts.query or parts.fragment:
        raise ValueError("must be the http(s) base URL of the service, without spaces, query or fragment, e.g. "
                         "'https://grafana.example.com'")
    if parts.username is not None or parts.password is not None:
        login = {"connectUrl": "connectUser and the secret connectPassword",
                 "ksqldbUrl": "ksqldbUser and the secret ksqldbPassword",
                 "grafanaUrl": "grafanaAdminUser and the secret grafanaAdminPassword, or the secret grafanaToken",
                 }.get(key, "elasticsearchUser and the secret elasticsearchPassword, or the secret elasticsearchApiKey")
        raise ValueError(f"must not hold credentials (user:password@): a URL is an address, kept in plain "
                         f"state and outputs; set them as {login}")
    return value


def shown(key: str, value: Any) -> Any:
    """A config value as an error message may quote it: a URL's credentials (``user:password@``) replaced."""
    if key in (*EXTERNAL_URL_KEYS, "elasticsearchInternalUrl") and isinstance(value, str) and "@" in value:
        parts = urllib.parse.urlsplit(value)
        if "@" in parts.netloc:
            return urllib.parse.urlunsplit(parts._replace(netloc="(credentials not shown)@" +
                                                          parts.netloc.rsplit("@", 1)[1]))
    return value


def allow_list(value: str) -> list[str]:
    """The IP networks of a comma-separated ``ingressAllowList`` (normalised CIDRs); a ValueError naming the
    first entry that is empty or no IP network (an empty entry would silently narrow or empty the list)."""
    networks = []
    for position, part in enumerate(value.split(","), start=1):
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            entry = f"{part.strip()!r} is no IP network" if part.strip() else "is empty"
            raise ValueError(f"must be a comma-separated list of IP networks (CIDR) without empty entries, e.g. "
                             f"'203.0.113.0/24,198.51.100.7/32': entry {position} {entry}") from None
    return networks


def config_warnings(cfg: StackConfig) -> list[str]:
    """What the config allows but should not usually do (shown as warnings of the preview)."""
    everyone = [n for n in (allow_list(cfg.ingress_allow_list) if cfg.ingress_allow_list else [])
                if ipaddress.ip_network(n).prefixlen == 0]
    if not everyone:
        return []
    return [f"{NAMESPACE}:ingressAllowList holds {', '.join(everyone)}: every address can reach the Kafka Connect "
            f"and ksqlDB ingresses, which have no authentication of their own (anyone there can run any "
            f"connector class); list only the networks that need them"]


def parse_config(stack: str, raw: Mapping[str, Any]) -> StackConfig:
    """Validate ``raw`` (``clickstream:`` keys without the namespace, secrets excluded) for ``stack``;
    raise ConfigError listing every problem."""
    cfg, problems = _check_values(stack, raw, secret_keys=())
    if problems:
        raise ConfigError(_report(stack, problems))
    return cfg


def check_stack(stack: str, config: Mapping[str, Any], secret_keys: Collection[str]) -> StackConfig:
    """Validate a stack's whole config (namespaced keys, secrets included, as the engine passes it) and
    raise one ConfigError listing every problem: unknown namespaces and keys, invalid values, rules across
    keys and of the stack, missing, plain-text or unusable secrets. Secret values are checked but never
    quoted."""
    prefix = NAMESPACE + ":"
    own = {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}
    secret = {k[len(prefix):] for k in secret_keys if k.startswith(prefix)}
    problems = _foreign_namespaces(config)
    cfg, value_problems = _check_values(stack, {k: v for k, v in own.items() if k not in SECRET_KEYS}, secret)
    problems += value_problems
    problems += _secret_problems(needed_secrets(cfg, own), own, secret, cfg.platform == "external")
    problems += _secret_pairing(cfg, own)
    if problems:
        raise ConfigError(_report(stack, problems))
    return cfg


def needed_secrets(cfg: StackConfig, own: Mapping[str, Any]) -> dict[str, bool]:
    """Which secrets ``cfg`` needs (``own``: the stack's own keys, to see which optional ones are set)."""
    pipeline, external = cfg.role == "pipeline", cfg.platform == "external"
    needed = dict.fromkeys(SECRET_KEYS, False)
    needed["grafanaAdminPassword"] = pipeline and not (external and own.get("grafanaToken") is not None)
    needed["elasticsearchPassword"] = pipeline and (bool(cfg.elasticsearch_user) if external
                                                    else cfg.elasticsearch_security)
    needed["connectPassword"] = external and bool(cfg.connect_user)
    needed["ksqldbPassword"] = external and bool(cfg.ksqldb_user)
    needed["kafkaPassword"] = external and bool(cfg.kafka_user)
    return needed


def _secret_pairing(cfg: StackConfig, own: Mapping[str, Any]) -> list[str]:
    """Secrets that are set but that nothing would use: the external platform's outside it, a password of the
    external platform without its user, a Grafana token next to the admin password."""
    if cfg.platform != "external":
        unused = [k for k in ("connectPassword", "ksqldbPassword", "kafkaPassword", *TOKEN_KEYS)
                  if own.get(k) is not None]
        return [f"{NAMESPACE}:{key} is set, but only the external platform reads it (platform is "
                f"'{cfg.platform}'): remove it with `pulumi config rm {key}`" for key in unused]
    problems = [f"{NAMESPACE}:{password} is set, but {NAMESPACE}:{user} is not: set the user that goes with it "
                f"(`pulumi config set {user} <user>`)"
                for user, password in EXTERNAL_LOGINS.items() if own.get(password) is not None and not own.get(user)]
    if own.get("grafanaToken") is not None and own.get("grafanaAdminPassword") is not None:
        problems.append(f"{NAMESPACE}:grafanaToken and {NAMESPACE}:grafanaAdminPassword are both set: Grafana is "
                        f"reached with one of them; remove the other with `pulumi config rm <key>`")
    return problems


def _report(stack: str, problems: list[str]) -> str:
    return f"invalid config for stack '{stack}':\n" + "\n".join(f"  - {p}" for p in problems)


def _check_values(stack: str, raw: Mapping[str, Any],
                  secret_keys: Collection[str]) -> tuple[StackConfig, list[str]]:
    """The config of ``raw`` and every problem in it: unknown keys, invalid values, and the rules across
    keys and of ``stack`` among the valid values. In the config returned, an invalid value stays at its
    default, so the secrets can still be checked; only a config without problems is ever used."""
    unknown = sorted(set(raw) - set(StackConfig.keys()))
    problems = _unknown_keys(unknown, raw, secret_keys)
    values = {k: v for k, v in raw.items() if k not in SECRET_KEYS and k not in unknown}
    invalid: set[str] = set()
    try:
        cfg = StackConfig.model_validate(values)
    except ValidationError as exc:
        described, invalid = _describe(exc, values)
        problems += described
        cfg = StackConfig.model_validate({k: v for k, v in values.items() if k not in invalid})
    return cfg, problems + rule_problems(stack, cfg, invalid)


def _unknown_keys(unknown: list[str], raw: Mapping[str, Any], secret_keys: Collection[str]) -> list[str]:
    """One line per unknown key (its value, unless secret, and the key it most resembles), then the keys
    that are allowed."""
    if not unknown:
        return []
    lines = []
    for key in unknown:
        value = "(value not shown)" if key in secret_keys else f"= {raw[key]!r}"
        close = difflib.get_close_matches(key, StackConfig.keys(), n=1)
        hint = f" (did you mean {NAMESPACE}:{close[0]}?)" if close else ""
        lines.append(f"{NAMESPACE}:{key} {value}: unknown key{hint}")
    return [*lines, f"allowed keys: {', '.join(StackConfig.keys())}"]


def _foreign_namespaces(config: Mapping[str, Any]) -> list[str]:
    """Keys in a namespace that is neither this project's nor the engine's or a provider's (a typo such
    as ``clikstream:kafkaHeap`` would otherwise be ignored)."""
    known = (NAMESPACE, *OTHER_NAMESPACES)
    strangers = sorted(k for k in config if k.split(":", 1)[0] not in known)
    if not strangers:
        return []
    return [f"config key(s) {', '.join(strangers)} belong to no namespace this project reads: its own keys "
            f"are '{NAMESPACE}:<key>' (provider and engine settings: {', '.join(n + ':' for n in OTHER_NAMESPACES)})"]


def _secret_problems(needed: Mapping[str, bool], own: Mapping[str, Any],
                     secret_keys: Collection[str], external: bool) -> list[str]:
    """Every secret: set when ``needed``, set as a secret, and usable (the value is never quoted)."""
    problems = []
    for key in SECRET_KEYS:
        value = own.get(key)
        if value is None:
            if needed[key]:
                problems.append(f"{NAMESPACE}:{key} is not set{_why_needed(key, external)}; set it with "
                                f"`pulumi config set --secret {key} <password>`")
            continue
        if key not in secret_keys:
            what = {**dict.fromkeys(PASSWORD_KEYS, "password"), **dict.fromkeys(TOKEN_KEYS, "token")}.get(
                key, "value (rotate a token it carries)")
            problems.append(f"{NAMESPACE}:{key} is set as plain text (it is stored readable in the stack file "
                            f"and state): run `pulumi config rm {key}`, choose a new {what} and set it with "
                            f"`pulumi config set --secret {key} <{what.split()[0]}>`")
        check = _password_problems if key in PASSWORD_KEYS else _token_problems if key in TOKEN_KEYS \
            else _webhook_problems
        problems += [f"{NAMESPACE}:{key} (value not shown) {p}" for p in check(key, str(value))]
    return problems


def _why_needed(key: str, external: bool) -> str:
    """Why a missing secret is needed, for its error line."""
    if key == "grafanaAdminPassword":
        return " (or the secret grafanaToken instead)" if external else " (`make up` generates one for the dev stack)"
    user = next((u for u, p in EXTERNAL_LOGINS.items() if p == key), None)
    if key == "elasticsearchPassword" and not external:
        return " (elasticsearchSecurity is true)"
    return f" ({user} is set)" if user else ""


def _token_problems(key: str, token: str) -> list[str]:
    """An API key or token: sent as it is in an ``Authorization`` header."""
    if not token.strip() or not _PRINTABLE_ASCII_RE.match(token) or " " in token:
        return ["must be the token as the service issued it: printable ASCII without spaces"]
    return []


def _password_problems(key: str, password: str) -> list[str]:
    if not password.strip():
        return ["is empty or blank: set a real password"]
    problems = []
    # the HTTP services' passwords only: SASL sends the Kafka password as UTF-8 (RFC 4616, RFC 5802)
    if key != "kafkaPassword" and not _PRINTABLE_ASCII_RE.match(password):
        problems.append("holds characters other than printable ASCII (space to '~'): HTTP basic "
                        "authentication sends them in an encoding Grafana and Elasticsearch do not decode "
                        "the same way")
    if key == "grafanaAdminPassword" and len(password) < GRAFANA_PASSWORD_MIN_LENGTH:
        problems.append(f"is shorter than {GRAFANA_PASSWORD_MIN_LENGTH} characters, which Grafana refuses")
    return problems


def _webhook_problems(key: str, url: str) -> list[str]:
    """``alertWebhookUrl``: the http(s) URL Grafana posts alerts to (it may carry a token, so it is a secret)."""
    if not re.match(r"^https?://[^\s/]+", url) or not _PRINTABLE_ASCII_RE.match(url) or " " in url:
        return ["must be an http(s) URL without spaces, e.g. https://hooks.example.com/alerts/<token>"]
    return []


def _describe(exc: ValidationError, values: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """One line per invalid value (key, value, what is allowed) and the keys of those values."""
    lines, invalid = [], set()
    by_name = {name: f.alias or name for name, f in StackConfig.model_fields.items()}
    for err in exc.errors():
        reason = err["msg"].removeprefix("Value error, ")
        key = by_name.get(str(err["loc"][0]), str(err["loc"][0]))
        invalid.add(key)
        lines.append(f"{NAMESPACE}:{key} = {shown(key, values.get(key))!r}: {reason}")
    return lines, invalid


def _stack_config() -> tuple[dict[str, Any], set[str]]:
    """This stack's whole config (every namespace) and its secret keys, as the SDK received them."""
    from pulumi.runtime import config as runtime_config  # the SDK's own view of the stack's config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in merged if runtime_config.is_config_secret(k)}
    return merged, secret | set(runtime_config.get_config_secret_keys_env())


def load_stack_config() -> tuple[StackConfig, Secrets]:
    """Read and validate this stack's config; raise ConfigError (fails the preview) when invalid."""
    config, secret_keys = _stack_config()
    cfg = check_stack(pulumi.get_stack(), config, secret_keys)
    for warning in config_warnings(cfg):
        pulumi.log.warn(warning)
    conf = pulumi.Config(NAMESPACE)
    return cfg, Secrets(grafana_admin_password=conf.get_secret("grafanaAdminPassword"),
                        elasticsearch_password=conf.get_secret("elasticsearchPassword"),
                        alert_webhook_url=conf.get_secret("alertWebhookUrl"),
                        connect_password=conf.get_secret("connectPassword"),
                        ksqldb_password=conf.get_secret("ksqldbPassword"),
                        elasticsearch_api_key=conf.get_secret("elasticsearchApiKey"),
                        grafana_token=conf.get_secret("grafanaToken"),
                        kafka_password=conf.get_secret("kafkaPassword"))
