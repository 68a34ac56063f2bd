"""ClickHouse as the analytics engine, against a real ClickHouse engine (chDB in-process, through
clickhouse-connect's chdb interface, the client the server path uses too) and real PostgreSQL:
the same sample in both, a corpus of report queries giving the same rows, exports giving the
same bytes, injection, and the errors for a missing table, a wrong column type and a server
that cannot be reached."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from reporting_assets.db.connection import connect
from reporting_assets.db.migrations import migrate
from reporting_assets.db.urls import ensure_databases, with_database
from reporting_assets.exports.analytics import clickhouse_target, init_analytics
from reporting_assets.exports.clickhouse_client import open_client
from reporting_assets.exports.clickhouse_csv import csv_lines_sql
from reporting_assets.exports.clickhouse_schema import init_tables
from reporting_assets.exports.clickhouse_source import ClickHouseAnalyticsSource
from reporting_assets.exports.clickhouse_url import ClickHouseTarget, parse_clickhouse_url
from reporting_assets.exports.dsl import USAGE_SUMMARY_QUERY, CompiledQuery, OutputColumn, compile_query
from reporting_assets.exports.errors import AnalyticsSchemaError, AnalyticsUnavailableError
from reporting_assets.exports.formats import render_export
from reporting_assets.exports.formats.info import DocumentInfo
from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import AnalyticsSource, ChartAxes, PostgresAnalyticsSource
from reporting_assets_tests.helpers import INJECTION_PAYLOADS, run_cli
from reporting_assets_tests.support.servers import free_port

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

pytestmark = pytest.mark.integration

AS_OF = dt.datetime(2025, 3, 10, 13, 0, tzinfo=dt.UTC)
SPEC = SampleSpec(end=dt.date(2025, 3, 31), tenants=("acme", "globex"), days=60)
EDGE_TENANT = "edge"
EDGE_COLUMNS = (
    "event_id",
    "tenant_id",
    "timestamp",
    "user_id",
    "device_id",
    "event_type",
    "feature",
    "duration_ms",
)


def _event(
    n: int,
    when: dt.datetime,
    user: str,
    device: str | None,
    event_type: str,
    feature: str | None,
    ms: int | None,
) -> tuple[Any, ...]:
    """One usage event row in EDGE_COLUMNS order."""
    return (uuid.UUID(int=n), EDGE_TENANT, when, user, device, event_type, feature, ms)


EDGE_ROWS: list[tuple[Any, ...]] = [
    # NULLs, unicode, formula-like text, CSV quoting, like metacharacters, times near midnight in
    # New York and around a Sunday/Monday and month boundary
    _event(
        1, dt.datetime(2025, 3, 2, 23, 59, 59, 999999, tzinfo=dt.UTC), "u-1", None, "page_view", None, None
    ),
    _event(
        2,
        dt.datetime(2025, 3, 3, 0, 0, tzinfo=dt.UTC),
        "u-2",
        "d-1",
        '=HYPERLINK("x")',
        "日本語 ✓ Ünïcödé",
        0,
    ),
    _event(
        3,
        dt.datetime(2025, 3, 3, 4, 30, 0, 500000, tzinfo=dt.UTC),
        "u-2",
        "d-1",
        "export",
        'comma, "quote"\nnewline',
        17,
    ),
    _event(
        4,
        dt.datetime(2025, 3, 31, 23, 0, tzinfo=dt.UTC),
        "u-3",
        "d-2",
        "search",
        "100% off_now",
        2_000_000_000,
    ),
    _event(5, dt.datetime(2025, 4, 1, 3, 0, tzinfo=dt.UTC), "u-3", "d-2", "search", "back\\slash", 5),
    _event(6, dt.datetime(2025, 2, 28, 12, 0, tzinfo=dt.UTC), "u-4", None, "-1", "", 1),
]


def _insert_postgres(url: str, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """``rows`` into PostgreSQL's analytics ``table`` (rows already there are left alone)."""
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
        sql.Identifier("analytics", table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    with connect(url) as conn, conn.cursor() as cur:
        cur.executemany(statement, rows)


def _insert_clickhouse(
    target: ClickHouseTarget, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``rows`` into ``table`` of the target's database, made first when missing."""
    client = open_client(target)
    init_tables(client, target.database)
    client.insert(table, rows, column_names=list(columns), database=target.database)
    client.close()


@pytest.fixture(scope="module")
def pg_url(database_url: str) -> str:
    """PostgreSQL's analytics tables with the sample (idempotent) and the edge rows."""
    with connect(database_url) as conn:
        generate_sample_data(conn, SPEC)
    _insert_postgres(database_url, "usage_events", EDGE_COLUMNS, EDGE_ROWS)
    return database_url


@pytest.fixture(scope="module")
def ch_target(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseTarget]:
    """The embedded engine (in this data folder) with the same sample, made by
    ``analytics init --sample``'s code, plus the same edge rows."""
    data = tmp_path_factory.mktemp("data")
    settings = ExportSettings(storage_dir=data / "exports", analytics_engine="clickhouse")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPORTING_DATA_DIR", str(data))
        target = clickhouse_target(settings)
        first = init_analytics(settings, pg_url, SPEC)
        again = init_analytics(settings, pg_url, SPEC)
    assert target == ClickHouseTarget(path=data / "clickhouse")
    assert first.inserted is not None and first.inserted["usage_events"] > 10_000
    assert again.inserted == {"usage_events": 0, "user_sessions": 0, "device_metrics": 0}  # idempotent
    _insert_clickhouse(target, "usage_events", EDGE_COLUMNS, EDGE_ROWS)
    yield target


@pytest.fixture
def pg(pg_url: str) -> PostgresAnalyticsSource:
    return PostgresAnalyticsSource(pg_url)


@pytest.fixture
def ch(ch_target: ClickHouseTarget) -> Iterator[ClickHouseAnalyticsSource]:
    source = ClickHouseAnalyticsSource(ch_target)
    yield source
    source.close()


# --- the corpus ---------------------------------------------------------------------------------

CORPUS: dict[str, dict[str, Any]] = {
    "usage summary": USAGE_SUMMARY_QUERY,
    "usage summary in new york": {**USAGE_SUMMARY_QUERY, "timezone": "America/New_York"},
    "all fields, total order, window": {
        "table": "usage_events",
        "order_by": [{"field": "timestamp"}, {"field": "user_id"}, {"field": "event_type"}],
        "limit": 40,
        "offset": 15,
    },
    "every aggregate per week in tokyo": {
        "table": "usage_events",
        "fields": [
            {"field": "timestamp", "bucket": "week", "as": "week"},
            {"aggregate": "count"},
            {"aggregate": "count", "field": "device_id", "as": "with_device"},
            {"aggregate": "count_distinct", "field": "session_id", "as": "sessions"},
            {"aggregate": "sum", "field": "duration_ms", "as": "total_ms"},
            {"aggregate": "avg", "field": "duration_ms", "as": "avg_ms"},
            {"aggregate": "min", "field": "feature", "as": "first_feature"},
            {"aggregate": "max", "field": "timestamp", "as": "last_seen"},
        ],
        "group_by": ["week"],
        "order_by": [{"field": "week", "direction": "desc"}],
        "timezone": "Asia/Tokyo",
    },
    "months in new york": {
        "table": "usage_events",
        "fields": [{"field": "timestamp", "bucket": "month", "as": "month"}, {"aggregate": "count"}],
        "group_by": ["month"],
        "timezone": "America/New_York",
    },
    "days, grouped by a bucket not selected first": {
        "table": "user_sessions",
        "fields": [
            "platform",
            {"field": "started_at", "bucket": "day"},
            {"aggregate": "sum", "field": "page_views"},
        ],
        "group_by": ["platform", {"field": "started_at", "bucket": "day"}],
        "order_by": [
            {"field": "sum_page_views", "direction": "desc"},
            {"field": "platform"},
            {"field": "started_at_day"},
        ],
        "limit": 25,
    },
    "device floats": {
        "table": "device_metrics",
        "fields": [
            "os",
            {"aggregate": "avg", "field": "cpu_percent", "as": "cpu"},
            {"aggregate": "sum", "field": "memory_mb", "as": "memory"},
            {"aggregate": "min", "field": "battery_percent", "as": "low"},
            {"aggregate": "max", "field": "network_latency_ms", "as": "high"},
        ],
        "group_by": ["os"],
        "order_by": [{"field": "os", "direction": "desc"}],
    },
    "every operator": {
        "table": "usage_events",
        "fields": ["event_type", "country", "duration_ms", "feature", "timestamp"],
        "filters": [
            {"field": "event_type", "op": "ne", "value": "login"},
            {"field": "country", "op": "in", "value": ["US", "DE", "JP"]},
            {"field": "duration_ms", "op": "between", "value": [1000, 20000]},
            {"field": "duration_ms", "op": "gt", "value": 1000},
            {"field": "duration_ms", "op": "lte", "value": 19000},
            {"field": "feature", "op": "like", "value": "%r_s%"},
            {"field": "timestamp", "op": "gte", "value": "2025-02-10"},
            {"field": "timestamp", "op": "lt", "value": "2025-03-01T12:00:00+01:00"},
            {"field": "user_id", "op": "eq", "value": "user-0007"},
        ],
    },
    "last hours, weeks and months": {
        "table": "user_sessions",
        "fields": [{"aggregate": "count"}, {"aggregate": "min", "field": "started_at", "as": "first"}],
        "filters": [
            {"field": "started_at", "op": "last", "value": {"amount": 2, "unit": "months"}},
            {"field": "ended_at", "op": "last", "value": {"amount": 3, "unit": "weeks"}},
            {"field": "started_at", "op": "last", "value": {"amount": 400, "unit": "hours"}},
        ],
    },
    "aggregates over no rows": {
        "table": "device_metrics",
        "fields": [
            {"aggregate": "count"},
            {"aggregate": "count_distinct", "field": "device_id", "as": "devices"},
            {"aggregate": "sum", "field": "cpu_percent", "as": "cpu"},
            {"aggregate": "avg", "field": "memory_mb", "as": "memory"},
            {"aggregate": "min", "field": "os", "as": "os"},
        ],
        "filters": [{"field": "os", "op": "eq", "value": "beos"}],
    },
}
EDGE_CORPUS: dict[str, dict[str, Any]] = {
    "edge rows as they are": {
        "table": "usage_events",
        "fields": ["timestamp", "user_id", "device_id", "event_type", "feature", "duration_ms"],
        "order_by": [{"field": "timestamp", "direction": "desc"}],
    },
    "nulls first descending, last ascending": {
        "table": "usage_events",
        "fields": ["device_id", "feature", "timestamp"],
        "order_by": [
            {"field": "device_id", "direction": "desc"},
            {"field": "feature"},
            {"field": "timestamp"},
        ],
    },
    "buckets across midnight, sunday and month ends in new york": {
        "table": "usage_events",
        "fields": [
            {"field": "timestamp", "bucket": "day", "as": "day"},
            {"field": "timestamp", "bucket": "week", "as": "week"},
            {"field": "timestamp", "bucket": "month", "as": "month"},
            {"aggregate": "count_distinct", "field": "device_id", "as": "devices"},
            {"aggregate": "sum", "field": "duration_ms", "as": "ms"},
        ],
        "group_by": ["day", "week", "month"],
        "order_by": [{"field": "day"}],
        "timezone": "America/New_York",
    },
    "like escapes": {
        "table": "usage_events",
        "fields": ["feature"],
        "filters": [{"field": "feature", "op": "like", "value": "100\\% off\\_%"}],
    },
    "like a backslash": {
        "table": "usage_events",
        "fields": ["feature"],
        "filters": [{"field": "feature", "op": "like", "value": "back\\\\slash"}],
    },
    "like one unicode character": {
        "table": "usage_events",
        "fields": ["feature"],
        "filters": [{"field": "feature", "op": "like", "value": "日_語%"}],
    },
    "unicode equality and empty text": {
        "table": "usage_events",
        "fields": ["feature", "event_type"],
        "filters": [{"field": "feature", "op": "in", "value": ["日本語 ✓ Ünïcödé", ""]}],
        "order_by": [{"field": "feature"}],
    },
}


def _normal(value: Any) -> Any:
    """One value, engine-neutral: floats to 12 significant digits (the engines add floats in
    different orders), decimals as floats, aware times in UTC."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isnan(value) else float(f"{value:.12g}")
    if isinstance(value, dt.datetime):
        assert value.tzinfo is not None, value
        return value.astimezone(dt.UTC)
    return value


def _rows(source: AnalyticsSource, query: CompiledQuery) -> list[tuple[Any, ...]]:
    return [tuple(_normal(v) for v in row) for batch in source.stream(query, batch_rows=97) for row in batch]


def _compare(
    config: dict[str, Any], tenant: str, pg: PostgresAnalyticsSource, ch: ClickHouseAnalyticsSource
) -> list[tuple[Any, ...]]:
    """Assert both engines give the same rows; return them. With an order the sequence of the
    order columns must match and rows are compared with ties broken by every column; without
    one the rows are compared as a sorted list."""
    kwargs: dict[str, Any] = {"tenant_id": tenant, "row_limit": 5000, "max_row_limit": 5000, "as_of": AS_OF}
    pg_query = pg.prepare(config, **kwargs)
    ch_query = ch.prepare(config, **kwargs)
    assert ch_query.columns == pg_query.columns
    pg_rows, ch_rows = _rows(pg, pg_query), _rows(ch, ch_query)
    key = _sort_key
    if pg_query.ordered:
        positions = [pg_query.columns.index(pg_query.column(o["field"])) for o in config["order_by"]]  # type: ignore[arg-type]
        assert [tuple(r[i] for i in positions) for r in ch_rows] == [
            tuple(r[i] for i in positions) for r in pg_rows
        ]
    assert sorted(ch_rows, key=key) == sorted(pg_rows, key=key)
    assert ch.count(ch_query) == pg.count(pg_query) == len(pg_rows)
    return pg_rows


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, "" if v is None else str(v)) for v in row)


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_corpus_gives_the_same_rows_on_both_engines(
    name: str, pg: PostgresAnalyticsSource, ch: ClickHouseAnalyticsSource
) -> None:
    rows = _compare(CORPUS[name], "acme", pg, ch)
    assert rows, f"{name}: the corpus query should return rows"


@pytest.mark.parametrize("name", list(EDGE_CORPUS))
def test_edge_values_give_the_same_rows_on_both_engines(
    name: str, pg: PostgresAnalyticsSource, ch: ClickHouseAnalyticsSource
) -> None:
    rows = _compare(EDGE_CORPUS[name], EDGE_TENANT, pg, ch)
    assert rows, f"{name}: the edge query should return rows"


def test_pages_and_charts_are_the_same(pg: PostgresAnalyticsSource, ch: ClickHouseAnalyticsSource) -> None:
    kwargs: dict[str, Any] = {"tenant_id": "acme", "row_limit": 45, "max_row_limit": 1000, "as_of": AS_OF}
    config = {
        "table": "usage_events",
        "fields": ["timestamp", "event_type", "user_id"],
    }  # no order: pages sort
    pg_query, ch_query = pg.prepare(config, **kwargs), ch.prepare(config, **kwargs)
    for page in (1, 3):
        first, second = pg.page(pg_query, page=page, page_size=20), ch.page(ch_query, page=page, page_size=20)
        assert (second.total, second.page_count, second.rows) == (first.total, first.page_count, first.rows)
    summary = compile_query(USAGE_SUMMARY_QUERY, tenant_id="acme", as_of=AS_OF)
    assert ch.chart(summary, "date", "total_events", 5) == pg.chart(summary, "date", "total_events", 5)
    axes = ChartAxes("date", "total_events", 5)
    first, second = (
        pg.page(summary, page=1, page_size=10, chart=axes),
        ch.page(summary, page=1, page_size=10, chart=axes),
    )
    assert (second.total, second.rows, second.chart) == (first.total, first.rows, first.chart)
    assert first.chart == pg.chart(summary, *axes)


def _info(generated_at: dt.datetime) -> DocumentInfo:
    return DocumentInfo(
        title="Usage Summary",
        description="Same data, same time",
        tenant_id="acme",
        generated_at=generated_at,
        timezone="UTC",
        filters=["tenant_id = 'acme' (always applied)"],
        row_limit=5000,
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
@pytest.mark.parametrize(
    ("tenant", "config"),
    [
        ("acme", USAGE_SUMMARY_QUERY),
        (
            "acme",
            {
                "table": "device_metrics",
                "order_by": [{"field": "timestamp"}, {"field": "device_id"}],
                "limit": 300,
            },
        ),
        ("edge", EDGE_CORPUS["edge rows as they are"]),
    ],
    ids=["usage-summary", "device-metrics", "edge-rows"],
)
def test_exports_are_byte_identical(
    fmt: str,
    tenant: str,
    config: dict[str, Any],
    pg: PostgresAnalyticsSource,
    ch: ClickHouseAnalyticsSource,
    tmp_path: Path,
) -> None:
    query = compile_query(config, tenant_id=tenant, row_limit=5000, max_row_limit=5000, as_of=AS_OF)
    info = _info(dt.datetime(2025, 3, 10, 13, 0, 5, tzinfo=dt.UTC))
    made = {
        name: render_export(fmt, source, query, tmp_path / f"{name}.{fmt}", info)
        for name, source in (("postgres", pg), ("clickhouse", ch))
    }
    assert made["postgres"].rows == made["clickhouse"].rows > 0
    assert (tmp_path / f"clickhouse.{fmt}").read_bytes() == (tmp_path / f"postgres.{fmt}").read_bytes()
    assert made["postgres"].sha256 == made["clickhouse"].sha256


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_injection_in_values_is_only_ever_a_value(
    payload: str, ch: ClickHouseAnalyticsSource, ch_target: ClickHouseTarget
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
    query = ch.prepare(config, tenant_id="acme", row_limit=10, max_row_limit=10, as_of=AS_OF)
    statement, params = query.rows_sql()
    assert payload not in statement.as_string(None) and payload in params
    assert ch.page(query, page=1, page_size=10).total == 0
    everything = ch.prepare(
        {"table": "usage_events", "fields": [{"aggregate": "count"}]},
        tenant_id="acme",
        row_limit=1,
        max_row_limit=1,
    )
    assert ch.page(everything, page=1, page_size=1).rows[0][0] > 1000  # the table is still there


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_injection_in_identifiers_never_reaches_clickhouse(
    payload: str, ch: ClickHouseAnalyticsSource
) -> None:
    for config in (
        {"table": payload},
        {"table": "usage_events", "fields": [payload]},
        {"table": "usage_events", "fields": [{"field": "event_type", "as": payload}]},
        {"table": "usage_events", "order_by": [{"field": "event_type", "direction": payload}]},
        {"table": "usage_events", "timezone": payload},
    ):
        with pytest.raises(Exception, match=r"^Invalid query"):
            ch.prepare(config, tenant_id="acme", row_limit=10, max_row_limit=10)


def test_another_tenant_is_never_read(ch: ClickHouseAnalyticsSource) -> None:
    query = ch.prepare(
        {"table": "usage_events", "fields": ["tenant_id", {"aggregate": "count"}], "group_by": ["tenant_id"]},
        tenant_id="globex",
        row_limit=10,
        max_row_limit=10,
    )
    assert [row[0] for row in ch.page(query, page=1, page_size=10).rows] == ["globex"]


def test_a_missing_table_says_to_run_analytics_init(ch_target: ClickHouseTarget) -> None:
    source = ClickHouseAnalyticsSource(ClickHouseTarget(path=ch_target.path, database="not_initialized"))
    query = source.prepare(USAGE_SUMMARY_QUERY, tenant_id="acme", row_limit=10, max_row_limit=10)
    with pytest.raises(
        AnalyticsSchemaError,
        match=r"not_initialized\.usage_events .* does not exist: run `reporting-assets analytics init`",
    ):
        source.page(query, page=1, page_size=10)
    source.close()


def test_a_column_of_another_type_fails_before_the_export_starts(
    ch_target: ClickHouseTarget, tmp_path: Path
) -> None:
    client = open_client(ch_target)
    init_tables(client, "mismatched")
    client.command("ALTER TABLE mismatched.usage_events MODIFY COLUMN duration_ms Nullable(String)")
    client.close()
    source = ClickHouseAnalyticsSource(ClickHouseTarget(path=ch_target.path, database="mismatched"))
    query = compile_query({"table": "usage_events"}, tenant_id="acme")
    with pytest.raises(
        AnalyticsSchemaError,
        match=r"column duration_ms is Nullable\(String\), which does not read as integer",
    ):
        render_export("csv", source, query, tmp_path / "out.csv", _info(AS_OF))
    assert list(tmp_path.iterdir()) == []  # no file, not even a partial one
    source.close()


def test_an_unreachable_server_is_named_without_its_password() -> None:
    url = f"clickhouse://alice:Sup3rS3cret@127.0.0.1:{free_port()}/analytics"
    source = ClickHouseAnalyticsSource(parse_clickhouse_url(url))
    query = source.prepare(USAGE_SUMMARY_QUERY, tenant_id="acme", row_limit=10, max_row_limit=10)
    with pytest.raises(
        AnalyticsUnavailableError, match=r"^ClickHouse at clickhouse://alice:\*\*\*@127\.0\.0\.1:"
    ) as info:
        source.page(query, page=1, page_size=10)
    assert "Sup3rS3cret" not in str(info.value) and "Connection refused. Check that the server runs" in str(
        info.value
    )


def test_the_cli_inits_and_previews_on_the_embedded_engine(pg_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REPORTING_DATABASE_URL": pg_url,
        "REPORTING_DATA_DIR": str(tmp_path / "data"),
        "REPORTING_ANALYTICS_ENGINE": "clickhouse",
    }
    made = run_cli(
        "analytics", "init", "--sample", "--tenants", "acme", "--days", "3", "--end", "2025-03-10", env=env
    )
    assert made.returncode == 0, made.stderr
    assert (
        "Analytics tables ready (clickhouse): database analytics of the embedded ClickHouse engine"
        in made.stdout
    )
    shown = run_cli(
        "exports",
        "preview",
        "--tenant",
        "acme",
        "--user",
        "a@acme.example",
        "--query",
        '{"table": "usage_events", "fields": [{"aggregate": "count"}]}',
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split("\n")[2].strip() == "400"  # Sat and Sun 100 events each, Mon 200
    assert (tmp_path / "data" / "clickhouse").is_dir()


# --- CSV against COPY, value by value ------------------------------------------------------------

ODD_TENANT = "odd"
ODD_TEXTS = [
    "plain",
    "comma, inside",
    'say "hi"',
    '"',
    "line\nbreak",
    "carriage\rreturn",
    "crlf\r\n",
    "",
    " ",
    "=cmd|' /C calc'!A0",
    "+1",
    "-1",
    "@SUM(A1)",
    "\tlead tab",
    "\rlead cr",
    "'already quoted",
    "emoji 🎉 👩‍💻 and ÿ",
    "\\.",
    "\\",
    "a\\.b",
    "semi;colon|pipe",
]
ODD_STAMPS = [
    dt.datetime(2025, 6, 17, 9, 30, tzinfo=dt.UTC),
    dt.datetime(2025, 6, 17, 9, 30, 0, 500000, tzinfo=dt.UTC),
    dt.datetime(2025, 6, 17, 9, 30, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2025, 6, 17, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2025, 6, 18, 0, 0, 0, 120000, tzinfo=dt.UTC),
    dt.datetime(2000, 2, 29, 12, 0, 0, 10, tzinfo=dt.UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),
    # in New York: Sunday 1969-11-30 (day, week and month before the UTC ones); 00:30 EDT and
    # 23:30 EST of 1969-10-26, the day the clocks went back; 1899-12-31
    dt.datetime(1969, 12, 1, 3, 0, tzinfo=dt.UTC),
    dt.datetime(1969, 10, 26, 4, 30, tzinfo=dt.UTC),
    dt.datetime(1969, 10, 27, 4, 30, tzinfo=dt.UTC),
    dt.datetime(1900, 1, 1, 3, 0, tzinfo=dt.UTC),
]
ODD_FLOATS = [
    100.0,
    0.1,
    1.5,
    0.1 + 0.2,
    1 / 3,
    12345678.9,
    1e15,
    1e-5,
    123456789012345680000.0,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    0.0,
    -0.0,
    0.0001,
    math.nextafter(0.0001, 0),
    math.nextafter(0.0001, 1),
    0.00012345,
    0.000099999,
    1e14,
    123456789012345.6,
    999999999999999.9,
    math.nextafter(1e15, 0),
    math.nextafter(1e15, math.inf),
    1234567890123456.8,
    1.25e16,
    2.5e-7,
    1e-7,
    1e21,
    1e22,
    1e100,
    1e-100,
]
"""Every float also goes in negated (``-nan`` is NaN again)."""
METRIC_COLUMNS = ("tenant_id", "device_id", "timestamp", "os", "memory_mb", "cpu_percent", "battery_percent")


def _odd_events() -> list[tuple[Any, ...]]:
    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    rows = [
        (uuid.UUID(int=1000 + i), ODD_TENANT, start + dt.timedelta(hours=i), f"u-{i}", None, text, text, i)
        for i, text in enumerate(ODD_TEXTS)
    ]
    rows += [
        (uuid.UUID(int=2000 + i), ODD_TENANT, stamp, "u-stamp", "d-1", "stamp", None, None)
        for i, stamp in enumerate(ODD_STAMPS)
    ]
    return rows


def _odd_metrics() -> list[tuple[Any, ...]]:
    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    return [
        (ODD_TENANT, f"d-{i}", start + dt.timedelta(seconds=i), None, value, -value, None if i % 3 else value)
        for i, value in enumerate(ODD_FLOATS)
    ]


@pytest.fixture(scope="module")
def odd_sources(
    pg_server_url: str, ch_target: ClickHouseTarget
) -> Iterator[tuple[PostgresAnalyticsSource, ClickHouseAnalyticsSource]]:
    """Both engines holding the same odd values: a PostgreSQL database of its own whose
    device_metrics takes any double (its range checks dropped: negatives, NaN), and a
    ClickHouse database of its own."""
    ensure_databases(pg_server_url, ["csv_odd_values"])
    url = with_database(pg_server_url, "csv_odd_values")
    migrate(url)
    with connect(url) as conn:
        for column in ("cpu_percent", "memory_mb", "battery_percent"):
            conn.execute(
                sql.SQL("ALTER TABLE analytics.device_metrics DROP CONSTRAINT IF EXISTS {}").format(
                    sql.Identifier(f"device_metrics_{column}_check")
                )
            )
    target = ClickHouseTarget(path=ch_target.path, database="csv_odd_values")
    for table, columns, rows in (
        ("usage_events", EDGE_COLUMNS, _odd_events()),
        ("device_metrics", METRIC_COLUMNS, _odd_metrics()),
    ):
        _insert_postgres(url, table, columns, rows)
        _insert_clickhouse(target, table, columns, rows)
    source = ClickHouseAnalyticsSource(target)
    yield PostgresAnalyticsSource(url), source
    source.close()


ODD_BUCKETS: dict[str, Any] = {
    "table": "usage_events",
    "fields": [
        {"field": "timestamp", "bucket": "day", "as": "day"},
        {"field": "timestamp", "bucket": "week", "as": "week"},
        {"field": "timestamp", "bucket": "month", "as": "month"},
        {"aggregate": "count"},
    ],
    "group_by": ["day", "week", "month"],
    "order_by": [{"field": "day"}],
    "timezone": "America/New_York",
}
ODD_QUERIES: dict[str, tuple[dict[str, Any], list[str]]] = {
    # the query, and lines PostgreSQL's COPY writes for it (so the comparison covers them)
    "text, times and integers": (
        {
            "table": "usage_events",
            "fields": ["timestamp", "event_type", "feature", "device_id", "duration_ms"],
            "order_by": [{"field": "timestamp"}],
        },
        [
            '2025-06-01 02:00:00+00,"say ""hi""","say ""hi""",,2',
            '2025-06-01 07:00:00+00,"","",,7',
            "2025-06-01 11:00:00+00,'-1,'-1,,11",
            "2025-06-17 09:30:00.5+00,stamp,,d-1,",
            "2025-06-17 09:30:01.000001+00,stamp,,d-1,",
            "2000-02-29 12:00:00.00001+00,stamp,,d-1,",
            "1969-12-31 23:59:59.5+00,stamp,,d-1,",
        ],
    ),
    "floats": (
        {
            "table": "device_metrics",
            "fields": ["timestamp", "device_id", "memory_mb", "cpu_percent", "battery_percent"],
            "order_by": [{"field": "timestamp"}],
        },
        [
            "2025-06-01 00:00:00+00,d-0,100,-100,100",
            "2025-06-01 00:00:06+00,d-6,1e+15,-1e+15,1e+15",
            "2025-06-01 00:00:07+00,d-7,1e-05,-1e-05,",
            "2025-06-01 00:00:08+00,d-8,1.2345678901234568e+20,-1.2345678901234568e+20,",
            "2025-06-01 00:00:09+00,d-9,5e-324,-5e-324,5e-324",
            "2025-06-01 00:00:12+00,d-12,NaN,NaN,NaN",
            "2025-06-01 00:00:13+00,d-13,Infinity,-Infinity,",
            "2025-06-01 00:00:15+00,d-15,-0,0,-0",
        ],
    ),
    "day, week and month buckets in new york": (
        ODD_BUCKETS,
        [
            "day,week,month,count",
            "1899-12-31,1899-12-25,1899-12-01,1",
            "1969-10-26,1969-10-20,1969-10-01,2",
            "1969-11-30,1969-11-24,1969-11-01,1",
            "1969-12-31,1969-12-29,1969-12-01,1",
            "2000-02-29,2000-02-28,2000-02-01,1",
        ],
    ),
    "a lone backslash-dot in one column": (
        {
            "table": "usage_events",
            "fields": ["feature"],
            "filters": [{"field": "feature", "op": "eq", "value": "\\."}],
        },
        ["feature", '"\\."'],
    ),
    "no rows": (
        {
            "table": "usage_events",
            "fields": ["feature"],
            "filters": [{"field": "feature", "op": "eq", "value": "none"}],
        },
        ["feature", ""],
    ),
}


