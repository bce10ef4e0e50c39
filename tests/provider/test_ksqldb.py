"""Provider tests for the per-object ksqlDB resources (``KsqlPipeline`` -> ``KsqlStream``/``KsqlTable``/
``KsqlInsert``) against a FAKE ksqlDB 8.2.1 (tests/fakes/ksqldb/, an in-process HTTP server).

ksqlDB cannot run on this machine, so every test here runs against the fake. The program is declared under
Pulumi mocks (tests/provider/ksql_stack.py) and driven by ``Deployment``, which makes the engine's
decisions: diff, delete-before-replace with the dependent-replacement cascade, deletes of removed
resources; inputs and outputs cross the engine's protobuf encoding. Every test also asserts that the
cluster-wide ``POST /ksql/terminate`` was never called.
"""
from __future__ import annotations

import pathlib
import re
from typing import Any, Mapping

import pytest

from clickstream.stack.analytics import ksql_variables
from providers.http import Endpoint, ServiceTimeout
from providers.ksqldb import (
    KsqlClient,
    KsqlError,
    KsqlObjectError,
    KsqlObjectProvider,
    load_sql_dir,
)
from providers.ksqldb.directory import KsqlDirectoryProvider, RetireError
from providers.ksqldb.parser import parse_sources
from providers.ksqldb.provider import CONTRACT, KsqlStatementsProvider
from stackconfig import StackConfig
from tests.fakes.ksqldb import FakeKsqlDb
from tests.provider.ksql_stack import declare
from tests.provider.pulumi_engine import CheckFailed, Deployment, dill_round_trip

pytestmark = pytest.mark.fake

SOURCES = """
-- sources fed by connectors
CREATE STREAM CLICKS (USERID INT, BYTES BIGINT, STATUS INT)
  WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=${partitions});
CREATE TABLE USERS (USER_ID INT PRIMARY KEY, NAME VARCHAR)
  WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=${partitions});
"""
DERIVED = """
CREATE STREAM ENRICHED AS SELECT C.USERID, C.BYTES, U.NAME FROM CLICKS C
  LEFT JOIN USERS U ON C.USERID = U.USER_ID EMIT CHANGES;
CREATE TABLE PER_MIN AS SELECT USERID, COUNT(*) AS HITS FROM ENRICHED
  WINDOW TUMBLING (SIZE 60 SECONDS) GROUP BY USERID HAVING COUNT(*) > 1 EMIT CHANGES;
CREATE TABLE ERRORS AS SELECT STATUS, COUNT(*) AS N FROM CLICKS WHERE STATUS > ${minStatus}
  GROUP BY STATUS EMIT CHANGES;
"""
FILES = {"01_sources.sql": SOURCES, "02_derived.sql": DERIVED}
VARIABLES = {"minStatus": "400", "partitions": "1"}
PROJECT_KSQL = pathlib.Path(__file__).resolve().parents[2] / "ksql"
PROJECT_VARIABLES = ksql_variables(StackConfig())


@pytest.fixture
def fake():
    with FakeKsqlDb() as server:
        yield server
        assert server.calls_to("POST", "/ksql/terminate") == [], "POST /ksql/terminate must never be called"



def program(fake, files=None, variables=None, **options):
    return declare(FILES if files is None else files, {**VARIABLES, **(variables or {})}, url=fake.url, **options)


def ddl(fake) -> list[str]:
    """(verb, object) of every statement that changed the fake, e.g. "DROP PER_MIN", "CREATE ENRICHED"; the
    query of a CREATE ... AS SELECT by its object: "TERMINATE PER_MIN" (ended before its object is dropped)."""
    out = []
    for statement in fake.mutations:
        words = re.sub(r"\b(OR REPLACE|IF EXISTS|IF NOT EXISTS|STREAM|TABLE|INTO)\b ?", "", statement).split()
        target = re.sub(r"^C[ST]AS_(.*)_[0-9]+$", r"\1", words[1].rstrip(";"))
        out.append(f"{words[0]} {target}")
    return out


def deployed(fake, files=None, variables=None, **options) -> tuple[Deployment, list]:
    stack = Deployment()
    resources = program(fake, files, variables, **options)
    stack.up(resources)
    fake.reset_calls()
    return stack, resources


def in_order(sequence: list[str], *items: str) -> bool:
    """Whether ``items`` occur in ``sequence`` in this order (independent objects may come in any order,
    as in the engine, which registers them as their inputs resolve)."""
    positions = [sequence.index(item) for item in items]
    return positions == sorted(positions)


def op_of(ops: dict[str, str], obj: str) -> str:
    return ops[f"ksql-{obj.lower().replace('_', '-')}"]


DIRECTORY = "ksql"  # the pipeline's KsqlDirectory resource, named like the component


def objects_of(ops: Mapping[str, Any]) -> dict[str, Any]:
    """The per-object entries of an engine result or state (without the pipeline's KsqlDirectory)."""
    return {name: value for name, value in ops.items() if name != DIRECTORY}


# --- create, no-op, address changes -------------------------------------------------------------

