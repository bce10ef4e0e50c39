"""Provider tier (fake ksqlDB): a preview and a refused change touch nothing; a missing topic is drift.

ksqlDB validates a request in a sandbox whose topic client passes deletions through to Kafka, so a dry
run holding ``DROP ... DELETE TOPIC`` deletes topics even when it is refused. These tests hold the proof
of a rebuild to "no request that can change anything": every request a preview sends is a read or a dry
run without ``DELETE TOPIC``, and the topics, objects and queries are the same afterwards.
"""
from __future__ import annotations

import threading

import pytest
import requests

from benchmarks.ksql_changes import changes
from clickstream.stack.analytics import KSQL_DIR, ksql_variables
from providers.http import Endpoint, wait_until
from providers.ksqldb import KsqlObjectError, load_sql_dir
from providers.ksqldb.client import KsqlClient
from providers.ksqldb.directory import KsqlDirectoryProvider
from providers.ksqldb.parser import dependents, entry_of, parse_sources
from providers.ksqldb.provider import KsqlObjectProvider
from stackconfig import StackConfig
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.ksql_stack import declare
from tests.provider.pulumi_engine import CheckFailed, Deployment

pytestmark = pytest.mark.fake

FILES = load_sql_dir(KSQL_DIR)
VARIABLES = ksql_variables(StackConfig())
READS = ("SHOW", "LIST", "DESCRIBE")


@pytest.fixture
def fake():
    with FakeKsqlDb() as server:
        yield server



def deployed(fake) -> Deployment:
    stack = Deployment()
    stack.up(declare(FILES, VARIABLES, url=fake.url))
    fake.reset_calls()
    return stack


def snapshot(fake) -> tuple:
    """Topics (with partitions), objects (with statements) and query states of the fake."""
    return (sorted((name, topic.partitions) for name, topic in fake.topics.items()),
            sorted((name, source.statement) for name, source in fake.sources.items()),
            sorted((query_id, query.state) for query_id, query in fake.queries.items()))


def assert_nothing_could_change(fake) -> None:
    """Every POST /ksql was a read, or a dry run (ends with the sentinel) holding no DELETE TOPIC."""
    for call in fake.calls_to("POST", "/ksql"):
        sql = call.body["ksql"]
        if sql.lstrip().upper().startswith(READS):
            continue
        assert "PULUMI_DRY_RUN_" in sql.rstrip().rsplit(";", 2)[-2], f"not a dry run: {sql[:200]}"
        assert "DELETE TOPIC" not in sql.upper(), f"a dry run that deletes topics: {sql[:200]}"


@pytest.mark.parametrize("kind", list(changes(FILES, VARIABLES)))
def test_the_preview_of_every_change_kind_touches_nothing(fake, kind):
    stack = deployed(fake)
    before = snapshot(fake)
    changed_files, changed_variables = changes(FILES, VARIABLES)[kind]
    try:
        stack.preview(declare(changed_files, changed_variables, url=fake.url))
    except CheckFailed:
        assert "partition" in kind  # the one change ksqlDB refuses
    assert fake.mutations == [] and snapshot(fake) == before
    assert_nothing_could_change(fake)


def test_a_refused_partition_change_leaves_all_17_topics_at_preview_and_at_up(fake):
    stack = deployed(fake)
    before = snapshot(fake)
    assert len({source.topic for source in fake.user_sources.values()} & set(fake.topics)) == 17
    refused = declare(FILES, {**VARIABLES, "partitions": "6"}, url=fake.url)
    for attempt in (stack.preview, stack.up):
        with pytest.raises(CheckFailed, match="refused this statement in a dry run"):
            attempt(refused)
    assert fake.mutations == [] and snapshot(fake) == before
    assert_nothing_could_change(fake)


