-- Traffic: hit counts and visitors per minute.

-- Clicks per user per minute (tumbling 60 s windows).
CREATE TABLE EVENTS_PER_MIN AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS EVENTS
    FROM CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS)
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
    WINDOW HOPPING (SIZE 60 SECONDS, ADVANCE BY 5 SECONDS)
    WHERE REQUEST LIKE '%html%'
    GROUP BY USERID
    EMIT CHANGES;