def test_fake_first_apply_creates_each_object_in_dependency_order_with_properties(fake, messages):
    stack = Deployment()
    ops = stack.up(program(fake))
    assert set(ops.values()) == {"create"} and len(objects_of(ops)) == 5 and DIRECTORY in ops
    created = [d.split()[1] for d in ddl(fake)]
    assert sorted(created) == ["CLICKS", "ENRICHED", "ERRORS", "PER_MIN", "USERS"]
    assert in_order(created, "CLICKS", "ENRICHED", "PER_MIN") and in_order(created, "USERS", "ENRICHED")
    assert in_order(created, "CLICKS", "ERRORS")
    assert {q.sink for q in fake.queries.values()} == {"ENRICHED", "PER_MIN", "ERRORS"}
    assert all(q.properties == {"auto.offset.reset": "earliest"} for q in fake.queries.values())
    outs = stack.state["ksql-per-min"].deployed.outs
    assert outs["query_id"].startswith("CTAS_PER_MIN_") and outs["query_state"] == "RUNNING"
    assert outs["topic"] == "PER_MIN" and outs["adopted"] is False and "HAVING COUNT (*) > 1" in outs["sql"]
    assert "ksqlDB: created TABLE PER_MIN" in messages


def test_fake_second_apply_with_same_inputs_makes_zero_calls_even_when_files_are_reformatted(fake):
    stack, _ = deployed(fake)
    reformatted = {name: text.replace("\n", "\n   ").replace("CREATE STREAM", "create  stream")
                   .replace("SELECT", "select\n") + "\n-- trailing comment\n" for name, text in FILES.items()}
    assert set(stack.preview(program(fake, reformatted)).values()) == {"same"}
    assert set(stack.up(program(fake, reformatted)).values()) == {"same"}
    assert fake.calls == []


def test_fake_url_and_credentials_are_addresses_updated_in_place_without_ddl(fake):
    stack, _ = deployed(fake)
    moved = declare(FILES, VARIABLES, url=fake.url.replace("127.0.0.1", "localhost"), username="ksql",
                    password="rotated-pw")
    assert set(objects_of(stack.preview(moved)).values()) == {"update"}
    assert set(objects_of(stack.up(moved)).values()) == {"update"}
    assert fake.mutations == [] and all(s.split()[0] in ("SHOW", "LIST", "DESCRIBE") for s in fake.statements)
    assert stack.state["ksql-clicks"].deployed.outs["ksqldb_url"].startswith("http://localhost:")


def test_fake_streams_properties_change_alone_recreates_nothing(fake):
    stack, _ = deployed(fake)
    ops = stack.up(program(fake, streams_properties={"auto.offset.reset": "latest"}))
    assert set(ops.values()) == {"same"} and fake.calls == []


# --- the plan: preview shows each object --------------------------------------------------------

def test_fake_preview_of_an_edited_having_lists_exactly_that_table_as_replaced(fake):
    stack, _ = deployed(fake)
    edited = dict(FILES, **{"02_derived.sql": DERIVED.replace("HAVING COUNT(*) > 1", "HAVING COUNT(*) > 3")})
    ops = stack.preview(program(fake, edited))
    assert {name for name, op in ops.items() if op != "same"} == {"ksql-per-min"}
    assert op_of(ops, "PER_MIN") == "replace"
    assert fake.mutations == []  # a preview changes nothing; each dry run is one validated request
    # the KsqlDirectory proves the whole declared change, the table its own (the same proof, plan.change_proof)
    assert len([s for s in fake.statements if s.startswith("DROP STREAM PULUMI_DRY_RUN_")]) == 2
    stack.up(program(fake, edited))
    # its query ends before the DROP deletes its topic (plan.drop_script)
    assert ddl(fake) == ["TERMINATE PER_MIN", "DROP PER_MIN", "CREATE PER_MIN"]
    assert fake.mutations[1] == "DROP TABLE IF EXISTS PER_MIN DELETE TOPIC;"


def test_fake_changing_a_middle_object_replaces_it_and_its_dependents_only(fake, messages):
    stack, _ = deployed(fake)
    untouched = {q.id for q in fake.queries.values() if q.sink == "ERRORS"}
    changed = dict(FILES, **{"02_derived.sql": DERIVED.replace("C.BYTES, U.NAME", "C.BYTES, C.STATUS, U.NAME")})
    ops = stack.preview(program(fake, changed))
    assert {n: op for n, op in ops.items() if op != "same"} == {"ksql-enriched": "replace", "ksql-per-min": "replace"}
    stack.up(program(fake, changed))
    assert ddl(fake) == ["TERMINATE PER_MIN", "DROP PER_MIN", "TERMINATE ENRICHED", "DROP ENRICHED",
                         "CREATE ENRICHED", "CREATE PER_MIN"]
    assert fake.mutations[3] == "DROP STREAM IF EXISTS ENRICHED DELETE TOPIC;"
    assert {q.id for q in fake.queries.values() if q.sink == "ERRORS"} == untouched
    assert "C.STATUS" in stack.state["ksql-enriched"].deployed.outs["sql"]
    assert "ksqlDB: dropped table per_min with its topic" in messages


