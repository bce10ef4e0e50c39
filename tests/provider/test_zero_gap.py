"""A table rebuilt while data flows never blanks, regresses or leaves stale rows behind its alias: on the REAL
Kafka broker and the REAL Elasticsearch node, with the stand-in sink running as a connector and the provider
kinds the stack uses for the swap (tests/harness/rebuild.py)."""
from __future__ import annotations

import json

import pytest

from tests.harness.rebuild import ids, rebuild


def rows_of_build(threshold: int, users: int = 40) -> dict[bytes, dict]:
    """The rows a HAVING-style query keeps: users whose bytes reach ``threshold`` (a raise drops some)."""
    return {json.dumps({"USERID": n}).encode(): {"USERID": n, "BYTES": n * 100}
            for n in range(users) if n * 100 >= threshold}


@pytest.mark.real
def test_a_rebuild_swaps_only_when_caught_up_and_readers_never_see_a_gap(kafka_connect, elasticsearch_node):
    old_rows, new_rows = rows_of_build(threshold=0), rows_of_build(threshold=3000)
    old, new = ids(old_rows), ids(new_rows)
    stale = set(old) - set(new)
    assert stale and new
    # the new build's query writes its 10 rows at one per 0.2 s: the swap must wait for it
    seen = rebuild(kafka_connect.bootstrap_servers, elasticsearch_node.url, old_rows, new_rows, pace=0.2)
    assert seen.after == new
    assert seen.samples and seen.blank() == 0, f"a reader found the alias empty or failing: {seen.errors()[:3]}"
    assert seen.other(old, new) == 0, "a reader saw a partly filled or mixed index"
    assert seen.served_old(old), "readers never saw the old build during the rebuild"
    first_new = seen.first_new(new)
    assert first_new is not None and first_new >= seen.query_committed, "the swap did not wait for the query"
    assert not stale & set(seen.after), "rows the new query no longer produces are still there"
    assert not seen.old_index_left, "the old build's index is still there"
