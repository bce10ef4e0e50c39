"""The read side of a FAKE ksqlDB: ``SHOW``/``LIST`` ``STREAMS|TABLES|QUERIES|TOPICS`` ``[EXTENDED]`` and
``DESCRIBE x [EXTENDED]``, answered from the state as ksqlDB 8.2.1 does (``ListSourceExecutor``,
``SourceDescriptionFactory``, ``ListQueriesExecutor``, ``ListTopicsExecutor``)."""
from __future__ import annotations

import re
from typing import Any

from providers.ksqldb.parser import identifier
from tests.fakes.ksqldb.errors import StatementError
from tests.fakes.ksqldb.kafka import Topic
from tests.fakes.ksqldb.state import Query, Source, State

# ReservedInternalTopics + KsqlConfig.KSQL_HIDDEN_TOPICS_DEFAULT: hidden from SHOW TOPICS (not SHOW ALL TOPICS)
HIDDEN_TOPIC = re.compile(r"_confluent-ksql-.*|_confluent.*|__confluent.*|_schemas|__consumer_offsets"
                          r"|__transaction_state|connect-configs|connect-offsets|connect-status|connect-statuses")


class Catalog:
    def __init__(self, state: State):
        self.state, self.host = state, state.host

    def answer(self, statement: str, toks: list[str]) -> dict:
        what = toks[1] if len(toks) > 1 else ""
        extended = "EXTENDED" in toks
        if toks[0] == "DESCRIBE":
            name = identifier(toks[1])
            source = self.state.sources.get(name)
            if source is None:
                raise StatementError(f"Could not find STREAM/TABLE '{name}' in the Metastore")
            description, warnings = self.describe(source, extended)
            return {"@type": "sourceDescription", "sourceDescription": description, "warnings": warnings}
        if what in ("STREAMS", "TABLES"):
            kind = what[:-1]
            chosen = [s for s in self.state.sources.values() if s.kind == kind]
            if extended:
                described = [self.describe(s, True) for s in chosen]
                return {"@type": "source_descriptions", "sourceDescriptions": [d for d, _ in described],
                        "warnings": [w for _, ws in described for w in ws]}
            key = what.lower()
            return {"@type": key, key: [{"type": kind, "name": s.name, "topic": s.topic, "keyFormat": s.key_format,
                                         "valueFormat": s.value_format, "isWindowed": s.window is not None}
                                        for s in chosen]}
        if what == "QUERIES":
            if extended:
                return {"@type": "query_descriptions",
                        "queryDescriptions": [self._query_description(q) for q in self.state.queries.values()]}
            return {"@type": "queries", "queries": [self.running(q) for q in self.state.queries.values()]}
        if what in ("TOPICS", "ALL"):
            return self._topics(show_all=what == "ALL", extended=extended)
        raise StatementError(f"line 1:1: Syntax Error\nFAKE: statement not modelled: {statement[:40]}")

    def running(self, q: Query) -> dict:
        sink = self.state.sources.get(q.sink)
        return {"queryString": q.statement, "sinks": [q.sink], "sinkKafkaTopics": [sink.topic if sink else q.sink],
                "id": q.id, "statusCount": {q.state: 1}, "queryType": "PERSISTENT",
                "state": "ERROR" if q.state == "ERROR" else "RUNNING"}  # statusCount alone shows PAUSED

    def describe(self, source: Source, extended: bool) -> tuple[dict, list[dict]]:
        """A ``sourceDescription`` and its warnings. A source whose topic is gone is still described:
        ``describeTopic`` fails, so partitions and replication are 0, ``sourceConstraints`` empty, and the
        answer carries the warning ``Error from Kafka: ...`` (``ListSourceExecutor.describeSource``)."""
        topic = self.state.topics.get(source.topic)
        readers = [q for q in self.state.queries.values() if source.name in q.reads]
        failed = f"Error from Kafka: Failed to Describe Kafka Topic(s): [{source.topic}]"
        warnings = [] if topic else [{"message": failed}]
        constraints = sorted(s.name for s in self.state.sources.values() if source.name in s.reads) if topic else []
        description = {
            "name": source.name, "windowType": source.window[0] if source.window else None,
            "readQueries": [self.running(q) for q in readers],
            "writeQueries": [self.running(q) for q in self.state.queries.values() if q.sink == source.name],
            "fields": fields(source.columns), "type": source.kind, "timestamp": "", "statistics": "",
            "errorStats": "", "extended": extended, "keyFormat": source.key_format,
            "valueFormat": source.value_format, "topic": source.topic,
            "partitions": topic.partitions if topic else 0, "replication": topic.replicas if topic else 0,
            "statement": source.statement, "queryOffsetSummaries": [], "sourceConstraints": constraints,
            "clusterStatistics": [], "clusterErrorStats": []}
        if extended and topic:
            description.update(self._traffic(source, topic, readers))
        return description, warnings

    def _query_description(self, q: Query) -> dict:
        sink = self.state.sources.get(q.sink)
        window = sink.window[0] if sink and sink.window else None
        return {"id": q.id, "statementText": q.statement, "windowType": window,
                "fields": fields(sink.columns) if sink else [], "sources": list(q.reads), "sinks": [q.sink],
                "topology": "", "executionPlan": "", "overriddenProperties": q.properties,
                "ksqlHostQueryStatus": {self.host: q.state}, "queryType": "PERSISTENT", "queryErrors": [],
                "tasksMetadata": [], "state": "ERROR" if q.state == "ERROR" else "RUNNING"}

    def _topics(self, show_all: bool, extended: bool) -> dict:
        """``ListTopicsExecutor``: sorted by name, internal topics hidden unless ``SHOW ALL TOPICS``;
        ``replicaInfo`` is each partition's replica count; consumers are counted per query reading it."""
        names = [n for n in self.state.topics.names() if show_all or not HIDDEN_TOPIC.fullmatch(n)]
        topics: list[dict[str, Any]] = []
        for name in names:
            topic = self.state.topics.get(name)
            assert topic is not None
            info: dict[str, Any] = {"name": name, "replicaInfo": [topic.replicas] * topic.partitions}
            if extended:
                groups = sum(1 for q in self.state.queries.values() if any(
                    self.state.sources.get(r) and self.state.sources[r].topic == name for r in q.reads))
                info.update(consumerCount=groups * topic.partitions, consumerGroupCount=groups)
            topics.append(info)
        return {"@type": "kafka_topics_extended" if extended else "kafka_topics", "topics": topics}

    def _traffic(self, source: Source, topic: Topic, readers: list[Query]) -> dict:
        traffic = self.state.traffic.get(source.topic)
        if traffic is None or not readers:
            return {}
        partitions = topic.partitions
        consumed = traffic.records if traffic.consumed is None else traffic.consumed

        def spread(total: int) -> list[int]:
            return [total // partitions + (p < total % partitions) for p in range(partitions)]

        offsets = [{"partition": p, "logStartOffset": 0, "logEndOffset": end, "consumerOffset": done}
                   for p, (end, done) in enumerate(zip(spread(traffic.records), spread(consumed)))]
        summaries = [{"groupId": f"_confluent-ksql-{self.state.service_id}query_{q.id}",
                      "topicSummaries": [{"kafkaTopic": source.topic, "offsets": offsets}]} for q in readers]
        stats = [{"name": name, "host": self.host, "value": float(value), "timestamp": traffic.last_ms}
                 for name, value in (("consumer-messages-per-sec", 0.0),
                                     ("consumer-total-messages", consumed * len(readers)),
                                     ("consumer-total-bytes", consumed * len(readers) * 200))]
        errors = [{"name": "consumer-failed-messages", "host": self.host, "value": float(traffic.failed),
                   "timestamp": traffic.last_ms}] if traffic.failed else []
        return {"queryOffsetSummaries": summaries, "clusterStatistics": stats, "clusterErrorStats": errors}


def fields(columns: tuple[tuple[str, str, bool], ...]) -> list[dict]:
    """``fields`` of a description, key columns first, nested types (``STRUCT<...>``, ``ARRAY<...>``) spelt out."""
    return [{"name": n, "schema": schema(t), **({"type": "KEY"} if key else {})}
            for n, t, key in sorted(columns, key=lambda c: not c[2])]


def schema(type_text: str) -> dict:
    """``{"type", "fields", "memberSchema"}`` of a type written as ksqlDB writes it."""
    kind, _, inner = type_text.partition("<")
    inner = inner[:-1]
    if kind == "STRUCT":
        members = []
        for part in _split_members(inner):
            name, _, member = part.partition(" ")
            members.append({"name": name.strip("`"), "schema": schema(member)})
        return {"type": kind, "fields": members, "memberSchema": None}
    if kind in ("ARRAY", "MAP"):
        return {"type": kind, "fields": None, "memberSchema": schema(inner.split(", ")[-1] if kind == "MAP" else inner)}
    return {"type": kind, "fields": None, "memberSchema": None}


def _split_members(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "<") - (ch == ">")
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return parts + [text[start:].strip()]
