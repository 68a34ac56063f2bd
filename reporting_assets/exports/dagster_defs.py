"""Dagster wiring of exports: thin wrappers over ``runtime``, imported when they run or tick.

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

import dagster as dg
from pydantic import Field

from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.exports.s3 import S3Resource
from reporting_assets.exports.settings import ExportSettingsResource
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
    from reporting_assets.exports.runtime import make_export

    yield from make_export(context, config, postgres, smtp, s3, exports)


@dg.asset_check(
    asset=scheduled_exports,
    name="export_failure_rate",
    description="Fails (warning) when more than failure_rate_alert_percent (default 10 %) of the exports "
    "finished in the window failed.",
)
def export_failure_rate(postgres: PostgresResource, exports: ExportSettingsResource) -> dg.AssetCheckResult:
    from reporting_assets.exports.runtime import failure_rate_check

    return failure_rate_check(postgres, exports)


@dg.asset_check(
    asset=scheduled_exports,
    name="export_backlog",
    description="Fails (warning) when more than pending_alert (default 100) exports wait, "
    "or any is stuck processing.",
)
def export_backlog(postgres: PostgresResource, exports: ExportSettingsResource) -> dg.AssetCheckResult:
    from reporting_assets.exports.runtime import backlog_check

    return backlog_check(postgres, exports)


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
    from reporting_assets.exports.runtime import clean_up

    clean_up(context, postgres, s3, exports)


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
        from reporting_assets.exports.runtime import sensor_result

        return sensor_result(context, postgres, clock())

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
