"""``automation_reports`` (with its success-rate check) and ``automation_alerts``: thin Dagster
wrappers over :mod:`reporting_assets.automation.materialize` (imported when they run), plus the
job and the twice-daily schedule (04:00 and 21:00 UTC).

The asset is not partitioned: each materialization covers the ``time_window_hours`` before its
``report_time`` (the schedule passes its tick time), so the 04:00 and 21:00 reports overlap
by 7 h (docs/automation.md). Re-executing a run re-reports the same window and rewrites nothing unchanged.
"""

import datetime as dt

import dagster as dg
from pydantic import Field, field_validator

from reporting_assets.automation.health import LocationAutomations
from reporting_assets.automation.resources import AutomationSettingsResource
from reporting_assets.automation.window import (
    DEFAULT_TIME_WINDOW_HOURS,
    iso,
    parse_report_time,
    validate_time_window,
)
from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.resources import PostgresResource, ReportSettingsResource

AUTOMATION_REPORTS = dg.AssetKey("automation_reports")
AUTOMATION_ALERTS = dg.AssetKey("automation_alerts")
SUCCESS_RATE_CHECK = "success_rate_above_threshold"
AUTOMATION_GROUP = "automation"
AUTOMATION_CRON = "0 4,21 * * *"  # 04:00 and 21:00 UTC
JOB_NAME = "automation_reports_job"
SCHEDULE_NAME = "automation_reports_schedule"


class AutomationReportConfig(dg.Config):
    report_time: str | None = Field(
        default=None,
        description="End of the window, ISO 8601 UTC (e.g. 2025-07-10T21:00:00Z). Empty: now. The "
        "schedule passes its tick time, so a re-execution reports the same window.",
    )
    time_window_hours: int = Field(
        default=DEFAULT_TIME_WINDOW_HOURS, description="Hours before the report time to cover (1-720)."
    )
    sources: list[str] = Field(
        default=["all"], description="Source systems (pipeline types, e.g. order_sync or 'order'), or 'all'."
    )
    detailed: bool = Field(
        default=False,
        description="Add per-pipeline and per-customer breakdowns, p50/p95 durations, top errors and "
        "the slowest runs with links.",
    )

    @field_validator("time_window_hours")
    @classmethod
    def _check_hours(cls, value: int) -> int:
        return validate_time_window(value)

    @field_validator("report_time")
    @classmethod
    def _check_time(cls, value: str | None) -> str | None:
        if value:
            parse_report_time(value)
        return value


@dg.asset(
    key=AUTOMATION_REPORTS,
    group_name=AUTOMATION_GROUP,
    kinds={"postgres"},
    check_specs=[
        dg.AssetCheckSpec(
            SUCCESS_RATE_CHECK,
            asset=AUTOMATION_REPORTS,
            description="WARN when a source's success rate in the window is below the alert threshold "
            "(resource automation.alert_threshold, default 95%).",
        )
    ],
    description=(
        "Automation report (docs/automation.md) per source system (pipeline type) over the time "
        "window before the report time: actions, success rate, actions per hour, system health "
        "(running vs defined schedules and sensors) and recommendations. Stored in "
        "reporting.automation_reports; falls back to the Dagster event log for a source the "
        "lineage has nothing on."
    ),
)
def automation_reports(
    context: dg.AssetExecutionContext,
    config: AutomationReportConfig,
    postgres: PostgresResource,
    report_settings: ReportSettingsResource,
    automation: AutomationSettingsResource,
    code_location: dg.ResourceParam[LocationAutomations],
) -> dg.MaterializeResult:
    from reporting_assets.automation.materialize import materialize_reports

    return materialize_reports(context, config, postgres, report_settings, automation, code_location)


@dg.asset(
    key=AUTOMATION_ALERTS,
    deps=[AUTOMATION_REPORTS],
    group_name=AUTOMATION_GROUP,
    kinds={"email"},
    description=(
        "Emails an alert for each source of the run's automation reports that is below the success "
        "threshold, once per source and window (reporting.deliveries, kind 'alert')."
    ),
)
def automation_alerts(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    smtp: SmtpResource,
    automation: AutomationSettingsResource,
) -> dg.MaterializeResult:
    from reporting_assets.automation.materialize import materialize_alerts

    return materialize_alerts(context, postgres, smtp, automation)


automation_reports_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.assets(AUTOMATION_REPORTS, AUTOMATION_ALERTS),
    description="Automation reports for the window before the report time, then alert emails.",
    tags={"reporting/kind": "automation"},
)


def run_config_for(report_time: dt.datetime, hours: int = DEFAULT_TIME_WINDOW_HOURS) -> dict[str, object]:
    """Run config of an ``automation_reports_job`` run for the window ending at ``report_time``."""
    return {
        "ops": {
            "automation_reports": {
                "config": {"report_time": iso(report_time), "time_window_hours": validate_time_window(hours)}
            }
        }
    }


def scheduled_request(scheduled: dt.datetime) -> dg.RunRequest:
    """The run for one schedule tick: the 24 h before the tick, keyed by the tick."""
    moment = scheduled.astimezone(dt.UTC).replace(microsecond=0)
    return dg.RunRequest(run_key=f"automation:{iso(moment)}", run_config=run_config_for(moment))


@dg.schedule(
    name=SCHEDULE_NAME,
    cron_schedule=AUTOMATION_CRON,
    execution_timezone="UTC",
    job=automation_reports_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Automation reports at 04:00 and 21:00 UTC, each over the 24 h before it.",
)
def automation_reports_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return scheduled_request(context.scheduled_execution_time or dt.datetime.now(dt.UTC))
