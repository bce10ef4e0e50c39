"""Unit tests (no network, no fake) for the ksqlDB SQL file parser: splitting, variables, normalisation,
dependency extraction, ordering and the error messages that name file and statement."""
import pytest

from clickstream.stack.analytics import ksql_variables
from providers.ksqldb import KsqlParseError, load_sql_dir, normalise, parse_sources
from providers.ksqldb.parser import (
    as_create_or_replace,
    builds,
    dependents,
    entry_of,
    replace_in_place_allowed,
    split_statements,
    statement_of,
)
from providers.ksqldb.plan import Rebuild
from stackconfig import StackConfig

SOURCES = """
CREATE STREAM CLICKS (USERID INT, BYTES BIGINT, REQUEST VARCHAR)
  WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');
CREATE TABLE USERS (USER_ID INT PRIMARY KEY, NAME VARCHAR) WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');
"""


def names(statements):
    return [s.name for s in statements]


def test_comments_multiline_and_literals_with_separators():
    text = """-- leading comment; with a semicolon
    CREATE STREAM A (X VARCHAR) /* block ; comment
       over lines */ WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON', SOURCE_CONNECTOR='c;--b');
    CREATE STREAM B AS SELECT 'it''s; -- not a comment' AS S, X
      FROM A   -- trailing comment
      EMIT CHANGES;"""
    parts = split_statements(text)
    assert len(parts) == 2
    assert "'c;--b'" in parts[0] and "block" not in parts[0]
    assert "'it''s; -- not a comment'" in parts[1] and "trailing" not in parts[1]
    statements = parse_sources({"x.sql": text})
    assert names(statements) == ["A", "B"]
    assert statements[1].depends_on == ("A",)


def test_last_statement_without_semicolon_and_quoted_identifiers():
    statements = parse_sources({"x.sql": "CREATE STREAM `MiXed` (`TIME` VARCHAR) WITH (KAFKA_TOPIC='t', "
                                         "VALUE_FORMAT='JSON');\nCREATE STREAM d AS SELECT * FROM `MiXed`"})
    assert names(statements) == ["MiXed", "D"]
    assert statements[1].depends_on == ("MiXed",)
    assert statements[1].text.endswith(";")


def test_normalise_ignores_case_and_whitespace_outside_literals_only():
    a = "create stream x as select a,b from y where c = 'Mixed  Case' emit changes;"
    b = "CREATE   STREAM X\n AS SELECT A , B\nFROM Y WHERE C='Mixed  Case' EMIT CHANGES"
    assert normalise(a) == normalise(b)
    assert normalise(a) != normalise(a.replace("Mixed  Case", "mixed case"))


def test_variable_substitution_including_inside_literals():
    text = ("CREATE TABLE BIG AS SELECT USERID, SUM(BYTES) AS B FROM CLICKS WINDOW SESSION (30 SECONDS) "
            "GROUP BY USERID HAVING SUM(BYTES) > ${highBandwidthBytes} EMIT CHANGES;\n"
            "CREATE STREAM TAGGED AS SELECT '${tag}' AS TAG FROM CLICKS;")
    statements = parse_sources({"a.sql": SOURCES, "b.sql": text}, {"highBandwidthBytes": 500000, "tag": "web"})
    big = next(s for s in statements if s.name == "BIG")
    assert "> 500000" in big.sql and "${" not in big.text
    assert "'web' AS TAG" in next(s for s in statements if s.name == "TAGGED").sql


def test_unknown_variable_names_file_statement_and_variable():
    with pytest.raises(KsqlParseError) as err:
        parse_sources({"a.sql": SOURCES, "b.sql": "CREATE TABLE T AS SELECT * FROM USERS WHERE X > ${limit};"},
                      {"other": 1})
    message = str(err.value)
    assert "b.sql: statement 1" in message and "${limit}" in message and "CREATE TABLE T" in message
    assert (err.value.file, err.value.index) == ("b.sql", 1)


