-- Traffic: hit counts and visitors per minute.
-- Every window in ksql/ has a 10 s grace period: datagen stamps clicks in order and ksqlDB sees them
-- within milliseconds, so 10 s covers a stalled producer or a rebalance. A click is dropped once the
-- newest timestamp the query has seen (stream time) is past its window's end plus 10 s; window state
-- is kept for the window plus 10 s instead of ksqlDB's default day.

-- Clicks per user per minute (tumbling 60 s windows).
CREATE TABLE EVENTS_PER_MIN AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS EVENTS
    FROM CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY USERID
    EMIT CHANGES;

-- HTML page views per user over the last minute, updated every 5 s (hopping windows).
CREATE TABLE PAGES_PER_MIN AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS PAGES
    FROM CLICKSTREAM
    WINDOW HOPPING (SIZE 60 SECONDS, ADVANCE BY 5 SECONDS, GRACE PERIOD 10 SECONDS)
    WHERE REQUEST LIKE '%html%'
    GROUP BY USERID
    EMIT CHANGES;
