"""One check per link of the pipeline, each a read-only look at one service through the project's clients.

Every check returns ``Link`` values (OK / LAGGING / BROKEN, the evidence, and for BROKEN what to do next)
and never raises for a service's answer: an unreachable service or an error status is itself evidence. A
check's ``stack`` (None: the selected one) is the stack a suggested ``make up`` is for (``stack_outputs.make``).
Facts the checks rely on:

* Kafka Connect ``GET /connectors/<n>/status``: connector and task states, ``trace`` of a FAILED one.
* ksqlDB 8.2.1 ``SHOW STREAMS EXTENDED; SHOW TABLES EXTENDED; SHOW QUERIES;`` (one request): per source
  ``queryOffsetSummaries`` (log-end and consumer offsets of the consumer groups of the queries reading
  it), ``clusterStatistics`` (``consumer-total-messages`` and friends with the time of the last record
  ksqlDB consumed) and ``clusterErrorStats`` (``consumer-failed-messages``: records the processing log
  recorded as failed); per query ``statusCount`` (RUNNING / ERROR / PAUSED / UNRESPONSIVE).
* Elasticsearch 8 ``GET /<index>/_search`` with ``size: 0``, ``track_total_hits`` and a ``max``
  aggregation of ``EVENT_TS`` (null while no document has the field); 404 ``index_not_found_exception``.
* Grafana 12 ``GET /api/datasources/uid/<uid>/health``: 200 ``{"status": "OK"}``, 400 with the plugin's
  ``status``/``message`` when the check fails, 500 when it cannot run; ``GET /api/dashboards/uid/<uid>``.
* Grafana 12.4 ``GET /api/prometheus/grafana/api/v1/rules`` (``pkg/services/ngalert/api/prometheus``): every
  Grafana-managed rule in ``data.groups[].rules[]`` with its ``uid``, ``state`` (inactive, pending, firing,
  recovering), ``health`` (ok, nodata, error) and ``lastError``.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence

import requests

from clickstream.operations.stack_outputs import make
from providers.connect.client import ConnectClient, describe, failure_summary
from providers.elasticsearch.client import ElasticsearchClient
from providers.grafana.client import GrafanaClient
from providers.http import ApiError, Endpoint
from providers.ksqldb.client import KsqlClient

OK, LAGGING, BROKEN = "OK", "LAGGING", "BROKEN"
SEVERITY = {OK: 0, LAGGING: 1, BROKEN: 2}
TIME_FIELD = "EVENT_TS"
SPECIAL_DATASOURCES = {"-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana", "dashboard"}


@dataclasses.dataclass(frozen=True)
class Link:
    """One link of the chain as seen now. ``action``: what to do next (set for BROKEN, often for LAGGING)."""

    stage: str
    name: str
    state: str
    evidence: str
    action: str = ""


@dataclasses.dataclass(frozen=True)
class Limits:
    """When a flowing link counts as LAGGING: its newest record is older than ``stale_after`` seconds, or
    ksqlDB's queries are more than ``lag_records`` records behind a source topic."""

    stale_after: float = 300.0
    lag_records: int = 10_000


def unreachable(stage: str, name: str, service: str, url: str, exc: Exception, hint: str = "", *,
                stack: str | None = None) -> Link:
    """A link whose service did not answer; ``hint`` (e.g. the stack's port-forward commands) says what to do."""
    reason = exc.message if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
    return Link(stage, name, BROKEN, f"{service} at {url} did not answer: {reason}",
                hint or f"check that {service} runs (`{make('up', stack)}` starts and converges everything)")


def _age(epoch_ms: float, now: float) -> float:
    return max(0.0, now - epoch_ms / 1000.0)


def _when(epoch_ms: float, now: float) -> str:
    stamp = datetime.datetime.fromtimestamp(epoch_ms / 1000.0, datetime.timezone.utc)
    return f"{stamp.strftime('%Y-%m-%dT%H:%M:%SZ')} ({_age(epoch_ms, now):.0f} s ago)"


