"""The dev application layer's whole lifecycle through the REAL Pulumi engine (CLI 3.274.1, Automation API,
inline program), against the real Elasticsearch node and Kafka broker and the fakes of Connect, ksqlDB and
Grafana, every HTTP request counted by a proxy.

The tests are ordered steps on ONE stack (module fixtures): each starts from the state the previous one
left, as a user's successive ``pulumi`` runs do. Run the module as a whole.
"""
from __future__ import annotations

import pytest
import requests
from pulumi import automation as auto

from clickstream.content import connectors
from providers.ksqldb.parser import builds
from tests.engine.declared import KSQL_PREFIX, executed_verbs, ksql_objects, statements
from tests.engine.workspace import GRAFANA_PASSWORD, PASSPHRASE, EngineFailed, EngineStack

REPLACED = {"replace", "create-replacement", "delete-replaced"}  # the engine's three steps of one replacement
MUTATING_OPS = {"create", "update", "replace", "create-replacement", "delete-replaced", "delete", "import"}


def aliased(pipeline, alias: str) -> list[str]:
    """The indices the alias points at on the real node."""
    answer = requests.get(f"{pipeline.elasticsearch_url}/{alias}/_alias", timeout=30)
    assert answer.status_code == 200, answer.text
    return sorted(answer.json())


def test_preview_plans_every_ksqldb_object_as_its_own_resource_and_sends_no_write(engine_stack, pipeline, ksql_dir):
    preview = engine_stack.preview()
    objects = ksql_objects(ksql_dir.folder)
    planned = {step.name for step in preview.steps if "ksqldb:" in step.type and step.name != KSQL_PREFIX}
    assert planned == set(objects) and len(objects) == 17
    assert preview.all_ops() == {"create"}
    assert pipeline.ksqldb.mutations == [] and pipeline.writes().keys() <= {"ksqldb"}


def test_first_up_creates_the_whole_application_layer(engine_stack, pipeline, ksql_dir):
    up = engine_stack.up()
    assert up.all_ops() == {"create"} and up.summary == {"create": len(up.steps) + 1}  # + the stack
    derived = {t.lower() for t in connectors.derived_tables(statements(ksql_dir.folder))}
    assert len(pipeline.connect.connectors) == 3 + len(derived)
    assert set(ksql_objects(ksql_dir.folder).values()) == set(pipeline.ksqldb.user_sources)
    assert pipeline.template_exists()
    assert {ds["jsonData"]["index"] for ds in pipeline.grafana.datasources.values()} == derived
    for index in derived:  # the datasources read aliases, each over its table's versioned index
        (behind,) = aliased(pipeline, index)
        assert behind.startswith(f"{index}_v")
    assert set(pipeline.grafana.dashboards) == {"clickstream-analysis", "clickstream-high-bandwidth"}


def test_a_no_op_up_sends_zero_requests_to_every_service(engine_stack, pipeline):
    for _ in range(3):
        pipeline.reset_calls()
        up = engine_stack.up()
        assert up.all_ops() == {"same"}, up.changed()
        assert pipeline.requests() == {"connect": 0, "ksqldb": 0, "elasticsearch": 0, "grafana": 0}
        assert pipeline.connect.calls == [] and pipeline.ksqldb.calls == [] and pipeline.grafana.calls == []


def test_a_url_change_updates_in_place_and_runs_no_statement(engine_stack, pipeline):
    engine_stack.endpoints = pipeline.endpoints(1)
    pipeline.reset_calls()
    up = engine_stack.up()
    assert {op for ops in up.ops().values() for op in ops} <= {"same", "update"}, up.changed()
    assert up.named("update"), "the new URLs are recorded"
    # docs/resources: ksqlDB sends no statement; Connect, Elasticsearch and Grafana write the declared
    # object again to the new address (idempotent PUTs), nothing is deleted or created
    assert pipeline.ksqldb.mutations == []  # its POST /ksql carries reads too: the fake's log tells them apart
    assert {method for calls in pipeline.writes().values() for method, _ in calls} <= {"PUT", "POST"}
    assert [c for c in pipeline.connect.mutating_calls if c.method != "PUT"] == []
    pipeline.reset_calls()
    assert engine_stack.up().all_ops() == {"same"} and sum(pipeline.requests().values()) == 0


def test_a_partition_change_is_refused_before_anything_changes(engine_stack, pipeline):
    engine_stack.stack.set_config("clickstream:kafkaPartitions", auto.ConfigValue("4"))
    pipeline.reset_calls()
    try:
        with pytest.raises(EngineFailed, match="partition") as refused:
            engine_stack.up()
    finally:
        engine_stack.stack.remove_config("clickstream:kafkaPartitions")
    executed = {step.name: step.op for step in refused.value.outcome.steps if step.op in MUTATING_OPS}
    writes = {name: calls for name, calls in pipeline.writes().items() if name != "ksqldb"}
    assert pipeline.ksqldb.mutations == [] and writes == {}, (executed, writes)
    assert engine_stack.preview().all_ops() == {"same"}, "the refused change left no trace"


