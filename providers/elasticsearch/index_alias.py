"""``IndexAlias``: the alias readers use (Grafana datasources, dashboards, alert rules), moved to a new build's
index only once that index has caught up, in one atomic ``_aliases`` request; the index it replaces is
deleted right after.

The write looks first (``GET <alias>/_alias``) and acts only when the alias does not point at exactly
``index``:

- nothing has the name (a first deploy): the alias is put on ``index`` at once — no reader loses anything;
- an earlier version (a rebuilt table), the held copy of a build being refilled (``VersionedIndex``) or a
  concrete index of the alias's name (a stack deployed before versions) serves it: the provider waits until
  the new build has caught up, then sends one ``POST _aliases`` with ``add`` (``alias`` -> ``index``),
  ``remove`` of the alias from every other index and ``remove_index`` of a concrete index of the alias's
  name. Elasticsearch applies the actions of one request together, so a reader finds the name at every
  moment, and from then on exactly the new build's rows. Then the earlier versions (and a held copy) are
  deleted (a search already running on an index fails when it is deleted, so not in the same
  request: the alias no longer leads there when they go).

Caught up, measured in Kafka (``providers.kafka.offsets``), in two steps, each against end offsets taken when
the step starts: (1) the ksqlDB query that fills the table (``query_id``) has committed, on every topic it
reads (``source_topics`` and its internal repartition topics), the end offsets of that moment — Kafka Streams
commits after flushing its output, so its topic then holds every row those records make; the step runs once
more for the repartition topics the first pass made; (2) the sink connector (``sink``, reading in consumer
group ``sink_group``) has committed the end offsets of the table's topic (``topic``). Bounded by
``catch_up_timeout``: when it runs out the alias stays where it was (readers keep the old build), the error
says how far each step got, and the next ``up`` resumes.
Kafka is reached at ``kafka_bootstrap`` as ``kafka_security_protocol`` says: with SASL, with the login
``kafka_username``/``kafka_password`` by ``kafka_sasl_mechanism`` (``providers.kafka.offsets.KafkaLogin``).

Delete: the alias is taken off its indices (the indices belong to their ``VersionedIndex`` resources).
Refresh: the alias gone -> gone; ``index`` is what it points at (several: comma-joined), so drift shows.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from confluent_kafka import KafkaError, KafkaException
from pulumi.dynamic import CheckFailure

from providers.contract import (
    IDENTITY,
    IN_PLACE,
    Contract,
    Field,
    ReadBackProvider,
    client_of,
    connection,
    read_back_of_write,
    url_problem,
)
from providers.declare import DeclaredResource, declare
from providers.elasticsearch.client import ElasticsearchClient
from providers.elasticsearch.versioned_index import name_failures, versions_prefix
from providers.http import Deadline, ServiceTimeout, wait_until
from providers.inputs import is_unknown
from providers.kafka.offsets import (
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    KafkaLogin,
    KafkaOffsets,
    Partition,
    Progress,
    query_group,
)
from providers.ksqldb.client import KsqlClient

DEFAULT_CATCH_UP_TIMEOUT = 900.0

CONTRACT = Contract("IndexAlias", [
    *connection("elasticsearch_url", secrets_=("password", "api_key"), service="Elasticsearch"),
    Field("alias", IDENTITY, annotation="str", required=True, doc="the alias readers use"),
    Field("index", IN_PLACE, annotation="str", required=True,
          doc="the index it is to point at; a change waits until that index has caught up, then moves the alias "
              "in one `_aliases` request and deletes the index it replaces"),
    Field("kafka_bootstrap", IN_PLACE, annotation="str", required=True,
          doc="Kafka bootstrap servers, reachable from where `up` runs"),
    Field("kafka_security_protocol", IN_PLACE, annotation="str", default="PLAINTEXT",
          doc="how Kafka is reached: `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (TLS verified against "
              "certifi's CA set)",
          problem=lambda value: _one_of("kafka_security_protocol", value, SECURITY_PROTOCOLS)),
    Field("kafka_sasl_mechanism", IN_PLACE, annotation="str", default="PLAIN",
          doc="the SASL mechanism of the Kafka login: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`",
          problem=lambda value: _one_of("kafka_sasl_mechanism", value, SASL_MECHANISMS)),
    Field("kafka_username", IN_PLACE, annotation="str", doc="Kafka SASL login (Confluent Cloud: an API key)"),
    Field("kafka_password", IN_PLACE, annotation="str", secret=True, doc="Kafka SASL login secret"),
    Field("topic", IN_PLACE, annotation="str", required=True, doc="the table's Kafka topic, which the sink reads"),
    Field("source_topics", IN_PLACE, annotation="list[str]", default=[], doc="the topics the table's query reads"),
    Field("query_id", IN_PLACE, annotation="str", required=True,
          doc="the ksqlDB persistent query that fills the table"),
    Field("sink", IN_PLACE, annotation="str", required=True, doc="the Kafka Connect sink connector that fills `index`"),
    Field("sink_group", IN_PLACE, annotation="str", required=True,
          doc="the sink's consumer group (its `consumer.override.group.id`)"),
    Field("ksqldb_url", IN_PLACE, annotation="str",
          doc="base URL of ksqlDB (its service id names the query's group); needed by a swap",
          problem=lambda value: url_problem("ksqldb_url", value, "ksqlDB")),
    Field("ksqldb_username", IN_PLACE, annotation="str", doc="ksqlDB login"),
    Field("ksqldb_password", IN_PLACE, annotation="str", secret=True, doc="ksqlDB login secret"),
    Field("catch_up_timeout", IN_PLACE, annotation="float", default=DEFAULT_CATCH_UP_TIMEOUT,
          doc="how long a swap waits for the new index to catch up, seconds"),
])


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    return None if value in allowed else f"{name} must be one of {', '.join(allowed)}, not {value!r}"


def kafka_login_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    """A SASL protocol needs both ``kafka_username`` and ``kafka_password``; the other protocols take neither
    (values not known yet are not judged; the password is never quoted)."""
    protocol = news.get("kafka_security_protocol")
    login = {name: news.get(name) for name in ("kafka_username", "kafka_password")}
    if is_unknown(protocol) or protocol not in SECURITY_PROTOCOLS or any(map(is_unknown, login.values())):
        return []
    if protocol.startswith("SASL_"):
        return [CheckFailure(name, f"{name} is required with kafka_security_protocol {protocol} (the SASL login)")
                for name, value in login.items() if value in (None, "")]
    return [CheckFailure(name, f"{name} is set, but kafka_security_protocol {protocol} has no login: use "
                               f"SASL_SSL or SASL_PLAINTEXT, or leave {name} out")
            for name, value in login.items() if value not in (None, "")]


class IndexAliasProvider(ReadBackProvider):
    """Put, move (after the catch-up), read and remove one alias. Holds no state."""

    contract = CONTRACT
    id_output = "alias"
    client_class = ElasticsearchClient
    url_input = "elasticsearch_url"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures = name_failures(news) + kafka_login_failures(news)
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
    ksqldb = {"ksqldb_url": props["ksqldb_url"], "username": props.get("ksqldb_username"),
              "password": props.get("ksqldb_password"), "verify": props.get("verify")}
    with client_of(KsqlClient, ksqldb, "ksqldb_url") as ksql:
        group = query_group(ksql.service_id(), props["query_id"])
    kafka = KafkaOffsets(props["kafka_bootstrap"], timeout=min(30.0, deadline.seconds), login=kafka_login(props))
    steps = [(f"ksqlDB query {props['query_id']}", group, list(props.get("source_topics") or [])),
             (f"ksqlDB query {props['query_id']} (its repartition topics)", group, []),
             (f"sink connector {props['sink']}", props["sink_group"], [props["topic"]])]
    kept = (f"The alias {props['alias']!r} still points at {', '.join(serving)}, which keeps serving; run `pulumi "
            "up` again to resume")
    for what, consumer_group, topics in steps:
        try:
            watch = _Watch(kafka, consumer_group, kafka.progress(consumer_group, topics).targets)
            wait_until(watch.caught_up, timeout=deadline.remaining(), description=f"{what} to catch up",
                       last_seen=watch.last)
        except (KafkaException, TimeoutError) as exc:  # an answer that did not come within the call's timeout
            raise ServiceTimeout(f"{kafka_unanswered(props, kafka, exc)}. {kept}") from None
        except ServiceTimeout as exc:
            raise ServiceTimeout(f"the new index {props['index']!r} has not caught up within {deadline.seconds:g} s: "
                                 f"{exc}. {kept} (or raise catch_up_timeout)") from None


def kafka_login(props: Mapping[str, Any]) -> KafkaLogin:
    """How the swap reaches Kafka, from the inputs."""
    return KafkaLogin(props.get("kafka_security_protocol") or "PLAINTEXT", props.get("kafka_sasl_mechanism") or "PLAIN",
                      props.get("kafka_username"), props.get("kafka_password"))


def kafka_unanswered(props: Mapping[str, Any], kafka: KafkaOffsets, exc: Exception) -> str:
    """Why Kafka gave no offsets: a refused login, else no answer, with the client's last connection error
    (librdkafka's text names the broker and the failure, never the password; the provider also masks every
    secret input in its errors)."""
    where, login = f"Kafka at {props['kafka_bootstrap']}", kafka_login(props)
    error = kafka.connection_error()
    if error is not None and error.code() == KafkaError._AUTHENTICATION:
        return (f"{where} refused the {login.mechanism} login of {login.username!r} the swap of {props['alias']!r} "
                f"reads offsets with ({error.str()}): check kafka_username and kafka_password")
    said = str(exc) or f"no answer within {kafka.timeout:g} s"
    last = f"; the client's last connection error: {error.str()}" if error is not None else ""
    return (f"{where} did not answer the offsets the swap of {props['alias']!r} needs, over {login.protocol} "
            f"({said}{last}); it must be reachable from where `pulumi up` runs, over the security protocol its "
            f"listener wants (when the stack reaches it through port-forwards, start them: `pulumi stack output "
            f"portForwardCommands` prints them)")


class _Watch:
    """A consumer group's committed offsets against fixed targets, read on each call; the last reading kept."""

    def __init__(self, kafka: KafkaOffsets, group: str, targets: Mapping[Partition, int]):
        self.kafka, self.group, self.targets = kafka, group, targets
        self.seen: Progress | None = None

    def caught_up(self) -> bool:
        self.seen = Progress(self.kafka.committed(self.group), self.targets)
        return self.seen.caught_up

    def last(self) -> str:
        return str(self.seen) if self.seen else "nothing read yet"