# Kafka Connect ------------------------------------------------------------------------------------------
def connector_link(endpoint: Endpoint, stage: str, name: str, hint: str = "", *, stack: str | None = None) -> Link:
    """A connector and every one of its tasks: RUNNING -> OK; PAUSED/UNASSIGNED/RESTARTING -> LAGGING;
    missing, FAILED or STOPPED -> BROKEN (FAILED shows the first line and causes of the trace)."""
    try:
        with ConnectClient(endpoint) as client:
            status = client.status(name)
            exists = status is not None or client.get_config(name) is not None
    except Exception as exc:  # noqa: BLE001 - any failure is evidence
        return unreachable(stage, name, "Kafka Connect", endpoint.url, exc, hint, stack=stack)
    restart = f"curl -X POST '{endpoint.url.rstrip('/')}/connectors/{name}/restart?includeTasks=true&onlyFailed=true'"
    if not exists:
        return Link(stage, name, BROKEN, "Kafka Connect has no such connector",
                    f"`{make('up', stack)}` creates it (pulumi up --refresh puts back what was deleted)")
    if status is None:  # created a moment ago: the worker has not written its status yet
        return Link(stage, name, LAGGING, "connector created, no status reported yet", "look again in a few seconds")
    failure = failure_summary(status)
    if failure:
        return Link(stage, name, BROKEN, failure, f"fix the cause named in the trace, then `{restart}`")
    state = status.get("connector", {}).get("state")
    tasks = status.get("tasks", [])
    seen = describe(status)
    if state == "STOPPED":
        return Link(stage, name, BROKEN, seen, f"`{make('up', stack)}` resumes it (or PUT .../resume)")
    if state == "RUNNING" and tasks and all(t.get("state") == "RUNNING" for t in tasks):
        return Link(stage, name, OK, seen)
    if state == "PAUSED" or any(t.get("state") == "PAUSED" for t in tasks):
        return Link(stage, name, LAGGING, f"{seen}: paused, no records move",
                    f"resume it: `curl -X PUT {endpoint.url.rstrip('/')}/connectors/{name}/resume` "
                    "(`python -m clickstream sessionize` pauses the generator on purpose and resumes it)")
    return Link(stage, name, LAGGING, f"{seen}: starting or rebalancing", "wait a few seconds and look again")


def sink_link(endpoint: Endpoint, table_sink: str, hint: str = "", *, stack: str | None = None) -> Link:
    """The sink connector of one table, named ``table_sink`` (the line's name does not change with the build):
    each build of the table has its own connector, ``<table_sink>-v<version>``
    (clickstream.content.connectors.sink_connector_name); the line is that connector's as :func:`connector_link` sees
    it, its evidence starting with the connector's name. Several at once (an interrupted replacement): the
    worst of them. None: BROKEN."""
    stage = "sink connector"
    try:
        with ConnectClient(endpoint) as client:
            names = sorted(n for n in client.connectors() if n.startswith(f"{table_sink}-v"))
    except Exception as exc:  # noqa: BLE001 - any failure is evidence
        return unreachable(stage, table_sink, "Kafka Connect", endpoint.url, exc, hint, stack=stack)
    if not names:
        return Link(stage, table_sink, BROKEN, f"Kafka Connect has no sink connector of this table ({table_sink}-v...)",
                    f"`{make('up', stack)}` creates it (pulumi up --refresh puts back what was deleted)")
    worst = max((connector_link(endpoint, stage, name, hint, stack=stack) for name in names),
                key=lambda link: SEVERITY[link.state])
    return dataclasses.replace(worst, name=table_sink, evidence=f"{worst.name}: {worst.evidence}")


# ksqlDB -------------------------------------------------------------------------------------------------
def ksql_catalog(endpoint: Endpoint) -> tuple[dict[str, dict], list[dict]]:
    """Every stream/table description (EXTENDED) by name, and every query, in one read-only request."""
    with KsqlClient(endpoint) as client:
        descriptions, queries, _ = client.catalog()
    return {d.get("name"): d for d in descriptions}, queries


def _stat(stats: Iterable[Mapping[str, Any]], name: str) -> tuple[float, float]:
    """(sum of the values over hosts, newest timestamp in ms) of one statistic; (0, 0) when absent."""
    chosen = [s for s in stats if s.get("name") == name]
    return sum(float(s.get("value") or 0) for s in chosen), max((float(s.get("timestamp") or 0) for s in chosen),
                                                               default=0.0)


def _offsets(description: Mapping[str, Any]) -> tuple[int, int]:
    """(records in the source's topic, largest lag of a consumer group of a query reading it)."""
    topic, records, lag = description.get("topic"), 0, 0
    for summary in description.get("queryOffsetSummaries") or []:
        group_end, group_lag = 0, 0
        for topic_summary in summary.get("topicSummaries") or []:
            if topic_summary.get("kafkaTopic") != topic:
                continue
            for part in topic_summary.get("offsets") or []:
                start, end = int(part.get("logStartOffset") or 0), int(part.get("logEndOffset") or 0)
                committed = part.get("consumerOffset")
                consumed = committed if isinstance(committed, int) and committed >= 0 else start  # none committed yet
                group_end += end - start
                group_lag += max(0, end - consumed)
        records, lag = max(records, group_end), max(lag, group_lag)
    return records, lag