def test_fake_variable_change_replaces_the_object_using_it(fake):
    stack, _ = deployed(fake)
    ops = stack.up(program(fake, variables={"minStatus": "499"}))
    assert {n for n, op in ops.items() if op != "same"} == {"ksql-errors"}
    assert ddl(fake) == ["TERMINATE ERRORS", "DROP ERRORS", "CREATE ERRORS"] and "STATUS > 499" in fake.mutations[2]


def test_fake_appending_a_column_to_a_source_updates_it_in_place(fake):
    stack, _ = deployed(fake)
    appended = dict(FILES, **{"01_sources.sql": SOURCES.replace("STATUS INT)", "STATUS INT, AGENT VARCHAR)")})
    ops = stack.preview(program(fake, appended))
    assert {n: op for n, op in ops.items() if op != "same"} == {"ksql-clicks": "update"}
    stack.up(program(fake, appended))
    assert ddl(fake) == ["CREATE CLICKS"] and fake.mutations[0].startswith("CREATE OR REPLACE STREAM CLICKS")
    assert "AGENT STRING" in fake.user_sources["CLICKS"].statement


def test_fake_changing_a_source_column_type_replaces_everything_downstream(fake):
    stack, _ = deployed(fake)
    retyped = dict(FILES, **{"01_sources.sql": SOURCES.replace("BYTES BIGINT", "BYTES INT")})
    ops = stack.up(program(fake, retyped))
    assert {n for n, op in ops.items() if op == "replace"} == {"ksql-clicks", "ksql-enriched", "ksql-per-min",
                                                               "ksql-errors"}
    drops = [d.split()[1] for d in ddl(fake) if d.startswith("DROP")]
    assert in_order(drops, "PER_MIN", "ENRICHED", "CLICKS") and in_order(drops, "ERRORS", "CLICKS")
    assert "USERS" not in drops
    assert "DROP STREAM IF EXISTS CLICKS;" in fake.mutations  # a source keeps its connector's topic


def test_fake_add_and_remove_objects(fake):
    stack, _ = deployed(fake)
    files = {"01_sources.sql": SOURCES, "02_derived.sql": DERIVED.split("CREATE TABLE ERRORS")[0],
             "03_new.sql": "CREATE STREAM BIG AS SELECT * FROM CLICKS WHERE BYTES > 1000 EMIT CHANGES;"}
    ops = stack.up(program(fake, files))
    assert ops["ksql-big"] == "create" and ops["ksql-errors"] == "delete"
    assert ddl(fake) == ["CREATE BIG", "TERMINATE ERRORS", "DROP ERRORS"]
    assert "ERRORS" not in fake.user_sources and "BIG" in fake.user_sources


# --- no DROP before a proven CREATE ---------------------------------------------------------------

def test_fake_partitions_change_fails_at_preview_and_up_with_zero_drops(fake):
    stack, _ = deployed(fake)
    for attempt in (stack.preview, stack.up):
        with pytest.raises(CheckFailed) as err:  # refused by the check of the changed statement: no traceback
            attempt(program(fake, variables={"partitions": "6"}))
        message = str(err.value)
        # CLICKS and USERS both change and are independent: either may be diffed first
        assert re.search(r"01_sources\.sql: statement (1 \('CREATE STREAM CLICKS|2 \('CREATE TABLE USERS)", message)
        assert "nothing was changed" in message
        assert "KSQL expects 6 partitions (topic has 1)" in message
        assert "declare the partition count the topic has" in message
    assert fake.mutations == []
    assert set(fake.user_sources) == {"CLICKS", "USERS", "ENRICHED", "PER_MIN", "ERRORS"}
    assert set(stack.up(program(fake)).values()) == {"same"}  # reverting the config: nothing to do


def test_fake_a_bad_replacement_is_refused_before_anything_is_dropped(fake):
    stack, _ = deployed(fake)
    broken = dict(FILES, **{"02_derived.sql": DERIVED.replace("C.USERID, C.BYTES", "C.USERID, C.NOPE")})
    with pytest.raises(CheckFailed) as err:
        stack.up(program(fake, broken))
    assert "02_derived.sql: statement 1 ('CREATE STREAM ENRICHED" in str(err.value)
    assert "SELECT column 'C.NOPE' cannot be resolved" in str(err.value)  # as a real 8.2.1 words it
    assert fake.mutations == [] and len(fake.user_sources) == 5


def test_fake_an_undeclared_reader_stops_the_replacement_before_any_drop(fake):
    stack, _ = deployed(fake)
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute("CREATE STREAM HANDMADE AS SELECT * FROM ENRICHED EMIT CHANGES;")
    fake.reset_calls()
    changed = dict(FILES, **{"02_derived.sql": DERIVED.replace("C.BYTES, U.NAME", "C.BYTES, C.STATUS, U.NAME")})
    with pytest.raises(CheckFailed) as err:
        stack.up(program(fake, changed))
    assert "Cannot drop ENRICHED" in str(err.value) and "HANDMADE" in str(err.value)
    assert fake.mutations == []


# --- adoption by meaning ------------------------------------------------------------------------

