"""Aggregate a day's execution reports per customer (pure: rows in, summaries out).

Totals use each pipeline's latest report of the day (a re-run replaces, it does not add);
the timeline lists every run. The four named totals come from the sample pipelines' types; every
other pipeline's new and updated records are totalled on their own (``pipeline_totals``), so a
registered pipeline counts without being named here. Completeness: every expected pipeline has a
latest report that succeeded or was partial; the rest are named as missing or failed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from reporting_assets.partition_keys import CustomerDay

TOTAL_SOURCES = {
    "new_orders": (("order_sync", "new"),),
    "updated_orders": (("order_sync", "updated"),),
    "manufacturing_updates": (("manufacturing_sync", "new"), ("manufacturing_sync", "updated")),
    "shipping_updates": (("shipping_sync", "new"), ("shipping_sync", "updated")),
}
NAMED_TOTAL_PIPELINES = frozenset(pipeline for sources in TOTAL_SOURCES.values() for pipeline, _ in sources)


class ReportRow(NamedTuple):
    """One execution report as ``sql/queries/summaries_reports.sql`` returns it.

    ``warnings`` / ``errors`` are the contract's lists; None stands for an empty list.
    """

    customer_key: str
    execution_date: dt.date
    customer_name: str
    pipeline_type: str
    execution_id: str
    status: str
    run_started_at: dt.datetime | None
    new: int | None
    updated: int | None
    seconds: float | None
    warnings: list[str] | None
    errors: list[str] | None


@dataclass(slots=True)
class DaySummary:
    """One customer's day: the figures of its ``daily_customer_summaries`` row, and the
    day's reports themselves as its timeline (a new tuple per run cost a fifth of aggregating).

    Not frozen: a frozen dataclass costs three times as much to build, and a backfill builds
    hundreds of thousands (nothing changes a summary after ``summarize_day``).
    """

    partition: CustomerDay
    customer_name: str
    total_pipelines: int
    successful_pipelines: int
    totals: dict[str, int]
    expected: list[str]
    missing: list[str]
    failed: list[str]
    timeline: list[ReportRow]  # the day's reports in run order
    warnings: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    pipeline_totals: dict[str, tuple[int, int]] = field(
        default_factory=dict
    )  # other pipelines: (new, updated)

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

    def status_text(self) -> str:
        """``json.dumps(self.status_json(), sort_keys=True)``, built without the generic encoder
        (what is hashed and stored, once per summary: the encoder was a tenth of the work)."""
        return (
            f'{{"complete": {"true" if self.is_complete else "false"}, "errors": {len(self.errors)}, '
            f'"expected": {_json_list(self.expected)}, "failed": {_json_list(self.failed)}, '
            f'"missing": {_json_list(self.missing)}, "runs": {self.total_pipelines}, '
            f'"successful_runs": {self.successful_pipelines}, "warnings": {len(self.warnings)}}}'
        )


def _json_list(items: list[str]) -> str:
    return _json_list_of(tuple(items))


@lru_cache(maxsize=4096)
def _json_list_of(items: tuple[str, ...]) -> str:
    """``json.dumps(list(items))``; pipeline name lists repeat, so each is encoded once."""
    return json.dumps(list(items))


_DAY_KEY = itemgetter(0, 1)  # (customer_key, execution_date) of a ReportRow
_TOTAL_FIELDS = tuple(
    (name, tuple((pipeline, attrgetter(figure)) for pipeline, figure in sources))
    for name, sources in TOTAL_SOURCES.items()
)  # TOTAL_SOURCES with a getter for each figure


def summarize_day(
    partition: CustomerDay,
    customer_name: str,
    rows: Sequence[ReportRow],
    expected: Sequence[str],
) -> DaySummary:
    """``rows`` are the day's reports in run order: the last one per pipeline is the latest."""
    latest = {row.pipeline_type: row for row in rows}
    totals: dict[str, int] = {}
    for name, sources in _TOTAL_FIELDS:
        total = 0
        for pipeline, figure in sources:
            row = latest.get(pipeline)
            if row is not None:
                total += figure(row) or 0  # the query's integer, or None
        totals[name] = total
    pipeline_totals = {
        pipeline: (row.new or 0, row.updated or 0)
        for pipeline, row in latest.items()
        if pipeline not in NAMED_TOTAL_PIPELINES
    }
    expected_sorted = sorted(expected)
    # a loop fills each pair of lists: a comprehension per list cost a fifth of summarize_day
    missing: list[str] = []
    failed: list[str] = []
    for pipeline in expected_sorted:
        row = latest.get(pipeline)
        if row is None:
            missing.append(pipeline)
        elif row.status == "failed":
            failed.append(pipeline)
    warnings: list[tuple[str, str]] = []
    errors: list[tuple[str, str]] = []
    for r in latest.values():
        if r.warnings:
            warnings += [(r.pipeline_type, w) for w in r.warnings]
        if r.errors:
            errors += [(r.pipeline_type, e) for e in r.errors]
    return DaySummary(
        partition=partition,
        customer_name=customer_name,
        total_pipelines=len(rows),
        successful_pipelines=[row.status for row in rows].count("success"),
        totals=totals,
        expected=expected_sorted,
        missing=missing,
        failed=failed,
        timeline=list(rows),
        warnings=warnings,
        errors=errors,
        pipeline_totals=pipeline_totals,
    )


def summarize(
    partitions: Sequence[CustomerDay],
    rows: Iterable[ReportRow],
    names: Mapping[str, str],
    expected_by_customer: Mapping[str, Sequence[str]],
    default_expected: Sequence[str],
) -> dict[CustomerDay, DaySummary]:
    """Summaries for ``partitions`` (and any other (customer, day) present in ``rows``).

    Within a (customer, day), ``rows`` must be in run order; days may come in any order.
    """
    by_key = {(p.customer_key, p.day): p for p in partitions}
    grouped: dict[tuple[str, dt.date], list[ReportRow]] = {key: [] for key in by_key}
    for day, day_rows in groupby(rows, key=_DAY_KEY):
        grouped.setdefault(day, []).extend(day_rows)
    summaries: dict[CustomerDay, DaySummary] = {}
    for key, reports in grouped.items():
        partition = by_key.get(key) or CustomerDay(*key)
        customer = partition.customer_key
        summaries[partition] = summarize_day(
            partition,
            names.get(customer) or (reports[0].customer_name if reports else customer),
            reports,
            expected_by_customer.get(customer) or default_expected,
        )
    return summaries
