"""Unit tests (no network) for what ksqlDB would refuse in ``ksql/`` that is known offline
(providers/ksqldb/lint.py): each problem names its file and line, and every one is reported at once."""
import pytest

from providers.ksqldb import KsqlParseError, load_sql_dir, parse_sources

SOURCE = ("CREATE STREAM CLICKS (USERID INT, BYTES BIGINT)\n"
          "  WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1);\n")


def refused(text: str, variables=None) -> str:
    with pytest.raises(KsqlParseError) as err:
        parse_sources({"01_sources.sql": SOURCE, "02_bad.sql": text}, variables or {})
    return str(err.value)


@pytest.mark.parametrize("text, expected", [
    ("CREATE STREAM S (A INT)\n  WITH (KAFKA_TOPIC='s' VALUE_FORMAT='JSON', PARTITIONS=1);",
     "02_bad.sql: line 2: WITH (...): expected ',' or ')' after KAFKA_TOPIC='s', found VALUE_FORMAT "
     "(a missing comma?)"),
    ("\n\nCREATE TABLE PER_USER AS SELECT USERID, BYTES FROM CLICKS EMIT CHANGES;",
     "02_bad.sql: line 3: CREATE TABLE AS SELECT of a query that produces a STREAM (it reads from the stream "
     "CLICKS without GROUP BY): use CREATE STREAM AS SELECT, or aggregate with GROUP BY"),
    ("CREATE STREAM S AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID EMIT CHANGES;",
     "02_bad.sql: line 1: CREATE STREAM AS SELECT of a query that produces a TABLE (it has GROUP BY)"),
    ("CREATE STREAM CAFÉ AS SELECT * FROM CLICKS EMIT CHANGES;",
     "02_bad.sql: line 1, column 18: 'É' is not allowed outside quotes"),
    ("CREATE STREAM S AS SELECT * FROM CLICKS\n WHERE BYTES > 0\x00 EMIT CHANGES;",
     "02_bad.sql: line 2, column 17: a NUL character (U+0000); delete it"),
    ("CREATE STREAM S AS SELECT * FROM CLICKS EMIT CHANGES;\n\ufeffCREATE STREAM T AS SELECT * FROM S;",
     "02_bad.sql: line 2, column 1: a byte order mark (U+FEFF, invisible in most editors) inside the file"),
    ("CREATE STREAM select AS SELECT * FROM CLICKS EMIT CHANGES;",
     "02_bad.sql: line 1: SELECT is a reserved word in ksqlDB and cannot be a bare name: quote it (`select`)"),
    ("CREATE STREAM " + "L" * 301 + " AS SELECT * FROM CLICKS EMIT CHANGES;",
     "is also its Kafka topic's name (no KAFKA_TOPIC): a Kafka topic name has at most 249 characters, this one 301"),
    ("CREATE STREAM `my stream` AS SELECT * FROM CLICKS EMIT CHANGES;",
     "02_bad.sql: line 1: 'my stream' is also its Kafka topic's name (no KAFKA_TOPIC): a Kafka topic name may "
     "hold only a-z, A-Z, 0-9, '.', '_' and '-', not ' '"),
    ("CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='..', VALUE_FORMAT='JSON', PARTITIONS=1);",
     "02_bad.sql: line 1: KAFKA_TOPIC='..': Kafka refuses the topic name '..'"),
    ("CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=${partitions});",
     "02_bad.sql: line 1: PARTITIONS=0: a topic needs at least 1 partition"),
], ids=["missing-comma", "ctas-from-stream", "csas-grouped", "non-ascii-name", "nul", "bom-mid-file",
        "reserved-word", "301-characters", "illegal-topic-chars", "dot-dot-topic", "partitions-0"])
def test_what_ksqldb_would_refuse_fails_offline_naming_file_and_line(text, expected):
    assert expected in refused(text, {"partitions": "0"})


def test_every_problem_of_every_file_is_reported_at_once():
    message = refused("CREATE STREAM SELECT AS SELECT * FROM CLICKS EMIT CHANGES;\n"
                      "CREATE TABLE T AS SELECT * FROM CLICKS EMIT CHANGES;\n"
                      "CREATE STREAM U (A INT) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON', PARTITIONS=0);")
    assert message.startswith("ksqlDB would refuse 3 thing(s) in the SQL files:")
    assert [line.split(":")[1] for line in message.splitlines()[1:]] == [" line 1", " line 2", " line 3"]


def test_an_unknown_variable_is_left_to_the_parser_and_hides_no_other_problem():
    message = refused("CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=${nope});\n"
                      "CREATE STREAM SELECT AS SELECT * FROM CLICKS EMIT CHANGES;", {"partitions": "1"})
    assert message.splitlines()[1:] == [
        "02_bad.sql: line 2: SELECT is a reserved word in ksqlDB and cannot be a bare name: quote it (`SELECT`) "
        "or choose another name"]
    assert "unknown variable ${nope}" in refused("CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', PARTITIONS=${nope});")


def test_what_ksqldb_accepts_passes():
    ok = ("CREATE TABLE PER_USER AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID EMIT CHANGES;\n"
          "CREATE TABLE COPY AS SELECT * FROM PER_USER EMIT CHANGES;\n"
          "CREATE STREAM `quoted name ok` WITH (KAFKA_TOPIC='q', VALUE_FORMAT='JSON', PARTITIONS=2) "
          "AS SELECT * FROM CLICKS EMIT CHANGES;\n"
          "CREATE STREAM ALSO_OK WITH (KAFKA_TOPIC='a', `VALUE_FORMAT`='JSON', 'REPLICAS'=1, WRAP_SINGLE_VALUE=FALSE) "
          "AS SELECT * FROM CLICKS WHERE BYTES > 0 EMIT CHANGES;")
    assert "PER_USER" in [s.name for s in parse_sources({"01_sources.sql": SOURCE, "02_ok.sql": ok})]


def test_a_folder_named_like_a_sql_file_is_refused_by_name(tmp_path):
    (tmp_path / "01_sources.sql").write_text(SOURCE)
    (tmp_path / "x.sql").mkdir()
    with pytest.raises(KsqlParseError, match=r"x\.sql named like SQL files but not files \(folders\?\)"):
        load_sql_dir(tmp_path)