def test_fake_empty_state_against_a_server_holding_every_object_adopts_all(fake, messages):
    deployed(fake)  # another stack (or a lost state file) created everything
    stack = Deployment()
    ops = stack.up(program(fake))
    assert set(ops.values()) == {"create"}
    assert fake.mutations == []
    assert all(s.deployed.outs["adopted"] for s in objects_of(stack.state).values())
    assert sum("already existed at" in m and "adopted it" in m for m in messages) == 5
    assert not any("warning" in m for m in messages)


def test_fake_project_files_adopted_with_empty_state(fake):
    files = load_sql_dir(PROJECT_KSQL)
    first, resources = Deployment(), declare(files, PROJECT_VARIABLES, url=fake.url)
    first.up(resources)
    objects = len(fake.user_sources)
    fake.reset_calls()
    again = Deployment()
    again.up(resources)
    assert fake.mutations == [] and len(objects_of(again.state)) == objects == len(resources) - 1


def test_fake_an_existing_object_that_means_something_else_is_adopted_as_it_is_then_rebuilt_by_a_shown_replace(
        fake, messages):
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute(SOURCE_TEXT + "CREATE TABLE ERRORS AS SELECT STATUS, COUNT(*) AS N FROM CLICKS "
                                     "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY STATUS;")
    fake.reset_calls()
    stack = Deployment()
    stack.up(program(fake))
    assert "DROP ERRORS" not in ddl(fake) and fake.sources["ERRORS"].window[0] == "TUMBLING"
    assert any("TABLE ERRORS already existed" in m and "window TUMBLING (declared: none)" in m
               and "the next `pulumi up` rebuilds it" in m for m in messages)
    assert stack.state["ksql-errors"].deployed.outs["live_differences"]
    fake.reset_calls()
    assert op_of(stack.preview(program(fake)), "ERRORS") == "replace" and fake.mutations == []
    assert op_of(stack.up(program(fake)), "ERRORS") == "replace"
    assert ddl(fake) == ["TERMINATE ERRORS", "DROP ERRORS", "CREATE ERRORS"] and fake.sources["ERRORS"].window is None


def test_fake_an_adopted_query_whose_expressions_differ_is_rebuilt_by_the_next_up(fake, messages):
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute(SOURCE_TEXT + "CREATE TABLE ERRORS AS SELECT STATUS, COUNT(*) AS N FROM CLICKS "
                                     "WHERE STATUS > 300 GROUP BY STATUS;")
    fake.reset_calls()
    stack = Deployment()
    stack.up(program(fake))
    assert "DROP ERRORS" not in ddl(fake)
    assert any(m.startswith("warning: ksqlDB: 02_derived.sql: statement 3") and "expressions differ" in m
               for m in messages)
    fake.reset_calls()
    assert op_of(stack.up(program(fake)), "ERRORS") == "replace"
    assert ddl(fake) == ["TERMINATE ERRORS", "DROP ERRORS", "CREATE ERRORS"]
    assert "STATUS > 400" in fake.sources["ERRORS"].statement


def test_fake_an_adopted_object_made_by_hand_keeps_its_topic_when_the_rebuild_drops_it(fake):
    """Only a topic a query writes belongs to ksqlDB (what the proof assumes too): a table made by hand under
    a declared CREATE ... AS SELECT name is rebuilt, and its own topic stays."""
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute(SOURCE_TEXT + "CREATE TABLE ERRORS (STATUS INT PRIMARY KEY, N BIGINT) "
                                     "WITH (KAFKA_TOPIC='errors_by_hand', VALUE_FORMAT='JSON', PARTITIONS=1);")
    stack = Deployment()
    stack.up(program(fake))
    assert stack.state["ksql-errors"].deployed.outs["live_differences"]
    fake.reset_calls()
    assert op_of(stack.up(program(fake)), "ERRORS") == "replace"
    assert "DROP TABLE IF EXISTS ERRORS;" in fake.mutations and "errors_by_hand" in fake.topics
    assert fake.user_sources["ERRORS"].topic == "ERRORS" and "ERRORS" in fake.topics


SOURCE_TEXT = SOURCES.replace("${partitions}", "1")


# --- live state wins ----------------------------------------------------------------------------

def test_fake_an_object_dropped_out_of_band_is_seen_by_refresh_and_recreated_alone(fake):
    stack, _ = deployed(fake)
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute("DROP TABLE PER_MIN DELETE TOPIC;")
    fake.reset_calls()
    refreshed = stack.refresh()
    assert refreshed["ksql-per-min"] == "gone" and {v for k, v in refreshed.items() if k != "ksql-per-min"} == {"same"}
    ops = stack.up(program(fake))
    assert {n: op for n, op in ops.items() if op != "same"} == {"ksql-per-min": "create"}
    assert ddl(fake) == ["CREATE PER_MIN"]


