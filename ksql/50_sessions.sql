-- Sessions: a session is a run of clicks by one user id with no gap longer than 30 s (session windows).
-- EVENT_TS is the session's latest click (WINDOWEND) and SESSION_START its first (WINDOWSTART): a
-- session that grows is re-emitted with a newer EVENT_TS, so a running session stays inside the
-- dashboards' time range. Clicks of unknown users count under their user id with username 'unknown'.

-- Clicks per user session.
CREATE TABLE CLICK_USER_SESSIONS AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        LATEST_BY_OFFSET(USERNAME) AS USERNAME,
        WINDOWSTART AS SESSION_START,
        WINDOWEND AS EVENT_TS,
        COUNT(*) AS EVENTS
    FROM USER_CLICKSTREAM
    WINDOW SESSION (30 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY USERID
    EMIT CHANGES;

-- Hits and bytes per user session.
CREATE TABLE SESSION_BANDWIDTH AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        LATEST_BY_OFFSET(USERNAME) AS USERNAME,
        WINDOWSTART AS SESSION_START,
        WINDOWEND AS EVENT_TS,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM USER_CLICKSTREAM
    WINDOW SESSION (30 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY USERID
    EMIT CHANGES;

-- Sessions that moved more bytes than ${highBandwidthBytes}: highBandwidthPercent % of what an average
-- user moves in one sessionize run (computed from the stack config by clickstream/rates.py) —
-- candidates for scraping, abuse or a misbehaving client.
CREATE TABLE HIGH_BANDWIDTH_SESSIONS AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        LATEST_BY_OFFSET(USERNAME) AS USERNAME,
        LATEST_BY_OFFSET(IP) AS IP,
        LATEST_BY_OFFSET(CITY) AS CITY,
        WINDOWSTART AS SESSION_START,
        WINDOWEND AS EVENT_TS,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM USER_CLICKSTREAM
    WINDOW SESSION (30 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY USERID
    HAVING SUM(BYTES) > ${highBandwidthBytes}
    EMIT CHANGES;
