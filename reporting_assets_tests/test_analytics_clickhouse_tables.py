"""The ClickHouse analytics tables on a real embedded engine (chDB): ``analytics init`` stores
low-cardinality text as ``LowCardinality``, leaves a table made by an older init (plain
``String``) and its rows alone, and reports read both, and the documented ``ALTER`` that
upgrades the older one, the same."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from reporting_assets.exports.clickhouse_client import open_client
from reporting_assets.exports.clickhouse_schema import init_tables
from reporting_assets.exports.clickhouse_source import ClickHouseAnalyticsSource
from reporting_assets.exports.clickhouse_url import ClickHouseTarget
from reporting_assets.exports.dsl import USAGE_SUMMARY_QUERY, compile_query

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

pytestmark = pytest.mark.integration  # starts the embedded engine, as test_analytics_clickhouse.py

AS_OF = dt.datetime(2025, 3, 10, 13, 0, tzinfo=dt.UTC)
COLUMNS = ["event_id", "tenant_id", "timestamp", "user_id", "device_id", "event_type", "feature", "country"]
ROWS: list[tuple[Any, ...]] = [
    (
        uuid.UUID(int=i + 1),
        "acme" if i % 5 else "globex",
        AS_OF - dt.timedelta(hours=2 * i + 1, microseconds=i),
        f"user-{i % 7}",
        None if i % 4 == 0 else f"device-{i % 3}",
        ("page_view", "login", "export", "日本語")[i % 4],
        None if i % 6 == 0 else ("reports", "billing")[i % 2],
        ("US", "DE", None)[i % 3],
    )
    for i in range(60)
]
OLDER_USAGE_EVENTS = """CREATE TABLE {database}.usage_events (
    event_id UUID, tenant_id String, "timestamp" DateTime64(6, 'UTC'), user_id String,
    device_id Nullable(String), session_id Nullable(String), event_type String, feature Nullable(String),
    duration_ms Nullable(Int32), country Nullable(String)
) ENGINE = MergeTree ORDER BY (tenant_id, "timestamp")"""
"""``usage_events`` as an init before LowCardinality created it."""
UPGRADE = (
    "ALTER TABLE {database}.usage_events MODIFY COLUMN tenant_id LowCardinality(String), "
    "MODIFY COLUMN event_type LowCardinality(String), "
    "MODIFY COLUMN feature LowCardinality(Nullable(String)), "
    "MODIFY COLUMN country LowCardinality(Nullable(String))"
)
"""The upgrade docs/exports.md gives for such a table."""


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseTarget]:
    """An embedded engine with database ``newer`` made by init and ``older`` as an older init
    made it, both holding ROWS, ``older`` then init-ed again."""
    target = ClickHouseTarget(path=tmp_path_factory.mktemp("tables") / "clickhouse")
    client = open_client(target)
    try:
        init_tables(client, "newer")
        client.command("CREATE DATABASE older")
        client.command(OLDER_USAGE_EVENTS.format(database="older"))
        for database in ("newer", "older"):
            client.insert("usage_events", ROWS, column_names=COLUMNS, database=database)
        init_tables(client, "older")
        init_tables(client, "older")
    finally:
        client.close()
    yield target


def _types(target: ClickHouseTarget, database: str) -> dict[str, str]:
    client = open_client(target)
    try:
        rows = client.query(
            "SELECT name, type FROM system.columns WHERE database = {d:String} AND table = 'usage_events'",
            parameters={"d": database},
        ).result_rows
    finally:
        client.close()
    return {str(name): str(type_) for name, type_ in rows}


def _summary(target: ClickHouseTarget, database: str, tenant: str) -> list[tuple[Any, ...]]:
    source = ClickHouseAnalyticsSource(ClickHouseTarget(path=target.path, database=database))
    try:
        query = compile_query(USAGE_SUMMARY_QUERY, tenant_id=tenant, as_of=AS_OF, row_limit=1000)
        return [row for batch in source.stream(query) for row in batch]
    finally:
        source.close()


def test_init_stores_low_cardinality_text_as_low_cardinality(target: ClickHouseTarget) -> None:
    types = _types(target, "newer")
    assert types["tenant_id"] == types["event_type"] == "LowCardinality(String)"
    assert types["feature"] == types["country"] == "LowCardinality(Nullable(String))"
    assert types["user_id"] == "String" and types["device_id"] == "Nullable(String)"  # unbounded


def test_init_leaves_an_older_table_and_its_rows_alone(target: ClickHouseTarget) -> None:
    types = _types(target, "older")
    assert types["event_type"] == "String" and types["country"] == "Nullable(String)"
    client = open_client(target)
    try:
        assert client.command("SELECT count() FROM older.usage_events") == len(ROWS)
    finally:
        client.close()


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_reports_read_the_older_the_upgraded_and_the_new_table_the_same(
    target: ClickHouseTarget, tenant: str
) -> None:
    newer = _summary(target, "newer", tenant)
    assert len(newer) > 3 and {row[5] for row in newer} == {tenant}
    assert _summary(target, "older", tenant) == newer
    client = open_client(target)
    try:
        client.command(UPGRADE.format(database="older"), settings={"mutations_sync": 2})
    finally:
        client.close()
    assert _types(target, "older")["event_type"] == "LowCardinality(String)"
    assert _summary(target, "older", tenant) == newer