def test_fake_a_paused_query_is_resumed_and_a_failed_one_rebuilt(fake):
    stack, _ = deployed(fake)
    fake.set_query_state(fake_query(fake, "ERRORS"), "PAUSED")
    fake.set_query_state(fake_query(fake, "ENRICHED"), "ERROR")
    stack.refresh()
    ops = stack.preview(program(fake))
    assert {n: op for n, op in ops.items() if op != "same"} == {
        "ksql-errors": "update", "ksql-enriched": "replace", "ksql-per-min": "replace"}
    fake.reset_calls()
    stack.up(program(fake))
    assert sorted(ddl(fake)) == sorted(["RESUME ERRORS", "TERMINATE PER_MIN", "DROP PER_MIN", "TERMINATE ENRICHED",
                                        "DROP ENRICHED", "CREATE ENRICHED", "CREATE PER_MIN"])
    assert in_order(ddl(fake), "TERMINATE PER_MIN", "DROP PER_MIN", "TERMINATE ENRICHED", "DROP ENRICHED",
                    "CREATE ENRICHED", "CREATE PER_MIN")
    assert {q.state for q in fake.queries.values()} == {"RUNNING"}


def test_fake_an_object_replaced_out_of_band_by_another_shows_as_drift_and_is_rebuilt(fake):
    stack, _ = deployed(fake)
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute("DROP TABLE ERRORS DELETE TOPIC; CREATE TABLE ERRORS AS SELECT STATUS, COUNT(*) AS N "
                       "FROM CLICKS WINDOW TUMBLING (SIZE 30 SECONDS) GROUP BY STATUS;")
    fake.reset_calls()
    assert stack.refresh()["ksql-errors"] == "changed"
    assert stack.preview(program(fake))["ksql-errors"] == "replace"
    stack.up(program(fake))
    assert fake.user_sources["ERRORS"].window is None


def fake_query(fake, sink: str) -> str:
    return next(q.id for q in fake.queries.values() if q.sink == sink)


# --- failures and re-runs -------------------------------------------------------------------------

def test_fake_failure_halfway_then_rerun_converges(fake):
    fake.fail_next_statement("CREATE TABLE PER_MIN",
                             "Could not write the statement 'CREATE TABLE PER_MIN ...' into the command topic.")
    stack = Deployment()
    with pytest.raises(KsqlObjectError) as err:
        stack.up(program(fake))
    assert "02_derived.sql: statement 2" in str(err.value) and "command topic" in str(err.value)
    assert "PER_MIN" not in fake.user_sources
    fake.reset_calls()
    ops = stack.up(program(fake))
    assert ops["ksql-per-min"] == "create" and "DROP" not in " ".join(ddl(fake))
    assert set(fake.user_sources) == {"CLICKS", "USERS", "ENRICHED", "PER_MIN", "ERRORS"}


def test_fake_recreate_waits_while_kafka_still_deletes_the_old_topic(fake):
    stack, _ = deployed(fake)
    fake.fail_next_statement("CREATE TABLE ERRORS", "Topic 'ERRORS' is marked for deletion.")
    stack.up(program(fake, variables={"minStatus": "499"}))
    assert [s.split()[0] for s in fake.executed if s.startswith(("CREATE TABLE ERRORS", "DROP TABLE IF"))] == [
        "DROP", "CREATE", "CREATE"]
    assert "ERRORS" in fake.user_sources


def test_fake_bad_statement_surfaces_ksqldb_message_statement_and_file_at_preview(fake):
    # a refusal the offline lint cannot foresee: it needs ENRICHED's columns
    files = dict(FILES, **{"09_bad.sql": "-- header\nINSERT INTO ENRICHED SELECT USERID, BYTES, NOPE AS NAME "
                                         "FROM CLICKS;"})
    with pytest.raises(CheckFailed) as err:
        Deployment().preview(program(fake, files))
    message = str(err.value)
    assert "09_bad.sql: statement 1" in message
    assert "ksqlDB error 40001: Could not determine output schema for query due to error: " in message
    assert "SELECT column 'NOPE' cannot be resolved." in message
    assert fake.mutations == []


def test_fake_missing_topic_error_names_file_and_statement_at_preview_and_when_it_runs(messages):
    with FakeKsqlDb() as fake:
        files = {"01.sql": "CREATE STREAM CLICKS (USERID INT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');"}
        resources = declare(files, url=fake.url)
        with pytest.raises(CheckFailed, match=r"(?s)01.sql: statement 1 .*Topic 'clicks' does not exist"):
            Deployment().preview(resources)
        clicks = next(r for r in resources if r.name == "ksql-clicks")  # as if the preview had been offline
        with pytest.raises(KsqlObjectError) as err:
            KsqlObjectProvider().create(KsqlObjectProvider().check({}, clicks.inputs).inputs)
    message = str(err.value)
    assert "01.sql: statement 1" in message and "Topic 'clicks' does not exist" in message


def _starts_with(prefix: str):
    return lambda body: body["ksql"].lstrip().upper().startswith(prefix)


def test_fake_a_create_whose_answer_was_lost_is_read_back_and_reported_created_not_sent_again(fake, messages):
    fake.drop_answer_next("POST", "/ksql", when=_starts_with("CREATE TABLE PER_MIN"))
    stack = Deployment()
    assert set(stack.up(program(fake)).values()) == {"create"}
    assert [s for s in fake.statements if s.startswith("CREATE TABLE PER_MIN")] != [] and \
        len([s for s in fake.executed if s.startswith("CREATE TABLE PER_MIN")]) == 1
    assert stack.state["ksql-per-min"].deployed.outs["adopted"] is False
    assert "ksqlDB: created TABLE PER_MIN" in messages


