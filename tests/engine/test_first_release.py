"""The move from a real first-release stack, through the REAL engine: the first release's program (commit
63c4354, one ``KsqlStatements`` resource for all of ``ksql/``) deploys the application layer, then today's
program takes the same stack over. With the first release's own SQL (and dashboards) the move rebuilds only what runs
differently from what today's program declares — HIGH_BANDWIDTH_SESSIONS, whose threshold today's
program derives from the configured rates (the first release took a fixed 500000) — and announces it in
the preview; every other object is adopted as it runs, each sink is replaced by the sink of the table's
build (reading the topic from its start into the build's index), each index the first release's sinks filled
is replaced by an alias over that index (docs/resources/versioned-indexes.md), the next ``up`` is a no-op
with 0 requests, and ``destroy`` removes everything. (With today's SQL, see tests/engine/test_engine_fixes.py.)"""
from __future__ import annotations

import re

import pytest
import requests

from clickstream.content import connectors
from clickstream.stack import analytics
from providers.ksqldb import load_sql_dir, parse_sources
from stackconfig import StackConfig
from tests.engine.declared import executed_verbs
from tests.engine.release import FIRST_RELEASE, checkout, deploy
from tests.engine.workspace import EngineStack


def test_the_first_release_stack_moves_to_todays_program_without_touching_ksqldb(fresh_pipeline, tmp_path):
    release = checkout(FIRST_RELEASE, tmp_path / "release")
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    deploy(stack, release)
    first = dict(fresh_pipeline.ksqldb.user_sources)
    assert len(first) == 17, sorted(first)
    es = fresh_pipeline.elasticsearch_url
    # the tables the first release sank into concrete indexes of their names (each CREATE TABLE ... AS SELECT)
    statements = parse_sources(load_sql_dir(release / "ksql"), analytics.ksql_variables(StackConfig()))
    sunk = [t for t in connectors.derived_tables(statements) if t in first]
    indexes = [connectors.index_name(t) for t in sunk]
    for index in indexes:  # what the first release's sinks wrote: a concrete index per table it declares
        answer = requests.post(f"{es}/{index}/_doc?refresh=true", json={"EVENT_TS": 1764162000000}, timeout=30)
        assert answer.status_code == 201, answer.text

    fresh_pipeline.reset_calls()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analytics, "KSQL_DIR", release / "ksql")
        # its dashboards too: today's chart CLICKS_PER_CITY, which the first release's SQL does not declare
        patch.setattr(analytics, "DASHBOARD_DIR", release / "dashboards")
        preview = stack.preview(diff=False)  # resource lines and messages
        # the pipeline component is created; the one resource is taken over (an alias) by its KsqlDirectory
        assert preview.changed()["clickstream-ksql"] == {"create", "update"}, preview.changed()["clickstream-ksql"]
        assert "delete" not in preview.all_ops()
        replaced = {name for name, ops in preview.changed().items() if "replace" in ops}
        assert replaced == {f"clickstream-{connectors.sink_name(t)}" for t in sunk}
        announced = [line for line in preview.output.splitlines() if "move from the first release" in line]
        assert announced and "drops HIGH_BANDWIDTH_SESSIONS (running the first release's" in announced[0]
        moved = stack.up()
        assert executed_verbs(fresh_pipeline.ksqldb) == ["TERMINATE", "DROP TABLE", "CREATE TABLE"], \
            "only the announced object is rebuilt; every other one is adopted"
        assert all("HIGH_BANDWIDTH_SESSIONS" in m for m in fresh_pipeline.ksqldb.mutations)
        assert set(fresh_pipeline.ksqldb.user_sources) == set(first)
        assert moved.summary == preview.summary
        for index in indexes:  # each name now an alias over the build's index, which the new sink fills
            behind = requests.get(f"{es}/{index}/_alias", timeout=30).json()
            assert [name.startswith(f"{index}_v") for name in behind] == [True], behind
        sinks = {name for name in fresh_pipeline.connect.connectors if name.startswith("es-sink-")}
        assert sorted(re.sub(r"-v[0-9a-f]{16}$", "", name) for name in sinks) == sorted(
            connectors.sink_name(t) for t in sunk), sinks

        fresh_pipeline.reset_calls()
        assert stack.up().all_ops() == {"same"}
        assert sum(fresh_pipeline.requests().values()) == 0

        stack.destroy()
    assert fresh_pipeline.ksqldb.user_sources == {} and fresh_pipeline.connect.connectors == {}
    assert all(requests.head(f"{es}/{index}", timeout=30).status_code == 404 for index in indexes)
