"""The whole dev pipeline as ``clickstream status`` sees it, on the in-process FAKES: the real application
layer (tests/app_layer.py) applied to them, then data "flowing" (ksqlDB traffic on the source topics,
documents in every index). Two fakes get what ``status`` reads and the shared fakes do not serve yet:

* ``FlowingElasticsearch``: indexes with documents and ``GET|POST /<index>/_search`` answering
  ``size``/``track_total_hits`` and ``max`` aggregations the way Elasticsearch 8.19 does (``hits.total``
  ``{"value", "relation": "eq"}``; a ``max`` over no values is ``{"value": null}``; a missing index is
  404 ``index_not_found_exception`` "no such index [x]").
* ``HealthCheckingGrafana``: ``GET /api/datasources/uid/<uid>/health`` as Grafana 12 runs it
  (``pkg/api/datasources.go`` ``checkDatasourceHealth``; ``pkg/tsdb/elasticsearch/healthcheck.go``): the
  Elasticsearch plugin GETs ``<url>/_cluster/health?wait_for_status=yellow`` with the datasource's basic
  auth; healthy -> 200 ``{"status": "OK", "message": "Elasticsearch cluster is healthy"}``; 408 or status
  red -> 400 ``{"status": "ERROR", "message": "Elasticsearch cluster is not healthy"}``; a request that
  fails (wrong URL) -> the plugin returns an error, which the API turns into 500 ``Plugin health check
  failed``; an unknown uid -> 500 ``Unable to load datasource metadata``.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import json
import time
import urllib.error
import urllib.request
from typing import Any, Iterator

from clickstream.operations import declared_links, stack_outputs
from clickstream.stack.logins import logins
from stackconfig import StackConfig
from tests.app_layer import CONTENT_PLUGINS, GRAFANA_PASSWORD, FakeServices, app_layer, pointed_at
from tests.fakes.connect import FakeConnect
from tests.fakes.elasticsearch import FakeElasticsearch, es_error
from tests.fakes.grafana import FakeGrafana
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.pulumi_engine import up

SOURCE_TOPICS = ("clickstream", "clickstream_codes", "clickstream_users")


class FlowingElasticsearch(FakeElasticsearch):
    """``documents`` maps index -> its documents (plain dicts)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.documents: dict[str, list[dict]] = {}
        for method in ("GET", "POST"):
            self.route(method, "/([^/_][^/]*)/_search", self._search, mutating=False)

    def index_documents(self, index: str, documents: list[dict]) -> None:
        with self.lock:
            self.documents.setdefault(index, []).extend(documents)

    def _search(self, body: Any, query: dict[str, str], index: str) -> tuple[int, Any]:
        if index not in self.documents:
            return es_error(404, "index_not_found_exception", f"no such index [{index}]", index=index,
                            resource_type="index_or_alias", resource_id=index, index_uuid="_na_")
        docs = self.documents[index]
        body = body or {}
        aggregations: dict[str, dict[str, Any]] = {}
        for name, spec in (body.get("aggs") or body.get("aggregations") or {}).items():
            values = [d[spec["max"]["field"]] for d in docs if d.get(spec["max"]["field"]) is not None]
            newest = max(values) if values else None
            aggregations[name] = {"value": None if newest is None else float(newest)}
            if newest is not None:
                aggregations[name]["value_as_string"] = datetime.datetime.fromtimestamp(
                    newest / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        size = int(body.get("size", query.get("size", 10)))
        answer = {"took": 1, "timed_out": False,
                  "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                  "hits": {"total": {"value": len(docs), "relation": "eq"}, "max_score": None,
                           "hits": [{"_index": index, "_id": str(i), "_source": d} for i, d in enumerate(docs[:size])]}}
        if aggregations:
            answer["aggregations"] = aggregations
        return 200, answer


class HealthCheckingGrafana(FakeGrafana):
    """Runs the Elasticsearch datasource health check against the datasource's URL for real."""

    def _datasource_health(self, body: Any, query: dict, uid: str) -> tuple[int, Any]:
        source = self.datasources.get(uid)
        if source is None:
            return 500, {"message": "Unable to load datasource metadata"}
        request = urllib.request.Request(source["url"].rstrip("/") + "/_cluster/health?wait_for_status=yellow")
        if source.get("basicAuth"):
            secret = self.secrets.get(uid, {}).get("basicAuthPassword", "")
            token = base64.b64encode(f"{source.get('basicAuthUser')}:{secret}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                health = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code == 408:
                return 400, {"status": "ERROR", "message": "Elasticsearch cluster is not healthy"}
            health = json.loads(exc.read() or b"{}")
        except (OSError, ValueError):
            return 500, {"message": "Plugin health check failed"}
        if health.get("status") == "red":
            return 400, {"status": "ERROR", "message": "Elasticsearch cluster is not healthy"}
        return 200, {"status": "OK", "message": "Elasticsearch cluster is healthy"}


@dataclasses.dataclass
class Pipeline:
    fakes: FakeServices
    targets: stack_outputs.Targets
    chain: declared_links.Chain


def targets_of(fakes: FakeServices, timeout: float = 5.0) -> stack_outputs.Targets:
    """What ``pulumi stack output`` would say for a stack whose services are the fakes."""
    outputs = {"connectUrl": fakes.connect.url, "ksqldbUrl": fakes.ksqldb.url,
               "elasticsearchUrl": fakes.elasticsearch.url, "grafanaUrl": fakes.grafana.url}
    login = logins(StackConfig(), {"grafanaAdminPassword": GRAFANA_PASSWORD}.get)
    return stack_outputs.Targets.from_outputs(outputs, login, timeout=timeout)


def make_data_flow(fakes: FakeServices, chain: declared_links.Chain, now_ms: int | None = None) -> None:
    """Records in the source topics consumed by ksqlDB and documents in every index, all recent."""
    now_ms = now_ms or int(time.time() * 1000)
    for topic in SOURCE_TOPICS:
        fakes.ksqldb.record_traffic(topic, records=1000, last_ms=now_ms - 1000)
    elasticsearch = fakes.elasticsearch
    assert isinstance(elasticsearch, FlowingElasticsearch)
    for index in chain.indexes:
        elasticsearch.index_documents(index, [{"EVENT_TS": now_ms - 60_000 + 5_000 * i, "COUNT": i}
                                                    for i in range(5)])


@contextlib.contextmanager
def deployed_pipeline(flowing: bool = True) -> Iterator[Pipeline]:
    """The dev stack's application layer applied to the fakes (datasources pointed at the fake
    Elasticsearch, as Grafana would reach it), with data flowing unless ``flowing`` is False."""
    with FakeConnect(extra_plugins=CONTENT_PLUGINS) as connect, FakeKsqlDb() as ksqldb, \
            FlowingElasticsearch() as es, HealthCheckingGrafana(username="admin", password=GRAFANA_PASSWORD) as grafana:
        fakes = FakeServices(connect, ksqldb, es, grafana)
        for resource in pointed_at(app_layer("dev"), fakes):
            inputs = dict(resource.inputs)
            if isinstance(inputs.get("datasource"), dict):
                inputs["datasource"] = {**inputs["datasource"], "url": es.url}
            up(resource.provider, inputs)
        chain = declared_links.declared_chain()
        if flowing:
            make_data_flow(fakes, chain)
        yield Pipeline(fakes, targets_of(fakes), chain)