@pytest.mark.parametrize("statement, landed", [
    ("DROP TABLE ERRORS;", lambda fake: "ERRORS" not in fake.sources),
    ("INSERT INTO ENRICHED WITH (QUERY_ID='INSERT_X') SELECT C.USERID, C.BYTES, U.NAME FROM CLICKS C "
     "LEFT JOIN USERS U ON C.USERID = U.USER_ID EMIT CHANGES;", lambda fake: "INSERT_X" in fake.queries),
])
def test_fake_a_statement_whose_answer_was_lost_runs_once(fake, statement, landed):
    deployed(fake)
    fake.drop_answer_next("POST", "/ksql", when=_starts_with(statement[:10]))
    with KsqlClient(Endpoint(fake.url, ready_timeout=10)) as client:
        client.execute(statement)
    assert len([s for s in fake.executed if s.startswith(statement[:10])]) == 1 and landed(fake)


def test_fake_a_terminate_whose_answer_was_lost_runs_once(fake):
    deployed(fake)
    query_id = next(q for q in fake.queries if q.startswith("CTAS_ERRORS"))
    fake.drop_answer_next("POST", "/ksql", when=_starts_with("TERMINATE"))
    with KsqlClient(Endpoint(fake.url, ready_timeout=10)) as client:
        client.execute(f"TERMINATE {query_id};")
    assert query_id not in fake.queries and len([s for s in fake.executed if s.startswith("TERMINATE")]) == 1


def test_fake_a_request_that_never_reached_ksqldb_is_sent_again(fake):
    fake.drop_next(1)
    with KsqlClient(Endpoint(fake.url, ready_timeout=10)) as client:
        client.execute("CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);")
    assert "S" in fake.sources


def test_fake_service_not_ready_is_waited_for(fake):
    fake.unavailable(4)
    Deployment().up(program(fake))
    assert len(fake.user_sources) == 5


def test_fake_503_is_retried_within_ready_timeout_not_a_fixed_count(fake, monkeypatch):
    from tenacity import wait_fixed
    monkeypatch.setattr("providers.http.backoff", lambda first, most: wait_fixed(0.01))
    with KsqlClient(Endpoint(fake.url, ready_timeout=30)) as client:
        fake.unavailable(12)  # more than the default attempt cap of other calls
        sources, queries, topics = client.catalog()
    assert [s["name"] for s in sources] == ["KSQL_PROCESSING_LOG"] and queries == []  # the server's own stream
    assert len(fake.calls_to("POST", "/ksql")) == 13


def test_timeout_message_names_the_url(unanswered_url):
    resources = declare(FILES, VARIABLES, url=unanswered_url, ready_timeout=1)
    with pytest.raises(ServiceTimeout) as err:
        Deployment().up(resources)
    assert unanswered_url in str(err.value)


# --- INSERT INTO ----------------------------------------------------------------------------------

INSERTS = ("CREATE STREAM ALL_CLICKS AS SELECT * FROM CLICKS EMIT CHANGES;\n"
           "INSERT INTO ALL_CLICKS SELECT * FROM CLICKS WHERE BYTES > 0;")


def test_fake_insert_into_runs_under_its_own_query_id_and_is_terminated_before_its_target_drops(fake):
    files = dict(FILES, **{"03_insert.sql": INSERTS})
    stack, _ = deployed(fake, files)
    (insert_id,) = [q for q in fake.queries if q.startswith("INSERT_ALL_CLICKS_")]
    changed = dict(files, **{"03_insert.sql": INSERTS.replace("FROM CLICKS EMIT", "FROM CLICKS WHERE STATUS > 0 EMIT")})
    ops = stack.up(program(fake, changed))
    assert op_of(ops, "ALL_CLICKS") == "replace"
    assert ddl(fake) == [f"TERMINATE {insert_id}", "TERMINATE ALL_CLICKS", "DROP ALL_CLICKS", "CREATE ALL_CLICKS",
                         "INSERT ALL_CLICKS"]
    assert insert_id in fake.queries
    fake.reset_calls()
    stack.destroy()
    assert ddl(fake)[0] == f"TERMINATE {insert_id}" and fake.user_sources == {}


def test_fake_self_insert_is_refused_at_check(fake):
    from providers.ksqldb import KsqlParseError
    from tests.provider.pulumi_engine import CheckFailed
    with pytest.raises((CheckFailed, KsqlParseError)) as err:
        declare(dict(FILES, **{"03.sql": "INSERT INTO ENRICHED SELECT * FROM ENRICHED;"}), VARIABLES, url=fake.url)
    assert "reads from ENRICHED itself" in str(err.value)


# --- delete ---------------------------------------------------------------------------------------

