"""Unit tier (files and pure functions only, no services): the analytics content is complete and
consistent — ksql/*.sql parses with the ksqlDB provider's parser and defines every object of the
Confluent tutorial plus the bandwidth/session additions (docs/analytics.md); connector configs, the index
template and the two Grafana dashboards agree with the SQL (tables, columns, datasources)."""
from __future__ import annotations

import json
import re

import pytest

from clickstream.content import connectors, generator, rates
from clickstream.content.dashboards import load_dashboard
from clickstream.stack.analytics import DASHBOARD_DIR, KSQL_DIR, ksql_variables
from providers.ksqldb import KsqlParseError, load_sql_dir, parse_sources
from providers.ksqldb.parser import builds
from stackconfig import ConfigError, StackConfig, parse_config

TUTORIAL_OBJECTS = {
    "CLICKSTREAM": "STREAM", "CLICKSTREAM_CODES": "TABLE", "WEB_USERS": "TABLE",
    "USER_CLICKSTREAM": "STREAM", "ENRICHED_ERROR_CODES": "STREAM", "EVENTS_PER_MIN": "TABLE",
    "PAGES_PER_MIN": "TABLE", "CLICK_USER_SESSIONS": "TABLE", "ERRORS_PER_MIN_ALERT": "TABLE",
    "ERRORS_PER_MIN": "TABLE", "ENRICHED_ERROR_CODES_COUNT": "TABLE", "USER_IP_ACTIVITY": "TABLE",
}
ADDED_TABLES = {"BANDWIDTH_PER_MIN", "USER_BANDWIDTH_PER_MIN", "SESSION_BANDWIDTH", "HIGH_BANDWIDTH_SESSIONS",
                "CLICKS_PER_CITY"}
# every CREATE TABLE ... AS SELECT of ksql/: what the design charts (sinks and datasources follow the SQL)
DERIVED = ("EVENTS_PER_MIN", "PAGES_PER_MIN", "BANDWIDTH_PER_MIN", "USER_BANDWIDTH_PER_MIN", "USER_IP_ACTIVITY",
           "CLICKS_PER_CITY", "ERRORS_PER_MIN_ALERT", "ERRORS_PER_MIN", "ENRICHED_ERROR_CODES_COUNT",
           "CLICK_USER_SESSIONS", "SESSION_BANDWIDTH", "HIGH_BANDWIDTH_SESSIONS")
SESSION_TABLES = ("CLICK_USER_SESSIONS", "SESSION_BANDWIDTH", "HIGH_BANDWIDTH_SESSIONS")
DASHBOARD_FILES = ("clickstream.json", "high_bandwidth_sessions.json")


@pytest.fixture(scope="module")
def cfg() -> StackConfig:
    return StackConfig(high_bandwidth_percent=150, sessionize_run_seconds=90, kafka_partitions=3)


@pytest.fixture(scope="module")
def statements(cfg):
    return parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(cfg))


@pytest.fixture(scope="module")
def by_name(statements):
    return {s.name: s for s in statements}


def compact(statement) -> str:
    """The normalised SQL without the space the normaliser puts before '(' (``COUNT(*)``)."""
    return statement.sql.replace(" (", "(")


def columns(statement) -> set[str]:
    """Output columns of a CREATE ... AS SELECT (every ``AS NAME`` alias) or of a column list."""
    return set(re.findall(r"\bAS ([A-Z_][A-Z0-9_]*)\b", statement.sql)) - {"SELECT"}


def panels(dashboard):
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            yield panel
        yield from (p for p in panel.get("panels", []) if p["type"] != "row")


@pytest.fixture(scope="module")
def dashboards():
    return {name: load_dashboard(DASHBOARD_DIR / name) for name in DASHBOARD_FILES}


# --- ksqlDB --------------------------------------------------------------------------------------

def test_sql_files_are_numbered_so_the_order_is_obvious():
    names = list(load_sql_dir(KSQL_DIR))
    assert names == sorted(names) and all(re.fullmatch(r"\d\d_[a-z_]+\.sql", n) for n in names)


def test_every_design_object_exists_with_its_kind(by_name):
    for name, kind in TUTORIAL_OBJECTS.items():
        assert name in by_name, f"{name} (a tutorial object, docs/analytics.md) is not defined in ksql/"
        assert by_name[name].kind == kind, name


