"""Store rendered reports: one COPY into a staging table, one set-based upsert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.execution_reports.build import ReportIdentity, ReportRow

_STAGE_COLUMNS = (
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


def store_reports(conn: Connection, rows: Sequence[ReportRow]) -> None:
    """Upsert ``rows`` in one transaction (all or nothing; unchanged rows stay untouched)."""
    if not rows:
        return
    with conn.transaction():
        conn.execute(query("reports_stage"))
        copy_sql = f"COPY reports_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN"
        with conn.cursor().copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        row.json_texts[c] if c in _JSON_COLUMNS else _strip_nul(getattr(row, c))
                        for c in _STAGE_COLUMNS
                    ]
                )
        conn.execute(query("reports_merge"))


def first_generated(conn: Connection, partition_keys: Sequence[str]) -> dict[ReportIdentity, dt.datetime]:
    """When each existing report of these partitions was first generated."""
    rows = conn.execute(query("reports_generated_at"), {"partition_keys": list(partition_keys)})
    return {
        (r["execution_id"], r["pipeline_type"], r["customer_key"], r["execution_date"]): r["generated_at"]
        for r in rows
    }