def test_fake_destroy_drops_dependents_first_and_topics_only_of_derived_objects(fake):
    stack, _ = deployed(fake)
    stack.destroy()
    dropped = [d.split()[1] for d in ddl(fake) if d.startswith("DROP")]
    assert sorted(dropped) == ["CLICKS", "ENRICHED", "ERRORS", "PER_MIN", "USERS"]
    # each derived object's query ends right before its DROP deletes its topic (plan.drop_script)
    steps = ddl(fake)
    assert all(steps[steps.index(f"DROP {name}") - 1] == f"TERMINATE {name}" for name in ("ENRICHED", "ERRORS",
                                                                                          "PER_MIN"))
    assert in_order(dropped, "PER_MIN", "ENRICHED", "CLICKS") and in_order(dropped, "ENRICHED", "USERS")
    assert in_order(dropped, "ERRORS", "CLICKS")
    assert all(s.endswith("DELETE TOPIC;") for s in fake.mutations
               if s.startswith("DROP") and "CLICKS" not in s and "USERS" not in s)
    assert "DROP STREAM IF EXISTS CLICKS;" in fake.mutations and fake.user_sources == {} and fake.queries == {}
    assert "clicks" in fake.topics and "PER_MIN" not in fake.topics


def test_fake_deleting_what_is_already_gone_sends_nothing(fake):
    stack, resources = deployed(fake)
    states = {n: s for n, s in stack.state.items()}
    stack.destroy()
    fake.reset_calls()
    for stored in reversed(list(states.values())):
        stored.provider.delete(stored.deployed.id, stored.deployed.outs)
    assert fake.mutations == []


# --- moving from the single-resource shape --------------------------------------------------------

def test_fake_first_release_state_moves_to_one_resource_per_object_retiring_what_is_no_longer_declared(
        fake, messages):
    files = load_sql_dir(PROJECT_KSQL)
    Deployment().up(declare(files, PROJECT_VARIABLES, url=fake.url))  # what the old resource had created
    with KsqlClient(Endpoint(fake.url)) as client:  # as the first release had them: an object today's SQL does
        client.execute("CREATE STREAM SITE_CLICKSTREAM AS SELECT * FROM CLICKSTREAM EMIT CHANGES; "  # not declare,
                       "DROP TABLE BANDWIDTH_PER_MIN DELETE TOPIC; "  # and a declared one that reads it
                       "CREATE TABLE BANDWIDTH_PER_MIN AS SELECT USERID, COUNT(*) AS HITS FROM SITE_CLICKSTREAM "
                       "GROUP BY USERID EMIT CHANGES;")
    fake.reset_calls()
    old_state = {"ksqldb_url": fake.url, "objects": sorted(fake.user_sources), "statements": {}}
    legacy = dill_round_trip(KsqlStatementsProvider())
    assert legacy.read("ksql-0", old_state).outs == old_state
    news = {"ksqldb_url": fake.url, "statements": [{"file": s.file, "index": s.index, "statement": s.text}
                                                   for s in parse_sources(files, PROJECT_VARIABLES)]}
    assert legacy.diff("ksql-0", old_state, news).changes is True  # the preview proves and warns, changing nothing
    assert fake.mutations == [] and set(fake.topics) >= {"SITE_CLICKSTREAM", "BANDWIDTH_PER_MIN"}
    (said,) = [m for m in messages if m.startswith("warning: ksqlDB: the move from the first release")]
    assert "drops SITE_CLICKSTREAM (no longer declared" in said and "drops BANDWIDTH_PER_MIN (running" in said
    outs = legacy.update("ksql-0", old_state, news).outs
    assert ddl(fake) == ["TERMINATE BANDWIDTH_PER_MIN", "DROP BANDWIDTH_PER_MIN", "TERMINATE SITE_CLICKSTREAM",
                         "DROP SITE_CLICKSTREAM"]
    assert all("DELETE TOPIC" in statement for statement in fake.mutations if statement.startswith("DROP"))
    assert "objects" not in outs and legacy.diff("ksql-0", outs, news).changes is False
    stack = Deployment()  # the per-object resources, created after the directory: BANDWIDTH_PER_MIN anew
    stack.up(declare(files, PROJECT_VARIABLES, url=fake.url))
    assert "SITE_CLICKSTREAM" not in fake.user_sources
    assert not any(s.deployed.outs.get("live_differences") for s in objects_of(stack.state).values())


def test_fake_a_stack_destroyed_before_it_moved_drops_what_the_first_release_managed(fake):
    Deployment().up(program(fake))
    fake.reset_calls()
    old_state = {"ksqldb_url": fake.url, "objects": sorted(fake.user_sources), "statements": {}}
    KsqlStatementsProvider().delete("ksql-0", old_state)
    assert fake.user_sources == {} and ddl(fake)[-2:] in (["DROP USERS", "DROP CLICKS"], ["DROP CLICKS", "DROP USERS"])


