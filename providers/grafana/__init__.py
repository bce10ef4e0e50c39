"""Grafana application layer: datasources, folders and dashboards by uid, and their HTTP client; alerting
(alert rules, contact points, the notification policy tree) in ``alert_rule``, ``contact_point`` and
``notification_policy``."""
from providers.grafana.client import GrafanaClient
from providers.grafana.dashboard import GrafanaDashboard
from providers.grafana.datasource import GrafanaDatasource
from providers.grafana.folder import GrafanaFolder

__all__ = ["GrafanaClient", "GrafanaDashboard", "GrafanaDatasource", "GrafanaFolder"]

