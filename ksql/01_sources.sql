-- Sources: the three JSON topics written by the datagen connectors (clickstream/connectors.py).
-- PARTITIONS matches the broker default the topics get when Connect creates them, so whichever of
-- ksqlDB and Connect comes first, both agree on the topic.

-- Every click: the web server log line of one request. Windows use the record timestamp (the
-- moment datagen produced the click), not the generated `_time`/`time` fields.
-- `_TIME` must be quoted (an identifier may not start with '_'); TIME is a non-reserved word and
-- needs no quotes, they are kept only so both generated time fields read alike.
CREATE STREAM CLICKSTREAM (
    `_TIME` BIGINT,
    `TIME` VARCHAR,
    IP VARCHAR,
    REQUEST VARCHAR,
    STATUS INT,
    USERID INT,
    BYTES BIGINT,
    AGENT VARCHAR
) WITH (KAFKA_TOPIC = 'clickstream', VALUE_FORMAT = 'JSON', PARTITIONS = ${partitions});

-- HTTP status code -> definition; the topic is keyed by the code (a Kafka INT key).
CREATE TABLE CLICKSTREAM_CODES (
    CODE INT PRIMARY KEY,
    DEFINITION VARCHAR
) WITH (KAFKA_TOPIC = 'clickstream_codes', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON',
        PARTITIONS = ${partitions});

-- Registered web users; the topic is keyed by user_id (a Kafka INT key). The generator re-sends the
-- same 40 users, so this table holds 40 rows however long it runs.
CREATE TABLE WEB_USERS (
    USER_ID INT PRIMARY KEY,
    REGISTERED_AT BIGINT,
    USERNAME VARCHAR,
    FIRST_NAME VARCHAR,
    LAST_NAME VARCHAR,
    CITY VARCHAR,
    LEVEL VARCHAR
) WITH (KAFKA_TOPIC = 'clickstream_users', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON',
        PARTITIONS = ${partitions});
