-- Sources: the three JSON topics written by the datagen connectors (clickstream/connectors.py).
-- PARTITIONS matches the broker default the topics get when Connect creates them, so whichever of
-- ksqlDB and Connect comes first, both agree on the topic.

-- Every click: the web server log line of one request. Windows use the record timestamp (the
-- moment datagen produced the click), not the generated `_time`/`time` fields.
-- `TIME` is quoted because TIME is also a ksqlDB type name.
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

-- Registered web users; the topic is keyed by user_id (a Kafka INT key).
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
