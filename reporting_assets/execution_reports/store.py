"""Store rendered reports chunk by chunk, all in one transaction: a first write is COPYed straight
into the table; otherwise each chunk goes through a staging table, then a plain insert (or the
upsert when rows exist)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

from reporting_assets.db.connection import Connection
from reporting_assets.db.first_write import insert_or_upsert, with_conflict_clause
from reporting_assets.db.queries import query
from reporting_assets.execution_reports.build import ReportIdentity, ReportRow

REPORT_COLUMNS = (  # what a stored report fills, in COPY order (benchmarks/aggregate.py writes it too)
    "customer_name",
    "customer_key",
    "execution_date",
    "pipeline_type",
    "execution_id",
    "external_execution_id",
    "partition_key",
    "status",
    "source_event",
    "event_storage_id",
    "run_started_at",
    "markdown_content",
    "summary_json",
    "metrics_json",
    "contract_json",
    "content_hash",
    "generated_at",
)
_JSON_COLUMNS = {"summary_json", "metrics_json", "contract_json"}


def _strip_nul(value: object) -> object:
    """PostgreSQL text cannot hold NUL; upstream names occasionally do."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def stage_values(row: ReportRow) -> tuple[object, ...]:
    """The row as the staging table's COPY takes it (built where the row is rendered)."""
    return tuple(
        row.json_texts[c] if c in _JSON_COLUMNS else _strip_nul(getattr(row, c)) for c in REPORT_COLUMNS
    )


def store_staged(
    conn: Connection, batches: Iterable[Sequence[tuple[object, ...]]], *, first_write: bool = False
) -> None:
    """Upsert batches of rows given as :func:`stage_values`, all in one transaction.

    ``batches`` may be a generator: each batch is copied and written as soon as it is produced,
    so the server works while the next batch renders and little is left after the last one.
    ``first_write``: the caller found none of these reports stored, so each batch is copied
    straight into the table; one that meets a stored row after all (a concurrent writer got
    there first) is rolled back to its savepoint and upserted through the staging table, as are
    the batches after it.
    """
    upsert = with_conflict_clause("reports_insert_new", "reports_on_conflict")
    with conn.transaction():
        conn.execute(query("reports_stage"))
        for batch in batches:
            if not batch:
                continue
            if first_write:
                try:
                    with conn.transaction():
                        _copy(conn, _COPY_INTO_TABLE, batch)
                    continue
                except psycopg.errors.UniqueViolation:
                    first_write = False
            _copy(conn, _COPY_INTO_STAGE, batch)
            insert_or_upsert(
                conn,
                exists=query("reports_exist_for_stage"),
                insert=query("reports_insert_new"),
                upsert=lambda: conn.execute(upsert),
            )
            conn.execute(query("reports_stage_clear"))


def _copy_statement(*table: str) -> sql.Composed:
    columns = sql.SQL(", ").join(map(sql.Identifier, REPORT_COLUMNS))
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(*table), columns)


_COPY_INTO_TABLE = _copy_statement("reporting", "pipeline_execution_reports")
_COPY_INTO_STAGE = _copy_statement("reports_stage")


def _copy(conn: Connection, statement: sql.Composed, rows: Sequence[tuple[object, ...]]) -> None:
    with conn.cursor().copy(statement) as copy:
        for value in rows:
            copy.write_row(value)


def first_generated(conn: Connection, partition_keys: Sequence[str]) -> dict[ReportIdentity, dt.datetime]:
    """When each existing report of these partitions was first generated."""
    rows = conn.execute(query("reports_generated_at"), {"partition_keys": list(partition_keys)})
    return {
        (r["execution_id"], r["pipeline_type"], r["customer_key"], r["execution_date"]): r["generated_at"]
        for r in rows
    }