def test_dependencies_from_from_join_left_join_and_window_clauses():
    text = """
    CREATE STREAM ENRICHED AS SELECT C.USERID, U.NAME FROM CLICKS C LEFT JOIN USERS U ON C.USERID = U.USER_ID
      EMIT CHANGES;
    CREATE TABLE PER_MIN AS SELECT USERID, COUNT(*) AS N FROM ENRICHED WINDOW TUMBLING (SIZE 60 SECONDS)
      GROUP BY USERID EMIT CHANGES;
    CREATE STREAM BOTH AS SELECT * FROM CLICKS C INNER JOIN ENRICHED E WITHIN 1 HOUR ON C.USERID = E.USERID
      EMIT CHANGES;
    """
    by_name = {s.name: s for s in parse_sources({"a.sql": SOURCES, "b.sql": text})}
    assert by_name["ENRICHED"].depends_on == ("CLICKS", "USERS")
    assert by_name["PER_MIN"].depends_on == ("ENRICHED",)
    assert by_name["BOTH"].depends_on == ("CLICKS", "ENRICHED")
    assert by_name["CLICKS"].depends_on == () and not by_name["CLICKS"].is_query
    assert by_name["PER_MIN"].kind == "TABLE" and by_name["PER_MIN"].is_query


def test_topological_order_across_files_regardless_of_file_order():
    derived = "CREATE TABLE T2 AS SELECT USERID, COUNT(*) AS N FROM S1 GROUP BY USERID;\n" \
              "CREATE STREAM S1 AS SELECT * FROM CLICKS;"
    statements = parse_sources({"00_derived.sql": derived, "99_sources.sql": SOURCES})
    order = names(statements)
    assert order.index("CLICKS") < order.index("S1") < order.index("T2")
    assert set(order) == {"CLICKS", "USERS", "S1", "T2"}


def test_insert_into_is_tracked_with_its_target_and_sources():
    text = "CREATE STREAM ALL_CLICKS AS SELECT * FROM CLICKS;\n" \
           "INSERT INTO ALL_CLICKS SELECT * FROM CLICKS WHERE BYTES > 0;"
    statements = parse_sources({"a.sql": SOURCES, "b.sql": text})
    insert = statements[-1]
    assert insert.kind == "INSERT" and insert.target == "ALL_CLICKS"
    assert insert.depends_on == ("ALL_CLICKS", "CLICKS") and insert.name.startswith("ALL_CLICKS#INSERT_")


@pytest.mark.parametrize("text, expected", [
    ("CREATE STREAM A AS SELECT * FROM NOWHERE;", "reads from NOWHERE, which no statement defines"),
    ("CREATE STREAM A AS SELECT * FROM B;\nCREATE STREAM B AS SELECT * FROM A;", "dependency cycle"),
    ("CREATE STREAM A AS SELECT * FROM A;", "reads from itself"),
    ("SET 'auto.offset.reset'='earliest';", "streams_properties"),
    ("DEFINE x = '1';", "variables input"),
    ("DROP STREAM CLICKS;", "unsupported statement DROP"),
    ("INSERT INTO CLICKS (USERID) VALUES (1);", "not declarative"),
    ("CREATE TYPE ADDRESS AS STRUCT<CITY VARCHAR>;", "only CREATE STREAM and CREATE TABLE"),
    ("CREATE STREAM A (X VARCHAR) WITH (KAFKA_TOPIC='a", "unterminated string literal"),
    ("CREATE STREAM A /* never closed", "unterminated /* comment"),
])
def test_errors_name_the_problem(text, expected):
    with pytest.raises(KsqlParseError) as err:
        parse_sources({"a.sql": SOURCES, "b.sql": text})
    assert expected in str(err.value)
    assert "b.sql" in str(err.value) or "cycle" in str(err.value)


def test_duplicate_object_names_name_both_places():
    with pytest.raises(KsqlParseError) as err:
        parse_sources({"a.sql": SOURCES, "b.sql": "CREATE TABLE clicks AS SELECT * FROM USERS;"})
    assert "b.sql: statement 1" in str(err.value) and "a.sql: statement 1" in str(err.value)


def test_names_ksqldb_tells_apart_but_one_resource_name_would_merge_are_refused_naming_both():
    with pytest.raises(KsqlParseError) as err:
        parse_sources({"a.sql": SOURCES, "b.sql": "CREATE STREAM `Clicks` AS SELECT * FROM CLICKS;"})
    assert str(err.value).startswith("b.sql: statement 1 ('CREATE STREAM `Clicks` AS SELECT * FROM CLICKS;'): Clicks "
                                     "and CLICKS (a.sql: statement 1 ('CREATE STREAM CLICKS (USERID INT, BYTES BIGINT, "
                                     "REQUEST VARCHAR)')) are two ksqlDB objects but would be one Pulumi resource, "
                                     "<pipeline>-clicks")
    assert (err.value.file, err.value.index) == ("b.sql", 1)


