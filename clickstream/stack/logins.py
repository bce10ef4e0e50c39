"""Which credentials reach which service, on every platform: the one rule ``pulumi up`` (the application
layer, with secrets as ``pulumi.Output``) and ``clickstream status`` (with the secrets it read) share.

- Kafka Connect and ksqlDB: basic auth with ``connectUser``/``ksqldbUser`` and their password secrets on the
  external platform (a Confluent Cloud API key and secret are such a pair); none on docker and kubernetes,
  whose Connect and ksqlDB have no authentication of their own.
- Elasticsearch, as the other services reach it (Connect's sinks, Grafana's datasources): basic auth, the
  only login the Elasticsearch sink connector has (``connection.username``/``connection.password``): the
  built-in ``elastic`` user with ``elasticsearchSecurity``, or ``elasticsearchUser`` on the external platform.
- Elasticsearch, as ``pulumi up`` and ``status`` reach it: the secret ``elasticsearchApiKey``
  (``Authorization: ApiKey ...``) when it is set, else the same basic auth.
- Grafana: the secret ``grafanaToken`` (a service-account token, ``Authorization: Bearer ...``) when it is set,
  else ``grafanaAdminUser`` with the secret ``grafanaAdminPassword``.
- Kafka, as ``pulumi up`` reaches it (the alias swap reads consumer groups' offsets): ``kafkaSecurityProtocol``,
  and with SASL ``kafkaSaslMechanism``, ``kafkaUser`` and the secret ``kafkaPassword`` on the external platform
  (Confluent Cloud: SASL_SSL, PLAIN, an API key and secret); PLAINTEXT without a login on docker and kubernetes.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from providers.elasticsearch.client import API_KEY_SCHEME
from stackconfig import StackConfig

ELASTICSEARCH_BUILT_IN_USER = "elastic"  # the superuser docker and kubernetes (ECK) create


@dataclasses.dataclass(frozen=True)
class Login:
    """How to log in to one service: basic auth (``username``, ``password``), an API key or token, or nothing.
    Secret values are whatever the caller holds them as (``pulumi.Output`` in a program)."""

    username: str | None = None
    password: Any = dataclasses.field(default=None, repr=False)
    api_key: Any = dataclasses.field(default=None, repr=False)
    api_key_scheme: str = "Bearer"

    def endpoint_fields(self) -> dict[str, Any]:
        """The fields of a ``providers.http.Endpoint`` (plain values only)."""
        return {"username": self.username, "password": self.password, "api_key": self.api_key,
                "api_key_scheme": self.api_key_scheme}


@dataclasses.dataclass(frozen=True)
class KafkaAccess:
    """How to reach Kafka: ``protocol`` (librdkafka's ``security.protocol``) and, with SASL, ``mechanism`` and
    the ``login``."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "PLAIN"
    login: Login = Login()

    def index_alias_inputs(self) -> dict[str, Any]:
        """The Kafka login inputs of an ``IndexAlias``."""
        return {"kafka_security_protocol": self.protocol, "kafka_sasl_mechanism": self.mechanism,
                "kafka_username": self.login.username,
                "kafka_password": self.login.password if self.login.username else None}


@dataclasses.dataclass(frozen=True)
class Logins:
    connect: Login
    ksqldb: Login
    elasticsearch: Login  # as Connect's sinks and Grafana's datasources reach it (basic auth or nothing)
    elasticsearch_admin: Login  # as pulumi up and status reach it
    grafana: Login
    kafka: KafkaAccess  # as the alias swap reaches it


def logins(cfg: StackConfig, secret: Callable[[str], Any]) -> Logins:
    """The logins of ``cfg``'s services; ``secret(key)`` gives a secret config value, None when not set."""
    external = cfg.platform == "external"

    def basic(user: str, password_key: str) -> Login:
        return Login(user, secret(password_key)) if external and user else Login()

    if external:
        elasticsearch = basic(cfg.elasticsearch_user, "elasticsearchPassword")
    elif cfg.elasticsearch_security:
        elasticsearch = Login(ELASTICSEARCH_BUILT_IN_USER, secret("elasticsearchPassword"))
    else:
        elasticsearch = Login()
    es_key = secret("elasticsearchApiKey") if external else None
    token = secret("grafanaToken") if external else None
    return Logins(
        connect=basic(cfg.connect_user, "connectPassword"),
        ksqldb=basic(cfg.ksqldb_user, "ksqldbPassword"),
        elasticsearch=elasticsearch,
        elasticsearch_admin=Login(api_key=es_key, api_key_scheme=API_KEY_SCHEME) if es_key is not None
        else elasticsearch,
        grafana=Login(api_key=token) if token is not None
        else Login(cfg.grafana_admin_user, secret("grafanaAdminPassword")),
        kafka=KafkaAccess(cfg.kafka_security_protocol, cfg.kafka_sasl_mechanism,
                          basic(cfg.kafka_user, "kafkaPassword")),
    )