def source_link(name: str, description: Mapping[str, Any] | None, limits: Limits, now: float,
                feeder: str = "", *, stack: str | None = None) -> Link:
    """A ksqlDB source over a datagen topic: are records arriving, and are the queries keeping up?"""
    stage = "source topic"
    upstream = f" (written by connector {feeder}: see its line)" if feeder else ""
    if description is None:
        return Link(stage, name, BROKEN, f"ksqlDB has no stream or table {name}",
                    f"`{make('up', stack)}` creates it (pulumi up --refresh puts back what was dropped)")
    topic = description.get("topic")
    records, lag = _offsets(description)
    consumed, last_ms = _stat(description.get("clusterStatistics") or [], "consumer-total-messages")
    if records == 0 and consumed == 0:
        return Link(stage, name, BROKEN, f"no records in topic {topic!r} seen by ksqlDB{upstream}",
                    f"get the connector feeding {topic!r} RUNNING; records then show up here")
    evidence = f"topic {topic!r}: {records} records"
    if consumed:
        evidence += f"; ksqlDB consumed {consumed:.0f}"
    if last_ms:
        evidence += f", last at {_when(last_ms, now)}"
    if description.get("queryOffsetSummaries"):
        evidence += f"; queries {lag} records behind"
    if last_ms and _age(last_ms, now) > limits.stale_after:
        return Link(stage, name, LAGGING, f"{evidence}: nothing new for over {limits.stale_after:.0f} s",
                    f"check the connector feeding {topic!r}{upstream}")
    if lag > limits.lag_records:
        return Link(stage, name, LAGGING, f"{evidence}: more than {limits.lag_records} behind",
                    "ksqlDB cannot keep up: give it more CPU/heap (ksqldbHeap) or slow the generator")
    return Link(stage, name, OK, evidence)


def query_link(sink: str, queries: Sequence[Mapping[str, Any]], descriptions: Mapping[str, Mapping[str, Any]], *,
               stack: str | None = None) -> Link:
    """The persistent query writing ``sink``: its state on every host, and records ksqlDB's processing log
    counted as failed on the topics it reads."""
    stage = "ksqlDB query"
    writing = [q for q in queries
               if sink in (q.get("sinks") or []) and q.get("queryType", "PERSISTENT") == "PERSISTENT"]
    if not writing:
        return Link(stage, sink, BROKEN, f"no persistent query writes {sink} (terminated, or never started)",
                    f"`{make('up', stack)}` recreates it (pulumi up --refresh sees the missing query)")
    worst, parts, action = OK, [], ""
    for query in writing:
        query_id = query.get("id")
        counts = query.get("statusCount") or {}
        failed = sum(_stat(d.get("clusterErrorStats") or [], "consumer-failed-messages")[0]
                     for d in descriptions.values()
                     if any(r.get("id") == query_id for r in d.get("readQueries") or []))
        state = "ERROR" if counts.get("ERROR") else "PAUSED" if counts.get("PAUSED") else \
            "UNRESPONSIVE" if counts.get("UNRESPONSIVE") else query.get("state") or "RUNNING"
        text = f"{query_id} {state}" + (f" ({', '.join(f'{k}={v}' for k, v in sorted(counts.items()))})"
                                        if len(counts) > 1 else "")
        if failed:
            text += f"; processing log: {failed:.0f} records failed on its input topics"
        parts.append(text)
        if state == "ERROR":
            worst, action = BROKEN, (f"read the ksqlDB server log and KSQL_PROCESSING_LOG for {query_id}; "
                                     f"`{make('up', stack)}` recreates the query once the cause is fixed")
        elif state == "PAUSED" and worst != BROKEN:
            worst, action = BROKEN, f"resume it: `RESUME {query_id};` in the ksqlDB CLI (or POST /ksql)"
        elif state == "UNRESPONSIVE" and worst == OK:
            worst, action = LAGGING, "a ksqlDB server does not answer: check the ksqlDB servers"
    produced, last_ms = _stat((descriptions.get(sink) or {}).get("clusterStatistics") or [], "total-messages")
    if produced:
        parts.append(f"wrote {produced:.0f} records")
    return Link(stage, sink, worst, "; ".join(parts), action)


