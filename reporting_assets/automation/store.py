"""``reporting.automation_reports``: one row per source and window, the report's JSON document
plus its headline figures as columns. Idempotent: re-running a window rewrites nothing that is
unchanged (``sql/queries/automation_reports_*.sql``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.automation.report import AutomationReport
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query


def store_reports(conn: Connection, reports: Sequence[AutomationReport], run_id: str | None) -> int:
    """Upsert the reports (one transaction, not committed here); return rows written."""
    if not reports:
        return 0
    rows = conn.execute(
        query("automation_reports_upsert"),
        {
            "sources": [r.source for r in reports],
            "report_times": [r.window.end for r in reports],
            "window_starts": [r.window.start for r in reports],
            "hours": [r.window.hours for r in reports],
            "report_types": [r.document["metadata"]["report_type"] for r in reports],
            "detailed": [r.detailed for r in reports],
            "run_ids": [run_id for _ in reports],
            "totals": [r.metrics.total for r in reports],
            "successful": [r.metrics.successful for r in reports],
            "failed": [r.metrics.failed for r in reports],
            "partial": [r.metrics.partial for r in reports],
            "rates": [r.metrics.success_rate for r in reports],
            "below": [r.below_alert_threshold for r in reports],
            "reports": [Jsonb(r.document) for r in reports],
            "hashes": [r.content_hash for r in reports],
        },
    ).fetchall()
    return len(rows)


@dataclass(frozen=True)
class StoredReport:
    """A stored row, as the alert step reads it."""

    source: str
    report_time: Any
    time_window_hours: int
    run_id: str | None
    below_alert_threshold: bool
    document: dict[str, Any]


def reports_for_runs(conn: Connection, run_ids: Sequence[str]) -> list[StoredReport]:
    """Reports written by any of ``run_ids``; with none, those of the latest window."""
    rows = conn.execute(query("automation_reports_for_runs"), {"run_ids": list(run_ids)}).fetchall()
    return [
        StoredReport(
            source=row["source"],
            report_time=row["report_time"],
            time_window_hours=row["time_window_hours"],
            run_id=row["run_id"],
            below_alert_threshold=row["below_alert_threshold"],
            document=row["report"],
        )
        for row in rows
    ]
