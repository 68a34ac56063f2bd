"""A deterministic sample for the analytics tables: several tenants, a few months of events,
sessions and device metrics. Generated inside PostgreSQL (``generate_series`` + hashes), so a
million rows take seconds and the same arguments always give the same rows; re-running adds
nothing (ids are derived from the same hashes).

The generator queries only compute rows; :func:`generate_sample_data` inserts them into
PostgreSQL's tables, :func:`generate_clickhouse_sample_data` streams the same rows into
ClickHouse's, so both engines hold identical data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import tuple_row

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.errors import ExportError

SAMPLE_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "usage_events": (
        (
            "event_id",
            "tenant_id",
            "timestamp",
            "user_id",
            "device_id",
            "session_id",
            "event_type",
            "feature",
            "duration_ms",
            "country",
        ),
        ("event_id",),
    ),
    "user_sessions": (
        (
            "session_id",
            "tenant_id",
            "user_id",
            "device_id",
            "started_at",
            "ended_at",
            "duration_seconds",
            "page_views",
            "platform",
            "country",
        ),
        ("session_id",),
    ),
    "device_metrics": (
        (
            "tenant_id",
            "device_id",
            "timestamp",
            "os",
            "app_version",
            "cpu_percent",
            "memory_mb",
            "battery_percent",
            "network_latency_ms",
        ),
        ("tenant_id", "device_id", "timestamp"),
    ),
}
"""Table -> (the columns the generator query returns, in order; the key that makes re-runs add nothing)."""
COPY_BATCH_ROWS = 50_000

DEFAULT_TENANTS: tuple[str, ...] = ("acme", "globex", "initech")
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: ``days`` days ending with ``end`` (inclusive), per tenant."""

    end: dt.date
    tenants: tuple[str, ...] = DEFAULT_TENANTS
    days: int = 90
    events_per_day: int = 200
    users: int = 40
    sessions_per_day: int = 30
    devices: int = 12
    seed: str = "reporting-sample"

    @property
    def start(self) -> dt.datetime:
        first = self.end - dt.timedelta(days=self.days - 1)
        return dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)


def _params(spec: SampleSpec) -> dict[str, Any]:
    """The generator queries' parameters, after checking ``spec``."""
    if not spec.tenants:
        raise ExportError("Sample data needs at least one tenant.")
    for tenant in spec.tenants:
        if not TENANT_ID.match(tenant):
            raise ExportError(
                f"Tenant id {tenant!r} is not valid: 1-100 letters, digits, '.', '_' or '-', starting "
                f"with a letter or digit."
            )
    if not 1 <= spec.days <= 3660 or spec.events_per_day < 1 or spec.users < 1:
        raise ExportError("Sample data needs 1-3660 days, at least one event per day and one user.")
    return {
        "tenants": list(spec.tenants),
        "start": spec.start,
        "days": spec.days,
        "per_day": spec.events_per_day,
        "users": spec.users,
        "sessions_per_day": spec.sessions_per_day,
        "devices": spec.devices,
        "sample_seed": spec.seed,
    }


def generate_sample_data(conn: Connection, spec: SampleSpec) -> dict[str, int]:
    """Insert the sample into PostgreSQL (rows already there stay); return rows inserted per
    table. Commits."""
    params = _params(spec)
    counts = {}
    for table, (columns, key) in SAMPLE_TABLES.items():
        statement = sql.SQL("INSERT INTO {table} ({columns}) {rows} ON CONFLICT ({key}) DO NOTHING").format(
            table=sql.Identifier("analytics", table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            rows=sql.SQL(query(f"exports_sample_{table}")),
            key=sql.SQL(", ").join(map(sql.Identifier, key)),
        )
        cur = conn.execute(statement, params)
        counts[table] = max(cur.rowcount, 0)
    conn.execute("ANALYZE analytics.usage_events")
    conn.commit()
    return counts


def sample_rows(conn: Connection, table: str, spec: SampleSpec) -> Iterator[list[tuple[Any, ...]]]:
    """The sample rows of ``table`` in batches, computed by PostgreSQL and read through a
    server-side cursor (nothing is written there)."""
    with conn.cursor(name=f"sample_{table}", row_factory=tuple_row) as cur:
        cur.execute(query(f"exports_sample_{table}"), _params(spec))
        while batch := cur.fetchmany(COPY_BATCH_ROWS):
            yield batch


def generate_clickhouse_sample_data(
    conn: Connection, client: Any, database: str, spec: SampleSpec
) -> dict[str, int]:
    """Insert the same sample into the ClickHouse tables of ``database`` through ``client`` (a
    clickhouse-connect client; rows already there stay); return rows inserted per table.

    Each batch goes to a scratch Memory table first and only rows whose key is not in the table
    yet are copied over, so re-running adds nothing (MergeTree has no unique keys)."""
    counts = {}
    for table, (columns, key) in SAMPLE_TABLES.items():
        target = sql.Identifier(database, table).as_string(None)
        scratch_name = f"{table}_sample_scratch"
        scratch = sql.Identifier(database, scratch_name).as_string(None)
        names = sql.SQL(", ").join(map(sql.Identifier, columns)).as_string(None)
        keys = sql.SQL(", ").join(map(sql.Identifier, key)).as_string(None)
        before = int(client.command(f"SELECT count() FROM {target}"))
        client.command(f"DROP TABLE IF EXISTS {scratch}")
        client.command(f"CREATE TABLE {scratch} AS {target} ENGINE = Memory")
        try:
            for batch in sample_rows(conn, table, spec):
                client.command(f"TRUNCATE TABLE {scratch}")
                client.insert(scratch_name, batch, column_names=list(columns), database=database)
                client.command(
                    f"INSERT INTO {target} ({names}) SELECT {names} FROM {scratch} WHERE ({keys}) NOT IN "
                    f"(SELECT {keys} FROM {target} WHERE ({keys}) IN (SELECT {keys} FROM {scratch}))"
                )
        finally:
            client.command(f"DROP TABLE IF EXISTS {scratch}")
        counts[table] = int(client.command(f"SELECT count() FROM {target}")) - before
    return counts