# Elasticsearch ------------------------------------------------------------------------------------------
def index_link(endpoint: Endpoint, index: str, limits: Limits, now: float, feeder: str = "", hint: str = "", *,
               stack: str | None = None) -> Link:
    """Document count and newest ``EVENT_TS`` of one index: missing or empty -> BROKEN, old -> LAGGING."""
    stage = "index"
    upstream = f"connector {feeder}" if feeder else "its sink connector"
    body = {"size": 0, "track_total_hits": True, "aggs": {"newest": {"max": {"field": TIME_FIELD}}}}
    try:
        with ElasticsearchClient(endpoint) as client:
            answer = client.http.get_json(f"/{index}/_search", json=body, attempts=1)
    except ApiError as exc:
        if exc.status == 404:
            return Link(stage, index, BROKEN, f"no index {index!r} yet: nothing was written to it",
                        f"check {upstream} (its line above) and the query feeding it")
        return unreachable(stage, index, "Elasticsearch", endpoint.url, exc, hint, stack=stack)
    except Exception as exc:  # noqa: BLE001 - any failure is evidence
        return unreachable(stage, index, "Elasticsearch", endpoint.url, exc, hint, stack=stack)
    total = (answer.get("hits") or {}).get("total")
    count = int(total.get("value", 0) if isinstance(total, dict) else total or 0)
    newest = ((answer.get("aggregations") or {}).get("newest") or {}).get("value")
    if count == 0:
        return Link(stage, index, BROKEN, f"index {index!r} is empty",
                    f"check {upstream} (its line above) and the query feeding it")
    if newest is None:
        return Link(stage, index, BROKEN, f"{count} documents, none with {TIME_FIELD}: Grafana cannot chart them",
                    f"check the index template maps {TIME_FIELD} (`{make('up', stack)}` restores it)")
    evidence = f"{count} documents, newest {TIME_FIELD} {_when(newest, now)}"
    if rebuilding := _rebuilding(endpoint, index):
        return Link(stage, index, LAGGING, f"{evidence}; {rebuilding}",
                    "the `up` that rebuilt the table moves the alias once the new index has caught up; if it "
                    f"stopped (its catch-up timed out), `{make('up', stack)}` resumes")
    if _age(newest, now) > limits.stale_after:
        return Link(stage, index, LAGGING, f"{evidence}: nothing new for over {limits.stale_after:.0f} s",
                    f"check {upstream} and the links before it")
    return Link(stage, index, OK, evidence)


def _rebuilding(endpoint: Endpoint, alias: str) -> str:
    """How far each build of ``alias``'s table that does not serve it yet has come (its index's documents
    against the serving one's), or "" (docs/resources/versioned-indexes.md)."""
    try:
        with ElasticsearchClient(endpoint) as client:
            versions = client.names_behind(f"{alias}_v*") or {}
            waiting = sorted(name for name, aliases in versions.items() if alias not in aliases)
            serving = sorted(name for name, aliases in versions.items() if alias in aliases)
            counts = {name: client.http.get_json(f"/{name}/_count", attempts=1)["count"] for name in waiting + serving}
    except Exception:  # noqa: BLE001 - the index's own line already says what is wrong with Elasticsearch
        return ""
    if not waiting:
        return ""
    now_serving = ", ".join(f"{name} ({counts[name]} documents)" for name in serving) or "nothing"
    return "rebuilding: " + ", ".join(f"{name} holds {counts[name]} documents" for name in waiting) + \
        f"; the alias stays on {now_serving} until the new build has caught up"


# Grafana ------------------------------------------------------------------------------------------------
def datasource_link(endpoint: Endpoint, uid: str, hint: str = "", *, stack: str | None = None) -> Link:
    """Grafana's own health check of a datasource (run by Grafana, so it tests Grafana's route to ES)."""
    stage = "datasource"
    try:
        with GrafanaClient(endpoint) as client:
            response = client.http.request("GET", f"/api/datasources/uid/{uid}/health", ok=(200, 400, 404, 500),
                                           attempts=1)
            if response.status_code == 200:
                return Link(stage, uid, OK, f"Grafana: {response.json().get('message') or 'OK'}")
            body = _json(response)
            source = client.http.request("GET", f"/api/datasources/uid/{uid}", ok=(200, 404), attempts=1)
    except requests.ReadTimeout:
        return Link(stage, uid, BROKEN, f"Grafana's health check did not finish within {endpoint.timeout:g} s: "
                                        "it waits for the Elasticsearch cluster to be at least yellow",
                    "check Elasticsearch's health (`GET _cluster/health`) and the index line above")
    except Exception as exc:  # noqa: BLE001 - any failure is evidence
        return unreachable(stage, uid, "Grafana", endpoint.url, exc, hint, stack=stack)
    if source.status_code == 404:
        return Link(stage, uid, BROKEN, "Grafana has no such datasource", f"`{make('up', stack)}` creates it")
    url = _json(source).get("url")
    message = body.get("message") or f"HTTP {response.status_code}"
    status = f"{body['status']}: " if body.get("status") else ""
    return Link(stage, uid, BROKEN, f"Grafana's health check failed ({status}{message}); datasource URL {url!r}",
                f"the URL must reach Elasticsearch from inside Grafana; `{make('up', stack)}` restores the declared "
                "URL")


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def panel_datasources(panels: list) -> Iterator[tuple[str, str]]:
    """(panel title, datasource uid) for every panel and query target, rows included."""
    for panel in panels or []:
        if not isinstance(panel, Mapping):
            continue
        title = str(panel.get("title") or f"panel {panel.get('id')}")
        for holder in [panel, *(panel.get("targets") or [])]:
            source = holder.get("datasource") if isinstance(holder, Mapping) else None
            uid = source.get("uid") if isinstance(source, Mapping) else source
            if isinstance(uid, str) and uid and uid not in SPECIAL_DATASOURCES and not uid.startswith("$"):
                yield title, uid
        yield from panel_datasources(panel.get("panels") or [])


