"""``--detailed``: per-pipeline and per-customer breakdowns, duration percentiles, the top
error messages with counts and the slowest runs with links, from the lineage tables.

Four set-based queries for all selected sources at once (``sql/queries/automation_details_*``),
so detail costs a few scans of the window's rows whatever the number of sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from reporting_assets.automation.window import ReportWindow, iso
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query

TOP_ERRORS = 5
SLOWEST_RUNS = 5


def _rate(successful: int, total: int) -> float | None:
    return round(successful / total, 3) if total else None


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _counts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "total_actions": int(row["total_actions"]),
        "successful_actions": int(row["successful_actions"]),
        "failed_actions": int(row["failed_actions"]),
        "partial_actions": int(row["partial_actions"]),
        "overall_success_rate": _rate(int(row["successful_actions"]), int(row["total_actions"])),
        "avg_duration_seconds": _seconds(row["avg_seconds"]),
    }


def empty_details() -> dict[str, Any]:
    return {
        "by_pipeline": [],
        "by_customer": [],
        "durations": {"timed_actions": 0, "p50_seconds": None, "p95_seconds": None, "max_seconds": None},
        "top_errors": [],
        "slowest_runs": [],
    }


def window_details(
    conn: Connection,
    window: ReportWindow,
    sources: Sequence[str],
    run_url: Callable[[str], str],
    *,
    top_errors: int = TOP_ERRORS,
    slowest_runs: int = SLOWEST_RUNS,
) -> dict[str, dict[str, Any]]:
    """Source -> its ``details`` section (every requested source gets one, empty if quiet)."""
    found = {source: empty_details() for source in sources}
    if not sources:
        return found
    params: dict[str, Any] = {"window_start": window.start, "window_end": window.end}

    def rows(name: str, **extra: Any) -> Iterator[dict[str, Any]]:
        """The query's rows of the requested sources (it reads every source: see
        automation_window_metrics.sql for why)."""
        return (row for row in conn.execute(query(name), {**params, **extra}) if row["source"] in found)

    for row in rows("automation_details_breakdown"):
        if row["dimension"] == "pipeline":
            found[row["source"]]["by_pipeline"].append({"pipeline": row["name"], **_counts(row)})
        else:
            found[row["source"]]["by_customer"].append(
                {"customer": row["name"], "customer_name": row["display_name"] or row["name"], **_counts(row)}
            )
    for row in rows("automation_details_durations"):
        found[row["source"]]["durations"] = {
            "timed_actions": int(row["timed_actions"]),
            "p50_seconds": _seconds(row["p50_seconds"]),
            "p95_seconds": _seconds(row["p95_seconds"]),
            "max_seconds": _seconds(row["max_seconds"]),
        }
    for row in rows("automation_details_errors", limit=top_errors):
        found[row["source"]]["top_errors"].append(
            {
                "message": row["message"],
                "count": int(row["occurrences"]),
                "latest_run_id": row["latest_run_id"],
                "latest_run_url": run_url(row["latest_run_id"]),
            }
        )
    for row in rows("automation_details_slowest", limit=slowest_runs):
        found[row["source"]]["slowest_runs"].append(
            {
                "run_id": row["run_id"],
                "pipeline": row["job_name"],
                "customer": row["customer_key"],
                "execution_date": row["execution_date"].isoformat(),
                "status": row["status"],
                "started_at": iso(row["started_at"]),
                "seconds": _seconds(row["seconds"]),
                "url": run_url(row["run_id"]),
            }
        )
    return found