@pytest.mark.parametrize("name", list(ODD_QUERIES))
def test_odd_values_make_the_same_csv_as_copy(
    name: str, odd_sources: tuple[PostgresAnalyticsSource, ClickHouseAnalyticsSource]
) -> None:
    config, expected_lines = ODD_QUERIES[name]
    files = {}
    for source in odd_sources:
        query = source.prepare(config, tenant_id=ODD_TENANT, row_limit=1000, max_row_limit=1000)
        out = io.BytesIO()
        rows = source.copy_csv(query, out)
        files[source.name] = (rows, out.getvalue())
    assert files["clickhouse"] == files["postgresql"]
    made = files["postgresql"][1].decode("utf-8")
    assert [line for line in expected_lines if line not in made.split("\n")] == []


def test_buckets_before_1970_give_the_same_dates_on_both_engines(
    odd_sources: tuple[PostgresAnalyticsSource, ClickHouseAnalyticsSource],
) -> None:
    rows = _compare(ODD_BUCKETS, ODD_TENANT, *odd_sources)
    query = odd_sources[1].prepare(ODD_BUCKETS, tenant_id=ODD_TENANT, row_limit=1000, max_row_limit=1000)
    assert [column.type for column in query.columns] == ["date", "date", "date", "integer"]
    assert rows[:2] == [
        (dt.date(1899, 12, 31), dt.date(1899, 12, 25), dt.date(1899, 12, 1), 1),
        (dt.date(1969, 10, 26), dt.date(1969, 10, 20), dt.date(1969, 10, 1), 2),
    ]


def test_booleans_make_the_same_csv_as_copy(pg_url: str, ch: ClickHouseAnalyticsSource) -> None:
    """No catalog field is boolean yet; the spelling of one is checked on literals."""
    column = OutputColumn("flag", "boolean", "flag")
    statement = csv_lines_sql(sql.SQL("SELECT arrayJoin([true, false, NULL]) AS flag"), [column])
    client = open_client(ch.target)
    made = [row[0] for row in client.query(statement.as_string(None)).result_rows]
    client.close()
    copy = sql.SQL(
        "COPY (SELECT * FROM (VALUES (true), (false), (NULL::boolean)) AS v(flag)) TO STDOUT (FORMAT csv)"
    )
    with connect(pg_url) as conn, conn.cursor() as cur, cur.copy(copy) as rows:
        expected = b"".join(rows).decode()
    assert "\n".join(made) + "\n" == expected == "t\nf\n\n"