def test_derived_tables_are_the_ones_sunk_and_charted(statements):
    assert connectors.derived_tables(statements) == DERIVED
    assert ADDED_TABLES <= set(DERIVED)


def test_each_file_only_reads_objects_of_the_same_or_an_earlier_file(statements):
    file_of = {s.name: s.file for s in statements}
    for s in statements:
        for dep in s.depends_on:
            assert file_of[dep] <= s.file, f"{s.where} reads {dep} from the later file {file_of[dep]}"


def test_every_derived_table_exposes_event_ts_and_its_value_columns(by_name):
    for table in DERIVED:
        sql = compact(by_name[table])
        # sessions: the latest click, so a running session stays in the dashboards' time range
        event_ts = "WINDOWEND AS EVENT_TS" if table in SESSION_TABLES else "WINDOWSTART AS EVENT_TS"
        assert event_ts in sql, f"{table} must expose {event_ts}"
        assert "WINDOW " in sql, table
        # group-by columns live in the Kafka key; AS_VALUE copies them into the JSON the sink indexes
        for column in grouped(sql):
            name = column.strip("'").upper()
            assert f"AS_VALUE({column}) AS {name}" in sql, f"{table}: {column} missing from the value"


def grouped(sql: str) -> list[str]:
    """The GROUP BY expressions (columns, or a quoted constant) of a normalised statement."""
    match = re.search(r"GROUP BY ([A-Za-z_, ']+?)(?: HAVING| EMIT|;)", sql)
    assert match, sql
    return match.group(1).split(", ")


def test_session_tables_are_keyed_by_user_id_with_start_and_name(by_name):
    for table in SESSION_TABLES:
        sql = compact(by_name[table])
        assert "GROUP BY USERID" in sql and "WINDOWSTART AS SESSION_START" in sql, table
        assert "LATEST_BY_OFFSET(USERNAME) AS USERNAME" in sql, table


def test_joined_columns_are_never_null(by_name):
    """Unknown users and codes become 'unknown' where they are joined, so no grouped row is dropped."""
    users = compact(by_name["USER_CLICKSTREAM"])
    assert "COALESCE(U.USERNAME, 'unknown') AS USERNAME" in users
    assert "COALESCE(U.CITY, 'unknown') AS CITY" in users
    assert "COALESCE(K.DEFINITION, 'unknown') AS DEFINITION" in compact(by_name["ENRICHED_ERROR_CODES"])


def test_every_window_has_a_grace_period_of_seconds(by_name):
    for table in DERIVED:
        assert re.search(r"WINDOW \w+\(.*GRACE PERIOD 10 SECONDS\)", compact(by_name[table])), table


def test_multi_column_keys_use_the_json_key_format(by_name):
    for table in DERIVED:
        sql = compact(by_name[table])
        if len(grouped(sql)) > 1:
            assert "KEY_FORMAT='JSON'" in sql.replace(" ", ""), table


def test_windows_match_the_design(by_name):
    expected = {
        "EVENTS_PER_MIN": "WINDOW TUMBLING(SIZE 60 SECONDS,",
        "PAGES_PER_MIN": "WINDOW HOPPING(SIZE 60 SECONDS, ADVANCE BY 5 SECONDS,",
        "CLICK_USER_SESSIONS": "WINDOW SESSION(30 SECONDS,",
        "ERRORS_PER_MIN_ALERT": "WINDOW HOPPING(SIZE 60 SECONDS, ADVANCE BY 20 SECONDS,",
        "ERRORS_PER_MIN": "WINDOW HOPPING(SIZE 60 SECONDS, ADVANCE BY 5 SECONDS,",
        "ENRICHED_ERROR_CODES_COUNT": "WINDOW TUMBLING(SIZE 30 SECONDS,",
        "USER_IP_ACTIVITY": "WINDOW TUMBLING(SIZE 60 SECONDS,",
        "CLICKS_PER_CITY": "WINDOW TUMBLING(SIZE 60 SECONDS,",
        "BANDWIDTH_PER_MIN": "WINDOW TUMBLING(SIZE 60 SECONDS,",
        "USER_BANDWIDTH_PER_MIN": "WINDOW TUMBLING(SIZE 60 SECONDS,",
        "SESSION_BANDWIDTH": "WINDOW SESSION(30 SECONDS,",
        "HIGH_BANDWIDTH_SESSIONS": "WINDOW SESSION(30 SECONDS,",
    }
    for table, window in expected.items():
        assert window in compact(by_name[table]), table


