"""``IndexAlias``: the alias readers use (Grafana datasources, dashboards, alert rules), moved to a new build's
index only once that index has caught up, in one atomic ``_aliases`` request that also deletes the index it
replaces.

The write looks first (``GET <alias>/_alias``) and acts only when the alias does not point at exactly
``index``:

- nothing has the name (a first deploy): the alias is put on ``index`` at once — no reader loses anything;
- an earlier version (a rebuilt table) or a concrete index of the alias's name (a stack deployed before
  versions) serves it: the provider waits until the new build has caught up, then sends one ``POST _aliases``
  with ``add`` (``alias`` -> ``index``), ``remove`` of the alias from every other index and ``remove_index``
  of a concrete index of the alias's name. Elasticsearch applies the actions of one request together, so a
  reader finds the name at every moment, and from then on exactly the new build's rows. Then the earlier
  versions are deleted (a search already running on an index fails when it is deleted, so not in the same
  request: the alias no longer leads there when they go).

Caught up, measured in Kafka (``providers.kafka.offsets``), in two steps, each against end offsets taken when
the step starts: (1) the ksqlDB query that fills the table (``query_id``) has committed, on every topic it
reads (``source_topics`` and its internal repartition topics), the end offsets of that moment — Kafka Streams
commits after flushing its output, so its topic then holds every row those records make; the step runs once
more for the repartition topics the first pass made; (2) the sink connector (``sink``) has committed the end
offsets of the table's topic (``topic``). Bounded by ``catch_up_timeout``: when it runs out the alias stays
where it was (readers keep the old build), the error says how far each step got, and the next ``up`` resumes.

Delete: the alias is taken off its indices (the indices belong to their ``VersionedIndex`` resources).
Refresh: the alias gone -> gone; ``index`` is what it points at (several: comma-joined), so drift shows.
"""
from __future__ import annotations

from typing import Any, Mapping

from pulumi.dynamic import CheckFailure

from providers.contract import (
    IDENTITY,
    IN_PLACE,
    Contract,
    Field,
    ReadBackProvider,
    connection,
    password_in_url,
    read_back_of_write,
)
from providers.declare import declare
from providers.elasticsearch.client import API_KEY_SCHEME, ElasticsearchClient
from providers.elasticsearch.versioned_index import check_index_name, versions_prefix
from providers.http import Deadline, Endpoint, ServiceTimeout, wait_until
from providers.inputs import is_unknown
from providers.kafka.offsets import KafkaOffsets, Progress, query_group, sink_group
from providers.ksqldb.client import KsqlClient

DEFAULT_CATCH_UP_TIMEOUT = 900.0

CONTRACT = Contract("IndexAlias", [
    *connection("elasticsearch_url", secrets_=("password", "api_key"), service="Elasticsearch"),
    Field("verify", IN_PLACE, default=True, doc="TLS verification: true, false or a CA bundle path"),
    Field("alias", IDENTITY, required=True, doc="the alias readers use"),
    Field("index", IN_PLACE, required=True,
          doc="the index it is to point at; a change waits until that index has caught up, then moves the alias "
              "and deletes the index it replaces in one `_aliases` request"),
    Field("kafka_bootstrap", IN_PLACE, required=True, doc="Kafka bootstrap servers, reachable from where `up` runs"),
    Field("topic", IN_PLACE, required=True, doc="the table's Kafka topic, which the sink reads"),
    Field("source_topics", IN_PLACE, default=[], doc="the topics the table's query reads"),
    Field("query_id", IN_PLACE, required=True, doc="the ksqlDB persistent query that fills the table"),
    Field("sink", IN_PLACE, required=True, doc="the Kafka Connect sink connector that fills `index`"),
    Field("ksqldb_url", IN_PLACE, doc="base URL of ksqlDB (its service id names the query's group); needed by a swap",
          problem=lambda value: password_in_url("ksqldb_url", value)),
    Field("ksqldb_username", IN_PLACE, doc="ksqlDB login"),
    Field("ksqldb_password", IN_PLACE, secret=True, doc="ksqlDB login secret"),
    Field("catch_up_timeout", IN_PLACE, default=DEFAULT_CATCH_UP_TIMEOUT,
          doc="how long a swap waits for the new index to catch up, seconds"),
])


