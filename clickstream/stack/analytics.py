"""The application layer of the pipeline, declared on top of the deployed services.

Order (each step ``depends_on`` the previous ones it needs):
datagen source connectors -> ksqlDB statements (``ksql/*.sql``) -> [index template] -> per derived table
(every ``CREATE TABLE ... AS SELECT`` of ``ksql/``) the index of its current build, the sink of that build
into it, and the alias readers use (moved to a new build once it has caught up); Grafana: a datasource per
alias and a folder -> the dashboards (``dashboards/*.json``) and the alert rules (``clickstream.content.alerting``;
with a webhook configured, its contact point and the notification policy).
Before anything is declared, a dashboard or alert rule that reads the datasource of a table no SQL file
declares is refused, naming it; the ksqlDB directory is told what reads each table (sink, datasource,
dashboards, alert rules), the objects ``retire`` lists and whether ``protect`` is on, so that it refuses
to drop a deployed object no file declares any more unless it is retired (``docs/resources/ksqldb.md``).
APIs are reached at each service's ``admin_url``; what one service uses to reach another (the sinks and
Grafana reaching Elasticsearch) is the target's ``internal_url``. Credentials go with each service as
``clickstream.stack.logins`` says.
"""
from __future__ import annotations

import functools
import pathlib
from typing import Any

import pulumi

from clickstream.content import alerting, connectors, rates
from clickstream.content.dashboards import DashboardError, load_dashboards
from clickstream.stack.logins import Login, Logins, logins
from components.base import Services
from providers.connect import Connector
from providers.contract import UNTYPED_DYNAMIC_RESOURCE
from providers.elasticsearch import IndexAlias, IndexTemplate, VersionedIndex
from providers.elasticsearch.lifecycle_policy import IndexLifecyclePolicy
from providers.grafana import GrafanaDashboard, GrafanaDatasource, GrafanaFolder
from providers.grafana.alert_rule import GrafanaAlertRule
from providers.grafana.contact_point import GrafanaContactPoint
from providers.grafana.dashboards import placeholders
from providers.grafana.notification_policy import GrafanaNotificationPolicy
from providers.ksqldb import KsqlPipeline, load_sql_dir, parse_sources
from stackconfig import Secrets, StackConfig

ROOT = pathlib.Path(__file__).resolve().parents[2]
KSQL_DIR = ROOT / "ksql"
DASHBOARD_DIR = ROOT / "dashboards"
FOLDER_UID = "clickstream"
FOLDER_TITLE = "Clickstream"
# a secret config key -> its field of ``Secrets``
_SECRET_FIELDS = {"grafanaAdminPassword": "grafana_admin_password", "elasticsearchPassword": "elasticsearch_password",
                  "connectPassword": "connect_password", "ksqldbPassword": "ksqldb_password",
                  "elasticsearchApiKey": "elasticsearch_api_key", "grafanaToken": "grafana_token",
                  "kafkaPassword": "kafka_password"}


class ContentError(DashboardError):
    """A dashboard (or an alert rule) is not usable, e.g. it reads the datasource of a table no SQL file
    declares; the message names each one."""


def ksql_variables(cfg: StackConfig) -> dict[str, str]:
    """Values of the ``${name}`` placeholders in ``ksql/*.sql``; the thresholds are derived from the
    configured rates and sessionize cycle (``clickstream.content.rates``)."""
    return {"partitions": str(cfg.kafka_partitions),
            "highBandwidthBytes": str(rates.high_bandwidth_bytes(cfg)),
            "errorBurstCount": str(rates.error_burst_count(cfg))}


def declare_analytics(cfg: StackConfig, secrets: Secrets, services: Services) -> "Analytics":
    """Declare connectors, ksqlDB objects, index template, sinks, datasources and dashboards."""
    return Analytics(f"{cfg.name_prefix}-analytics", cfg, secrets, services)


