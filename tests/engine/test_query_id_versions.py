"""The move from the release whose index versions were digests of the tables' persistent query ids (commit
b448076) to builds of the files, through the REAL engine: that release deploys the application layer, then
today's program takes the same stack over. ksqlDB is not touched; per derived table the preview names the
new index and sink (the version is the table's build now), the alias moves to the new index and the old
index and sink go (and the datagen sources take their topic-creation settings); the next ``up`` is a no-op
with 0 requests (docs/resources/versioned-indexes.md)."""
from __future__ import annotations

import requests

from clickstream.content import connectors
from clickstream.stack import analytics
from providers.ksqldb.parser import builds
from stackconfig import StackConfig
from tests.engine.declared import statements
from tests.engine.release import QUERY_ID_VERSIONS, checkout, deploy
from tests.engine.workspace import EngineStack

REPLACED = {"replace", "create-replacement", "delete-replaced"}


def test_indexes_versioned_by_query_id_move_to_builds_of_the_files_without_touching_ksqldb(fresh_pipeline, tmp_path):
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    deploy(stack, checkout(QUERY_ID_VERSIONS, tmp_path / "release"))
    es = fresh_pipeline.elasticsearch_url
    declared = statements(analytics.KSQL_DIR)
    tables, versions = connectors.derived_tables(declared), builds(declared)
    before = {t: sorted(requests.get(f"{es}/{connectors.index_name(t)}/_alias", timeout=30).json()) for t in tables}
    assert all(len(indexes) == 1 for indexes in before.values()), before

    fresh_pipeline.reset_calls()
    preview = stack.preview()
    stems = {t: connectors.resource_stem(t) for t in tables}
    expected = {**{f"clickstream-{kind}-{stem}": REPLACED for stem in stems.values() for kind in ("index", "es-sink")},
                **{f"clickstream-alias-{stem}": {"update"} for stem in stems.values()},
                # and the datagen sources, which since have Connect create their topics (topic.creation.*)
                **{f"clickstream-{spec.name}": {"update"} for spec in connectors.datagen_sources(StackConfig())}}
    assert preview.changed() == expected, preview.changed()
    planned = {step.name: step.inputs for step in preview.steps if step.op in ("create-replacement", "update")}
    for table, stem in stems.items():
        new_index = connectors.versioned_index_name(table, versions[table])
        assert planned[f"clickstream-index-{stem}"]["index"] == planned[f"clickstream-alias-{stem}"]["index"] \
            == new_index != before[table][0]
        assert planned[f"clickstream-es-sink-{stem}"]["connector_name"] == \
            connectors.sink_connector_name(table, versions[table])
    assert fresh_pipeline.writes() == {}, "the preview changed nothing"

    moved = stack.up()
    assert moved.changed() == expected, moved.changed()
    assert fresh_pipeline.ksqldb.mutations == []
    for table in tables:
        after = requests.get(f"{es}/{connectors.index_name(table)}/_alias", timeout=30).json()
        assert sorted(after) == [connectors.versioned_index_name(table, versions[table])], after
        assert requests.head(f"{es}/{before[table][0]}", timeout=30).status_code == 404
    sinks = {name for name in fresh_pipeline.connect.connectors if name.startswith("es-sink-")}
    assert sinks == {connectors.sink_connector_name(t, versions[t]) for t in tables}

    fresh_pipeline.reset_calls()
    assert stack.up().all_ops() == {"same"}
    assert sum(fresh_pipeline.requests().values()) == 0
