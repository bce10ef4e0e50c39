"""Typed, validated stack configuration (namespace ``clickstream:``).

Every key is declared once here, with its type, default and allowed values; ``Pulumi.yaml`` declares the
same keys for the CLI (a unit test keeps the two in step). ``load_stack_config`` reads the Pulumi config,
and any invalid value fails the preview with a message naming the key, the value and what is allowed.
Passwords are read with ``get_secret`` and stay ``pulumi.Output`` secrets; they are never validated as
plain strings and never given defaults.
"""
from __future__ import annotations

import re
from typing import Any, Literal, Mapping

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NAMESPACE = "clickstream"
SECRET_KEYS = ("grafanaAdminPassword", "elasticsearchPassword")
_IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]*(:[0-9]+)?[a-z0-9._/-]*:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DNS_LABEL_RE = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_MEMORY_RE = re.compile(r"^[1-9][0-9]*[mg]$")
_QUANTITY_RE = re.compile(r"^[1-9][0-9]*(Mi|Gi|Ti)$")


class ConfigError(Exception):
    """Invalid stack configuration; the message names each bad key, its value and what is allowed."""


class StackConfig(BaseModel):
    """All settings of one stack. Field aliases are the camelCase config keys."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    platform: Literal["docker", "kubernetes"] = "docker"
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
    high_bandwidth_bytes: int = Field(500_000, ge=1, alias="highBandwidthBytes")
    # kubernetes platform
    namespace: str = Field("clickstream", alias="namespace")
    kube_context: str = Field("", alias="kubeContext")
    storage_class: str = Field("", alias="storageClass")
    kafka_storage: str = Field("10Gi", alias="kafkaStorage")
    elasticsearch_storage: str = Field("10Gi", alias="elasticsearchStorage")
    grafana_storage: str = Field("1Gi", alias="grafanaStorage")
    admin_access: Literal["port-forward", "ingress"] = Field("port-forward", alias="adminAccess")
    ingress_domain: str = Field("", alias="ingressDomain")
    ingress_class: str = Field("", alias="ingressClass")
    protect: bool = Field(False, alias="protect")

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
    def _jvm_memory(cls, value: str) -> str:
        if not _MEMORY_RE.match(value):
            raise ValueError("must be a JVM heap size such as '512m' or '2g'")
        return value

    @field_validator("kafka_storage", "elasticsearch_storage", "grafana_storage")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if not _QUANTITY_RE.match(value):
            raise ValueError("must be a storage quantity such as '512Mi', '10Gi' or '1Ti'")
        return value

    @field_validator("datagen_version", "elasticsearch_sink_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.match(r"^[0-9]+\.[0-9]+\.[0-9]+$", value):
            raise ValueError("must be a released version such as '0.6.7'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "StackConfig":
        problems = []
        if self.replication_factor > self.kafka_brokers:
            problems.append(f"replicationFactor ({self.replication_factor}) must be <= kafkaBrokers "
                            f"({self.kafka_brokers})")
        if self.min_insync_replicas > self.replication_factor:
            problems.append(f"minInsyncReplicas ({self.min_insync_replicas}) must be <= replicationFactor "
                            f"({self.replication_factor})")
        if self.platform == "docker" and (self.kafka_brokers, self.connect_workers, self.ksqldb_servers,
                                          self.elasticsearch_nodes) != (1, 1, 1, 1):
            problems.append("the docker platform runs one of each service: kafkaBrokers, connectWorkers, "
                            "ksqldbServers and elasticsearchNodes must be 1 (use platform 'kubernetes' "
                            "for clusters)")
        ports = [self.kafka_host_port, self.connect_port, self.ksqldb_port, self.elasticsearch_port,
                 self.grafana_port]
        if len(set(ports)) != len(ports):
            problems.append(f"host ports must be distinct, got {ports}")
        if self.admin_access == "ingress" and not self.ingress_domain:
            problems.append("adminAccess 'ingress' needs ingressDomain (e.g. 'clickstream.example.com')")
        if self.platform == "kubernetes" and not self.elasticsearch_security:
            problems.append("the kubernetes platform runs Elasticsearch with ECK, which always enables "
                            "security: set elasticsearchSecurity to true (and the elasticsearchPassword "
                            "secret)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def keys(cls) -> list[str]:
        """The config keys (camelCase) this project accepts, secrets included."""
        return sorted([f.alias or name for name, f in cls.model_fields.items()] + list(SECRET_KEYS))


class Secrets(BaseModel):
    """Secret config values, kept as ``pulumi.Output`` secrets (never plain strings)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    grafana_admin_password: Any
    elasticsearch_password: Any = None


