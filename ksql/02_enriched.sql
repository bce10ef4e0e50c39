-- Enriched click streams: every click joined with the user who made it and with the meaning of its
-- status code. LEFT JOINs keep clicks whose user or code is not (yet) known; their joined columns
-- become 'unknown' (never NULL), so every table grouping by them counts those clicks too: ksqlDB
-- drops a row whose GROUP BY column is NULL and logs it to the processing log.

-- Clicks with the user's name and city (answers "which user and location is behind an IP").
CREATE STREAM USER_CLICKSTREAM AS
    SELECT
        C.USERID AS USERID,
        COALESCE(U.USERNAME, 'unknown') AS USERNAME,
        C.IP AS IP,
        COALESCE(U.CITY, 'unknown') AS CITY,
        C.REQUEST AS REQUEST,
        C.STATUS AS STATUS,
        C.BYTES AS BYTES
    FROM CLICKSTREAM C
    LEFT JOIN WEB_USERS U ON C.USERID = U.USER_ID
    EMIT CHANGES;

-- Clicks with the definition of their status code.
CREATE STREAM ENRICHED_ERROR_CODES AS
    SELECT
        C.STATUS AS CODE,
        COALESCE(K.DEFINITION, 'unknown') AS DEFINITION,
        C.USERID AS USERID,
        C.REQUEST AS REQUEST
    FROM CLICKSTREAM C
    LEFT JOIN CLICKSTREAM_CODES K ON C.STATUS = K.CODE
    EMIT CHANGES;