def test_error_names_the_statement_number_in_its_file():
    text = SOURCES + "CREATE STREAM OK AS SELECT * FROM CLICKS;\nCREATE STREAM BAD AS SELECT * FROM MISSING;"
    with pytest.raises(KsqlParseError) as err:
        parse_sources({"z.sql": text})
    assert "z.sql: statement 4 ('CREATE STREAM BAD AS SELECT * FROM MISSING;')" in str(err.value)


def test_replace_in_place_only_for_plain_sources_that_append_columns():
    old = parse_sources({"a.sql": SOURCES})[0]
    appended = parse_sources({"a.sql": SOURCES.replace("REQUEST VARCHAR)", "REQUEST VARCHAR, AGENT VARCHAR)")})[0]
    reordered = parse_sources({"a.sql": SOURCES.replace("USERID INT, BYTES BIGINT", "BYTES BIGINT, USERID INT")})[0]
    new_topic = parse_sources({"a.sql": SOURCES.replace("'clicks'", "'clicks2'")})[0]
    assert replace_in_place_allowed(old, appended)
    assert not replace_in_place_allowed(old, reordered)
    assert not replace_in_place_allowed(old, new_topic)
    query = parse_sources({"a.sql": SOURCES, "b.sql": "CREATE STREAM Q AS SELECT * FROM CLICKS;"})[-1]
    assert not replace_in_place_allowed(query, query)
    assert as_create_or_replace("create stream X (A INT);") == "CREATE OR REPLACE stream X (A INT);"
    assert as_create_or_replace("CREATE OR REPLACE STREAM X;") == "CREATE OR REPLACE STREAM X;"


def test_dependents_are_transitive():
    graph = {"A": (), "B": ("A",), "C": ("B",), "D": ("A",), "E": ()}
    assert dependents(graph, {"B"}) == {"B", "C"}
    assert dependents(graph, {"A"}) == {"A", "B", "C", "D"}


def test_project_ksql_files_parse_and_order(tmp_path):
    """Every ksql/*.sql file of the project parses and orders with the variables the stack passes."""
    import pathlib
    folder = pathlib.Path(__file__).resolve().parents[2] / "ksql"
    sources = load_sql_dir(folder)
    if not sources:
        pytest.skip("ksql/ has no .sql files yet")
    statements = parse_sources(sources, PROJECT_VARIABLES)
    seen: set[str] = set()
    for statement in statements:
        assert set(statement.depends_on) <= seen, f"{statement.where} ordered before its dependencies"
        seen.add(statement.name)
    assert load_sql_dir(tmp_path) == {}


# The variables the stack program passes to KsqlStatements for the project's SQL files.
PROJECT_VARIABLES = ksql_variables(StackConfig())


def test_files_are_read_as_utf8_tolerating_a_bom_and_naming_the_file_otherwise(tmp_path):
    (tmp_path / "01_bom.sql").write_bytes(b"\xef\xbb\xbf" + SOURCES.encode())
    assert [s.name for s in parse_sources(load_sql_dir(tmp_path))] == ["CLICKS", "USERS"]
    (tmp_path / "02_latin1.sql").write_bytes(b"-- caf\xe9\nCREATE STREAM X AS SELECT * FROM CLICKS;")
    with pytest.raises(KsqlParseError, match=r"02_latin1\.sql: line 1, column 7: not UTF-8 \(byte 0xe9\)"):
        load_sql_dir(tmp_path)


def test_insert_into_reading_its_own_target_is_rejected():
    with pytest.raises(KsqlParseError, match=r"x\.sql: statement 1 .*INSERT INTO CLICKS reads from CLICKS itself"):
        parse_sources({"a.sql": SOURCES, "x.sql": "INSERT INTO CLICKS SELECT * FROM CLICKS WHERE BYTES > 0;"})


def test_a_declared_key_column_after_value_columns_is_the_same_object_as_describe_lists_it():
    from providers.ksqldb.shape import declared_shape, differences, live_shape
    (statement,) = parse_sources({"a.sql": "CREATE TABLE T (NAME VARCHAR, ID INT PRIMARY KEY) "
                                           "WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');"})
    described = {"name": "T", "type": "TABLE", "topic": "t", "keyFormat": "KAFKA", "valueFormat": "JSON",
                 "windowType": None, "statement": "", "fields": [
                     {"name": "ID", "schema": {"type": "INTEGER"}, "type": "KEY"},
                     {"name": "NAME", "schema": {"type": "STRING"}}]}
    assert differences(declared_shape(statement), live_shape(described)) == []
    described["fields"][1]["schema"]["type"] = "BIGINT"
    assert differences(declared_shape(statement), live_shape(described)) == [
        "columns ID INTEGER KEY, NAME BIGINT (declared: NAME STRING, ID INTEGER KEY)"]