def dashboard_link(endpoint: Endpoint, uid: str, hint: str = "", *, stack: str | None = None) -> Link:
    """The dashboard exists, and every datasource its panels query exists in Grafana."""
    stage = "dashboard"
    try:
        with GrafanaClient(endpoint) as client:
            found = client.get_dashboard(uid)
            if found is None:
                return Link(stage, uid, BROKEN, "Grafana has no such dashboard", f"`{make('up', stack)}` creates it")
            dashboard = found.get("dashboard") or {}
            uses = list(panel_datasources(dashboard.get("panels") or []))
            missing = {ds for ds in {ds for _, ds in uses} if client.get_datasource(ds) is None}
    except Exception as exc:  # noqa: BLE001 - any failure is evidence
        return unreachable(stage, uid, "Grafana", endpoint.url, exc, hint, stack=stack)
    panels = sorted({title for title, _ in uses})
    title = dashboard.get("title") or uid
    if missing:
        broken = sorted({t for t, ds in uses if ds in missing})
        return Link(stage, uid, BROKEN, f"{title!r}: {len(broken)} of {len(panels)} panels use a missing datasource "
                                        f"({', '.join(sorted(missing))}): {', '.join(broken[:3])}"
                                        + (" ..." if len(broken) > 3 else ""),
                    f"`{make('up', stack)}` recreates the datasources and re-points the dashboard")
    return Link(stage, uid, OK, f"{title!r}: {len(panels)} panels, every datasource present")


def alert_rule_links(endpoint: Endpoint, uids: Sequence[str], hint: str = "", *,
                     stack: str | None = None) -> list[Link]:
    """Each alert rule's state as Grafana's rule evaluation sees it (one request for all): normal, pending
    or FIRING -> OK (the rule works; what it reports is in the evidence); missing or in error (its query
    fails) -> BROKEN."""
    stage = "alert rule"
    if not uids:
        return []
    try:
        with GrafanaClient(endpoint) as client:
            body = client.get_or_none("/api/prometheus/grafana/api/v1/rules") or {}
    except Exception as exc:  # noqa: BLE001 - any failure is evidence for each rule
        return [unreachable(stage, uid, "Grafana", endpoint.url, exc, hint, stack=stack) for uid in uids]
    rules = {rule.get("uid"): rule for group in (body.get("data") or {}).get("groups") or []
             for rule in group.get("rules") or []}
    return [_alert_rule_link(stage, uid, rules.get(uid), stack) for uid in uids]


def _alert_rule_link(stage: str, uid: str, rule: Mapping[str, Any] | None, stack: str | None) -> Link:
    if rule is None:
        return Link(stage, uid, BROKEN, "Grafana has no such alert rule", f"`{make('up', stack)}` creates it")
    title, state, health = rule.get("name") or uid, str(rule.get("state") or "inactive"), rule.get("health")
    if health == "error":
        return Link(stage, uid, BROKEN, f"{title!r} is in error: {rule.get('lastError') or 'no message'}",
                    "its query fails: check its datasource and index (the lines above)")
    words = {"inactive": "normal", "pending": "pending (the condition holds, waiting for its 'for' period)",
             "firing": "FIRING", "recovering": "recovering"}
    nodata = ", no data" if health == "nodata" else ""
    return Link(stage, uid, OK, f"{title!r}: {words.get(state, state)}{nodata}")
