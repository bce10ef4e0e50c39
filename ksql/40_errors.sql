-- Errors: how often error codes occur, and what they mean.

-- Error responses (status > 400) per status over the last minute, every 20 s; only bursts: more than
-- the mean count of one status in a full minute at the configured click rate plus one standard
-- deviation (${errorBurstCount}, computed from the stack config by clickstream/rates.py).
CREATE TABLE ERRORS_PER_MIN_ALERT AS
    SELECT
        STATUS AS STATUS_KEY,
        AS_VALUE(STATUS) AS STATUS,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS ERRORS
    FROM CLICKSTREAM
    WINDOW HOPPING (SIZE 60 SECONDS, ADVANCE BY 20 SECONDS, GRACE PERIOD 10 SECONDS)
    WHERE STATUS > 400
    GROUP BY STATUS
    HAVING COUNT(*) > ${errorBurstCount}
    EMIT CHANGES;

-- Error responses (status > 400) per status over the last minute, every 5 s.
CREATE TABLE ERRORS_PER_MIN AS
    SELECT
        STATUS AS STATUS_KEY,
        AS_VALUE(STATUS) AS STATUS,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS ERRORS
    FROM CLICKSTREAM
    WINDOW HOPPING (SIZE 60 SECONDS, ADVANCE BY 5 SECONDS, GRACE PERIOD 10 SECONDS)
    WHERE STATUS > 400
    GROUP BY STATUS
    EMIT CHANGES;

-- Occurrences of each status code with its definition per 30 s, for codes seen more than once.
CREATE TABLE ENRICHED_ERROR_CODES_COUNT WITH (KEY_FORMAT = 'JSON') AS
    SELECT
        CODE AS CODE_KEY,
        DEFINITION AS DEFINITION_KEY,
        AS_VALUE(CODE) AS CODE,
        AS_VALUE(DEFINITION) AS DEFINITION,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS EVENTS
    FROM ENRICHED_ERROR_CODES
    WINDOW TUMBLING (SIZE 30 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY CODE, DEFINITION
    HAVING COUNT(*) > 1
    EMIT CHANGES;