class IndexAliasProvider(ReadBackProvider):
    """Put, move (after the catch-up), read and remove one alias. Holds no state."""

    contract = CONTRACT
    id_output = "alias"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures = []
        alias, index = news.get("alias"), news.get("index")
        for key, value in (("alias", alias), ("index", index)):
            if not is_unknown(value) and (reason := check_index_name(key, value)):
                failures.append(CheckFailure(key, reason))
        if not failures and isinstance(alias, str) and isinstance(index, str) \
                and not index.startswith(versions_prefix(alias)):
            failures.append(CheckFailure("index", f"index {index!r} must be named {versions_prefix(alias)}<version>"))
        for key in ("elasticsearch_url", "ksqldb_url"):
            url = news.get(key)
            if not is_unknown(url) and not str(url or "").startswith(("http://", "https://")):
                failures.append(CheckFailure(key, f"{key} must be an http(s) URL, not {url!r}"))
        timeout = news.get("catch_up_timeout")
        if not is_unknown(timeout) and not (isinstance(timeout, (int, float)) and timeout > 0):
            failures.append(CheckFailure("catch_up_timeout", f"catch_up_timeout must be a positive number of "
                                                             f"seconds, not {timeout!r}"))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        alias, index = props["alias"], props["index"]
        where = f"Elasticsearch at {props['elasticsearch_url']}"
        with self.client(props) as es:
            es.wait_ready()
            behind = es.names_behind(alias) or {}
            if sorted(behind) != [index] or alias in behind:
                if behind:
                    wait_caught_up(props, serving=sorted(behind))
                es.update_aliases(swap(alias, index, behind))
            for name in sorted(behind):  # the builds it replaced, once no new search can reach them
                if name != index and name.startswith(versions_prefix(alias)):
                    es.delete_index(name)
            outs = self.read_back(es, alias, props)
        return read_back_of_write(outs, f"alias {alias!r} of index {index!r}", where)

    def client(self, props: Mapping[str, Any]) -> ElasticsearchClient:
        return ElasticsearchClient(Endpoint.from_inputs({**props, "url": props["elasticsearch_url"],
                                                         "api_key_scheme": API_KEY_SCHEME}))

    def read_back(self, es: ElasticsearchClient, alias: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The alias as Elasticsearch has it: None when there is none (a concrete index of its name is not it:
        the next ``up`` replaces it by the alias); ``index`` is what it points at (several: comma-joined)."""
        behind = es.names_behind(alias)
        if not behind or alias in behind:
            return None
        return {**props, "alias": alias, "index": ",".join(sorted(behind))}

    def delete_object(self, es: ElasticsearchClient, alias: str) -> None:
        behind = es.names_behind(alias)
        if behind and alias not in behind:
            es.update_aliases([{"remove": {"index": name, "alias": alias}} for name in sorted(behind)])


def swap(alias: str, index: str, behind: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """The one ``_aliases`` request that leaves ``alias`` pointing at ``index`` alone: every other index loses
    the alias; a concrete index of the alias's name is deleted in it (the alias cannot exist beside it). Earlier
    versions are deleted by the next request: a search already running on one when it is deleted fails, so
    they go only once the alias no longer leads to them."""
    actions: list[dict[str, Any]] = [{"add": {"index": index, "alias": alias}}]
    for name in sorted(behind):
        if name == alias:
            actions.append({"remove_index": {"index": name}})
        elif name != index:
            actions.append({"remove": {"index": name, "alias": alias}})
    return actions


def wait_caught_up(props: Mapping[str, Any], *, serving: list[str]) -> None:
    """Wait until the query of ``props['query_id']`` and then the sink ``props['sink']`` have read up to the
    end offsets each step starts from (module docstring); ServiceTimeout names how far each got."""
    deadline = Deadline(float(props["catch_up_timeout"]))
    with KsqlClient(Endpoint.from_inputs(props, prefix="ksqldb_")) as ksql:
        group = query_group(ksql.service_id(), props["query_id"])
    kafka = KafkaOffsets(props["kafka_bootstrap"], timeout=min(30.0, deadline.seconds))
    steps = [(f"ksqlDB query {props['query_id']}", group, list(props.get("source_topics") or [])),
             (f"ksqlDB query {props['query_id']} (its repartition topics)", group, []),
             (f"sink connector {props['sink']}", sink_group(props["sink"]), [props["topic"]])]
    for what, consumer_group, topics in steps:
        targets = kafka.progress(consumer_group, topics).targets
        seen: list[Progress] = []

        def caught_up(consumer_group: str = consumer_group, targets: Mapping = targets, seen: list = seen) -> bool:
            seen.append(Progress(kafka.committed(consumer_group), targets))
            return seen[-1].caught_up

        try:
            wait_until(caught_up, timeout=deadline.remaining(), description=f"{what} to catch up",
                       last_seen=lambda seen=seen: str(seen[-1]) if seen else "nothing read yet")
        except ServiceTimeout as exc:
            raise ServiceTimeout(
                f"the new index {props['index']!r} has not caught up within {deadline.seconds:g} s: {exc}. The alias "
                f"{props['alias']!r} still points at {', '.join(serving)}, which keeps serving; run `pulumi up` again "
                "to resume (or raise catch_up_timeout)") from None


IndexAlias = declare(CONTRACT, IndexAliasProvider, module="elasticsearch", name="IndexAlias", doc="""\
The alias ``alias`` readers use, on ``index``; a new ``index`` takes the alias only once its query and its
sink have caught up (``catch_up_timeout``), in one ``_aliases`` request that deletes the index it replaces.""")
