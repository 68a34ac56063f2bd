"""Dagster wiring of exports: thin wrappers over ``scheduling``, ``execute`` and ``maintenance``.

* asset ``scheduled_exports`` (job ``scheduled_exports_job``): one run makes and delivers one
  export, either a schedule occurrence (config ``schedule_id`` + ``scheduled_for``) or an existing
  export (``export_id``: manual exports, retries). Each materialization carries the export's
  metadata (rows, size, format, deliveries, link), so the asset's history is the export history.
* asset checks ``export_failure_rate`` and ``export_backlog`` (alerts: over 10 % failed,
  over 100 pending), run after each export and hourly by the maintenance sensor;
* ``scheduled_exports_sensor`` (every 30 s): due schedule occurrences -> one run each, run key
  ``scheduled_export:{schedule id}:{due time}``; pending exports (manual, queued retries) -> one
  run per attempt;
* ``export_maintenance_sensor`` (hourly): the cleanup job and a check-only run.
"""

# no `from __future__ import annotations`: Dagster reads the config/resource annotations at runtime
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
from pydantic import Field

from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.exports.analytics import analytics_source
from reporting_assets.exports.execute import ExportOutcome, ExportServices, claim_occurrence, execute_export
from reporting_assets.exports.maintenance import cleanup_expired, export_health
from reporting_assets.exports.s3 import S3Resource
from reporting_assets.exports.scheduling import format_cursor, parse_cursor, pending_run_key, plan_exports
from reporting_assets.exports.settings import ExportSettingsResource
from reporting_assets.logging_ids import get_logger
from reporting_assets.resources import PostgresResource

ASSET_NAME = "scheduled_exports"
JOB_NAME = "scheduled_exports_job"
SENSOR_NAME = "scheduled_exports_sensor"
MAINTENANCE_JOB = "export_maintenance"
HEALTH_JOB = "export_health_checks"
MAINTENANCE_SENSOR = "export_maintenance_sensor"


class ExportRunConfig(dg.Config):
    schedule_id: str = Field(
        default="", description="Schedule of the occurrence to export (with scheduled_for)."
    )
    scheduled_for: str = Field(default="", description="Due time of the occurrence, ISO 8601 UTC.")
    export_id: str = Field(
        default="", description="Or: an existing export to process (manual export, retry)."
    )


def occurrence_run_config(schedule_id: str, scheduled_for: dt.datetime) -> dict[str, object]:
    return {
        "ops": {
            ASSET_NAME: {
                "config": {
                    "schedule_id": schedule_id,
                    "scheduled_for": scheduled_for.astimezone(dt.UTC).isoformat(),
                }
            }
        }
    }


def export_run_config(export_id: str) -> dict[str, object]:
    return {"ops": {ASSET_NAME: {"config": {"export_id": export_id}}}}


def _services(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    smtp: SmtpResource,
    s3: S3Resource,
    exports: ExportSettingsResource,
) -> ExportServices:
    settings = exports.settings()
    return ExportServices(
        source=analytics_source(settings, postgres.url()),
        settings=settings,
        smtp=smtp.settings(),
        s3=s3.settings(),
        log=context.log.info,
    )


def _metadata(outcome: ExportOutcome) -> dict[str, Any]:
    export = outcome.export
    assert export is not None
    meta: dict[str, Any] = {
        "export_id": export.id,
        "report_id": export.report_id,
        "schedule_id": export.schedule_id or "",
        "tenant_id": export.tenant_id,
        "format": export.format,
        "status": export.status,
        "rows": export.row_count or 0,
        "size_bytes": export.file_size or 0,
        "execution_time_ms": export.execution_time_ms or 0,
        "delivery": export.delivery_method or "download",
        "deliveries": dg.MetadataValue.json([d.as_json() for d in outcome.deliveries]),
        "file": export.file_path or "",
        "reused_file": outcome.reused_file,
    }
    if export.scheduled_for:
        meta["scheduled_for"] = export.scheduled_for.isoformat()
    if export.download_url:
        meta["link"] = dg.MetadataValue.url(export.download_url)
    return meta


@dg.asset(
    name=ASSET_NAME,
    group_name="exports",
    output_required=False,
    kinds={"postgres", "s3"},
    description="Report exports: each materialization is one export (a schedule occurrence, "
    "a manual export or a retry) made as CSV/XLSX/PDF and delivered by email and/or S3 exactly once.",
)
def scheduled_exports(
    context: dg.AssetExecutionContext,
    config: ExportRunConfig,
    postgres: PostgresResource,
    smtp: SmtpResource,
    s3: S3Resource,
    exports: ExportSettingsResource,
) -> Iterator[dg.MaterializeResult]:
    services = _services(context, postgres, smtp, s3, exports)
    log = get_logger(__name__, context.log)
    with postgres.connection(doing="running a report export") as conn:
        if config.export_id:
            export_id = config.export_id
        elif config.schedule_id and config.scheduled_for:
            due = dt.datetime.fromisoformat(config.scheduled_for)
            claimed = claim_occurrence(
                conn, config.schedule_id, due if due.tzinfo else due.replace(tzinfo=dt.UTC)
            )
            if claimed is None:
                log.warning(
                    "ed-001",
                    "Schedule %s no longer exists or is inactive (deleting a report deletes its "
                    "schedules); nothing exported for %s.",
                    config.schedule_id,
                    config.scheduled_for,
                )
                return
            export_id = claimed.id
        else:
            raise dg.Failure("Give either export_id, or schedule_id and scheduled_for, in the run config.")
        outcome = execute_export(conn, export_id, services)
    if outcome.status == "gone":
        log.warning("ed-002", "%s", outcome.message)
        return
    log.info("ed-003", "%s", outcome.message)
    if outcome.status == "already_completed":
        return  # a duplicate or re-executed run: nothing new to record
    if outcome.failed:
        raise dg.Failure(description=outcome.message, metadata=_metadata(outcome))
    yield dg.MaterializeResult(metadata=_metadata(outcome))