def parse_config(stack: str, raw: Mapping[str, Any]) -> StackConfig:
    """Validate ``raw`` (camelCase keys, string or typed values) for ``stack``; raise ConfigError."""
    unknown = sorted(set(raw) - set(StackConfig.keys()))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(NAMESPACE + ':' + k for k in unknown)}; "
                          f"allowed keys: {', '.join(StackConfig.keys())}")
    values = {k: v for k, v in raw.items() if k not in SECRET_KEYS}
    try:
        cfg = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(stack, exc, values)) from None
    if stack == "prod":
        _check_production(cfg)
    return cfg


def _check_production(cfg: StackConfig) -> None:
    """The ``prod`` stack must be a real, protected cluster: RF ≥ 3, min ISR ≥ 2, security and protect on."""
    problems = []
    if cfg.replication_factor < 3 or cfg.min_insync_replicas < 2:
        problems.append(f"replicationFactor must be >= 3 and minInsyncReplicas >= 2, got "
                        f"{cfg.replication_factor} and {cfg.min_insync_replicas}")
    if not cfg.elasticsearch_security:
        problems.append("elasticsearchSecurity must be true")
    if not cfg.protect:
        problems.append("protect must be true (stateful resources are protected from deletion)")
    if problems:
        raise ConfigError("invalid config for stack 'prod' (production needs a replicated, secured, "
                          "protected cluster):\n" + "\n".join(f"  - {p}" for p in problems))


def _describe(stack: str, exc: ValidationError, values: Mapping[str, Any]) -> str:
    lines = [f"invalid config for stack '{stack}':"]
    by_name = {name: f.alias or name for name, f in StackConfig.model_fields.items()}
    for err in exc.errors():
        loc = err["loc"][0] if err["loc"] else None
        key = by_name.get(str(loc), str(loc)) if loc is not None else None
        if key is None:
            lines.append(f"  - {err['msg'].removeprefix('Value error, ')}")
            continue
        lines.append(f"  - {NAMESPACE}:{key} = {values.get(key)!r}: {err['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def _raw_config() -> dict[str, Any]:
    """Every ``clickstream:*`` key set for this stack (CLI environment and explicit/mocked config)."""
    from pulumi.runtime import config as runtime_config  # the SDK's own view of the stack's config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = NAMESPACE + ":"
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}


def load_stack_config() -> tuple[StackConfig, Secrets]:
    """Read and validate this stack's config; raise ConfigError (fails the preview) when invalid."""
    stack = pulumi.get_stack()
    cfg = parse_config(stack, _raw_config())
    conf = pulumi.Config(NAMESPACE)
    grafana_password = conf.get_secret("grafanaAdminPassword")
    if grafana_password is None:
        raise ConfigError(f"stack '{stack}': {NAMESPACE}:grafanaAdminPassword is not set; set it with "
                          f"`pulumi config set --secret grafanaAdminPassword <password>` "
                          f"(`make up` generates one for the dev stack)")
    es_password = conf.get_secret("elasticsearchPassword")
    if cfg.elasticsearch_security and es_password is None:
        raise ConfigError(f"stack '{stack}': elasticsearchSecurity is true, so {NAMESPACE}:"
                          f"elasticsearchPassword must be set with `pulumi config set --secret "
                          f"elasticsearchPassword <password>`")
    return cfg, Secrets(grafana_admin_password=grafana_password, elasticsearch_password=es_password)
