"""``providers.kafka.offsets`` on the REAL Kafka broker of the suite: reading offsets changes nothing."""
from __future__ import annotations

import uuid

from confluent_kafka.admin import AdminClient

from providers.kafka.offsets import KafkaOffsets


def test_looking_up_a_missing_topic_does_not_create_it(kafka_connect):
    """A metadata request naming one topic makes a broker with auto-creation on create it: the swap must read
    the offsets of the topics it waits for without making any."""
    missing = f"OFFSETS_MISSING_{uuid.uuid4().hex[:8].upper()}"
    kafka = KafkaOffsets(kafka_connect.bootstrap_servers, timeout=30)
    assert kafka.partitions(missing) == []
    assert kafka.progress("offsets-test-group", [missing]).targets == {}
    topics = AdminClient({"bootstrap.servers": kafka_connect.bootstrap_servers}).list_topics(timeout=30).topics
    assert missing not in topics
