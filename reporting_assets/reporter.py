"""``PipelineReporter``: how a pipeline run builds its run-report contract.

Pipelines never write metadata keys by hand: they log changes, metrics, warnings and errors
here and return :meth:`PipelineReporter.materialize_result`. Inside a Dagster asset, wrap the
work in :func:`report_failures` so a failing run still records its error contract. Outside
Dagster, :meth:`PipelineReporter.save` records the run; a script launched through Dagster Pipes
passes :meth:`PipelineReporter.pipes_metadata` to ``dagster_pipes``. Dagster itself is imported
only by the methods that need it, so such scripts never load it.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reporting_assets.contract import (
    DEFAULT_MAX_CHANGES,
    RUN_REPORT_METADATA_KEY,
    SCHEMA_VERSION,
    Change,
    ManufacturingSummary,
    RunReport,
    ShippingSummary,
    Status,
    describe_problems,
)
from reporting_assets.errors import ContractError
from reporting_assets.text_rules import refuse_control_characters

if TYPE_CHECKING:
    import dagster as dg

    from reporting_assets.pipelines.ingest import RecordedRun

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
        self.customer_name = refuse_control_characters(customer_name, "customer name", ContractError)
        self.customer_key = refuse_control_characters(
            customer_key or customer_name, "customer key", ContractError
        )
        self.pipeline_type = refuse_control_characters(pipeline_type, "pipeline name", ContractError)
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
        try:
            change = Change(
                category=category,
                description=description,
                key=key,
                before=None if before is None else str(before),
                after=None if after is None else str(after),
                quantity=quantity,
                count=count,
            )
        except ValidationError as exc:
            raise ContractError(
                f"{self._label()}: change {category!r} ({description[:60]!r}) is not valid: "
                f"{describe_problems(exc)}. See docs/contract.md."
            ) from exc
        self.changes_total += 1
        self.change_counts[category] = self.change_counts.get(category, 0) + count
        if len(self.changes) < self.max_changes:
            self.changes.append(change)

    def log_metric(self, name: str, value: float, previous_value: float | None = None) -> None:
        """Record a metric. Counts, database operations and ``api_calls.<system>`` are typed;
        anything else is a custom metric shown in the report. NaN and infinities are refused
        here, naming the metric, rather than failing later in the report or the event log."""
        refuse_control_characters(name, "metric name", ContractError)
        number = self._finite(f"metric {name!r}", value)
        previous = (
            None
            if previous_value is None
            else self._finite(f"previous value of metric {name!r}", previous_value)
        )
        if name in _COUNT_METRICS:
            self.counts[name] = int(number)
        elif name in _DB_METRICS:
            self.database_operations[name] = int(number)
        elif name.startswith("api_calls."):
            self.api_calls[name.removeprefix("api_calls.")] = int(number)
        else:
            self.custom_metrics[name] = float(number)
        if previous is not None:
            self.previous_metrics[name] = float(previous)

    def count_api_calls(self, system: str, calls: int = 1) -> None:
        refuse_control_characters(system, "API system name", ContractError)
        added = int(self._finite(f"API calls to {system!r}", calls))
        self.api_calls[system] = self.api_calls.get(system, 0) + added

    def count_database_operations(self, kind: str, operations: int = 1) -> None:
        if kind not in _DB_METRICS:
            raise ValueError(f"Unknown database operation {kind!r}; use one of {sorted(_DB_METRICS)}")
        self.database_operations[kind] += int(self._finite(f"database {kind}", operations))

    def _finite(self, what: str, value: float) -> float:
        """``value`` as a number, or a ContractError naming ``what`` when it is not a finite one."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # exact, however large (a float would round big counts)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ContractError(f"{self._label()}: {what} must be a number, got {value!r}.") from None
        if not math.isfinite(number):
            raise ContractError(
                f"{self._label()}: {what} must be a finite number, got {value!r}; NaN and "
                f"infinities cannot be compared with the previous run or stored as JSON. Log a "
                f"real number, or leave the metric out when there is none."
            )
        return number

    def _label(self) -> str:
        return f"{self.pipeline_type} run report for {self.customer_key!r} on {self.execution_date}"

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
        fields: dict[str, Any] = {
            "customer": self.customer_name,
            "customer_key": self.customer_key,
            "pipeline_type": self.pipeline_type,
            "execution_date": self.execution_date,
            "status": status or ("partial" if self.errors else "success"),
            "run_id": self.execution_id,
            "external_execution_id": self.external_execution_id,
            "started_at": self.start_time,
            "finished_at": self.start_time + dt.timedelta(seconds=seconds),
            "counts": dict(self.counts),
            "changes": self.changes,
            "changes_total": self.changes_total,
            "change_counts": dict(self.change_counts),
            "manufacturing": self.manufacturing,
            "shipping": self.shipping,
            "metrics": {
                "execution_time_seconds": seconds,
                "records_per_second": round(processed / seconds, 2) if seconds > 0 else 0.0,
                "database_operations": dict(self.database_operations),
                "api_calls": dict(sorted(self.api_calls.items())),
                "error_count": len(self.errors),
                "warning_count": len(self.warnings),
                "custom": dict(self.custom_metrics),
                "previous": dict(self.previous_metrics),
            },
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "next_actions": list(self.next_actions),
        }
        try:
            return RunReport.model_validate(fields)
        except ValidationError as exc:
            raise ContractError(
                f"{self._label()} does not match contract v{SCHEMA_VERSION}: "
                f"{describe_problems(exc)}. See docs/contract.md."
            ) from exc

    def to_metadata(self, status: Status | None = None) -> dict[str, dg.MetadataValue]:
        """One JSON entry with the contract plus numeric entries the Dagster UI plots."""
        return report_metadata(self.build(status))

    def materialize_result(self, status: Status | None = None) -> dg.MaterializeResult:
        import dagster as dg

        return dg.MaterializeResult(metadata=self.to_metadata(status))

    def pipes_metadata(self, status: Status | None = None) -> dict[str, dict[str, Any]]:
        """The entries of :meth:`to_metadata` in Dagster Pipes' form, for
        ``PipesContext.report_asset_materialization(metadata=...)`` in a script that imports
        ``dagster_pipes`` only."""
        return {
            key: {"raw_value": value, "type": kind}
            for key, kind, value in metadata_entries(self.build(status))
        }

    def save(
        self,
        status: Status | None = None,
        *,
        instance: dg.DagsterInstance | None = None,
        partition_key: str | None = None,
    ) -> RecordedRun:
        """Record this run from outside Dagster: the contract becomes a runless materialization
        of the registered pipeline's asset for ``customer|day``, and the report sensor renders
        its report, lineage and summary. Needs ``external_execution_id`` and only the instance
        (``DAGSTER_HOME``, else the project home's, on ``REPORTING_DATABASE_URL``), no code
        location. When the instance is away the contract is spooled for
        ``reporting-assets report-run --spool`` and an ``InstanceUnavailableError`` says where."""
        from reporting_assets.pipelines.spool import send_report

        return send_report(self.build(status), instance=instance, partition_key=partition_key)

    save_to_database = save

    def generate_markdown(self) -> str:
        """The execution report for this run as it stands (no day-over-day comparison)."""
        from reporting_assets.execution_reports.render import render_report

        return render_report(self.build(), previous=None, run_url=None, generated_at=None)