def test_fake_retiring_an_object_that_a_hand_made_stream_reads_is_refused_naming_it(fake):
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute(SOURCE_TEXT + "CREATE STREAM OLD AS SELECT * FROM CLICKS EMIT CHANGES; "
                                     "CREATE STREAM HANDMADE AS SELECT * FROM OLD EMIT CHANGES;")
    fake.reset_calls()
    old_state = {"ksqldb_url": fake.url, "objects": ["CLICKS", "USERS", "OLD"], "statements": {}}
    with pytest.raises(RetireError, match="cannot drop .*OLD.*HANDMADE reads from it"):
        KsqlDirectoryProvider().update("ksql-0", old_state, {"ksqldb_url": fake.url, "statements": [
            {"file": "01_sources.sql", "index": 1, "statement": SOURCE_TEXT.split(";")[0] + ";"}]})
    assert fake.mutations == []


# --- inputs, secrets, serialization ---------------------------------------------------------------

def test_check_reports_a_statement_that_does_not_define_the_object():
    provider = KsqlObjectProvider()
    news = {"ksqldb_url": "http://k:8088", "object_name": "A", "kind": "STREAM", "file": "x.sql", "index": 1,
            "statement": "CREATE STREAM B AS SELECT * FROM C;"}
    failures = provider.check({}, news).failures
    assert [f.property for f in failures] == ["statement"] and "defines STREAM B" in failures[0].reason
    assert provider.check({}, dict(news, statement="DROP STREAM A;")).failures[0].property == "statement"


def test_diff_with_an_unknown_upstream_replaces_without_calling_the_server(fake):
    stack, _ = deployed(fake)
    stored = stack.state["ksql-per-min"]
    from pulumi.runtime import rpc
    diff = stored.provider.diff("id", stored.deployed.outs, dict(stored.deployed.inputs, upstream=rpc.UNKNOWN))
    assert diff.replaces == ["upstream"] and diff.delete_before_replace is True
    assert fake.calls == []


def test_secrets_stay_out_of_errors_and_are_secret_outputs(fake):
    stack, _ = deployed(fake, username="ksql", password="s3cret-pw")
    assert CONTRACT.secret_outputs == ["password"]
    fake.echo_credentials = True  # its error answers quote the credentials each request carried
    fake.fail_next_statement("DROP", "boom")
    with pytest.raises(KsqlObjectError) as err:
        stack.destroy()
    assert "boom (request credentials: Basic [secret] = ksql:[secret])" in str(err.value)
    assert "s3cret-pw" not in str(err.value)


def test_providers_survive_the_dill_round_trip_pulumi_uses():
    assert isinstance(dill_round_trip(KsqlObjectProvider()), KsqlObjectProvider)
    assert isinstance(dill_round_trip(KsqlStatementsProvider()), KsqlStatementsProvider)


# --- the fake itself ------------------------------------------------------------------------------

def test_fake_itself_validates_a_whole_request_before_running_any_of_it(fake):
    with KsqlClient(Endpoint(fake.url)) as client:
        with pytest.raises(KsqlError) as err:
            client.execute(SOURCE_TEXT + "CREATE STREAM S AS SELECT * FROM NOPE;")
        assert (err.value.error_code, err.value.message) == (40001, "Exception while preparing statement: NOPE "
                                                                    "does not exist.")
        assert fake.user_sources == {} and fake.mutations == []
        client.dry_run([SOURCE_TEXT])
        assert fake.user_sources == {}


def test_fake_itself_answers_with_ksqldb_error_bodies(fake):
    """The FAKE's own behaviour that the provider relies on (messages and codes as in ksqlDB 8.2.1)."""
    with KsqlClient(Endpoint(fake.url)) as client:
        client.execute(SOURCE_TEXT + "CREATE TABLE T AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID;")
        cases = {
            "CREATE TABLE T AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID;":
                (40001, "Cannot add table 'T': A table with the same name already exists"),
            "CREATE OR REPLACE TABLE T AS SELECT USERID, COUNT(*) AS M FROM CLICKS GROUP BY USERID;":
                (40000, "Upgrades not yet supported for StreamAggregate"),
            "DROP STREAM CLICKS;": (40001, "Cannot drop CLICKS.\nThe following streams and/or tables read from this "
                                           "source: [T].\nYou need to drop them before dropping CLICKS."),
            "DROP TABLE NOPE;": (40001, "Table NOPE does not exist."),
            "CREATE STREAM C2 (X INT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=3);":
                (50000, "A Kafka topic with the name 'clicks' already exists, with different partition/replica/"
                        "retention configuration than required. KSQL expects 3 partitions (topic has 1), 1 "
                        "replication factor (topic has 1), and 604800000 retention (topic has 604800000)."),
        }
        for statement, (code, message) in cases.items():
            with pytest.raises(KsqlError) as err:
                client.execute(statement)
            assert (err.value.error_code, err.value.message) == (code, message)
        stored = fake.user_sources["T"].statement
        assert stored.startswith("CREATE TABLE T WITH (CLEANUP_POLICY='compact', KAFKA_TOPIC='T', PARTITIONS=1, "
                                 "REPLICAS=1, RETENTION_MS=604800000) AS SELECT\n  CLICKS.USERID USERID,\n")
        client.execute("DROP TABLE T DELETE TOPIC;")  # ends CTAS_T_n itself
        assert fake.queries == {} and "T" not in fake.user_sources and "T" not in fake.topics