class Analytics(pulumi.ComponentResource):
    """The application layer (``clickstream:app:Analytics``): every resource above is its child. Stacks
    deployed when those resources were direct children of the stack (and the Elasticsearch and Grafana ones
    had no type token of their own) find them again through aliases, so nothing is replaced.
    Output: ``dashboard_urls``."""

    dashboard_urls: pulumi.Output[list[str]]

    def __init__(self, name: str, cfg: StackConfig, secrets: Secrets, services: Services,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:app:Analytics", name, None, opts)
        prefix = cfg.name_prefix
        login = logins(cfg, lambda key: getattr(secrets, _SECRET_FIELDS[key]))
        connect = dict(connect_url=services.connect.admin_url, **_basic(login.connect))
        sql, variables = load_sql_dir(KSQL_DIR), ksql_variables(cfg)
        tables = connectors.derived_tables(parse_sources(sql, variables))
        loaded = _checked_content(tables)
        es_user, es_password = login.elasticsearch.username, login.elasticsearch.password
        sources = [Connector(f"{prefix}-{spec.name}", connector_name=spec.name, config=spec.config, **connect,
                             opts=self._child(Connector))
                   for spec in connectors.datagen_sources(cfg)]
        ksql = KsqlPipeline(f"{prefix}-ksql", ksqldb_url=services.ksqldb.admin_url, **_basic(login.ksqldb),
                            sources=sql, variables=variables, streams_properties={"auto.offset.reset": "earliest"},
                            readers=_readers(tables, loaded), retire=list(cfg.retire), protect=cfg.protect,
                            opts=pulumi.ResourceOptions(parent=self, depends_on=sources))
        if tables:  # an index template needs at least one index pattern; no table, no sink
            es_admin = dict(elasticsearch_url=services.elasticsearch.admin_url, **_basic(login.elasticsearch_admin),
                            api_key=login.elasticsearch_admin.api_key)
            retention = [IndexLifecyclePolicy(
                f"{prefix}-retention-policy", policy_name=connectors.RETENTION_POLICY_NAME,
                policy=connectors.retention_policy(cfg.elasticsearch_retention_days), **es_admin,
                opts=pulumi.ResourceOptions(parent=self))] if cfg.elasticsearch_retention_days else []
            template = IndexTemplate(f"{prefix}-index-template", template_name=connectors.INDEX_TEMPLATE_NAME,
                                     body=connectors.index_template(
                                         tables, replicas=min(cfg.elasticsearch_nodes - 1, 1),
                                         lifecycle=connectors.RETENTION_POLICY_NAME if retention else None),
                                     **es_admin, opts=self._child(IndexTemplate, *retention))
            self._sinks(prefix, tables, ksql, template, services, login, connect, es_admin)

        grafana = dict(grafana_url=services.grafana.admin_url, **_basic(login.grafana), api_key=login.grafana.api_key,
                       service_revision=services.grafana.revision)
        datasources = {connectors.datasource_key(table): self._datasource(prefix, table, services, es_user,
                                                                          es_password, grafana)
                       for table in tables}
        folder = GrafanaFolder(f"{prefix}-grafana-folder", uid=FOLDER_UID, title=FOLDER_TITLE, **grafana,
                               opts=self._child(GrafanaFolder))
        dashboards = []
        for path, body in loaded:
            used = {key: datasources[key] for key in sorted(placeholders(body))}
            dashboard = GrafanaDashboard(f"{prefix}-dashboard-{path.stem.replace('_', '-')}", dashboard=body,
                                         folder_uid=folder.uid,
                                         datasource_uids={k: ds.uid for k, ds in used.items()},
                                         opts=self._child(GrafanaDashboard, folder, *used.values()), **grafana)
            dashboards.append(dashboard.url.apply(functools.partial(_dashboard_path, uid=body["uid"])))
        self._alerting(prefix, secrets, grafana, folder, datasources)
        self.dashboard_urls = pulumi.Output.all(services.grafana.admin_url, *dashboards).apply(
            lambda values: [values[0].rstrip("/") + path for path in values[1:]])
        self.register_outputs({"dashboard_urls": self.dashboard_urls})

    def _sinks(self, prefix: str, tables: tuple[str, ...], ksql: KsqlPipeline, template: pulumi.Resource,
               services: Services, login: Logins, connect: dict[str, Any], es_admin: dict[str, Any]) -> None:
        """Per table: the index of its current build (``<table>_v<build>``, the build digest of the files:
        ``KsqlPipeline.builds``, so a preview names it), the sink of that build into it, and the alias readers
        use, moved to the build's index once it has caught up (docs/resources/versioned-indexes.md)."""
        names = {table: connectors.versioned_index_name(table, ksql.builds[table]) for table in tables}
        connector_names = {table: connectors.sink_connector_name(table, ksql.builds[table]) for table in tables}
        groups = {table: ksql.resources[table].query_id.apply(
            functools.partial(connectors.sink_group, connector_names[table])) for table in tables}
        for spec in connectors.elasticsearch_sinks(services.elasticsearch.internal_url, names, groups,
                                                   username=login.elasticsearch.username,
                                                   password=login.elasticsearch.password):
            table = str(spec.config["topics"])
            resource_name = connectors.resource_stem(table)
            built = ksql.resources[table]
            index = VersionedIndex(f"{prefix}-index-{resource_name}", alias=connectors.index_name(table),
                                   index=names[table], build=built.query_id, **es_admin,
                                   opts=pulumi.ResourceOptions(parent=self, depends_on=[template, built]))
            sink = Connector(f"{prefix}-{spec.name}", connector_name=connector_names[table], config=spec.config,
                             secret_config=spec.secret_config or None, **connect,
                             opts=self._child(Connector, ksql, template, index))
            IndexAlias(f"{prefix}-alias-{resource_name}", alias=connectors.index_name(table), index=names[table],
                       kafka_bootstrap=services.kafka.admin_url, topic=built.topic,
                       **login.kafka.index_alias_inputs(),
                       source_topics=pulumi.Output.all(*(ksql.resources[name].topic for name in ksql.reads[table])),
                       query_id=built.query_id, sink=connector_names[table], sink_group=groups[table],
                       ksqldb_url=services.ksqldb.admin_url, ksqldb_username=login.ksqldb.username,
                       ksqldb_password=login.ksqldb.password if login.ksqldb.username else None, **es_admin,
                       opts=pulumi.ResourceOptions(parent=self, depends_on=[index, sink]))

    def _alerting(self, prefix: str, secrets: Secrets, grafana: dict, folder: pulumi.Resource,
                  datasources: dict[str, GrafanaDatasource]) -> None:
        """The alert rules (``clickstream.content.alerting``) and, with ``alertWebhookUrl`` set, the webhook contact
        point and the notification policy tree that routes every alert to it."""
        for alert in alerting.ALERTS:
            datasource = datasources[connectors.datasource_key(alert.table)]
            GrafanaAlertRule(f"{prefix}-alert-{alert.uid}", uid=alert.uid, rule=alerting.alert_rule(alert, FOLDER_UID),
                             **grafana, opts=pulumi.ResourceOptions(parent=self, depends_on=[folder, datasource]))
        if secrets.alert_webhook_url is None:
            return
        contact = GrafanaContactPoint(f"{prefix}-contact-point", uid=alerting.CONTACT_POINT_UID,
                                      name=alerting.CONTACT_POINT_NAME, type="webhook",
                                      settings={"httpMethod": "POST"},
                                      secure_settings={"url": secrets.alert_webhook_url}, **grafana,
                                      opts=pulumi.ResourceOptions(parent=self))
        GrafanaNotificationPolicy(f"{prefix}-notification-policy", policy=alerting.webhook_policy(), **grafana,
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=[contact]))

    def _child(self, kind: type, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of a child that used to be a direct child of the stack, as ``kind``."""
        was = pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE,
                           **({} if kind is Connector else {"type_": UNTYPED_DYNAMIC_RESOURCE}))
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), aliases=[was])

    def _datasource(self, prefix: str, table: str, services: Services, es_user: str | None,
                    es_password: pulumi.Input[str] | None, grafana: dict) -> GrafanaDatasource:
        """The Elasticsearch datasource of one table's index (time field EVENT_TS)."""
        index = connectors.index_name(table)
        uid = connectors.datasource_uid(table)
        datasource = {
            "name": f"Clickstream {index}",
            "type": "elasticsearch",
            "access": "proxy",
            "url": services.elasticsearch.internal_url,
            "jsonData": {"index": index, "timeField": connectors.TIME_FIELD, "maxConcurrentShardRequests": 5},
        }
        secure: dict[str, pulumi.Input[str]] | None = None
        if es_user is not None and es_password is not None:
            datasource.update(basicAuth=True, basicAuthUser=es_user)
            secure = {"basicAuthPassword": es_password}
        return GrafanaDatasource(f"{prefix}-datasource-{uid}", uid=uid, datasource=datasource,
                                 secure_json_data=secure, **grafana, opts=self._child(GrafanaDatasource))


def _checked_content(tables: tuple[str, ...]) -> list[tuple[pathlib.Path, dict]]:
    """The dashboards, once every dashboard and alert rule reads only the datasources of ``tables``; else
    ContentError naming each panel and rule that reads another one, its datasource and the table no SQL file
    declares (so removing a table's statement never leaves a dashboard or rule reading nothing)."""
    problems = [f"clickstream/content/alerting.py: alert rule {alert.uid} ({alert.title!r}) reads datasource "
                f"{connectors.datasource_uid(alert.table)}, {_undeclared(alert.table)}; restore the table's statement, "
                f"or take the rule out of clickstream.content.alerting.ALERTS"
                for alert in alerting.ALERTS if alert.table not in tables]
    declared = {connectors.datasource_key(table): connectors.datasource_uid(table) for table in tables}
    try:
        loaded = load_dashboards(sorted(DASHBOARD_DIR.glob("*.json")), declared,
                                 missing=lambda key: _undeclared(key.removeprefix("DS_")) + "; restore the table's "
                                 "statement, or take what reads it out of the dashboard")
    except DashboardError as exc:
        problems.insert(0, str(exc))
        loaded = []
    if problems:
        raise ContentError("\n".join(problems))
    return loaded


def _undeclared(table: str) -> str:
    return (f"the datasource of ksqlDB table {table}'s index, and no SQL file in {KSQL_DIR.name}/ declares that table "
            f"(CREATE TABLE {table} AS SELECT ...)")


def _readers(tables: tuple[str, ...], dashboards: list[tuple[pathlib.Path, dict]]) -> dict[str, list[str]]:
    """Table -> what reads it outside ksqlDB: its sink, its datasource, the dashboards and alert rules that read
    that datasource (the ksqlDB directory names them when the table's statement disappears)."""
    readers = {}
    for table in tables:
        key = connectors.datasource_key(table)
        readers[table] = [
            f"Elasticsearch sink connector {connectors.sink_name(table)} (index {connectors.index_name(table)})",
            f"Grafana datasource {connectors.datasource_uid(table)}",
            *(f"dashboard {body['uid']} ({DASHBOARD_DIR.name}/{path.name})" for path, body in dashboards
              if key in placeholders(body)),
            *(f"alert rule {alert.uid} (clickstream/content/alerting.py)" for alert in alerting.ALERTS
              if alert.table == table)]
    return readers


def _basic(login: Login) -> dict[str, Any]:
    """The ``username``/``password`` inputs of a resource for ``login`` (None each without basic auth)."""
    return {"username": login.username, "password": login.password if login.username else None}


def _dashboard_path(url: str | None, uid: str) -> str:
    """Grafana's own path (``/d/<uid>/<slug>``); ``/d/<uid>`` serves the same dashboard while it is unknown."""
    return url or f"/d/{uid}"
