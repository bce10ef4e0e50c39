"""The application layer of the pipeline, declared on top of the deployed services.

Order (each step ``depends_on`` the previous ones it needs):
datagen source connectors -> ksqlDB statements (``ksql/*.sql``) -> [index template] -> one
Elasticsearch sink per derived table; Grafana: a datasource per index and a folder -> the dashboards
(``dashboards/*.json``). APIs are reached at each service's ``admin_url``; what one service uses to
reach another (the sinks and Grafana reaching Elasticsearch) is the target's ``internal_url``.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import re

import pulumi

from clickstream import connectors
from clickstream.config import Secrets, StackConfig
from components.base import Services
from providers.connect import Connector
from providers.elasticsearch import IndexTemplate
from providers.grafana import GrafanaDashboard, GrafanaDatasource, GrafanaFolder, load_dashboards
from providers.ksqldb import KsqlStatements, load_sql_dir

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSQL_DIR = ROOT / "ksql"
DASHBOARD_DIR = ROOT / "dashboards"
FOLDER_UID = "clickstream"
FOLDER_TITLE = "Clickstream"
ELASTICSEARCH_USER = "elastic"
DS_PLACEHOLDER = re.compile(r"\$\{(DS_[A-Z0-9_]+)\}")  # datasource references in dashboards/*.json


@dataclasses.dataclass(frozen=True)
class Analytics:
    dashboard_urls: pulumi.Output[list[str]]


def ksql_variables(cfg: StackConfig) -> dict[str, str]:
    """Values of the ``${name}`` placeholders in ``ksql/*.sql``."""
    return {"partitions": str(cfg.kafka_partitions), "highBandwidthBytes": str(cfg.high_bandwidth_bytes)}


def declare_analytics(cfg: StackConfig, secrets: Secrets, services: Services) -> Analytics:
    """Declare connectors, ksqlDB statements, index template, sinks, datasources and dashboards."""
    prefix = cfg.name_prefix
    es_user = ELASTICSEARCH_USER if cfg.elasticsearch_security else None
    es_password = secrets.elasticsearch_password if cfg.elasticsearch_security else None

    def opts(*depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(depends_on=list(depends_on))

    sources = [Connector(f"{prefix}-{spec.name}", connect_url=services.connect.admin_url,
                         connector_name=spec.name, config=spec.config, opts=opts())
               for spec in connectors.datagen_sources(cfg)]
    ksql = KsqlStatements(f"{prefix}-ksql", ksqldb_url=services.ksqldb.admin_url,
                          sources=load_sql_dir(KSQL_DIR), variables=ksql_variables(cfg),
                          streams_properties={"auto.offset.reset": "earliest"}, opts=opts(*sources))
    template = IndexTemplate(f"{prefix}-index-template", elasticsearch_url=services.elasticsearch.admin_url,
                             template_name=connectors.INDEX_TEMPLATE_NAME,
                             body=connectors.index_template(replicas=min(cfg.elasticsearch_nodes - 1, 1)),
                             username=es_user, password=es_password, opts=opts())
    for spec in connectors.elasticsearch_sinks(services.elasticsearch.internal_url, username=es_user,
                                               password=es_password):
        Connector(f"{prefix}-{spec.name}", connect_url=services.connect.admin_url, connector_name=spec.name,
                  config=spec.config, secret_config=spec.secret_config or None, opts=opts(ksql, template))

    grafana = dict(grafana_url=services.grafana.admin_url, username=cfg.grafana_admin_user,
                   password=secrets.grafana_admin_password, service_revision=services.grafana.revision)
    datasources = {connectors.datasource_key(table): _datasource(prefix, table, services, es_user, es_password,
                                                                 grafana)
                   for table in connectors.DERIVED_TABLES}
    folder = GrafanaFolder(f"{prefix}-grafana-folder", uid=FOLDER_UID, title=FOLDER_TITLE, **grafana)
    dashboards = []
    for path, body in load_dashboards(sorted(DASHBOARD_DIR.glob("*.json"))):
        keys = set(DS_PLACEHOLDER.findall(json.dumps(body)))
        if unknown := sorted(keys - set(datasources)):
            raise ValueError(f"{path}: no datasource for {', '.join(unknown)}; known: {', '.join(sorted(datasources))}")
        used = {key: datasources[key] for key in sorted(keys)}
        dashboard = GrafanaDashboard(f"{prefix}-dashboard-{path.stem.replace('_', '-')}", dashboard=body,
                                     folder_uid=folder.uid, datasource_uids={k: ds.uid for k, ds in used.items()},
                                     opts=opts(folder, *used.values()), **grafana)
        # Grafana's own path (/d/<uid>/<slug>); /d/<uid> serves the same dashboard while it is unknown
        dashboards.append(dashboard.url.apply(lambda url, uid=body["uid"]: url or f"/d/{uid}"))
    urls = pulumi.Output.all(services.grafana.admin_url, *dashboards).apply(
        lambda values: [values[0].rstrip("/") + path for path in values[1:]])
    return Analytics(dashboard_urls=urls)


def _datasource(prefix: str, table: str, services: Services, es_user: str | None,
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
    secure = None
    if es_user is not None:
        datasource.update(basicAuth=True, basicAuthUser=es_user)
        secure = {"basicAuthPassword": es_password}
    return GrafanaDatasource(f"{prefix}-datasource-{uid}", uid=uid, datasource=datasource,
                             secure_json_data=secure, **grafana)
