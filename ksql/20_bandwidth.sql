-- Bandwidth: bytes served per minute, for the whole site and per user.

-- Site-wide hits and bytes per minute (tumbling 60 s windows): grouped by a constant, so all clicks
-- of a minute share one key.
CREATE TABLE BANDWIDTH_PER_MIN AS
    SELECT
        'site' AS SITE_KEY,
        AS_VALUE('site') AS SITE,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY 'site'
    EMIT CHANGES;

-- Hits and bytes per user per minute (tumbling 60 s windows).
CREATE TABLE USER_BANDWIDTH_PER_MIN AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        LATEST_BY_OFFSET(USERNAME) AS USERNAME,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM USER_CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY USERID
    EMIT CHANGES;