def test_a_refused_change_on_a_stack_whose_first_up_did_not_converge_creates_nothing(fake):
    """Finding 4 of issue 25: WEB_USERS was never created (the first ``up`` failed there); a partition
    change that ksqlDB refuses for the sources that exist must not create WEB_USERS with the refused
    setting: the KsqlDirectory proves the whole change, creations included, before anything runs."""
    fake.fail_next_statement("CREATE TABLE WEB_USERS", "Failed to create topic clickstream_users: broker down")
    stack = Deployment()
    with pytest.raises(KsqlObjectError, match="broker down"):
        stack.up(declare(FILES, VARIABLES, url=fake.url))
    assert "WEB_USERS" not in fake.sources and "CLICKSTREAM" in fake.sources
    before = snapshot(fake)
    fake.reset_calls()
    refused = declare(FILES, {**VARIABLES, "partitions": "6"}, url=fake.url)
    for attempt in (stack.preview, stack.up):
        with pytest.raises(CheckFailed, match="(?s)statements: .*refused this statement in a dry run.*partition"):
            attempt(refused)
    assert fake.mutations == [] and snapshot(fake) == before and "clickstream_users" not in fake.topics
    assert_nothing_could_change(fake)
    stack.up(declare(FILES, VARIABLES, url=fake.url))  # the declared partitions: the stack converges
    assert {s.name for s in parse_sources(FILES, VARIABLES)} == set(fake.user_sources)


def test_a_refusal_names_the_statement_it_is_about_whichever_object_is_proven(fake):
    stack = deployed(fake)
    refused = {r.name: r for r in declare(FILES, {**VARIABLES, "partitions": "6"}, url=fake.url)}
    provider = KsqlObjectProvider()
    for name, file_statement, topic in (("clickstream-codes", "statement 2", "clickstream_codes"),
                                        ("clickstream", "statement 1", "'clickstream'"),
                                        ("web-users", "statement 3", "clickstream_users")):
        stored = stack.state[f"ksql-{name}"]
        (failure,) = provider.check(stored.deployed.inputs, refused[f"ksql-{name}"].inputs).failures
        assert failure.property == "statement"
        assert failure.reason.startswith(f"01_sources.sql: {file_statement} ") and topic in failure.reason


def test_a_derived_object_whose_partitions_change_is_proven_on_a_topic_of_its_own_and_rebuilt(fake):
    stack = deployed(fake)
    files = {**FILES, "40_errors.sql": FILES["40_errors.sql"].replace(
        "CREATE TABLE ERRORS_PER_MIN_ALERT AS", "CREATE TABLE ERRORS_PER_MIN_ALERT WITH (PARTITIONS = 2) AS", 1)}
    changed = declare(files, VARIABLES, url=fake.url)
    plan = stack.preview(changed)
    assert plan["ksql-errors-per-min-alert"] == "replace" and fake.mutations == []
    assert any("pulumi_proof_" in call.body["ksql"] for call in fake.calls_to("POST", "/ksql"))
    assert_nothing_could_change(fake)
    stack.up(changed)
    assert fake.topics["ERRORS_PER_MIN_ALERT"].partitions == 2
    assert not [name for name in fake.topics if name.startswith("pulumi_proof_")]


def test_a_deleted_topic_is_drift_seen_by_refresh_and_rebuilt_with_its_readers_by_up(fake):
    stack = deployed(fake)
    fake.delete_topic("USER_CLICKSTREAM")  # deleted out of band (the object and its query still run)
    refreshed = stack.refresh()
    assert refreshed["ksql-user-clickstream"] == "changed"
    assert "its topic 'USER_CLICKSTREAM' is missing" in stack.state["ksql-user-clickstream"].deployed.outs[
        "live_differences"]
    ops = stack.up(declare(FILES, VARIABLES, url=fake.url))
    assert ops["ksql-user-clickstream"] == "replace" and ops["ksql-clicks-per-city"] == "replace"
    assert ops["ksql-clickstream"] == "same" and "USER_CLICKSTREAM" in fake.topics
    fake.reset_calls()
    assert set(stack.up(declare(FILES, VARIABLES, url=fake.url)).values()) == {"same"} and fake.calls == []


def test_after_state_loss_an_object_whose_topic_is_gone_is_rebuilt_with_its_readers_by_the_first_up(
        fake, messages):
    """Finding 5 of issue 25: the topic of USER_CLICKSTREAM deleted out of band, one of its readers dropped
    (by an earlier failed ``up``), then the state lost. The new stack's KsqlDirectory proves the rebuild
    (USER_CLICKSTREAM on a proof topic: a query over a topic that is gone is refused) and drops it with
    its readers; their own resources create them again: one ``up``."""
    deployed(fake)
    fake.delete_topic("USER_CLICKSTREAM")
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute("DROP TABLE CLICKS_PER_CITY DELETE TOPIC;")
    fake.reset_calls()
    stack = Deployment()
    preview = stack.preview(declare(FILES, VARIABLES, url=fake.url))
    assert set(preview.values()) == {"create"} and fake.mutations == []
    assert any("Kafka topics of USER_CLICKSTREAM are gone" in m for m in messages)
    stack.up(declare(FILES, VARIABLES, url=fake.url))
    readers = dependents({s.name: s.depends_on for s in parse_sources(FILES, VARIABLES)}, {"USER_CLICKSTREAM"})
    assert {s.split()[2] for s in fake.mutations if s.startswith("CREATE")} == readers
    assert "USER_CLICKSTREAM" in fake.topics and set(parse_sources_names()) == set(fake.user_sources)
    assert stack.state["ksql-user-clickstream"].deployed.outs["live_differences"] == []
    fake.reset_calls()
    assert set(stack.up(declare(FILES, VARIABLES, url=fake.url)).values()) == {"same"} and fake.calls == []