def metadata_entries(report: RunReport) -> list[tuple[str, str, Any]]:
    """(key, kind, value) of the metadata a run carries: the contract as JSON plus the numbers
    the Dagster UI plots (docs/contract.md)."""
    return [
        (RUN_REPORT_METADATA_KEY, "json", report.model_dump(mode="json")),
        ("status", "text", report.status),
        ("records_processed", "int", report.counts.records_processed),
        ("new_records", "int", report.counts.new),
        ("updated_records", "int", report.counts.updated),
        ("errors", "int", len(report.errors)),
        ("seconds", "float", report.metrics.execution_time_seconds),
    ]


def report_metadata(report: RunReport) -> dict[str, dg.MetadataValue]:
    import dagster as dg

    made: dict[str, Any] = {
        "json": dg.MetadataValue.json,
        "text": dg.MetadataValue.text,
        "int": dg.MetadataValue.int,
        "float": dg.MetadataValue.float,
    }
    return {key: made[kind](value) for key, kind, value in metadata_entries(report)}


@contextmanager
def report_failures(
    context: dg.AssetExecutionContext, reporter: PipelineReporter
) -> Iterator[PipelineReporter]:
    """On an exception, log the error contract as an ``AssetObservation`` and re-raise.

    A failed step leaves no materialization; the observation is what lets the failed run
    still get its execution report.
    """
    import dagster as dg

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
