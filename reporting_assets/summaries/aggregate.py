"""Aggregate a day's execution reports per customer (pure: rows in, summaries out).

Totals use each pipeline's latest report of the day (a re-run replaces, it does not add);
the timeline lists every run. Completeness: every expected pipeline has a latest report that
succeeded or was partial; the rest are named as missing or failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reporting_assets.partition_keys import CustomerDay

DEFAULT_EXPECTED_PIPELINES = ("manufacturing_sync", "order_sync", "shipping_sync")
TOTAL_SOURCES = {
    "new_orders": (("order_sync", "new"),),
    "updated_orders": (("order_sync", "updated"),),
    "manufacturing_updates": (("manufacturing_sync", "new"), ("manufacturing_sync", "updated")),
    "shipping_updates": (("shipping_sync", "new"), ("shipping_sync", "updated")),
}


@dataclass(frozen=True)
class TimelineEntry:
    started_at: dt.datetime | None
    pipeline_type: str
    status: str
    seconds: float
    run_id: str


@dataclass(frozen=True)
class DaySummary:
    """One customer's day: the figures of seed 000's ``daily_customer_summaries`` row."""

    partition: CustomerDay
    customer_name: str
    total_pipelines: int
    successful_pipelines: int
    totals: dict[str, int]
    expected: list[str]
    missing: list[str]
    failed: list[str]
    timeline: list[TimelineEntry]
    warnings: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.missing and not self.failed

    def status_json(self) -> dict[str, Any]:
        return {
            "complete": self.is_complete,
            "expected": self.expected,
            "missing": self.missing,
            "failed": self.failed,
            "runs": self.total_pipelines,
            "successful_runs": self.successful_pipelines,
            "warnings": len(self.warnings),
            "errors": len(self.errors),
        }


def _latest_per_pipeline(rows: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Rows arrive ordered by run start; the last one per pipeline is the latest."""
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        latest[row["pipeline_type"]] = row
    return latest


def summarize_day(
    partition: CustomerDay,
    customer_name: str,
    rows: Sequence[Mapping[str, Any]],
    expected: Sequence[str],
) -> DaySummary:
    latest = _latest_per_pipeline(rows)
    totals = {
        name: sum(int(latest[p][f] or 0) for p, f in sources if p in latest)
        for name, sources in TOTAL_SOURCES.items()
    }
    expected_sorted = sorted(expected)
    missing = [p for p in expected_sorted if p not in latest]
    failed = [p for p in expected_sorted if p in latest and latest[p]["status"] == "failed"]
    warnings = [(r["pipeline_type"], w) for r in latest.values() for w in (r["warnings"] or [])]
    errors = [(r["pipeline_type"], e) for r in latest.values() for e in (r["errors"] or [])]
    return DaySummary(
        partition=partition,
        customer_name=customer_name,
        total_pipelines=len(rows),
        successful_pipelines=sum(1 for r in rows if r["status"] == "success"),
        totals=totals,
        expected=expected_sorted,
        missing=missing,
        failed=failed,
        timeline=[
            TimelineEntry(
                r["run_started_at"],
                r["pipeline_type"],
                r["status"],
                float(r["seconds"] or 0),
                r["execution_id"],
            )
            for r in rows
        ],
        warnings=warnings,
        errors=errors,
    )


def summarize(
    partitions: Sequence[CustomerDay],
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    expected_by_customer: Mapping[str, Sequence[str]],
    default_expected: Sequence[str] = DEFAULT_EXPECTED_PIPELINES,
) -> dict[CustomerDay, DaySummary]:
    """Summaries for ``partitions`` (and any other (customer, day) present in ``rows``)."""
    grouped: dict[CustomerDay, list[Mapping[str, Any]]] = {p: [] for p in partitions}
    for row in rows:
        grouped.setdefault(CustomerDay(row["customer_key"], row["execution_date"]), []).append(row)
    return {
        p: summarize_day(
            p,
            names.get(p.customer_key) or next((r["customer_name"] for r in day_rows), p.customer_key),
            day_rows,
            expected_by_customer.get(p.customer_key) or default_expected,
        )
        for p, day_rows in grouped.items()
    }