def parse_sources_names() -> list[str]:
    return [s.name for s in parse_sources(FILES, VARIABLES)]


def test_a_drop_waits_for_declared_readers_that_another_replacement_drops(fake, messages):
    """Two replaced sources share readers; the engine runs their chains in parallel, so one source's DROP
    can come while the other chain still has to drop the shared readers: it waits for them."""
    stack = deployed(fake)
    stored = stack.state["ksql-web-users"]
    done = threading.Event()
    failure: list[BaseException] = []

    def drop_web_users() -> None:
        try:
            KsqlObjectProvider().delete(stored.deployed.id, stored.deployed.outs)
        except BaseException as exc:  # reported by the assertion below
            failure.append(exc)
        done.set()

    thread = threading.Thread(target=drop_web_users)
    thread.start()
    wait_until(lambda: any("waiting for" in m and "before dropping WEB_USERS" in m for m in messages),
               timeout=10, description="the drop of WEB_USERS to wait for its readers")
    assert "WEB_USERS" in fake.sources
    statements = parse_sources(FILES, VARIABLES)
    readers = dependents({s.name: s.depends_on for s in statements}, {"USER_CLICKSTREAM"})
    with KsqlClient(Endpoint(fake.url)) as client:  # what the other replacement's chain does meanwhile
        for reader in reversed([s for s in statements if s.name in readers]):
            client.execute(f"DROP {reader.kind} {reader.name} DELETE TOPIC;")
    wait_until(done.is_set, timeout=10, description="the drop of WEB_USERS")
    thread.join()
    assert failure == [] and "WEB_USERS" not in fake.sources


def test_a_drop_refused_for_a_reader_made_by_hand_names_it_at_once(fake):
    stack = deployed(fake)
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute("CREATE STREAM HANDMADE AS SELECT * FROM CLICKSTREAM EMIT CHANGES;")
    fake.reset_calls()
    stored = stack.state["ksql-clickstream"]
    with pytest.raises(KsqlObjectError, match="HANDMADE read from it and are not declared"):
        KsqlObjectProvider().delete(stored.deployed.id, {**stored.deployed.outs, "ready_timeout": 300})
    assert fake.mutations == []


# --- the first preview has ksqlDB check every statement ---------------------------------------------

def entries(files, variables=None) -> list[dict]:
    return [entry_of(s) for s in parse_sources(files, {**VARIABLES, **(variables or {})})]


def test_a_first_preview_has_ksqldb_check_every_statement_and_reports_every_refused_one(fake):
    files = {**FILES,
             "10_traffic.sql": FILES["10_traffic.sql"].replace("COUNT(*) AS EVENTS", "COUNT(NOPE) AS EVENTS", 1),
             "40_errors.sql": FILES["40_errors.sql"].replace("FROM CLICKSTREAM", "FROM CLICKSTREAM_CODES", 1)}
    news = {"ksqldb_url": fake.url, "statements": entries(files)}
    failures = KsqlDirectoryProvider().check({}, news).failures
    reasons = [f.reason for f in failures]
    assert [f.property for f in failures] == ["statements", "statements"], reasons
    assert reasons[0].startswith("10_traffic.sql: statement 1 ") and "NOPE" in reasons[0]
    assert reasons[1].startswith("40_errors.sql: statement 1 ")
    assert fake.mutations == [] and fake.user_sources == {}
    assert_nothing_could_change(fake)