def test_a_having_change_replaces_exactly_that_table_and_the_preview_names_its_new_index_and_sink(
        engine_stack, pipeline, ksql_dir):
    ksql_dir.edit("40_errors.sql", "HAVING COUNT(*) > 1", "HAVING COUNT(*) > 2")
    table, name = f"{KSQL_PREFIX}-enriched-error-codes-count", "ENRICHED_ERROR_CODES_COUNT"
    # a new build: its own index and sink, and the alias moved to that index once it has caught up
    # (docs/resources/versioned-indexes.md)
    expected = {table: REPLACED, "clickstream-index-enriched-error-codes-count": REPLACED,
                "clickstream-es-sink-enriched-error-codes-count": REPLACED,
                "clickstream-alias-enriched-error-codes-count": {"update"}}
    before = aliased(pipeline, "enriched_error_codes_count")
    version = builds(statements(ksql_dir.folder))[name]
    new_index = connectors.versioned_index_name(name, version)
    preview = engine_stack.preview()
    assert preview.changed() == expected, preview.changed()
    planned = {step.name: step.inputs for step in preview.steps if step.op in ("create-replacement", "update")}
    assert planned["clickstream-index-enriched-error-codes-count"]["index"] == new_index
    assert planned["clickstream-es-sink-enriched-error-codes-count"]["connector_name"] == \
        connectors.sink_connector_name(name, version)
    assert planned["clickstream-alias-enriched-error-codes-count"]["index"] == new_index != before[0]
    pipeline.reset_calls()
    up = engine_stack.up()
    assert up.changed() == expected, up.changed()
    assert executed_verbs(pipeline.ksqldb) == ["TERMINATE", "DROP TABLE", "CREATE TABLE"]
    assert name in pipeline.ksqldb.user_sources
    assert aliased(pipeline, "enriched_error_codes_count") == [new_index], "the alias moved to the new build"
    assert requests.head(f"{pipeline.elasticsearch_url}/{before[0]}", timeout=30).status_code == 404


def test_an_added_column_is_one_create_or_replace(engine_stack, pipeline, ksql_dir):
    ksql_dir.edit("01_sources.sql", "    AGENT VARCHAR\n)", "    AGENT VARCHAR,\n    REFERRER VARCHAR\n)")
    pipeline.reset_calls()
    up = engine_stack.up()
    assert up.changed() == {f"{KSQL_PREFIX}-clickstream": {"update"}}, up.changed()
    assert len(pipeline.ksqldb.mutations) == 1 and pipeline.ksqldb.mutations[0].startswith(
        "CREATE OR REPLACE STREAM CLICKSTREAM"), pipeline.ksqldb.mutations
    assert "REFERRER" in [column[0] for column in pipeline.ksqldb.user_sources["CLICKSTREAM"].columns]


def test_an_object_dropped_out_of_band_is_found_by_refresh_and_recreated_alone(engine_stack, pipeline):
    dropped = requests.post(f"{pipeline.ksqldb.url}/ksql", timeout=30,
                            json={"ksql": "DROP TABLE HIGH_BANDWIDTH_SESSIONS DELETE TOPIC;"})
    assert dropped.status_code == 200, dropped.text
    engine_stack.refresh()
    pipeline.reset_calls()
    up = engine_stack.up()
    # the same statements: the same build and names, but a new topic and query: the index is filled anew
    # (readers kept on a held copy meanwhile), the sink reads the new topic from its start in a new group,
    # and the alias comes back to the index once it has caught up
    before = aliased(pipeline, "high_bandwidth_sessions")
    assert up.changed() == {f"{KSQL_PREFIX}-high-bandwidth-sessions": {"create"},
                            "clickstream-index-high-bandwidth-sessions": {"update"},
                            "clickstream-es-sink-high-bandwidth-sessions": {"update"},
                            "clickstream-alias-high-bandwidth-sessions": {"update"}}, up.changed()
    assert executed_verbs(pipeline.ksqldb) == ["CREATE TABLE"]
    assert "HIGH_BANDWIDTH_SESSIONS" in pipeline.ksqldb.user_sources
    assert aliased(pipeline, "high_bandwidth_sessions") == before
    assert requests.head(f"{pipeline.elasticsearch_url}/{before[0]}-held", timeout=30).status_code == 404


def test_stack_export_holds_no_secret_in_plain_text(engine_stack):
    exported = engine_stack.cli("stack", "export")
    assert exported.returncode == 0, exported.stderr
    assert GRAFANA_PASSWORD not in exported.stdout and PASSPHRASE not in exported.stdout
    assert '"ciphertext"' in exported.stdout, "the password is kept as an encrypted secret"


def test_after_state_loss_a_new_stack_adopts_everything_without_a_drop_or_create(
        engine_stack, pipeline, tmp_path_factory):
    fresh = EngineStack(tmp_path_factory.mktemp("state-lost"), engine_stack.endpoints)
    pipeline.reset_calls()
    up = fresh.up()
    assert up.all_ops() == {"create"}, "a new state records every object"
    verbs = executed_verbs(pipeline.ksqldb)
    assert not [v for v in verbs if v.startswith(("DROP", "CREATE"))], verbs
    assert [call for call in pipeline.connect.mutating_calls if call.method != "PUT"] == [], "adopted, not re-created"


def test_destroy_removes_everything(engine_stack, pipeline):
    destroyed = engine_stack.destroy()
    assert destroyed.all_ops() == {"delete"}
    assert pipeline.connect.connectors == {}
    assert pipeline.ksqldb.user_sources == {} and pipeline.ksqldb.queries == {}
    assert not pipeline.template_exists()
    assert pipeline.grafana.datasources == {} and pipeline.grafana.dashboards == {}
    assert pipeline.grafana.folders == {}
