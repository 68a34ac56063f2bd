"""Reports from pipelines that run outside Dagster: one contract in, one runless materialization
of the registered pipeline's asset out.

``PipelineReporter.save()``, ``reporting-assets report-run`` and ``POST /api/pipeline-runs`` all
call :func:`record_run`. The event carries the contract and the external execution id; the
report sensor picks it up like any run's materialization, so the report, lineage and summary are
rendered by the same code. A report sent twice (same pipeline and external execution id) is one
report: the report layer keys external runs by that pair. The pipeline and customer are checked
against what the process knows of the registry (:mod:`reporting_assets.pipelines.known`), so a
warm process records a report with the event write as its only round trip.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import dagster as dg

from reporting_assets.contract import RunReport, parse_run_report
from reporting_assets.errors import ContractError
from reporting_assets.execution_reports.events import EXTERNAL_ID_METADATA_KEY
from reporting_assets.home import HOME_ENV
from reporting_assets.partition_keys import CustomerDay, parse_partition_key
from reporting_assets.partitions import PARTITIONS_START_DATE
from reporting_assets.pipelines.known import ConnectionSource, KnownNames, known_names
from reporting_assets.pipelines.registry import Pipeline

FIRST_DAY = dt.date.fromisoformat(PARTITIONS_START_DATE)


@dataclass(frozen=True)
class RecordedRun:
    """Where a recorded external run's report will appear."""

    pipeline_type: str
    external_execution_id: str
    partition_key: str
    asset_key: str

    @property
    def show_command(self) -> str:
        return f"reporting-assets reports show '{self.partition_key}' --pipeline {self.pipeline_type}"

    def as_json(self) -> dict[str, str]:
        return {
            "pipeline_type": self.pipeline_type,
            "external_execution_id": self.external_execution_id,
            "partition_key": self.partition_key,
            "asset_key": self.asset_key,
            "report": self.show_command,
        }


def parse_contract(raw: Any, source: str = "the run report") -> RunReport:
    """A contract from JSON data (a dict), validated, with a message naming each wrong field."""
    return parse_run_report(raw, source=source)


def check_run(
    connection: ConnectionSource,
    report: RunReport,
    partition_key: str | None = None,
    names: KnownNames | None = None,
) -> tuple[Pipeline, CustomerDay]:
    """The registered pipeline and partition of an external run, or an error saying what to fix:
    no external execution id, an unregistered pipeline or customer, a partition that is not the
    contract's customer and day. ``connection`` is used only when ``names`` (default: the
    process's) must re-read the registry."""
    names = names or known_names()
    label = f"{report.pipeline_type} run report for {report.customer_key!r} on {report.execution_date}"
    if not report.external_execution_id:
        raise ContractError(
            f"{label} has no external_execution_id: a run reported from outside Dagster is known by "
            f"it (a Kestra execution id, a Celery task id, a UUID kept for retries), so sending it "
            f"again makes no second report. Set it (e.g. from KESTRA_EXECUTION_ID)."
        )
    pipeline = names.pipeline(connection, report.pipeline_type)
    partition = CustomerDay(report.customer_key, report.execution_date)
    if partition_key is not None and partition_key != partition.partition_key:
        given = parse_partition_key(partition_key)
        raise ContractError(
            f"{label} does not match the partition {partition_key!r}: the contract says customer "
            f"{report.customer_key!r} and day {report.execution_date}, the partition "
            f"{given.customer_key!r} and {given.day}. Send the contract of that partition, or drop "
            f"the partition and let the contract say it."
        )
    if report.execution_date < FIRST_DAY:
        raise ContractError(f"{label}: days before {FIRST_DAY} have no reports (the partitions start there).")
    today = dt.datetime.now(dt.UTC).date()
    if report.execution_date > today:
        raise ContractError(
            f"{label}: the day is in the future (today is {today} UTC); a run reports the UTC day it "
            f"processed. Check execution_date."
        )
    names.require_customer(connection, report.customer_key)  # else names `customers add`, close keys
    return pipeline, partition


def external_metadata(report: RunReport) -> dict[str, dg.MetadataValue]:
    """The contract plus the numeric entries the UI plots (as a run's own), and the external id."""
    from reporting_assets.reporter import report_metadata

    metadata = report_metadata(report)
    metadata[EXTERNAL_ID_METADATA_KEY] = dg.MetadataValue.text(report.external_execution_id or "")
    return metadata


def record_run(
    instance: dg.DagsterInstance,
    connection: ConnectionSource,
    report: RunReport,
    partition_key: str | None = None,
    names: KnownNames | None = None,
) -> RecordedRun:
    """Check an external run's contract and record it as a runless materialization of its
    pipeline's asset for ``customer|day``."""
    pipeline, partition = check_run(connection, report, partition_key, names)
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=pipeline.key,
            partition=partition.partition_key,
            metadata=external_metadata(report),
            description=f"Reported from outside Dagster: external execution {report.external_execution_id}",
        )
    )
    assert report.external_execution_id is not None  # check_run refused it otherwise
    return RecordedRun(
        pipeline.pipeline_type, report.external_execution_id, partition.partition_key, pipeline.asset_key
    )


_instances: dict[tuple[str, str], dg.DagsterInstance] = {}


def default_instance() -> dg.DagsterInstance:
    """``DAGSTER_HOME``'s instance when set, else the project home's (its storage follows
    ``REPORTING_DATABASE_URL``): no code location is needed. Made once per process and home."""
    dagster_home = os.environ.get("DAGSTER_HOME", "").strip()
    where = (dagster_home, os.environ.get(HOME_ENV, "").strip() or os.getcwd())
    if where not in _instances:
        if dagster_home:
            _instances[where] = dg.DagsterInstance.get()
        else:
            from reporting_assets.instance import project_instance

            _instances[where] = project_instance()
    return _instances[where]