def test_filters_and_thresholds(by_name, cfg):
    sql = {name: compact(s) for name, s in by_name.items()}
    assert "WHERE REQUEST LIKE '%html%'" in sql["PAGES_PER_MIN"]
    for table in ("ERRORS_PER_MIN", "ERRORS_PER_MIN_ALERT"):
        assert "WHERE STATUS > 400" in sql[table]
    assert f"HAVING COUNT(*) > {rates.error_burst_count(cfg)}" in sql["ERRORS_PER_MIN_ALERT"]
    assert "HAVING COUNT(*) > 1" in sql["ENRICHED_ERROR_CODES_COUNT"]
    assert "HAVING COUNT(*) > 1" in sql["USER_IP_ACTIVITY"]
    assert f"HAVING SUM(BYTES) > {rates.high_bandwidth_bytes(cfg)}" in sql["HIGH_BANDWIDTH_SESSIONS"]


def test_thresholds_follow_the_rates_and_the_sessionize_cycle():
    """The arithmetic of docs/analytics.md at the defaults, and that the config moves the thresholds."""
    cfg = StackConfig()
    assert rates.clicks_per_second(cfg) == 20 and rates.MEAN_CLICK_BYTES == 4287
    assert round(rates.clicks_per_visitor_second(cfg), 4) == 0.4878
    assert round(rates.session_bytes(cfg)) == 250_946  # 0.4878 clicks/s x 120 s x 4287 B
    assert ksql_variables(cfg)["highBandwidthBytes"] == "313683"  # x 125 %
    assert ksql_variables(cfg)["errorBurstCount"] == "213"  # 200 + sqrt(200 x 5/6)
    slower = StackConfig(clickstreamIntervalMs=200, sessionizeRunSeconds=60, highBandwidthPercent=200)
    assert rates.high_bandwidth_bytes(slower) == round(rates.session_bytes(cfg) / 4 * 2) + 1
    assert ksql_variables(slower)["errorBurstCount"] == "110"  # 100 + sqrt(100 x 5/6)


def test_sources_read_the_datagen_topics_with_integer_keys(by_name, cfg):
    topics = {spec.config["kafka.topic"] for spec in connectors.datagen_sources(cfg)}
    for name in ("CLICKSTREAM", "CLICKSTREAM_CODES", "WEB_USERS"):
        topic = re.search(r"KAFKA_TOPIC = '([a-z_]+)'", by_name[name].text).group(1)
        assert topic in topics
        assert "PARTITIONS = 3" in by_name[name].text
    assert "CODE INT PRIMARY KEY" in compact(by_name["CLICKSTREAM_CODES"])
    assert "USER_ID INT PRIMARY KEY" in compact(by_name["WEB_USERS"])


@pytest.mark.parametrize("key, value, allowed", [
    ("sessionizePauseSeconds", "30", "greater than or equal to 31"),  # must outlast the 30 s session gap
    ("sessionizeRunSeconds", "5", "greater than or equal to 10"),
    ("highBandwidthPercent", "100", "greater than or equal to 101"),
])
def test_threshold_config_is_validated_naming_key_value_and_rule(key, value, allowed):
    with pytest.raises(ConfigError, match=f"clickstream:{key} = '{value}': .*{allowed}"):
        parse_config("dev", {key: value})


def test_a_missing_variable_is_a_parse_error_naming_the_file():
    with pytest.raises(KsqlParseError, match="40_errors.sql.*errorBurstCount"):
        parse_sources(load_sql_dir(KSQL_DIR), {"partitions": "1", "highBandwidthBytes": "1"})


# --- connectors and index template -----------------------------------------------------------------

