"""``PipelineReporter``: how a pipeline run builds its run-report contract (seed 000's API).

Pipelines never write metadata keys by hand: they log changes, metrics, warnings and errors
here and return :meth:`PipelineReporter.materialize_result`. Inside a Dagster asset, wrap the
work in :func:`report_failures` so a failing run still records its error contract.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from reporting_assets.contract import (
    DEFAULT_MAX_CHANGES,
    RUN_REPORT_METADATA_KEY,
    Change,
    Counts,
    DatabaseOperations,
    ManufacturingSummary,
    Metrics,
    RunReport,
    ShippingSummary,
    Status,
)

_COUNT_METRICS = {"records_processed", "new", "updated", "failed"}
_DB_METRICS = {"inserts", "updates", "deletes", "queries"}
NUMERIC_METADATA_KEYS = ("records_processed", "new_records", "updated_records", "errors", "seconds")


class PipelineReporter:
    """Collects what one run did for one customer and day, and emits it as the contract."""

    def __init__(
        self,
        customer_name: str,
        pipeline_type: str,
        execution_id: str | None = None,
        *,
        execution_date: dt.date,
        customer_key: str | None = None,
        external_execution_id: str | None = None,
        max_changes: int = DEFAULT_MAX_CHANGES,
    ) -> None:
        self.customer_name = customer_name
        self.customer_key = customer_key or customer_name
        self.pipeline_type = pipeline_type
        self.execution_id = execution_id
        self.execution_date = execution_date
        self.external_execution_id = external_execution_id
        self.max_changes = max_changes
        self.start_time = dt.datetime.now(dt.UTC)
        self._started = time.perf_counter()
        self.changes: list[Change] = []
        self.changes_total = 0
        self.change_counts: dict[str, int] = {}
        self.counts: dict[str, int] = dict.fromkeys(sorted(_COUNT_METRICS), 0)
        self.database_operations: dict[str, int] = dict.fromkeys(sorted(_DB_METRICS), 0)
        self.api_calls: dict[str, int] = {}
        self.custom_metrics: dict[str, float] = {}
        self.previous_metrics: dict[str, float] = {}
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.next_actions: list[str] = []
        self.manufacturing: ManufacturingSummary | None = None
        self.shipping: ShippingSummary | None = None

    def log_change(
        self,
        category: str,
        description: str,
        count: int = 1,
        *,
        key: str | None = None,
        before: Any = None,
        after: Any = None,
        quantity: int | None = None,
    ) -> None:
        """Record a change; only the first ``max_changes`` are kept, every one is counted."""
        change = Change(
            category=category,
            description=description,
            key=key,
            before=None if before is None else str(before),
            after=None if after is None else str(after),
            quantity=quantity,
            count=count,
        )
        self.changes_total += 1
        self.change_counts[category] = self.change_counts.get(category, 0) + count
        if len(self.changes) < self.max_changes:
            self.changes.append(change)

    def log_metric(self, name: str, value: float, previous_value: float | None = None) -> None:
        """Record a metric. Counts, database operations and ``api_calls.<system>`` are typed;
        anything else is a custom metric shown in the report."""
        if name in _COUNT_METRICS:
            self.counts[name] = int(value)
        elif name in _DB_METRICS:
            self.database_operations[name] = int(value)
        elif name.startswith("api_calls."):
            self.api_calls[name.removeprefix("api_calls.")] = int(value)
        else:
            self.custom_metrics[name] = float(value)
        if previous_value is not None:
            self.previous_metrics[name] = float(previous_value)

    def count_api_calls(self, system: str, calls: int = 1) -> None:
        self.api_calls[system] = self.api_calls.get(system, 0) + calls

    def count_database_operations(self, kind: str, operations: int = 1) -> None:
        if kind not in _DB_METRICS:
            raise ValueError(f"Unknown database operation {kind!r}; use one of {sorted(_DB_METRICS)}")
        self.database_operations[kind] += operations

    def set_manufacturing(self, summary: ManufacturingSummary) -> None:
        self.manufacturing = summary

    def set_shipping(self, summary: ShippingSummary) -> None:
        self.shipping = summary

    def add_warning(self, message: str) -> None:
        self.warnings.append(message)

    def add_error(self, message: str) -> None:
        self.errors.append(message)

    def add_next_action(self, action: str) -> None:
        self.next_actions.append(action)

    def build(self, status: Status | None = None) -> RunReport:
        """The contract as it stands now. Status defaults to partial when errors were added."""
        seconds = round(time.perf_counter() - self._started, 3)
        processed = self.counts["records_processed"]
        return RunReport(
            customer=self.customer_name,
            customer_key=self.customer_key,
            pipeline_type=self.pipeline_type,
            execution_date=self.execution_date,
            status=status or ("partial" if self.errors else "success"),
            run_id=self.execution_id,
            external_execution_id=self.external_execution_id,
            started_at=self.start_time,
            finished_at=self.start_time + dt.timedelta(seconds=seconds),
            counts=Counts(**self.counts),
            changes=self.changes,
            changes_total=self.changes_total,
            change_counts=self.change_counts,
            manufacturing=self.manufacturing,
            shipping=self.shipping,
            metrics=Metrics(
                execution_time_seconds=seconds,
                records_per_second=round(processed / seconds, 2) if seconds > 0 else 0.0,
                database_operations=DatabaseOperations(**self.database_operations),
                api_calls=dict(sorted(self.api_calls.items())),
                error_count=len(self.errors),
                warning_count=len(self.warnings),
                custom=self.custom_metrics,
                previous=self.previous_metrics,
            ),
            warnings=self.warnings,
            errors=self.errors,
            next_actions=self.next_actions,
        )

    def to_metadata(self, status: Status | None = None) -> dict[str, dg.MetadataValue]:
        """One JSON entry with the contract plus numeric entries the Dagster UI plots."""
        return report_metadata(self.build(status))

    def materialize_result(self, status: Status | None = None) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=self.to_metadata(status))

    def generate_markdown(self) -> str:
        """The seed 000 report for this run as it stands (no day-over-day comparison)."""
        from reporting_assets.execution_reports.render import render_report

        return render_report(self.build(), previous=None, run_url=None, generated_at=None)


def report_metadata(report: RunReport) -> dict[str, dg.MetadataValue]:
    return {
        RUN_REPORT_METADATA_KEY: dg.MetadataValue.json(report.model_dump(mode="json")),
        "status": dg.MetadataValue.text(report.status),
        "records_processed": dg.MetadataValue.int(report.counts.records_processed),
        "new_records": dg.MetadataValue.int(report.counts.new),
        "updated_records": dg.MetadataValue.int(report.counts.updated),
        "errors": dg.MetadataValue.int(len(report.errors)),
        "seconds": dg.MetadataValue.float(report.metrics.execution_time_seconds),
    }


@contextmanager
def report_failures(
    context: dg.AssetExecutionContext, reporter: PipelineReporter
) -> Iterator[PipelineReporter]:
    """On an exception, log the error contract as an ``AssetObservation`` and re-raise.

    A failed step leaves no materialization; the observation is what lets the failed run
    still get its execution report.
    """
    try:
        yield reporter
    except BaseException as exc:
        reporter.add_error(f"Pipeline failed: {type(exc).__name__}: {exc}")
        context.log_event(
            dg.AssetObservation(
                asset_key=context.asset_key,
                partition=context.partition_key,
                metadata=reporter.to_metadata(status="failed"),
            )
        )
        raise
