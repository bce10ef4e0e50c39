"""The rules that read more than one key (cross-key rules) and the rules of one stack (per-stack rules).

Each rule names the keys it reads. A rule runs only when every one of its keys holds a valid value, so
one preview reports every invalid value AND every broken rule among the valid ones, and no rule ever
judges a value the user did not set (an invalid value is not replaced by its default for a rule).
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Callable, Collection, Sequence

if TYPE_CHECKING:
    from stackconfig import StackConfig


@dataclasses.dataclass(frozen=True)
class Rule:
    """``check`` returns what is wrong with a config, or None; it reads only ``keys`` (config keys)."""

    keys: tuple[str, ...]
    check: Callable[[StackConfig], str | None]


def _replication(cfg: StackConfig) -> str | None:
    if cfg.replication_factor > cfg.kafka_brokers:
        return (f"replicationFactor ({cfg.replication_factor}) must be <= kafkaBrokers ({cfg.kafka_brokers}): "
                f"each partition needs a copy on that many distinct brokers")
    return None


def _min_isr(cfg: StackConfig) -> str | None:
    if cfg.min_insync_replicas > cfg.replication_factor:
        return (f"minInsyncReplicas ({cfg.min_insync_replicas}) must be <= replicationFactor "
                f"({cfg.replication_factor}): no write could ever be acknowledged")
    if cfg.replication_factor > 1 and cfg.min_insync_replicas == cfg.replication_factor:
        return (f"minInsyncReplicas ({cfg.min_insync_replicas}) must be < replicationFactor "
                f"({cfg.replication_factor}) when replicationFactor > 1: with every replica required, one broker "
                "down (a rolling restart included) stops every write with acks=all; e.g. replicationFactor 3 "
                "with minInsyncReplicas 2")
    return None


# Namespaces of the cluster itself: the stack creates its namespace (and deletes it on destroy) and puts a
# default-deny NetworkPolicy in it, neither of which may touch what the cluster runs there.
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")


def _own_namespace(cfg: StackConfig) -> str | None:
    if cfg.namespace in SYSTEM_NAMESPACES or cfg.namespace.startswith("kube-"):
        return (f"namespace '{cfg.namespace}' is a namespace of the cluster itself ({', '.join(SYSTEM_NAMESPACES)}, "
                "kube-*): the stack creates its namespace, deletes it on destroy and denies every connection "
                "its rules do not admit; give it one of its own, e.g. 'clickstream-prod'")
    return None


def _one_of_each_on_docker(cfg: StackConfig) -> str | None:
    counts = {"kafkaBrokers": cfg.kafka_brokers, "connectWorkers": cfg.connect_workers,
              "ksqldbServers": cfg.ksqldb_servers, "elasticsearchNodes": cfg.elasticsearch_nodes}
    if cfg.platform == "docker" and set(counts.values()) != {1}:
        got = ", ".join(f"{key} = {value}" for key, value in counts.items() if value != 1)
        return (f"the docker platform runs one of each service: kafkaBrokers, connectWorkers, ksqldbServers "
                f"and elasticsearchNodes must be 1, got {got} (use platform 'kubernetes' for clusters)")
    return None


# the highest TCP port
MAX_PORT = 65535


def _kafka_host_ports(cfg: StackConfig) -> list[int]:
    """The local ports of Kafka: ``kafkaHostPort`` + node id, one per broker (docker runs one broker; on
    kubernetes each is a broker's port-forward)."""
    return [cfg.kafka_host_port + node for node in range(cfg.kafka_brokers)]


def _kafka_ports_fit(cfg: StackConfig) -> str | None:
    if cfg.kafka_host_port + cfg.kafka_brokers - 1 > MAX_PORT:
        return (f"kafkaHostPort ({cfg.kafka_host_port}) + kafkaBrokers ({cfg.kafka_brokers}) - 1 must be <= "
                f"{MAX_PORT}: broker i is reached at local port kafkaHostPort + i; lower kafkaHostPort to at most "
                f"{MAX_PORT - cfg.kafka_brokers + 1}")
    return None


def _distinct_ports(cfg: StackConfig) -> str | None:
    apis = {"connectPort": cfg.connect_port, "ksqldbPort": cfg.ksqldb_port,
            "elasticsearchPort": cfg.elasticsearch_port, "grafanaPort": cfg.grafana_port}
    ports = [*_kafka_host_ports(cfg), *apis.values()]
    twice = sorted({port for port in ports if ports.count(port) > 1})
    if twice:
        return (f"host ports must be distinct, got {', '.join(map(str, twice))} more than once among Kafka's "
                f"{_kafka_host_ports(cfg)} (kafkaHostPort + 0 .. kafkaBrokers - 1, one per broker), "
                + ", ".join(f"{key} {port}" for key, port in apis.items()))
    return None


def _ingress_domain(cfg: StackConfig) -> str | None:
    if cfg.admin_access == "ingress" and not cfg.ingress_domain:
        return "adminAccess 'ingress' needs ingressDomain (e.g. 'clickstream.example.com')"
    return None


def _ingress_allow_list(cfg: StackConfig) -> str | None:
    if cfg.admin_access == "ingress" and not cfg.ingress_allow_list:
        return ("adminAccess 'ingress' exposes Kafka Connect and ksqlDB, which have no authentication of their "
                "own: set ingressAllowList to the networks allowed to reach them (CIDRs, including the address "
                "`pulumi up` runs from), or keep adminAccess 'port-forward'")
    return None


def _kube_context(cfg: StackConfig) -> str | None:
    if cfg.platform == "kubernetes" and not cfg.kube_context:
        return ("the kubernetes platform needs kubeContext: name the kubeconfig context of the target cluster "
                "(never the current one by accident), e.g. `pulumi config set kubeContext clickstream-prod`")
    return None


def _operators_on_kubernetes(cfg: StackConfig) -> str | None:
    if cfg.role == "operators" and cfg.platform != "kubernetes":
        return (f"role 'operators' installs the shared Kubernetes operators: it needs platform 'kubernetes', "
                f"got '{cfg.platform}'")
    return None


def _eck_security(cfg: StackConfig) -> str | None:
    if cfg.platform == "kubernetes" and cfg.role == "pipeline" and not cfg.elasticsearch_security:
        return ("the kubernetes platform runs Elasticsearch with ECK, which always enables security: set "
                "elasticsearchSecurity to true (and the elasticsearchPassword secret)")
    return None


# what the external platform reads: where the services run (required there) and the logins (optional)
_EXTERNAL_REQUIRED = ("kafkaBootstrap", "connectUrl", "ksqldbUrl", "elasticsearchUrl", "grafanaUrl")
_EXTERNAL_OPTIONAL = ("elasticsearchInternalUrl", "connectUser", "ksqldbUser", "elasticsearchUser")


def _value(cfg: StackConfig, key: str) -> str:
    return str(getattr(cfg, type(cfg).field_name(key)))


def _external_addresses(cfg: StackConfig) -> str | None:
    if cfg.platform == "external":
        missing = [key for key in _EXTERNAL_REQUIRED if not _value(cfg, key)]
        if missing:
            return (f"the external platform deploys only the application layer onto services that already run: "
                    f"set {', '.join(missing)} (the URLs where `pulumi up` reaches each service's API; "
                    f"kafkaBootstrap: host:port of the Kafka the services use)")
        return None
    stray = [key for key in (*_EXTERNAL_REQUIRED, *_EXTERNAL_OPTIONAL) if _value(cfg, key)]
    if stray:
        return (f"{', '.join(stray)} only apply to platform 'external', but platform is '{cfg.platform}', which "
                f"runs the services itself: remove them (`pulumi config rm <key>`) or set platform 'external'")
    return None


def _external_security(cfg: StackConfig) -> str | None:
    if cfg.platform == "external" and cfg.elasticsearch_security:
        return ("elasticsearchSecurity switches on security in the Elasticsearch this project runs; on the external "
                "platform Elasticsearch runs as it is: leave elasticsearchSecurity false and set elasticsearchUser "
                "with the secret elasticsearchPassword, or the secret elasticsearchApiKey")
    return None


_KAFKA_LOGIN = ("kafkaSecurityProtocol", "kafkaSaslMechanism", "kafkaUser")
_KAFKA_LOGIN_DEFAULTS = {"kafkaSecurityProtocol": "PLAINTEXT", "kafkaSaslMechanism": "PLAIN", "kafkaUser": ""}


def _kafka_login_on_external(cfg: StackConfig) -> str | None:
    stray = [f"{key} = {_value(cfg, key)!r}" for key in _KAFKA_LOGIN if _value(cfg, key) != _KAFKA_LOGIN_DEFAULTS[key]]
    if cfg.platform != "external" and stray:
        return (f"{', '.join(stray)}: the Kafka login only applies to platform 'external' (platform is "
                f"'{cfg.platform}', whose own Kafka has no login): remove it (`pulumi config rm <key>`)")
    return None


def _kafka_login_complete(cfg: StackConfig) -> str | None:
    if cfg.platform != "external":
        return None
    protocol = cfg.kafka_security_protocol
    if protocol.startswith("SASL_") and not cfg.kafka_user:
        return (f"kafkaSecurityProtocol '{protocol}' logs in to Kafka: set kafkaUser (Confluent Cloud: the API key) "
                f"and the secret kafkaPassword")
    wrong = [f"{key} = {_value(cfg, key)!r}" for key in ("kafkaUser", "kafkaSaslMechanism")
             if _value(cfg, key) != _KAFKA_LOGIN_DEFAULTS[key]]
    if not protocol.startswith("SASL_") and wrong:
        return (f"{', '.join(wrong)} only apply with a SASL login, but kafkaSecurityProtocol is '{protocol}': set "
                f"kafkaSecurityProtocol to SASL_SSL (Confluent Cloud) or SASL_PLAINTEXT, or remove them")
    return None


CROSS_KEY_RULES: Sequence[Rule] = (
    Rule(("replicationFactor", "kafkaBrokers"), _replication),
    Rule(("minInsyncReplicas", "replicationFactor"), _min_isr),
    Rule(("namespace",), _own_namespace),
    Rule(("platform", "kafkaBrokers", "connectWorkers", "ksqldbServers", "elasticsearchNodes"),
         _one_of_each_on_docker),
    Rule(("kafkaHostPort", "kafkaBrokers"), _kafka_ports_fit),
    Rule(("kafkaHostPort", "kafkaBrokers", "connectPort", "ksqldbPort", "elasticsearchPort", "grafanaPort"),
         _distinct_ports),
    Rule(("adminAccess", "ingressDomain"), _ingress_domain),
    Rule(("adminAccess", "ingressAllowList"), _ingress_allow_list),
    Rule(("platform", "kubeContext"), _kube_context),
    Rule(("role", "platform"), _operators_on_kubernetes),
    Rule(("platform", "role", "elasticsearchSecurity"), _eck_security),
    Rule(("platform", *_EXTERNAL_REQUIRED, *_EXTERNAL_OPTIONAL), _external_addresses),
    Rule(("platform", "elasticsearchSecurity"), _external_security),
    Rule(("platform", *_KAFKA_LOGIN), _kafka_login_on_external),
    Rule(("platform", *_KAFKA_LOGIN), _kafka_login_complete),
)


def _prod_replicated(cfg: StackConfig) -> str | None:
    if cfg.role == "pipeline" and (cfg.replication_factor < 3 or cfg.min_insync_replicas < 2):
        return (f"replicationFactor must be >= 3 and minInsyncReplicas >= 2, got {cfg.replication_factor} and "
                f"{cfg.min_insync_replicas} (production needs a replicated cluster)")
    return None


def _prod_secured(cfg: StackConfig) -> str | None:
    if cfg.role == "pipeline" and not cfg.elasticsearch_security:
        return "elasticsearchSecurity must be true, got false"
    return None


def _prod_protected(cfg: StackConfig) -> str | None:
    if not cfg.protect:
        return "protect must be true, got false (stateful resources are protected from deletion)"
    return None


# stack name -> the rules that stack adds to the cross-key rules
STACK_RULES: dict[str, Sequence[Rule]] = {
    "prod": (Rule(("role", "replicationFactor", "minInsyncReplicas"), _prod_replicated),
             Rule(("role", "elasticsearchSecurity"), _prod_secured),
             Rule(("protect",), _prod_protected)),
}


def rule_problems(stack: str, cfg: StackConfig, invalid: Collection[str]) -> list[str]:
    """What the cross-key rules and ``stack``'s own rules find in ``cfg``, skipping every rule that reads
    one of the ``invalid`` keys (their values are reported on their own)."""
    problems = [problem for rule in CROSS_KEY_RULES
                if not set(rule.keys) & set(invalid) and (problem := rule.check(cfg))]
    problems += [f"stack '{stack}': {problem}" for rule in STACK_RULES.get(stack, ())
                 if not set(rule.keys) & set(invalid) and (problem := rule.check(cfg))]
    return problems
