"""Choosing the analytics engine and spelling report queries for ClickHouse, without an engine:
settings and URLs (never showing a password), the ClickHouse SQL the DSL compiles to, and the
SQL that spells its CSV lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reporting_assets.errors import SettingsError
from reporting_assets.exports.analytics import analytics_source, clickhouse_target
from reporting_assets.exports.clickhouse_csv import csv_field, csv_lines_sql, header_line
from reporting_assets.exports.clickhouse_schema import base_type, table_statements
from reporting_assets.exports.clickhouse_url import parse_clickhouse_url
from reporting_assets.exports.dialects import ClickHouseDialect
from reporting_assets.exports.dsl import USAGE_SUMMARY_QUERY, compile_query
from reporting_assets.exports.settings import ExportSettings, export_settings_from_env
from reporting_assets.exports.source import PostgresAnalyticsSource

AS_OF = dt.datetime(2025, 3, 10, 13, 0, tzinfo=dt.UTC)


def test_postgres_stays_the_default_engine() -> None:
    settings = export_settings_from_env({})
    assert settings.analytics_engine == "postgres"
    assert isinstance(analytics_source(settings, "postgresql://x@localhost/db"), PostgresAnalyticsSource)


def test_clickhouse_urls_are_read_with_defaults() -> None:
    plain = parse_clickhouse_url("clickhouse://reader:p%40ss@ch.internal:8123/events")
    assert (plain.host, plain.port, plain.username, plain.password, plain.database, plain.secure) == (
        "ch.internal",
        8123,
        "reader",
        "p@ss",
        "events",
        False,
    )
    tls = parse_clickhouse_url("clickhouses://ch.example.com")
    assert (tls.port, tls.database, tls.username, tls.secure) == (8443, "analytics", "default", True)
    assert plain.shown == "ClickHouse at clickhouse://reader:***@ch.internal:8123/events"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"REPORTING_ANALYTICS_ENGINE": "duckdb"},
            r"^REPORTING_ANALYTICS_ENGINE='duckdb' is not a known value; use one of postgres, clickhouse",
        ),
        (
            {
                "REPORTING_ANALYTICS_ENGINE": "clickhouse",
                "REPORTING_ANALYTICS_URL": "http://bob:Hunter22@ch:8123/x",
            },
            r"^REPORTING_ANALYTICS_URL='http://bob:\*\*\*@ch:8123/x' is not a ClickHouse server URL; use clickhouse://",
        ),
        (
            {
                "REPORTING_ANALYTICS_ENGINE": "clickhouse",
                "REPORTING_ANALYTICS_URL": "clickhouse://bob:Hunter22@ch:99999",
            },
            r"is not a ClickHouse server URL",
        ),
        (
            {
                "REPORTING_ANALYTICS_ENGINE": "clickhouse",
                "REPORTING_ANALYTICS_URL": "clickhouse://ch/bad-name",
            },
            r"names the database 'bad-name'",
        ),
        (
            {"REPORTING_ANALYTICS_URL": "clickhouse://bob:Hunter22@ch:8123/analytics"},
            r"REPORTING_ANALYTICS_URL is set but REPORTING_ANALYTICS_ENGINE is 'postgres'",
        ),
    ],
)
def test_bad_engine_settings_name_the_variable_without_the_password(
    variables: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        export_settings_from_env(variables)
    assert "Hunter22" not in str(info.value)


def test_without_a_url_the_embedded_engine_lives_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTING_DATA_DIR", str(tmp_path))
    settings = ExportSettings(storage_dir=tmp_path, analytics_engine="clickhouse")
    target = clickhouse_target(settings)
    assert target.embedded and target.path == tmp_path / "clickhouse" and target.database == "analytics"
    assert target.shown == f"the embedded ClickHouse engine (chdb) in {tmp_path / 'clickhouse'}"


def test_the_usage_summary_compiles_to_clickhouse_with_typed_parameters() -> None:
    query = compile_query(
        USAGE_SUMMARY_QUERY,
        tenant_id="acme",
        as_of=AS_OF,
        row_limit=1000,
        dialect=ClickHouseDialect(database="events"),
    )
    statement, params = query.rows_sql()
    text = statement.as_string(None)
    assert 'toDate32("t"."timestamp", {p0:String}) AS "date"' in text
    assert 'uniqExact("t"."user_id") AS "unique_users"' in text
    assert 'FROM "events"."usage_events" AS t WHERE "t"."tenant_id" = {p1:String}' in text
    assert "subtractDays({p2:DateTime64(6, 'UTC')}, {p3:Int64})" in text
    assert (
        'ORDER BY "date" DESC NULLS FIRST, "event_type" ASC NULLS LAST LIMIT {p5:UInt64} OFFSET {p6:UInt64}'
        in text
    )
    assert "acme" not in text and params == ("UTC", "acme", AS_OF, 7, AS_OF, 1000, 0)


def test_every_construct_has_a_clickhouse_spelling() -> None:
    query = compile_query(
        {
            "table": "device_metrics",
            "fields": [
                {"field": "timestamp", "bucket": "week", "as": "week"},
                {"field": "timestamp", "bucket": "month", "as": "month"},
                {"aggregate": "sum", "field": "cpu_percent", "as": "cpu"},
                {"aggregate": "avg", "field": "memory_mb", "as": "memory"},
                {"aggregate": "max", "field": "os", "as": "os"},
            ],
            "filters": [
                {"field": "device_id", "op": "in", "value": ["a", "b"]},
                {"field": "cpu_percent", "op": "between", "value": [1, 2.5]},
                {"field": "os", "op": "like", "value": "i%"},
            ],
            "group_by": ["week", "month"],
            "timezone": "Europe/Berlin",
        },
        tenant_id="acme",
        as_of=AS_OF,
    ).in_dialect(ClickHouseDialect())
    text = query.base.as_string(None)
    for spelled in (
        'subtractDays(toDate32("t"."timestamp", {p0:String}), '
        'toDayOfWeek(toDate32("t"."timestamp", {p0:String})) - 1)',
        'subtractDays(toDate32("t"."timestamp", {p1:String}), '
        'toDayOfMonth(toDate32("t"."timestamp", {p1:String})) - 1)',
        'sumOrNull(toFloat64("t"."cpu_percent"))',
        'avgOrNull("t"."memory_mb")',
        'maxOrNull("t"."os")',
        '"t"."device_id" IN {p3:Array(String)}',
        '"t"."cpu_percent" BETWEEN {p4:Float64} AND {p5:Float64}',
        '"t"."os" LIKE {p6:String}',
    ):
        assert spelled in text, spelled
    assert query.params == ("Europe/Berlin", "Europe/Berlin", "acme", ["a", "b"], 1, 2.5, "i%")


def test_the_tables_are_mergetree_by_tenant_and_time() -> None:
    statements = table_statements("events")
    assert statements[0] == 'CREATE DATABASE IF NOT EXISTS "events"'
    assert len(statements) == 4 and all("IF NOT EXISTS" in s for s in statements)
    assert 'ENGINE = MergeTree ORDER BY (tenant_id, "timestamp")' in statements[1]
    assert "ENGINE = MergeTree ORDER BY (tenant_id, started_at)" in statements[2]
    assert base_type("Nullable(LowCardinality(String))") == "String"
    assert base_type("DateTime64(6, 'UTC')") == "DateTime64"


def test_csv_lines_are_spelled_in_sql_around_the_query_with_its_values_bound() -> None:
    query = compile_query(
        {"table": "device_metrics", "fields": ["timestamp", "os", "cpu_percent"]},
        tenant_id="acme",
        dialect=ClickHouseDialect(),
    )
    statement, params = query.rows_sql()
    text = csv_lines_sql(statement, query.columns).as_string(None)
    assert text.startswith("SELECT concat(") and text.endswith(
        f" AS line FROM ({statement.as_string(None)}) AS q"
    )
    assert "acme" in params and "acme" not in text
    assert header_line(query.columns) == b"timestamp,os,cpu_percent\n"
    assert [csv_field(t) for t in ("plain", "", "a,b", 'say "hi"', "two\nlines")] == [
        "plain",
        '""',
        '"a,b"',
        '"say ""hi"""',
        '"two\nlines"',
    ]


def test_a_refused_login_says_to_check_the_user_and_password_without_showing_it() -> None:
    exceptions = pytest.importorskip("clickhouse_connect.driver.exceptions")
    from reporting_assets.exports.clickhouse_client import is_connection_failure, unavailable

    target = parse_clickhouse_url("clickhouse://alice:Sup3rS3cret@ch.example:8123/analytics")
    # what clickhouse-connect raises for a server's answer with X-ClickHouse-Exception-Code: 516
    refused = exceptions.DatabaseError(
        "HTTPDriver for http://ch.example:8123 received ClickHouse error code 516\n"
        " Code: 516. DB::Exception: alice: Authentication failed: password is incorrect, or there is "
        "no user with such name. (AUTHENTICATION_FAILED)",
        code=516,
    )
    assert is_connection_failure(refused)
    message = str(unavailable(target, refused, "reading usage_events"))
    shown = "ClickHouse at clickhouse://alice:***@ch.example:8123/analytics"
    assert message.startswith(f"{shown} refused the login")
    assert "Check the user and password in REPORTING_ANALYTICS_URL" in message
    assert "Sup3rS3cret" not in message
