-- Bandwidth: bytes served per minute, for the whole site and per user.

-- Clicks tagged with a constant SITE column: ksqlDB aggregates need a GROUP BY column, and a
-- site-wide total groups by this one.
CREATE STREAM SITE_CLICKSTREAM AS
    SELECT
        'site' AS SITE,
        BYTES,
        STATUS
    FROM CLICKSTREAM
    EMIT CHANGES;

-- Site-wide hits and bytes per minute (tumbling 60 s windows).
CREATE TABLE BANDWIDTH_PER_MIN AS
    SELECT
        SITE AS SITE_KEY,
        AS_VALUE(SITE) AS SITE,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM SITE_CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS)
    GROUP BY SITE
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
    WINDOW TUMBLING (SIZE 60 SECONDS)
    GROUP BY USERID
    EMIT CHANGES;
