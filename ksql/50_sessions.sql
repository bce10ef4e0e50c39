-- Sessions: a session is a run of clicks by one user with no gap longer than 30 s (session windows).
-- EVENT_TS is the session start, SESSION_END its last click; a session that grows is re-emitted.

-- Clicks per user session (by username).
CREATE TABLE CLICK_USER_SESSIONS AS
    SELECT
        USERNAME AS USERNAME_KEY,
        AS_VALUE(USERNAME) AS USERNAME,
        WINDOWSTART AS EVENT_TS,
        WINDOWEND AS SESSION_END,
        COUNT(*) AS EVENTS
    FROM USER_CLICKSTREAM
    WINDOW SESSION (30 SECONDS)
    GROUP BY USERNAME
    EMIT CHANGES;

-- Hits and bytes per user session (by user id, so clicks of unknown users count too).
CREATE TABLE SESSION_BANDWIDTH AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        LATEST_BY_OFFSET(USERNAME) AS USERNAME,
        WINDOWSTART AS EVENT_TS,
        WINDOWEND AS SESSION_END,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM USER_CLICKSTREAM
    WINDOW SESSION (30 SECONDS)
    GROUP BY USERID
    EMIT CHANGES;

-- Sessions that moved more than the configured number of bytes (stack config highBandwidthBytes):
-- candidates for scraping, abuse or a misbehaving client.
CREATE TABLE HIGH_BANDWIDTH_SESSIONS AS
    SELECT
        USERID AS USER_KEY,
        AS_VALUE(USERID) AS USERID,
        LATEST_BY_OFFSET(USERNAME) AS USERNAME,
        LATEST_BY_OFFSET(IP) AS IP,
        LATEST_BY_OFFSET(CITY) AS CITY,
        WINDOWSTART AS EVENT_TS,
        WINDOWEND AS SESSION_END,
        COUNT(*) AS HITS,
        SUM(BYTES) AS BYTES
    FROM USER_CLICKSTREAM
    WINDOW SESSION (30 SECONDS)
    GROUP BY USERID
    HAVING SUM(BYTES) > ${highBandwidthBytes}
    EMIT CHANGES;
