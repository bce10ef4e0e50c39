-- Users and locations: which user, from which city, is behind each IP address.

-- Clicks per (username, ip, city) per minute, for combinations seen more than once. Each user clicks
-- from one IP and lives in one city, so a row is one user; clicks before the user is known (and the
-- anonymous visitor's) have username and city 'unknown'.
CREATE TABLE USER_IP_ACTIVITY WITH (KEY_FORMAT = 'JSON') AS
    SELECT
        USERNAME AS USERNAME_KEY,
        IP AS IP_KEY,
        CITY AS CITY_KEY,
        AS_VALUE(USERNAME) AS USERNAME,
        AS_VALUE(IP) AS IP,
        AS_VALUE(CITY) AS CITY,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS EVENTS
    FROM USER_CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY USERNAME, IP, CITY
    HAVING COUNT(*) > 1
    EMIT CHANGES;

-- Clicks per city per minute (unknown users under 'unknown').
CREATE TABLE CLICKS_PER_CITY AS
    SELECT
        CITY AS CITY_KEY,
        AS_VALUE(CITY) AS CITY,
        WINDOWSTART AS EVENT_TS,
        COUNT(*) AS EVENTS
    FROM USER_CLICKSTREAM
    WINDOW TUMBLING (SIZE 60 SECONDS, GRACE PERIOD 10 SECONDS)
    GROUP BY CITY
    EMIT CHANGES;