def test_datagen_sources_use_the_configured_rates_and_key_converters(cfg):
    specs = {s.config["kafka.topic"]: s for s in connectors.datagen_sources(cfg)}
    assert set(specs) == {"clickstream", "clickstream_codes", "clickstream_users"}
    assert specs["clickstream"].name == "datagen-clickstream"  # the connector `sessionize` pauses by default
    assert specs["clickstream"].config["max.interval"] == str(cfg.clickstream_interval_ms)
    assert specs["clickstream_codes"].config["max.interval"] == str(cfg.codes_interval_ms)
    assert specs["clickstream_users"].config["max.interval"] == str(cfg.users_interval_ms)
    assert specs["clickstream_codes"].config["key.converter"] == connectors.INTEGER_CONVERTER
    assert specs["clickstream_users"].config["key.converter"] == connectors.INTEGER_CONVERTER
    for spec in specs.values():
        assert spec.config["connector.class"] == connectors.DATAGEN_CLASS
        assert spec.config["value.converter.schemas.enable"] == "false"
        assert int(spec.config["iterations"]) < 1  # unlimited: a finite count ends in a FAILED task
        assert not spec.secret_config
        # exactly one schema source (datagen refuses more than one of quickstart/schema.string/schema.filename)
        assert len({"quickstart", "schema.string", "schema.filename"} & set(spec.config)) == 1


def test_datagen_sources_have_connect_create_their_topics_with_the_brokers_defaults(cfg):
    """The sources run before the ksqlDB streams exist and the brokers create no topic: Connect creates each
    with the broker's ``num.partitions`` (= ``kafkaPartitions``, the streams' ``PARTITIONS``) and replication
    factor. The config does not follow ``kafkaPartitions``: a change of it (refused by ksqlDB) rewrites no source."""
    for partitions in (cfg.kafka_partitions, 6):
        for spec in connectors.datagen_sources(StackConfig(kafka_partitions=partitions)):
            assert spec.config["topic.creation.default.partitions"] == "-1"
            assert spec.config["topic.creation.default.replication.factor"] == "-1"


def test_custom_schemas_draw_correlated_fields_from_one_value(cfg):
    specs = {s.config["kafka.topic"]: s.config for s in connectors.datagen_sources(cfg)}
    clicks = json.loads(specs["clickstream"]["schema.string"])
    (visitor,) = [f["type"] for f in clicks["fields"] if f["name"] == "visitor"]
    assert visitor["type"] == "record"
    assert visitor["arg.properties"]["options"] == [{"userid": v.userid, "ip": v.ip} for v in generator.VISITORS]
    assert {f["name"] for f in clicks["fields"]} == {"visitor", "remote_user", "time", "_time", "request", "status",
                                                       "bytes", "referrer", "agent"}
    # Connect's built-in transforms turn visitor.userid / visitor.ip back into the quickstart's top-level fields
    assert specs["clickstream"]["transforms.flatten.delimiter"] == "_"
    assert specs["clickstream"]["transforms.rename.renames"] == "visitor_userid:userid,visitor_ip:ip"
    users = json.loads(specs["clickstream_users"]["schema.string"])
    assert specs["clickstream_users"]["schema.keyfield"] == "user_id"
    options = users["arg.properties"]["options"]
    assert [o["user_id"] for o in options] == list(range(1, 41))
    # every field is set by each option (the generator builds the record from it), longs beyond int range
    assert all(set(o) == {f["name"] for f in users["fields"]} for o in options)
    assert all(o["registered_at"] > 2**31 for o in options)


def _builds() -> dict[str, str]:
    return builds(parse_sources(load_sql_dir(KSQL_DIR), ksql_variables(parse_config("dev", {}))))


def test_one_sink_per_derived_table_without_auth_mirroring_its_table_into_its_versioned_index():
    versions = _builds()
    indexes = {t: connectors.versioned_index_name(t, versions[t]) for t in DERIVED}
    groups = {t: connectors.sink_group(connectors.sink_connector_name(t, versions[t]), f"CTAS_{t}_7") for t in DERIVED}
    sinks = connectors.elasticsearch_sinks("http://es:9200", indexes, groups)
    assert [s.config["topics"] for s in sinks] == list(DERIVED)
    assert len({s.name for s in sinks}) == len(sinks)
    for sink in sinks:
        table = sink.config["topics"]
        assert sink.config["connection.url"] == "http://es:9200"
        # document id = the key (one per row, window included), a tombstone deletes it
        assert sink.config["key.ignore"] == "false" and sink.config["schema.ignore"] == "true"
        assert sink.config["behavior.on.null.values"] == "delete"
        assert sink.config["key.converter"] == connectors.STRING_CONVERTER
        assert sink.config["key.converter.converter.encoding"] == "ISO-8859-1"
        assert sink.config["value.converter.schemas.enable"] == "false"
        assert sink.config["external.resource.usage"] == "INDEX"
        assert sink.config["topic.to.external.resource.mapping"] == f"{table}:{indexes[table]}"
        assert re.fullmatch(rf"{table.lower()}_v[0-9a-f]{{16}}", indexes[table])
        # its own consumer group per query that fills the topic: a rebuilt topic is read from its start
        assert sink.config["consumer.override.group.id"] == groups[table]
        assert re.fullmatch(rf"connect-es-sink-{table.lower().replace('_', '-')}-v[0-9a-f]{{16}}-q[0-9a-f]{{8}}",
                            groups[table])
        assert "connection.username" not in sink.config and not sink.secret_config


