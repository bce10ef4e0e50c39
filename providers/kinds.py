"""Every resource kind of the application layer: the one registration line of a new kind.

The contract tests (tests/unit/test_provider_contract.py, tests/unit/test_resource_declarations.py) hold each
kind listed here to the rules every kind follows: its field table shown in docs/resources, every secret input
wrapped, every secret field a secret output.
"""
from __future__ import annotations

from providers.connect import Connector
from providers.elasticsearch import IndexAlias, IndexTemplate, VersionedIndex
from providers.elasticsearch.lifecycle_policy import IndexLifecyclePolicy
from providers.grafana import GrafanaDashboard, GrafanaDatasource, GrafanaFolder
from providers.grafana.alert_rule import GrafanaAlertRule
from providers.grafana.contact_point import GrafanaContactPoint
from providers.grafana.notification_policy import GrafanaNotificationPolicy
from providers.ksqldb import KsqlInsert, KsqlStream, KsqlTable
from providers.ksqldb.resource import KsqlDirectory

KINDS = (Connector, IndexTemplate, GrafanaDatasource, GrafanaFolder, GrafanaDashboard, KsqlStream, KsqlTable,
         KsqlInsert, GrafanaAlertRule, GrafanaContactPoint, GrafanaNotificationPolicy, KsqlDirectory,
         IndexLifecyclePolicy, VersionedIndex, IndexAlias)
