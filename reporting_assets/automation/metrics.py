"""Window metrics per source: from the lineage tables (one SQL aggregate), or, as a fallback,
basic metrics from the Dagster event log when the lineage has nothing for a source.

An *action* is one execution of a source pipeline for one customer and day: a row of
``reporting.workflow_execution_partitions``, placed in time by its run's start. Status
``success`` is successful, ``failed`` failed, and ``partial`` (the run finished but some
records failed) is counted apart: success rate = successful / total, as in ``customer_trends``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from reporting_assets.automation.window import ReportWindow
from reporting_assets.db.queries import query

if TYPE_CHECKING:
    from reporting_assets.db.connection import Connection

DataSource = Literal["lineage", "event_log"]


@dataclass(frozen=True)
class SourceMetrics:
    """One source's actions in the report window and in the window before it."""

    source: str
    total: int = 0
    successful: int = 0
    failed: int = 0
    partial: int = 0
    avg_seconds: float | None = None
    last_action_at: dt.datetime | None = None
    previous_total: int = 0
    previous_successful: int = 0
    previous_timed: int = 0
    previous_avg_seconds: float | None = None
    previous_last_action_at: dt.datetime | None = None
    data_source: DataSource = "lineage"

    @property
    def timed(self) -> int:
        """Actions whose duration counts (those that did not fail)."""
        return self.successful + self.partial

    @property
    def success_rate(self) -> float | None:
        """successful / total, None when there was nothing to measure."""
        return self.successful / self.total if self.total else None

    @property
    def previous_success_rate(self) -> float | None:
        return self.previous_successful / self.previous_total if self.previous_total else None

    def actions_per_hour(self, hours: int) -> float:
        return self.total / hours

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SourceMetrics:
        def seconds(value: Any) -> float | None:
            return None if value is None else float(value)

        return cls(
            source=row["source"],
            total=int(row["total_actions"]),
            successful=int(row["successful_actions"]),
            failed=int(row["failed_actions"]),
            partial=int(row["partial_actions"]),
            avg_seconds=seconds(row["avg_seconds"]),
            last_action_at=row["last_action_at"],
            previous_total=int(row["previous_total_actions"]),
            previous_successful=int(row["previous_successful_actions"]),
            previous_timed=int(row["previous_timed_actions"]),
            previous_avg_seconds=seconds(row["previous_avg_seconds"]),
            previous_last_action_at=row["previous_last_action_at"],
        )


def window_metrics(
    conn: Connection, window: ReportWindow, sources: Sequence[str] | None = None
) -> dict[str, SourceMetrics]:
    """Metrics from the lineage tables for every source with actions in the two windows
    (``sources`` limits the sources; None = all). Sources without actions are absent."""
    rows = conn.execute(
        query("automation_window_metrics"),
        {"window_start": window.start, "window_end": window.end, "previous_start": window.previous_start},
    ).fetchall()
    wanted = None if sources is None else set(sources)
    return {
        row["source"]: SourceMetrics.from_row(row)
        for row in rows
        if wanted is None or row["source"] in wanted
    }


def last_reported_actions(
    conn: Connection, window: ReportWindow, sources: Sequence[str]
) -> dict[str, dt.datetime]:
    """The last action earlier automation reports saw, per source (for quiet sources)."""
    if not sources:
        return {}
    rows = conn.execute(
        query("automation_last_reported_action"), {"sources": list(sources), "window_end": window.end}
    ).fetchall()
    return {row["source"]: row["last_action_at"] for row in rows}


@dataclass(frozen=True)
class ObservedAction:
    """One source event from the Dagster event log (fallback): what a run reported."""

    source: str
    run_id: str
    partition_key: str | None
    status: str  # success | partial | failed
    timestamp: float
    seconds: float | None


def metrics_from_actions(
    source: str, window: ReportWindow, actions: Iterable[ObservedAction]
) -> SourceMetrics:
    """The same figures as :func:`window_metrics`, computed from event-log actions."""
    start, end, previous_start = (t.timestamp() for t in (window.start, window.end, window.previous_start))
    current = [a for a in actions if previous_start <= a.timestamp < end]
    now = [a for a in current if a.timestamp >= start]
    before = [a for a in current if a.timestamp < start]

    def avg(items: list[ObservedAction]) -> float | None:
        timed = [a.seconds for a in items if a.status != "failed" and a.seconds is not None]
        return sum(timed) / len(timed) if timed else None

    def last(items: list[ObservedAction]) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(max(a.timestamp for a in items), dt.UTC) if items else None

    return SourceMetrics(
        source=source,
        total=len(now),
        successful=sum(a.status == "success" for a in now),
        failed=sum(a.status == "failed" for a in now),
        partial=sum(a.status == "partial" for a in now),
        avg_seconds=avg(now),
        last_action_at=last(now),
        previous_total=len(before),
        previous_successful=sum(a.status == "success" for a in before),
        previous_timed=sum(a.status != "failed" for a in before),
        previous_avg_seconds=avg(before),
        previous_last_action_at=last(before),
        data_source="event_log",
    )


def empty_metrics(source: str, data_source: DataSource = "lineage") -> SourceMetrics:
    return SourceMetrics(source=source, data_source=data_source)


def with_last_action(metrics: SourceMetrics, last_seen: dt.datetime | None) -> SourceMetrics:
    """For a quiet source: remember when it was last seen (from earlier reports)."""
    if metrics.previous_last_action_at is not None or last_seen is None:
        return metrics
    return replace(metrics, previous_last_action_at=last_seen)
