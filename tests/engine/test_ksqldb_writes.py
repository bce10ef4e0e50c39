"""Issue 25, findings 2, 4 and 5, through the REAL Pulumi engine against the ksqlDB fake, which answers
concurrent requests as the real 8.2.1 does (a write that overlaps another is fenced: HTTP 500 50000; a
query over a topic deleted out of band is refused: 500 "Failed to Describe Kafka Topic(s)"). Each test
has its own services and stack.

2. The first ``up`` runs independent creates at once (the engine's default parallelism); the provider
   process sends ksqlDB one statement at a time, so the fake fences none, and the ``up`` converges.
4. A partition change on a stack whose first ``up`` did not converge is refused before anything is
   created (the missing source is not created with the refused setting).
5. A derived object whose topic was deleted out of band is rebuilt, with its readers, by one
   ``up --refresh``; and after a state loss by the first ``up`` of the new stack.
"""
from __future__ import annotations

import pytest
import requests
from pulumi import automation as auto

from clickstream.stack import analytics
from providers.ksqldb.parser import dependents
from tests.engine.declared import KSQL_PREFIX, ksql_objects, sink_resources, statements
from tests.engine.workspace import EngineFailed, EngineStack

REPLACED = {"replace", "create-replacement", "delete-replaced"}


def collisions(ksqldb) -> list[dict]:
    """Every 5xx the fake answered on ``POST /ksql`` (fenced writes, sandboxes that collided)."""
    return list(ksqldb.server_errors)


def planned(outcome) -> dict[str, set[str]]:
    """Resources the engine would change, refresh reads left out."""
    return {name: ops - {"refresh"} for name, ops in outcome.changed().items() if ops - {"refresh"}}


def declared_names() -> set[str]:
    return set(ksql_objects(analytics.KSQL_DIR).values())


def readers_of(name: str) -> set[str]:
    graph = {s.name: s.depends_on for s in statements(analytics.KSQL_DIR)}
    return dependents(graph, {name}) - {name}


def test_the_first_up_creates_everything_at_once_without_a_collision(fresh_pipeline, tmp_path):
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    up = stack.up()
    assert up.all_ops() == {"create"}
    assert collisions(fresh_pipeline.ksqldb) == [] and fresh_pipeline.ksqldb.fenced == []
    assert set(fresh_pipeline.ksqldb.user_sources) == declared_names()
    assert stack.preview().changed() == {}, "converged in one up"


def test_a_partition_change_on_a_stack_whose_first_up_did_not_converge_creates_nothing(
        fresh_pipeline, fresh_ksql_dir, tmp_path):
    ksqldb = fresh_pipeline.ksqldb
    ksqldb.fail_next_statement("CREATE TABLE WEB_USERS", "Failed to create topic clickstream_users: broker down")
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    with pytest.raises(EngineFailed, match="broker down"):
        stack.up()
    assert "WEB_USERS" not in ksqldb.sources and "CLICKSTREAM" in ksqldb.sources
    sources, topics = set(ksqldb.sources), dict(ksqldb.topics)
    stack.stack.set_config("clickstream:kafkaPartitions", auto.ConfigValue("4"))
    ksqldb.reset_calls()
    try:
        for attempt in (stack.preview, stack.up):
            with pytest.raises(EngineFailed, match="partition"):
                attempt()
    finally:
        stack.stack.remove_config("clickstream:kafkaPartitions")
    assert ksqldb.mutations == [], "a refused change created something"
    assert set(ksqldb.sources) == sources and dict(ksqldb.topics) == topics
    stack.up()
    assert set(ksqldb.user_sources) == declared_names() and stack.preview().changed() == {}


def test_a_derived_topic_deleted_out_of_band_is_rebuilt_with_its_readers_by_one_up(fresh_pipeline, tmp_path):
    ksqldb = fresh_pipeline.ksqldb
    stack = EngineStack(tmp_path / "stack", fresh_pipeline.endpoints())
    stack.up()
    ksqldb.delete_topic("USER_CLICKSTREAM")
    ksqldb.reset_calls()
    up = stack.up(refresh=True)
    replaced = {name for name, ops in up.changed().items() if ops & REPLACED}
    rebuilt = {"USER_CLICKSTREAM", *readers_of("USER_CLICKSTREAM")}
    # the same statements, so the same builds: each rebuilt table's index is refilled under its name and its
    # sink reads the new topic in a new group (updates, docs/resources/versioned-indexes.md)
    assert replaced == {f"{KSQL_PREFIX}-{name.lower().replace('_', '-')}" for name in rebuilt}, up.changed()
    assert sink_resources(rebuilt) <= {name for name, ops in up.changed().items() if "update" in ops}
    assert "USER_CLICKSTREAM" in ksqldb.topics and set(ksqldb.user_sources) == declared_names()
    assert collisions(ksqldb) == []
    assert planned(stack.preview(refresh=True)) == {}, "repaired by one up"


def test_after_state_loss_a_derived_topic_deleted_out_of_band_is_rebuilt_by_the_first_up(fresh_pipeline, tmp_path):
    """Finding 5: the topic of USER_CLICKSTREAM is gone and one of its readers was dropped (an earlier
    failed ``up``), then the state was lost: the new stack's first ``up`` rebuilds them."""
    ksqldb = fresh_pipeline.ksqldb
    EngineStack(tmp_path / "lost", fresh_pipeline.endpoints()).up()
    ksqldb.delete_topic("USER_CLICKSTREAM")
    dropped = requests.post(f"{ksqldb.url}/ksql", json={"ksql": "DROP TABLE CLICKS_PER_CITY DELETE TOPIC;"},
                            timeout=30)
    assert dropped.status_code == 200, dropped.text
    ksqldb.reset_calls()
    fresh = EngineStack(tmp_path / "fresh", fresh_pipeline.endpoints())
    up = fresh.up()
    assert up.all_ops() == {"create"}
    created = {s.split()[2] for s in ksqldb.mutations if s.startswith("CREATE")}
    assert created == {"USER_CLICKSTREAM", *readers_of("USER_CLICKSTREAM")}
    assert "USER_CLICKSTREAM" in ksqldb.topics and set(ksqldb.user_sources) == declared_names()
    assert collisions(ksqldb) == []
    assert planned(fresh.preview(refresh=True)) == {}, "repaired by one up"