def test_a_refusal_says_where_in_the_file_ksqldbs_line_and_col_are(fake):
    """ksqlDB counts lines and columns in the request it was sent (here every statement of the directory,
    joined); the message says where that is in the file the user wrote (issue 26)."""
    files = {**FILES, "10_traffic.sql": FILES["10_traffic.sql"].replace(
        "WINDOWSTART AS EVENT_TS,\n        COUNT(*) AS EVENTS", "WINDOWSTART AS EVENT_TS,\n        NOPE AS EVENTS", 1)}
    (line,) = [n for n, text in enumerate(files["10_traffic.sql"].splitlines(), 1) if "NOPE AS" in text]
    (failure,) = KsqlDirectoryProvider().check({}, {"ksqldb_url": fake.url, "statements": entries(files)}).failures
    assert "SELECT column 'NOPE' cannot be resolved." in failure.reason
    assert failure.reason.endswith(f"(at 10_traffic.sql line {line}, column 9)"), failure.reason
    assert "Line: 1," not in failure.reason, "the statement is not the first of the request"


def test_a_declared_name_taken_on_the_server_by_another_definition_is_named_not_blamed_on_its_readers(fake):
    """Issue 26: a new stack over a ksqlDB whose WEB_USERS is another table: the refusal of its reader names
    WEB_USERS, how it differs, and what to do, once (its readers are not reported one by one)."""
    made = requests.post(f"{fake.url}/ksql", timeout=30, json={"ksql": (
        "CREATE TABLE WEB_USERS (USER_ID INT PRIMARY KEY, NAME VARCHAR) WITH (KAFKA_TOPIC='clickstream_users', "
        "KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1);"), "streamsProperties": {}})
    assert made.status_code == 200, made.text
    fake.reset_calls()
    (failure,) = KsqlDirectoryProvider().check({}, {"ksqldb_url": fake.url, "statements": entries(FILES)}).failures
    assert failure.reason.startswith(
        "01_sources.sql: statement 3 ('CREATE TABLE WEB_USERS ('): WEB_USERS is already taken at ksqlDB by another "
        "definition (columns USER_ID INTEGER KEY, NAME STRING (declared: USER_ID INTEGER KEY, REGISTERED_AT"), \
        failure.reason
    assert "it refused 02_enriched.sql: statement 1 ('CREATE STREAM USER_CLICKSTREAM AS') in a dry run" \
        in failure.reason and "SELECT column 'U.USERNAME' cannot be resolved." in failure.reason
    assert failure.reason.endswith("Drop the WEB_USERS that runs there, or give yours another name, then run "
                                   "`pulumi preview` again.")
    assert fake.mutations == []
    assert_nothing_could_change(fake)


def test_the_statement_check_sends_nothing_when_the_declared_objects_are_the_same(fake):
    news = {"ksqldb_url": fake.url, "statements": entries(FILES)}
    assert KsqlDirectoryProvider().check({}, news).failures == []
    fake.reset_calls()
    assert KsqlDirectoryProvider().check(news, news).failures == [] and fake.calls == []


def test_the_statement_check_of_a_preview_offline_waits_seconds_and_says_so(unanswered_url, messages):
    news = {"ksqldb_url": unanswered_url, "statements": entries(FILES), "ready_timeout": 0.5}
    assert KsqlDirectoryProvider().check({}, news).failures == []
    assert any("not checking the SQL files against ksqlDB now" in m and unanswered_url in m for m in messages)


def test_a_catalog_read_survives_an_object_dropped_by_a_parallel_step_between_listing_and_describing(fake):
    """The engine runs steps in parallel: another object's replacement may drop a stream this read has just
    listed. ksqlDB then refuses the DESCRIBE; the read lists again instead of failing the deployment."""
    deployed(fake)
    fake.fail_next_statement("DESCRIBE USER_CLICKSTREAM", "Could not find STREAM/TABLE 'USER_CLICKSTREAM' in the "
                                                          "Metastore", kind="statement")
    with KsqlClient(Endpoint(fake.url)) as client:
        descriptions, _, _ = client.catalog(["USER_CLICKSTREAM", "CLICKSTREAM"])
    assert sorted(d["name"] for d in descriptions) == ["CLICKSTREAM", "USER_CLICKSTREAM"]
    assert [c.body["ksql"].split(";")[0] for c in fake.calls_to("POST", "/ksql")] == [
        "LIST STREAMS", "DESCRIBE USER_CLICKSTREAM EXTENDED", "LIST STREAMS", "DESCRIBE USER_CLICKSTREAM EXTENDED"]