def test_key_encoding_maps_every_byte_to_one_character_so_ids_are_the_key_bytes():
    every_byte = bytes(range(256))
    assert every_byte.decode(connectors.KEY_ENCODING).encode(connectors.KEY_ENCODING) == every_byte
    assert len(every_byte.decode(connectors.KEY_ENCODING)) == 256


def test_a_new_persistent_query_is_a_new_sink_group():
    """ksqlDB gives a table rebuilt from the same statements (its query failed, it was dropped by hand) a new
    query id and a new topic: the sink of the same build then reads that topic in a new group, from its start."""
    sink = connectors.sink_connector_name("HIGH_BANDWIDTH_SESSIONS", "0123456789abcdef")
    assert connectors.sink_group(sink, "CTAS_HIGH_BANDWIDTH_SESSIONS_41") != \
        connectors.sink_group(sink, "CTAS_HIGH_BANDWIDTH_SESSIONS_57")
    assert connectors.sink_group(sink, "CTAS_X_1") == connectors.sink_group(sink, "CTAS_X_1")


def test_sink_password_is_secret_config_only():
    sink = connectors.elasticsearch_sink("EVENTS_PER_MIN", "events_per_min_v0123abcd", "connect-g", "https://es:9200",
                                         username="elastic", password="pw")
    assert sink.config["connection.username"] == "elastic"
    assert sink.secret_config == {"connection.password": "pw"}
    assert "pw" not in json.dumps(sink.config)


def test_index_template_maps_time_fields_and_strings_for_exactly_our_indexes():
    body = connectors.index_template(DERIVED, replicas=0)
    assert body["index_patterns"] == [f"{t.lower()}_v*" for t in DERIVED]
    assert body["priority"] > 100
    mappings = body["template"]["mappings"]
    # ksqlDB writes epoch millis; Grafana reads raw-data time fields back as doc values in the FIRST
    # format, and accepts only RFC 3339 there
    for field in ("EVENT_TS", "SESSION_START"):
        assert mappings["properties"][field] == {"type": "date", "format": "strict_date_optional_time||epoch_millis"}
    (rule,) = mappings["dynamic_templates"]
    assert list(rule.values())[0] == {"match_mapping_type": "string", "mapping": {"type": "keyword"}}
    assert body["template"]["settings"]["number_of_replicas"] == 0


def test_datasource_uids_are_valid_and_distinct():
    uids = [connectors.datasource_uid(t) for t in DERIVED]
    assert len(set(uids)) == len(uids)
    assert all(re.fullmatch(r"[a-z0-9-]{1,40}", uid) for uid in uids)


# --- dashboards ----------------------------------------------------------------------------------

def test_dashboards_have_the_fields_grafana_relies_on(dashboards):
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    for name, dashboard in dashboards.items():
        assert dashboard["time"] == {"from": "now-15m", "to": "now"}, name
        assert dashboard["refresh"] in ("5s", "10s"), name
        assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 39, name
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(set(ids)) == len(ids), name


def test_main_dashboard_groups_panels_by_question(dashboards):
    rows = [p["title"].lower() for p in dashboards["clickstream.json"]["panels"] if p["type"] == "row"]
    for question in ("traffic", "bandwidth", "users", "errors", "sessions"):
        assert any(question in row for row in rows), f"no row for {question}: {rows}"


