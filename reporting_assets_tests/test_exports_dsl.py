"""The report query DSL and schedule times: validation, compilation to parameterized SQL, tenant
isolation, SQL injection in every field (against real PostgreSQL), cron + time zones across DST."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from reporting_assets.db.connection import connect
from reporting_assets.exports.dsl import USAGE_SUMMARY_QUERY, compile_query
from reporting_assets.exports.errors import QueryValidationError, ScheduleValidationError
from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
from reporting_assets.exports.scheduling import (
    check_cron,
    check_timezone,
    latest_occurrence,
    next_occurrence,
    occurrences_between,
)
from reporting_assets.exports.source import ChartAxes, PostgresAnalyticsSource
from reporting_assets_tests.helpers import INJECTION_PAYLOADS

AS_OF = dt.datetime(2025, 3, 10, 13, 0, tzinfo=dt.UTC)
PAYLOADS = INJECTION_PAYLOADS


@pytest.fixture(scope="session")
def analytics_url(database_url: str) -> str:
    """Deterministic sample data for two tenants around the acceptance dates (idempotent)."""
    with connect(database_url) as conn:
        generate_sample_data(conn, SampleSpec(end=dt.date(2025, 3, 31), tenants=("acme", "globex"), days=60))
    return database_url


@pytest.fixture
def source(analytics_url: str) -> PostgresAnalyticsSource:
    return PostgresAnalyticsSource(analytics_url)


@pytest.fixture
def pg(analytics_url: str) -> Iterator[psycopg.Connection[Any]]:
    with connect(analytics_url) as conn:
        yield conn


def compiled(config: dict[str, Any], tenant: str = "acme", **kwargs: Any) -> Any:
    return compile_query(config, tenant_id=tenant, as_of=AS_OF, **kwargs)


def problems(config: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(QueryValidationError, match=r"^Invalid query") as info:
        compiled(config, **kwargs)
    return str(info.value)


def test_usage_summary_compiles_to_parameterized_sql_with_the_tenant_filter(
    pg: psycopg.Connection[Any],
) -> None:
    query = compiled(USAGE_SUMMARY_QUERY, row_limit=1000)
    text = query.base.as_string(pg)
    assert '"t"."tenant_id" = %s' in text
    assert "GROUP BY 1, 5, 6" in text and 'ORDER BY "date" DESC' in text
    assert "acme" not in text  # every value is a parameter
    assert query.params[1] == "acme"
    assert [c.name for c in query.columns] == [
        "date",
        "total_events",
        "unique_users",
        "unique_devices",
        "event_type",
        "tenant_id",
    ]
    assert query.limit == 1000
    assert query.filters_text[0] == "tenant_id = 'acme' (always applied)"


def test_usage_summary_reads_only_the_window_and_the_tenant(source: PostgresAnalyticsSource) -> None:
    query = source.prepare(
        USAGE_SUMMARY_QUERY, tenant_id="acme", row_limit=1000, max_row_limit=1000, as_of=AS_OF
    )
    page = source.page(query, page=1, page_size=100)
    assert page.total == len(page.rows) > 30
    days = {row[0] for row in page.rows}
    assert min(days) >= dt.date(2025, 3, 3) and max(days) <= dt.date(2025, 3, 10)
    assert {row[5] for row in page.rows} == {"acme"}
    assert page.rows == sorted(page.rows, key=lambda r: (-r[0].toordinal(), r[4]))


def test_pages_total_and_row_limit(source: PostgresAnalyticsSource) -> None:
    query = source.prepare(
        {
            "table": "usage_events",
            "fields": ["timestamp", "event_type"],
            "order_by": [{"field": "timestamp"}],
        },
        tenant_id="acme",
        row_limit=45,
        max_row_limit=1000,
        as_of=AS_OF,
    )
    first = source.page(query, page=1, page_size=20)
    last = source.page(query, page=3, page_size=20)
    assert (first.total, first.page_count, len(first.rows), len(last.rows)) == (45, 3, 20, 5)
    assert sum(len(b) for b in source.stream(query, batch_rows=7)) == 45
    assert source.count(query) == 45


def test_a_page_with_its_chart_reads_what_the_chart_and_count_read(source: PostgresAnalyticsSource) -> None:
    query = source.prepare(
        USAGE_SUMMARY_QUERY, tenant_id="acme", row_limit=40, max_row_limit=1000, as_of=AS_OF
    )
    axes = ChartAxes("date", "total_events", 5)
    with_chart = source.page(query, page=2, page_size=15, chart=axes)
    alone = source.page(query, page=2, page_size=15)
    assert (with_chart.rows, with_chart.total, alone.chart) == (alone.rows, source.count(query), None)
    assert with_chart.chart == source.chart(query, *axes) and len(with_chart.chart) == 5
    nothing = source.prepare(USAGE_SUMMARY_QUERY, tenant_id="nobody", row_limit=40, max_row_limit=1000)
    empty = source.page(nothing, page=1, page_size=15, chart=axes)
    assert (empty.total, empty.rows, empty.chart) == (0, [], [])


def test_the_count_and_the_chart_read_the_table_once(
    source: PostgresAnalyticsSource, pg: psycopg.Connection[Any]
) -> None:
    query = source.prepare(USAGE_SUMMARY_QUERY, tenant_id="acme", row_limit=40, max_row_limit=1000)
    statement, params = query.count_chart_sql("date", "total_events", 5)
    [plan] = pg.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(statement), params).fetchone().values()
    assert str(plan).count("'Relation Name': 'usage_events'") == 1


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sql_injection_in_identifiers_is_rejected_naming_the_part(payload: str) -> None:
    cases: dict[str, dict[str, Any]] = {
        "table": {"table": payload},
        "fields[0]": {"table": "usage_events", "fields": [payload]},
        "fields[0].field": {"table": "usage_events", "fields": [{"field": payload}]},
        "fields[0].as": {"table": "usage_events", "fields": [{"field": "event_type", "as": payload}]},
        "fields[0].bucket": {"table": "usage_events", "fields": [{"field": "timestamp", "bucket": payload}]},
        "fields[1].field": {
            "table": "usage_events",
            "fields": ["event_type", {"aggregate": "count_distinct", "field": payload}],
            "group_by": ["event_type"],
        },
        "fields[1].aggregate": {
            "table": "usage_events",
            "fields": ["event_type", {"aggregate": payload, "field": "user_id"}],
            "group_by": ["event_type"],
        },
        "filters[0].field": {
            "table": "usage_events",
            "filters": [{"field": payload, "op": "eq", "value": "x"}],
        },
        "filters[0].op": {
            "table": "usage_events",
            "filters": [{"field": "event_type", "op": payload, "value": "x"}],
        },
        "group_by[0]": {
            "table": "usage_events",
            "fields": [{"aggregate": "count"}],
            "group_by": [payload],
        },
        "order_by[0].field": {"table": "usage_events", "order_by": [{"field": payload}]},
        "order_by[0].direction": {
            "table": "usage_events",
            "order_by": [{"field": "event_type", "direction": payload}],
        },
        "timezone": {"table": "usage_events", "timezone": payload},
    }
    for where, config in cases.items():
        message = problems(config)
        assert where in message, (where, message)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sql_injection_in_values_is_only_ever_a_value(
    payload: str, source: PostgresAnalyticsSource, pg: psycopg.Connection[Any]
) -> None:
    config = {
        "table": "usage_events",
        "fields": ["event_type"],
        "filters": [
            {"field": "event_type", "op": "eq", "value": payload},
            {"field": "user_id", "op": "in", "value": [payload, "user-0001"]},
            {"field": "feature", "op": "like", "value": f"%{payload}%"},
            {"field": "country", "op": "between", "value": [payload, payload]},
        ],
    }
    query = source.prepare(config, tenant_id="acme", row_limit=10, max_row_limit=10, as_of=AS_OF)
    assert payload not in query.base.as_string(pg)
    assert source.page(query, page=1, page_size=10).total == 0
    assert pg.execute("SELECT count(*) AS n FROM analytics.usage_events").fetchone()["n"] > 1000  # type: ignore[index]


def test_fields_outside_the_whitelist_are_named_with_the_allowed_ones() -> None:
    message = problems({"table": "usage_events", "fields": ["event_type", "properties", "event_id"]})
    assert "fields[1]: unknown field 'properties' in table usage_events" in message
    assert "fields[2]: unknown field 'event_id'" in message
    assert "allowed fields: timestamp, tenant_id, user_id" in message
    assert "unknown table 'reporting.reports'" in problems({"table": "reporting.reports"})
    assert "unknown key" in problems({"table": "usage_events", "where": "1=1"})


def test_the_tenant_filter_cannot_be_widened_or_pointed_elsewhere(source: PostgresAnalyticsSource) -> None:
    for flt in (
        {"field": "tenant_id", "op": "eq", "value": "globex"},
        {"field": "tenant_id", "op": "in", "value": ["acme", "globex"]},
        {"field": "tenant_id", "op": "ne", "value": "acme"},
        {"field": "tenant_id", "op": "like", "value": "%"},
    ):
        message = problems({"table": "usage_events", "filters": [flt]})
        assert "filters[0]: a filter on tenant_id may only name your own tenant ('acme')" in message
    same = source.prepare(
        {
            "table": "usage_events",
            "fields": [{"aggregate": "count"}, "tenant_id"],
            "group_by": ["tenant_id"],
            "filters": [{"field": "tenant_id", "op": "eq", "value": "acme"}],
        },
        tenant_id="acme",
        row_limit=10,
        max_row_limit=10,
    )
    rows = source.page(same, page=1, page_size=10).rows
    assert [r[1] for r in rows] == ["acme"]


def test_row_limits_above_the_maximum_are_rejected() -> None:
    message = problems({"table": "usage_events"}, row_limit=10**9, max_row_limit=100_000)
    assert "row_limit: 1,000,000,000 is outside 1..100,000" in message
    assert "limit: 1,000,000,000 is above the maximum of 100,000" in problems(
        {"table": "usage_events", "limit": 10**9}, max_row_limit=100_000
    )
    assert compiled({"table": "usage_events", "limit": 50}, row_limit=20).limit == 20


def test_types_operators_and_grouping_are_checked() -> None:
    message = problems(
        {
            "table": "usage_events",
            "fields": [
                "event_type",
                {"aggregate": "sum", "field": "user_id"},
                {"aggregate": "avg", "field": "*"},
            ],
            "filters": [
                {"field": "duration_ms", "op": "gt", "value": "10"},
                {"field": "duration_ms", "op": "like", "value": "1%"},
                {"field": "timestamp", "op": "last", "value": {"amount": 0, "unit": "days"}},
                {"field": "timestamp", "op": "gte", "value": "yesterday"},
                {"field": "user_id", "op": "in", "value": []},
            ],
        }
    )
    for expected in (
        "fields[1].aggregate: sum needs a number field; user_id is text",
        "fields[2].field: avg needs a field",
        "filters[0].value: expected a whole number, got '10'",
        "filters[1].op: 'like' applies to text fields only",
        "filters[2].value: 'last' needs",
        "filters[3].value: 'yesterday' is not an ISO date or time",
        "filters[4].value: 'in' needs a list of 1 to 1000 values",
        "fields[0]: event_type is neither aggregated nor in group_by",
    ):
        assert expected in message, expected


def test_unicode_values_filter_correctly(source: PostgresAnalyticsSource) -> None:
    query = source.prepare(
        {"table": "usage_events", "filters": [{"field": "feature", "op": "eq", "value": "日本語 ✓ Ünïcödé"}]},
        tenant_id="acme",
        row_limit=5,
        max_row_limit=5,
    )
    assert source.page(query, page=1, page_size=5).total == 0


def test_the_compiled_sql_is_plain_composition(pg: psycopg.Connection[Any]) -> None:
    query = compiled(
        {
            "table": "device_metrics",
            "fields": [
                {"field": "timestamp", "bucket": "week", "as": "week"},
                "os",
                {"aggregate": "avg", "field": "cpu_percent", "as": "cpu"},
            ],
            "group_by": ["week", "os"],
            "order_by": [{"field": "cpu", "direction": "desc"}],
            "timezone": "America/New_York",
        }
    )
    assert isinstance(query.base, sql.Composed)
    text = query.base.as_string(pg)
    assert "date_trunc('week'" in text and "AT TIME ZONE %s" in text
    assert query.params[0] == "America/New_York"


# --- schedules ---------------------------------------------------------------------------------


NY = "America/New_York"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_monday_nine_new_york_across_both_dst_changes() -> None:
    cron = "0 9 * * 1"
    assert next_occurrence(cron, NY, utc(2025, 3, 1)) == utc(2025, 3, 3, 14)  # EST
    assert next_occurrence(cron, NY, utc(2025, 3, 3, 14)) == utc(2025, 3, 10, 13)  # EDT after 03-09
    assert next_occurrence(cron, NY, utc(2025, 10, 28)) == utc(2025, 11, 3, 14)  # EST after 11-02
    assert latest_occurrence(cron, NY, utc(2025, 3, 10, 13)) == utc(2025, 3, 10, 13)
    assert latest_occurrence(cron, NY, utc(2025, 3, 10, 12, 59)) == utc(2025, 3, 3, 14)
    assert occurrences_between(cron, NY, utc(2025, 2, 17, 14), utc(2025, 3, 10, 13)) == 4


def test_times_in_the_gap_and_the_repeated_hour() -> None:
    # 02:30 does not exist on 2025-03-09 in New York: it runs at 03:30 EDT (07:30 UTC)
    assert next_occurrence("30 2 * * *", NY, utc(2025, 3, 9, 0)) == utc(2025, 3, 9, 7, 30)
    # 01:30 happens twice on 2025-11-02: it runs once, at the first (EDT, 05:30 UTC)
    first = next_occurrence("30 1 * * *", NY, utc(2025, 11, 2, 0))
    assert first == utc(2025, 11, 2, 5, 30)
    assert next_occurrence("30 1 * * *", NY, first) == utc(2025, 11, 3, 6, 30)


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("61 9 * * 1", "not a valid cron expression"),
        ("0 9 * *", "not a valid cron expression"),
        ("0 9 * * 1 2025", "not a valid cron expression"),
        ("'; DROP TABLE reporting.schedules; --", "not a valid cron expression"),
        ("* * * * *", "fires 1 minute(s) apart"),
        ("0,59 0,23 * * *", "fires 1 minute(s) apart (at 23:59 and 00:00)"),
        ("0 0 31 2 *", "never fires (no such date"),
        ("", "must be 1-100 characters"),
    ],
)
def test_invalid_cron_expressions(cron: str, expected: str) -> None:
    with pytest.raises(ScheduleValidationError, match=r"^cron_expression: ") as info:
        check_cron(cron)
    assert str(info.value).startswith("cron_expression: ") and expected in str(info.value)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "EST5EDT6", "../../etc/passwd", "/etc/localtime", ""])
def test_unknown_time_zones(name: str) -> None:
    with pytest.raises(ScheduleValidationError, match="timezone: unknown time zone"):
        check_timezone(name)
