"""The move from a real first-release stack, through the REAL engine: the first release's program (commit
63c4354, one ``KsqlStatements`` resource for all of ``ksql/``) deploys the application layer, then today's
program takes the same stack over. With the first release's own SQL (and dashboards) the move rebuilds only what runs
differently from what today's program declares — HIGH_BANDWIDTH_SESSIONS, whose threshold today's
program derives from the configured rates (the first release took a fixed 500000) — and announces it in
the preview; every other object is adopted as it runs, the next ``up`` is a no-op with 0 requests, and
``destroy`` removes everything. (With today's SQL, see tests/engine/test_engine_fixes.py.)"""
from __future__ import annotations

import pytest

from clickstream import analytics
from tests.engine.release import FIRST_RELEASE, checkout, deploy
from tests.engine.workspace import EngineStack


def test_the_first_release_stack_moves_to_todays_program_without_touching_ksqldb(fresh_pipeline, tmp_path):
    release = checkout(FIRST_RELEASE, tmp_path / "release")
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    deploy(stack, release)
    first = dict(fresh_pipeline.ksqldb.user_sources)
    assert len(first) == 17, sorted(first)

    fresh_pipeline.reset_calls()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analytics, "KSQL_DIR", release / "ksql")
        # its dashboards too: today's chart CLICKS_PER_CITY, which the first release's SQL does not declare
        patch.setattr(analytics, "DASHBOARD_DIR", release / "dashboards")
        preview = stack.preview(diff=False)  # resource lines and messages
        # the pipeline component is created; the one resource is taken over (an alias) by its KsqlDirectory
        assert preview.changed()["clickstream-ksql"] == {"create", "update"}, preview.changed()["clickstream-ksql"]
        assert "delete" not in preview.all_ops()
        assert not preview.all_ops() & {"replace", "create-replacement", "delete-replaced"}
        announced = [line for line in preview.output.splitlines() if "move from the first release" in line]
        assert announced and "drops HIGH_BANDWIDTH_SESSIONS (running the first release's" in announced[0]
        moved = stack.up()
        assert [m.split()[0] + " " + m.split()[1] for m in fresh_pipeline.ksqldb.mutations] == [
            "DROP TABLE", "CREATE TABLE"], "only the announced object is rebuilt; every other one is adopted"
        assert all("HIGH_BANDWIDTH_SESSIONS" in m for m in fresh_pipeline.ksqldb.mutations)
        assert set(fresh_pipeline.ksqldb.user_sources) == set(first)
        assert moved.summary == preview.summary

        fresh_pipeline.reset_calls()
        assert stack.up().all_ops() == {"same"}
        assert sum(fresh_pipeline.requests().values()) == 0

        stack.destroy()
    assert fresh_pipeline.ksqldb.user_sources == {} and fresh_pipeline.connect.connectors == {}
