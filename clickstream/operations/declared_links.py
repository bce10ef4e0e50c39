"""The links the project declares, from generator to dashboards (:class:`Chain`), read from its own files:
the datagen connectors, ``ksql/*.sql``, the sinks and datasources of the derived tables, the dashboards and
the alert rules."""
from __future__ import annotations

import dataclasses
import json
import pathlib
import re
from typing import Mapping

from clickstream.content import alerting, connectors
from providers.ksqldb.parser import load_sql_dir, parse_sources
from stackconfig import StackConfig

ROOT = pathlib.Path(__file__).resolve().parents[2]
KSQL_DIR = ROOT / "ksql"
DASHBOARD_DIR = ROOT / "dashboards"


@dataclasses.dataclass(frozen=True)
class Chain:
    """The declared links. ``sources``: ksqlDB source -> the connector writing its topic; ``indexes``:
    index -> the sink connector writing it; ``alert_rules``: uids of the alert rules."""

    source_connectors: tuple[str, ...]
    sources: Mapping[str, str]
    queries: tuple[str, ...]
    sink_connectors: tuple[str, ...]
    indexes: Mapping[str, str]
    datasources: tuple[str, ...]
    dashboards: tuple[str, ...]
    alert_rules: tuple[str, ...] = ()


class _AnyValue(dict):
    """Fills every ``${name}`` of the SQL files: only object names and topics are read from them."""

    def __bool__(self) -> bool:
        return True

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "1"



def declared_chain() -> Chain:
    """The links the project declares: datagen connectors, ``ksql/*.sql``, sinks, datasources, dashboards."""
    statements = parse_sources(load_sql_dir(KSQL_DIR), _AnyValue())
    feeders = {str(spec.config["kafka.topic"]): spec.name for spec in connectors.datagen_sources(StackConfig())}
    sources = {}
    for statement in statements:
        topic = re.search(r"KAFKA_TOPIC\s*=\s*'([^']+)'", statement.text, re.IGNORECASE)
        if not statement.is_query and topic and topic.group(1) in feeders:
            sources[statement.name] = feeders[topic.group(1)]
    queries = tuple(dict.fromkeys(s.target for s in statements if s.is_query))
    tables = connectors.derived_tables(statements)
    return Chain(
        source_connectors=tuple(feeders.values()), sources=sources, queries=queries,
        sink_connectors=tuple(connectors.sink_name(t) for t in tables),
        indexes={connectors.index_name(t): connectors.sink_name(t) for t in tables},
        datasources=tuple(connectors.datasource_uid(t) for t in tables),
        dashboards=tuple(json.loads(path.read_text(encoding="utf-8"))["uid"]
                         for path in sorted(DASHBOARD_DIR.glob("*.json"))),
        alert_rules=tuple(alert.uid for alert in alerting.ALERTS))