if TYPE_CHECKING:  # typed inputs of IndexAlias (python -m tools.generated)
    class IndexAlias(DeclaredResource):
        """The inputs and fields of the ``IndexAlias`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            elasticsearch_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            api_key: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            alias: pulumi.Input[str],
            index: pulumi.Input[str],
            kafka_bootstrap: pulumi.Input[str],
            kafka_security_protocol: pulumi.Input[str] | None = None,
            kafka_sasl_mechanism: pulumi.Input[str] | None = None,
            kafka_username: pulumi.Input[str] | None = None,
            kafka_password: pulumi.Input[str] | None = None,
            topic: pulumi.Input[str],
            source_topics: pulumi.Input[list[str]] | None = None,
            query_id: pulumi.Input[str],
            sink: pulumi.Input[str],
            sink_group: pulumi.Input[str],
            ksqldb_url: pulumi.Input[str] | None = None,
            ksqldb_username: pulumi.Input[str] | None = None,
            ksqldb_password: pulumi.Input[str] | None = None,
            catch_up_timeout: pulumi.Input[float] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        elasticsearch_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        api_key: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        alias: pulumi.Output[str]
        index: pulumi.Output[str]
        kafka_bootstrap: pulumi.Output[str]
        kafka_security_protocol: pulumi.Output[str]
        kafka_sasl_mechanism: pulumi.Output[str]
        kafka_username: pulumi.Output[str]
        kafka_password: pulumi.Output[str]
        topic: pulumi.Output[str]
        source_topics: pulumi.Output[list[str]]
        query_id: pulumi.Output[str]
        sink: pulumi.Output[str]
        sink_group: pulumi.Output[str]
        ksqldb_url: pulumi.Output[str]
        ksqldb_username: pulumi.Output[str]
        ksqldb_password: pulumi.Output[str]
        catch_up_timeout: pulumi.Output[float]
else:
    IndexAlias = declare(CONTRACT, IndexAliasProvider, module="elasticsearch", name="IndexAlias", doc="""\
    The alias ``alias`` readers use, on ``index``; a new ``index`` takes the alias only once its query and its
    sink have caught up (``catch_up_timeout``), in one ``_aliases`` request; the index it replaces is deleted
    right after.""")
