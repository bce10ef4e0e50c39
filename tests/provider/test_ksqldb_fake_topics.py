"""The ksqlDB FAKE's Kafka topics: what ``SHOW TOPICS`` and ``DESCRIBE ... EXTENDED`` answer, a topic
deleted out of band, and a request's sandbox, which keeps created topics to itself (rules and sources in
the docstring of ``tests.fakes.ksqldb``)."""
from __future__ import annotations

import pytest
import requests

from tests.fakes.ksqldb import FakeKsqlDb, Topic
from tests.fakes.ksqldb.state import Overlay

pytestmark = pytest.mark.fake

SETUP = ("CREATE STREAM CLICKS (USERID INT, BYTES BIGINT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', "
         "PARTITIONS=2);"
         "CREATE TABLE PER_USER AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID;")


def ksql(fake: FakeKsqlDb, text: str) -> tuple[int, object]:
    answer = requests.post(f"{fake.url}/ksql", json={"ksql": text}, timeout=10)
    return answer.status_code, answer.json()


@pytest.fixture
def fake():
    with FakeKsqlDb(topics={"_confluent-ksql-default__command_topic": 1, "connect-configs": 1}) as server:
        assert ksql(server, SETUP)[0] == 200
        yield server


def test_show_topics_lists_kafka_topics_by_name_without_hidden_ones(fake):
    status, body = ksql(fake, "SHOW TOPICS;")
    assert status == 200 and body[0]["@type"] == "kafka_topics"
    assert body[0]["topics"] == [{"name": "PER_USER", "replicaInfo": [1, 1]}, {"name": "clicks", "replicaInfo": [1, 1]},
                                 {"name": "default_ksql_processing_log", "replicaInfo": [1]}]
    _, every = ksql(fake, "SHOW ALL TOPICS;")
    assert [t["name"] for t in every[0]["topics"]] == ["PER_USER", "_confluent-ksql-default__command_topic", "clicks",
                                                       "connect-configs", "default_ksql_processing_log"]


def test_show_topics_extended_counts_the_consumer_groups_of_the_queries_reading_each_topic(fake):
    _, body = ksql(fake, "SHOW TOPICS EXTENDED;")
    assert body[0]["@type"] == "kafka_topics_extended"
    counts = {t["name"]: (t["consumerCount"], t["consumerGroupCount"]) for t in body[0]["topics"]}
    assert counts == {"PER_USER": (0, 0), "clicks": (2, 1), "default_ksql_processing_log": (0, 0)}


def test_a_source_whose_topic_was_deleted_out_of_band_is_described_with_a_kafka_warning(fake):
    fake.delete_topic("PER_USER")
    assert "PER_USER" not in fake.topics and "PER_USER" in fake.sources
    status, body = ksql(fake, "DESCRIBE PER_USER EXTENDED;")
    description = body[0]["sourceDescription"]
    assert status == 200 and (description["partitions"], description["replication"]) == (0, 0)
    assert body[0]["warnings"] == [{"message": "Error from Kafka: Failed to Describe Kafka Topic(s): [PER_USER]"}]
    assert [q["state"] for q in description["writeQueries"]] == ["RUNNING"]
    _, listed = ksql(fake, "SHOW TABLES EXTENDED;")
    assert listed[0]["warnings"] == body[0]["warnings"]
    _, clicks = ksql(fake, "DESCRIBE CLICKS EXTENDED;")
    assert clicks[0]["warnings"] == [] and clicks[0]["sourceDescription"]["sourceConstraints"] == ["PER_USER"]


def test_a_refused_request_leaves_no_topic_its_validation_created(fake):
    before = fake.topics
    status, _ = ksql(fake, "CREATE STREAM NEW_SRC (A INT) WITH (KAFKA_TOPIC='new_src', VALUE_FORMAT='JSON', "
                           "PARTITIONS=1); CREATE STREAM C2 AS SELECT * FROM NEW_SRC EMIT CHANGES; DROP STREAM NOPE;")
    assert status == 400 and fake.topics == before and "NEW_SRC" not in fake.sources


def test_drop_delete_topic_deletes_the_topic_and_answers_the_statement_without_delete_topic(fake):
    status, body = ksql(fake, "DROP TABLE PER_USER DELETE TOPIC;")
    assert status == 200 and body[0]["statementText"] == "DROP TABLE PER_USER;"
    assert "PER_USER" not in fake.topics and fake.topics["clicks"] == Topic("clicks", 2, 1)


def test_a_refused_drop_with_delete_topic_still_deletes_the_topic(fake):
    """``TopicDeleteInjector`` deletes before the DROP is checked for readers (and in validation)."""
    status, body = ksql(fake, "DROP STREAM CLICKS DELETE TOPIC;")
    assert (status, body["error_code"]) == (400, 40001) and "read from this source: [PER_USER]" in body["message"]
    assert "clicks" not in fake.topics and "CLICKS" in fake.sources


def test_overlay_reads_through_and_keeps_its_writes():
    base = {"a": 1, "b": 2}
    layer: Overlay[int] = Overlay(base)
    layer["c"] = 3
    layer["a"] = 10
    del layer["b"]
    assert dict(layer) == {"a": 10, "c": 3} and base == {"a": 1, "b": 2} and len(layer) == 2
    assert "b" not in layer and layer.get("b") is None
    with pytest.raises(KeyError):
        del layer["b"]
