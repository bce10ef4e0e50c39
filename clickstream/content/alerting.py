"""The pipeline's alerting: Grafana alert rules over the alert tables' indexes, and where they notify.

- ``ERRORS_PER_MIN_ALERT`` holds a row only for a minute whose error count passed the burst threshold, and
  ``HIGH_BANDWIDTH_SESSIONS`` only for a session past the bandwidth threshold (``clickstream.content.rates``). So
  each rule counts the documents of its index whose ``EVENT_TS`` lies in the last ``WINDOW_SECONDS`` and
  fires when there is at least one. No document is the normal case (``noDataState`` OK); a query that
  fails (Elasticsearch down, datasource broken) puts the rule in error (``execErrState`` Error).
- With ``alertWebhookUrl`` set, a webhook contact point receives every alert (the notification policy
  tree routes to it). Without it, no contact point or policy is declared: the rules evaluate and show
  their state in Grafana (and in ``make status``), and Grafana's default policy sends nothing (its default
  email contact point has no SMTP server on these stacks).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from clickstream.content import connectors

RULE_GROUP = "clickstream-alerts"
WINDOW_SECONDS = 180  # a burst is reported while its window's document is at most this old
CONTACT_POINT_UID = "clickstream-webhook"
CONTACT_POINT_NAME = "Clickstream webhook"
EXPRESSIONS = "__expr__"  # the datasource uid of Grafana's server-side expressions


@dataclasses.dataclass(frozen=True)
class Alert:
    table: str
    uid: str
    title: str
    summary: str


ALERTS = (
    Alert("ERRORS_PER_MIN_ALERT", "clickstream-error-burst", "Error burst",
          "More error responses of one status in a minute than the burst threshold"),
    Alert("HIGH_BANDWIDTH_SESSIONS", "clickstream-high-bandwidth-session", "High-bandwidth session",
          "A user session moved more bytes than the high-bandwidth threshold"),
)


def alert_rule(alert: Alert, folder_uid: str) -> dict[str, Any]:
    """The provisioning API body of ``alert``'s rule (without its uid): count the recent documents of the
    table's index through its Elasticsearch datasource (A), sum them (B), fire when B > 0 (C)."""
    datasource = connectors.datasource_uid(alert.table)
    count = {"refId": "A", "query": "", "timeField": connectors.TIME_FIELD,
             "metrics": [{"id": "1", "type": "count"}],
             "bucketAggs": [{"id": "2", "type": "date_histogram", "field": connectors.TIME_FIELD,
                             "settings": {"interval": "auto", "min_doc_count": "0"}}]}
    return {
        "title": alert.title, "folderUID": folder_uid, "ruleGroup": RULE_GROUP, "condition": "C",
        "data": [
            {"refId": "A", "datasourceUid": datasource, "relativeTimeRange": {"from": WINDOW_SECONDS, "to": 0},
             "model": count},
            {"refId": "B", "datasourceUid": EXPRESSIONS,
             "model": {"refId": "B", "type": "reduce", "expression": "A", "reducer": "sum"}},
            {"refId": "C", "datasourceUid": EXPRESSIONS,
             "model": {"refId": "C", "type": "threshold", "expression": "B",
                       "conditions": [{"evaluator": {"type": "gt", "params": [0]}}]}},
        ],
        "noDataState": "OK", "execErrState": "Error", "for": "0s", "isPaused": False,
        "labels": {"pipeline": "clickstream", "table": alert.table},
        "annotations": {"summary": alert.summary,
                        "description": f"Documents in index {connectors.index_name(alert.table)} in the last "
                                       f"{WINDOW_SECONDS} s (table {alert.table})"},
    }


def webhook_policy() -> dict[str, Any]:
    """The notification policy tree: every alert to the webhook contact point, grouped per rule."""
    return {"receiver": CONTACT_POINT_NAME, "group_by": ["grafana_folder", "alertname"],
            "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