def test_each_statement_knows_the_line_and_column_of_its_file_where_it_starts():
    text = ("-- sources\n\n  CREATE STREAM A (X INT) /* a comment\n over two lines */ WITH (KAFKA_TOPIC='a', "
            "VALUE_FORMAT='JSON', PARTITIONS=1);\n/* x */ CREATE STREAM B AS\n  SELECT X FROM A EMIT CHANGES;\n")
    a, b = parse_sources({"01.sql": text})
    assert (a.line, a.column, b.line, b.column) == (3, 3, 5, 9)
    assert a.text.count("\n") == 1, "a block comment keeps its line breaks, so lines inside a statement stay true"
    assert statement_of(entry_of(b)) == b


def test_a_ksqldb_position_in_the_request_is_mapped_to_the_file_and_line_the_user_wrote():
    text = ("CREATE STREAM A (X INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON', PARTITIONS=1);\n\n"
            "-- the reader\nCREATE STREAM B AS\n    SELECT NOPE\n    FROM A EMIT CHANGES;\n")
    a, b = parse_sources({"01.sql": text})
    plan = Rebuild([a.name, b.name], [a.text, b.text], [a, b])
    # the request is "<a> <b> DROP STREAM <sentinel>;": B starts on line 1 after A and a space, NOPE is on line 2
    col = len(a.text) + 2
    assert plan.position_in_file(f"Line: 1, Col: {col}: x") == " (at 01.sql line 4, column 1)"
    assert plan.position_in_file("Line: 2, Col: 12: SELECT column 'NOPE' cannot be resolved.") == \
        " (at 01.sql line 5, column 12)"
    assert plan.position_in_file("line 1:8: Syntax Error") == " (at 01.sql line 1, column 8)"
    renamed = Rebuild([b.name], [b.text.replace("CREATE", "CREATE OR REPLACE")], [b])
    assert renamed.position_in_file("Line: 2, Col: 12: x") == " (at 01.sql line 5)", "a rewritten line: no column"
    assert plan.position_in_file("Line: 9, Col: 1: x") == plan.position_in_file("no position") == ""


BUILD_SOURCES = {
    "a.sql": "CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);\n"
             "CREATE STREAM F AS SELECT * FROM S WHERE V > 1;\n"
             "CREATE TABLE T AS SELECT ID, COUNT(*) AS N FROM F GROUP BY ID;\n"
             "CREATE TABLE U AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID;\n"
             "INSERT INTO F SELECT * FROM S WHERE V < -1;\n",
}


def _builds(**edits: tuple[str, str]) -> dict[str, str]:
    text = BUILD_SOURCES["a.sql"]
    for old, new in edits.values():
        text = text.replace(old, new)
    return builds(parse_sources({"a.sql": text}))


def test_a_build_changes_with_its_statement_and_everything_upstream_of_it_and_nothing_else():
    before = _builds()
    assert set(before) == {"S", "F", "T", "U"}, "INSERT queries have no build of their own"
    assert all(len(digest) == 16 for digest in before.values())
    # an upstream change (the engine cascades its replacement) is a new build of every table below it
    upstream = _builds(edit=("WHERE V > 1", "WHERE V > 2"))
    assert {n for n in before if upstream[n] != before[n]} == {"F", "T"}
    own = _builds(edit=("COUNT(*) AS N FROM F", "COUNT(*) AS M FROM F"))
    assert {n for n in before if own[n] != before[n]} == {"T"}
    # layout and comments are not a change; an INSERT beside a stream does not rebuild what reads it
    assert _builds(edit=("WHERE V > 1;", "WHERE  V > 1 -- note\n;")) == before
    assert _builds(edit=("WHERE V < -1", "WHERE V < -2")) == before
    # a column appended to a plain stream is a CREATE OR REPLACE: nothing downstream is rebuilt
    assert _builds(edit=("V INT)", "V INT, W INT)")) == before
    # its WITH clause is another stream: a new build of everything
    changed = _builds(edit=("PARTITIONS=1", "PARTITIONS=2"))
    assert all(changed[n] != before[n] for n in before)
