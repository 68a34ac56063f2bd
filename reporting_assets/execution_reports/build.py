"""Turn source events into stored report rows: validate, compare with yesterday, render.

Pure functions over plain data (no Dagster, no database), so they are tested directly and can
run in worker processes for large batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson

from reporting_assets.contract import RunReport, parse_run_report
from reporting_assets.customer_settings.model import ReportSettings
from reporting_assets.customer_settings.rendering import customer_rendering
from reporting_assets.errors import ContractError
from reporting_assets.execution_reports.render import PipelineLabels, RunLinks, labels_for, render_report
from reporting_assets.execution_reports.source_event import SourceEvent
from reporting_assets.partition_keys import CustomerDay, parse_partition_key

ReportIdentity = tuple[str, str, str, dt.date]  # run id, pipeline type, customer key, day


@dataclass(frozen=True)
class ReportRow:
    """One row of ``reporting.pipeline_execution_reports``."""

    customer_name: str
    customer_key: str
    execution_date: dt.date
    pipeline_type: str
    execution_id: str
    external_execution_id: str | None
    partition_key: str
    status: str
    source_event: str
    event_storage_id: int | None
    run_started_at: dt.datetime | None
    markdown_content: str
    content_hash: str
    generated_at: dt.datetime
    json_texts: dict[str, str]  # the JSON columns, serialized once (hashed and stored as is)
    warnings: tuple[str, ...] = ()  # customer template blocks left out (the run logs them)

    @property
    def identity(self) -> ReportIdentity:
        return (self.execution_id, self.pipeline_type, self.customer_key, self.execution_date)

    # The JSON columns as objects, read back from their text when asked for: a row rendered in a
    # worker then travels to the run's process as text only (pickling the three objects there and
    # back cost as much as a tenth of a report's rendering).
    @cached_property
    def summary_json(self) -> dict[str, Any]:
        return dict(orjson.loads(self.json_texts["summary_json"]))

    @cached_property
    def metrics_json(self) -> dict[str, Any]:
        return dict(orjson.loads(self.json_texts["metrics_json"]))

    @cached_property
    def contract_json(self) -> dict[str, Any]:
        return dict(orjson.loads(self.json_texts["contract_json"]))


@dataclass(frozen=True)
class ReportInput:
    """Everything needed to render one report (the contract already validated once)."""

    event: SourceEvent
    report: RunReport
    problem: str | None
    previous: RunReport | None
    run_url: str | RunLinks
    run_started_at: dt.datetime | None
    generated_at: dt.datetime
    list_length: int
    labels: PipelineLabels | None = None
    settings: ReportSettings | None = None  # the customer's report settings (None: the default format)


def contract_from_event(event: SourceEvent, display_name: str) -> tuple[RunReport, str | None]:
    """The event's contract, or an error contract (status failed) that says what was wrong.

    Returns the contract and the problem found (None when the contract was valid).
    """
    partition = parse_partition_key(event.partition_key)
    problem: str | None = None
    if event.kind == "run_failure":
        return _error_report(event, partition, display_name, list(event.failure_messages)), None
    try:
        report = parse_run_report(event.raw_contract, source=event.label)
        mismatches = [
            f"{name} is {got!r} but the event is for {want!r}"
            for name, got, want in (
                ("customer_key", report.customer_key, partition.customer_key),
                ("execution_date", report.execution_date, partition.day),
                ("pipeline_type", report.pipeline_type, event.pipeline_type),
            )
            if got != want
        ]
        if mismatches:
            raise ContractError(f"{event.label}: run_report {'; '.join(mismatches)}.")
    except ContractError as exc:
        problem = str(exc)
        return _error_report(event, partition, display_name, [problem]), problem
    updates: dict[str, Any] = {"customer": display_name}
    if report.run_id != event.run_id:
        updates["run_id"] = event.run_id
    if event.external_id is not None and report.external_execution_id != event.external_id:
        updates["external_execution_id"] = event.external_id
    if event.kind == "observation" and report.status != "failed":
        updates["status"] = "failed"
    return report.model_copy(update=updates), None


def _error_report(
    event: SourceEvent, partition: CustomerDay, display_name: str, errors: list[str]
) -> RunReport:
    return RunReport(
        customer=display_name,
        customer_key=partition.customer_key,
        pipeline_type=event.pipeline_type,
        execution_date=partition.day,
        status="failed",
        run_id=event.run_id,
        external_execution_id=event.external_id,
        errors=errors or ["The run failed without reporting an error message."],
        next_actions=[f"Investigate the failed {event.pipeline_type} run {event.run_id} and re-run it"],
    )


ContractCache = dict[tuple[str, str, str], tuple[RunReport, str | None]]


def parsed_contract(
    event: SourceEvent, display_names: Mapping[str, str], cache: ContractCache
) -> tuple[RunReport, str | None]:
    """``contract_from_event`` once per (run, pipeline, partition): validation is the costly part."""
    key = (event.run_id, event.pipeline_type, event.partition_key)
    if key not in cache:
        customer = parse_partition_key(event.partition_key).customer_key
        cache[key] = contract_from_event(event, display_names.get(customer, customer))
    return cache[key]


def latest_successful(
    events: Sequence[SourceEvent],
    display_names: Mapping[str, str],
    partition_keys: set[str],
    cache: ContractCache,
) -> dict[tuple[str, str], RunReport]:
    """Per (partition, pipeline) of ``partition_keys``: the newest valid materialized contract.

    This is what the "Change" column compares with; only the candidates needed are validated.
    """
    candidates: dict[tuple[str, str], list[SourceEvent]] = {}
    for event in events:
        if (
            event.kind in ("materialization", "external")
            and event.storage_id is not None
            and event.partition_key in partition_keys
        ):
            candidates.setdefault((event.partition_key, event.pipeline_type), []).append(event)
    latest: dict[tuple[str, str], RunReport] = {}
    for key, found in candidates.items():
        for event in sorted(found, key=lambda e: e.storage_id or 0, reverse=True):
            report, problem = parsed_contract(event, display_names, cache)
            if problem is None:
                latest[key] = report
                break
    return latest


def build_row(item: ReportInput) -> ReportRow:
    """Render and package one report."""
    report = item.report
    labels = item.labels or labels_for(report.pipeline_type)
    custom, warnings = customer_rendering(item.settings, report, labels.title)
    markdown = render_report(
        report,
        previous=item.previous,
        run_url=item.run_url,
        generated_at=item.generated_at,
        list_length=item.list_length,
        labels=labels,
        custom=custom,
    )
    texts = {
        "summary_json": _json_text(report.summary()),
        "metrics_json": _json_text(report.metrics.model_dump(mode="json")),
        # the change sample is in the markdown and the event log; the rest is kept for audit
        # (pydantic writes it as JSON directly; its key order is JSONB's, the hash leaves it out)
        "contract_json": _no_nul(report.model_dump_json(exclude={"changes"})),
    }
    digest = hashlib.sha256(markdown.encode())
    digest.update(texts["summary_json"].encode())
    digest.update(texts["metrics_json"].encode())
    return ReportRow(
        customer_name=report.customer,
        customer_key=report.customer_key,
        execution_date=report.execution_date,
        pipeline_type=report.pipeline_type,
        execution_id=item.event.run_id,
        external_execution_id=report.external_execution_id,
        partition_key=item.event.partition_key,
        status=report.status,
        source_event=item.event.kind,
        event_storage_id=item.event.storage_id,
        run_started_at=item.run_started_at,
        markdown_content=markdown,
        content_hash=digest.hexdigest(),
        generated_at=item.generated_at,
        json_texts=texts,
        warnings=warnings,
    )


def _json_text(value: Any) -> str:
    """Canonical JSON for JSONB columns, with sorted keys (orjson: a fifth of ``json.dumps``'
    time, which was a tenth of a report's)."""
    return _no_nul(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def _no_nul(json_text: str) -> str:
    """PostgreSQL text cannot hold NUL, so an escaped one becomes U+FFFD."""
    return json_text.replace("\\u0000", "\\ufffd")