def test_every_panel_uses_an_existing_datasource_and_real_columns(dashboards, by_name):
    """Each index's columns are derived from its CREATE TABLE ... AS SELECT in ksql/; every field a query,
    alias, transformation or sort names must be one of them (or a name the panel gave it)."""
    for name, dashboard in dashboards.items():
        for panel in panels(dashboard):
            match = re.fullmatch(r"\$\{DS_([A-Z_]+)\}", panel["datasource"]["uid"])
            assert match and panel["datasource"]["type"] == "elasticsearch", (name, panel["title"])
            table = match.group(1)
            assert table in DERIVED, (name, panel["title"])
            known = columns(by_name[table])
            where = (name, panel["title"])
            for target in panel["targets"]:
                assert target["timeField"] == connectors.TIME_FIELD and connectors.TIME_FIELD in known, where
                assert target["datasource"] == panel["datasource"]
                fields = [m["field"] for m in target["metrics"] if "field" in m]
                fields += [b["field"] for b in target["bucketAggs"]]
                fields += re.findall(r"\{\{term ([A-Z_]+)\}\}", target.get("alias", ""))
                assert set(fields) <= known, (*where, set(fields) - known)
                metric_ids = {m["id"] for m in target["metrics"]}
                for bucket in target["bucketAggs"]:
                    order_by = bucket.get("settings", {}).get("orderBy")
                    assert order_by in (None, "_count", "_term", "_key") or order_by in metric_ids, where
            renamed: dict[str, str] = {}
            for transformation in panel.get("transformations", []):
                options = transformation["options"]
                for key in ("includeByName", "indexByName", "renameByName"):
                    assert set(options.get(key, {})) <= known, (*where, key, set(options.get(key, {})) - known)
                renamed.update(options.get("renameByName", {}))
            for override in panel.get("fieldConfig", {}).get("overrides", []):
                if override["matcher"]["id"] == "byName":
                    shown = override["matcher"]["options"]
                    assert shown in known - set(renamed) or shown in renamed.values(), (*where, shown)
            for sort in panel.get("options", {}).get("sortBy", []):
                assert sort["displayName"] in (known - set(renamed)) | set(renamed.values()), (*where, sort)


def test_every_derived_table_has_a_panel_on_the_main_dashboard(dashboards):
    charted = {p["datasource"]["uid"] for p in panels(dashboards["clickstream.json"])}
    assert {f"${{{connectors.datasource_key(t)}}}" for t in DERIVED} <= charted


def test_per_minute_tables_are_time_series_and_sessions_are_tables(dashboards):
    kinds: dict[str, set[str]] = {}
    for panel in panels(dashboards["clickstream.json"]):
        kinds.setdefault(panel["datasource"]["uid"][5:-1], set()).add(panel["type"])
    for table in ("EVENTS_PER_MIN", "PAGES_PER_MIN", "ERRORS_PER_MIN", "BANDWIDTH_PER_MIN"):
        assert "timeseries" in kinds[table], table
    for table in ("CLICK_USER_SESSIONS", "SESSION_BANDWIDTH", "HIGH_BANDWIDTH_SESSIONS", "USER_IP_ACTIVITY"):
        assert "table" in kinds[table], table


def test_high_bandwidth_dashboard_is_about_high_bandwidth_sessions(dashboards):
    tables = {p["datasource"]["uid"] for p in panels(dashboards["high_bandwidth_sessions.json"])}
    assert "${DS_HIGH_BANDWIDTH_SESSIONS}" in tables


def test_the_ksql_files_apply_and_drop_through_the_provider_on_a_fake_ksqldb(cfg):
    """The real per-object resources against the FAKE ksqlDB (tests/fakes/ksqldb/), driven the way the
    engine drives them: every statement is accepted in dependency order, a second apply is a no-op, and
    destroy drops everything again."""
    from tests.fakes.ksqldb import FakeKsqlDb
    from tests.provider.ksql_stack import declare
    from tests.provider.pulumi_engine import Deployment

    with FakeKsqlDb() as fake:
        resources = declare(load_sql_dir(KSQL_DIR), ksql_variables(cfg), url=fake.url, ready_timeout=10)
        stack = Deployment()
        stack.up(resources)
        assert set(fake.user_sources) == set(TUTORIAL_OBJECTS) | ADDED_TABLES
        fake.reset_calls()
        assert set(stack.up(resources).values()) == {"same"} and fake.calls == []
        stack.destroy()
        assert fake.user_sources == {} and fake.calls_to("POST", "/ksql/terminate") == []