@dg.asset_check(
    asset=scheduled_exports,
    name="export_failure_rate",
    description="Fails (warning) when more than failure_rate_alert_percent (default 10 %) of the exports "
    "finished in the window failed.",
)
def export_failure_rate(postgres: PostgresResource, exports: ExportSettingsResource) -> dg.AssetCheckResult:
    settings = exports.settings()
    with postgres.connection(doing="checking export health") as conn:
        health = export_health(conn, now=dt.datetime.now(dt.UTC), settings=settings)
    return dg.AssetCheckResult(
        passed=health.failure_rate <= settings.failure_rate_alert,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{health.failed} of {health.completed + health.failed} exports failed in the last "
        f"{health.window_hours:g} h ({health.failure_rate:.0%}; "
        f"alert above {settings.failure_rate_alert:.0%}).",
        metadata={
            "failed": health.failed,
            "completed": health.completed,
            "failure_rate": health.failure_rate,
        },
    )


@dg.asset_check(
    asset=scheduled_exports,
    name="export_backlog",
    description="Fails (warning) when more than pending_alert (default 100) exports wait, "
    "or any is stuck processing.",
)
def export_backlog(postgres: PostgresResource, exports: ExportSettingsResource) -> dg.AssetCheckResult:
    settings = exports.settings()
    with postgres.connection(doing="checking export health") as conn:
        health = export_health(conn, now=dt.datetime.now(dt.UTC), settings=settings)
    return dg.AssetCheckResult(
        passed=health.pending <= settings.pending_alert and health.stuck == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{health.pending} exports pending (alert above {settings.pending_alert}), "
        f"{health.stuck} processing for over an hour.",
        metadata={"pending": health.pending, "stuck_processing": health.stuck},
    )


scheduled_exports_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.assets(scheduled_exports),
    description="Make and deliver one report export (requested by scheduled_exports_sensor).",
    tags={"reporting/kind": "export"},
)
export_health_job = dg.define_asset_job(
    HEALTH_JOB,
    selection=dg.AssetSelection.checks(export_failure_rate, export_backlog),
    description="Export health checks only (failure rate, backlog), without exporting anything.",
)


@dg.op(description="Delete expired export files (local and S3) and files of deleted exports.")
def cleanup_expired_exports(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    s3: S3Resource,
    exports: ExportSettingsResource,
) -> None:
    with postgres.connection(doing="cleaning up export files") as conn:
        report = cleanup_expired(
            conn, now=dt.datetime.now(dt.UTC), settings=exports.settings(), s3=s3.settings()
        )
    get_logger(__name__, context.log).info(
        "ed-004",
        "Removed %d local file(s) and %d S3 object(s).",
        report.removed_local,
        report.removed_s3,
    )
    context.add_output_metadata({"removed_local": report.removed_local, "removed_s3": report.removed_s3})
    if report.errors:
        raise dg.Failure(
            description="Some export files could not be removed (tried again next hour):\n"
            + "\n".join(f"  - {e}" for e in report.errors[:50])
        )


@dg.job(name=MAINTENANCE_JOB, description="Remove expired export files.", tags={"reporting/kind": "export"})
def export_maintenance() -> None:
    cleanup_expired_exports()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_scheduled_exports_sensor(clock: Callable[[], dt.datetime] = _utc_now) -> dg.SensorDefinition:
    """The sensor; ``clock`` is injectable so a test can evaluate it at a chosen instant."""

    @dg.sensor(
        name=SENSOR_NAME,
        job=scheduled_exports_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Requests one scheduled_exports run per due schedule occurrence (cron in the "
        "schedule's time zone; run key = schedule id + due time) and per pending export (manual or a "
        "queued retry).",
    )
    def scheduled_exports_sensor(
        context: dg.SensorEvaluationContext, postgres: PostgresResource
    ) -> dg.SensorResult:
        now = clock()
        with postgres.connection(doing="checking export schedules") as conn:
            plan = plan_exports(conn, now=now, cursor=parse_cursor(context.cursor))
        log = get_logger(__name__, context.log)
        for note in plan.notes:
            log.info("ed-005", "%s", note)
        requests = [
            dg.RunRequest(
                run_key=due.run_key,
                run_config=occurrence_run_config(due.schedule_id, due.scheduled_for),
                tags={
                    "reporting/schedule_id": due.schedule_id,
                    "reporting/tenant": due.tenant_id,
                    "reporting/scheduled_for": due.scheduled_for.isoformat(),
                },
            )
            for due in plan.due
        ] + [
            dg.RunRequest(
                run_key=pending_run_key(export_id, attempts), run_config=export_run_config(export_id)
            )
            for export_id, attempts in plan.pending_exports
        ]
        return dg.SensorResult(
            run_requests=requests,
            cursor=format_cursor(plan.cursor),
            skip_reason=None if requests else "No export is due.",
        )

    return scheduled_exports_sensor


scheduled_exports_sensor = build_scheduled_exports_sensor()


@dg.sensor(
    name=MAINTENANCE_SENSOR,
    jobs=[export_maintenance, export_health_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=3600,
    description="Hourly: remove expired export files and run the export health checks.",
)
def export_maintenance_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    hour = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"export_cleanup:{hour}", job_name=MAINTENANCE_JOB),
            dg.RunRequest(run_key=f"export_health:{hour}", job_name=HEALTH_JOB),
        ]
    )
