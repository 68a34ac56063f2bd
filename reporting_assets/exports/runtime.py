"""What the export definitions do when they run: make and deliver an export, check export
health, clean up expired files, and plan the due exports of a sensor tick. Imported by their
bodies, so loading the code location does not pay for the export engine, the analytics sources,
the query compiler, the schedules' cron parser or psycopg."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg

from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.exports.analytics import analytics_source
from reporting_assets.exports.dagster_defs import ExportRunConfig, export_run_config, occurrence_run_config
from reporting_assets.exports.execute import ExportOutcome, ExportServices, claim_occurrence, execute_export
from reporting_assets.exports.maintenance import Health, cleanup_expired, export_health
from reporting_assets.exports.s3 import S3Resource
from reporting_assets.exports.scheduling import format_cursor, parse_cursor, pending_run_key, plan_exports
from reporting_assets.exports.settings import ExportSettings, ExportSettingsResource
from reporting_assets.logging_ids import get_logger
from reporting_assets.resources import PostgresResource


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


def make_export(
    context: dg.AssetExecutionContext,
    config: ExportRunConfig,
    postgres: PostgresResource,
    smtp: SmtpResource,
    s3: S3Resource,
    exports: ExportSettingsResource,
) -> Iterator[dg.MaterializeResult]:
    """The ``scheduled_exports`` materialization: one export made and delivered (none when the
    schedule is gone or the export was already made)."""
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


def _health(postgres: PostgresResource, settings: ExportSettings) -> Health:
    with postgres.connection(doing="checking export health") as conn:
        return export_health(conn, now=dt.datetime.now(dt.UTC), settings=settings)


def failure_rate_check(postgres: PostgresResource, exports: ExportSettingsResource) -> dg.AssetCheckResult:
    settings = exports.settings()
    health = _health(postgres, settings)
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


def backlog_check(postgres: PostgresResource, exports: ExportSettingsResource) -> dg.AssetCheckResult:
    settings = exports.settings()
    health = _health(postgres, settings)
    return dg.AssetCheckResult(
        passed=health.pending <= settings.pending_alert and health.stuck == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{health.pending} exports pending (alert above {settings.pending_alert}), "
        f"{health.stuck} processing for over an hour.",
        metadata={"pending": health.pending, "stuck_processing": health.stuck},
    )


def clean_up(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    s3: S3Resource,
    exports: ExportSettingsResource,
) -> None:
    """Expired export files removed (local and S3); fails naming those that could not be."""
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


def sensor_result(
    context: dg.SensorEvaluationContext, postgres: PostgresResource, now: dt.datetime
) -> dg.SensorResult:
    """One run per due schedule occurrence and per pending export attempt."""
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
        dg.RunRequest(run_key=pending_run_key(export_id, attempts), run_config=export_run_config(export_id))
        for export_id, attempts in plan.pending_exports
    ]
    return dg.SensorResult(
        run_requests=requests,
        cursor=format_cursor(plan.cursor),
        skip_reason=None if requests else "No export is due.",
    )
