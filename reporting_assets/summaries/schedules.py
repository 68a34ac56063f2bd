"""The nightly schedule: yesterday's summaries (UTC days) for every registered customer."""

import datetime as dt
import os
from collections.abc import Mapping

import dagster as dg

from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS, render_reports_job
from reporting_assets.partitions import every_customer_requests
from reporting_assets.time_of_day import parse_time_of_day

DEFAULT_SUMMARY_CRON = "30 0 * * *"  # 00:30 UTC: yesterday's runs are in
SUMMARY_TIME_ENV = "REPORTING_SUMMARY_TIME_UTC"


def summary_cron(environ: Mapping[str, str] | None = None) -> str:
    """The nightly schedule's cron: ``REPORTING_SUMMARY_TIME_UTC`` (HH:MM, a UTC time of day)
    when set, else 00:30. Read when the code location loads (schedules are fixed then)."""
    env = os.environ if environ is None else environ
    text = env.get(SUMMARY_TIME_ENV, "").strip()
    if not text:
        return DEFAULT_SUMMARY_CRON
    try:
        time = parse_time_of_day(text)
    except ValueError:
        raise ValueError(
            f"{SUMMARY_TIME_ENV}={text!r} is not a time of day: use HH:MM in 24-hour UTC, e.g. "
            "'01:15' (unset it for the default, 00:30)."
        ) from None
    return f"{time.minute} {time.hour} * * *"


def yesterday_requests(instance: dg.DagsterInstance, scheduled: dt.datetime) -> list[dg.RunRequest]:
    """One run per customer re-rendering yesterday's reports, lineage and summary."""
    day = scheduled.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    return every_customer_requests(
        instance, day, lambda customer: f"daily:{customer}|{day.isoformat()}", REPORT_ASSET_KEYS
    )


def build_daily_summaries_schedule(cron: str = DEFAULT_SUMMARY_CRON) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_summaries_schedule",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=render_reports_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Yesterday's daily customer summaries (and their reports and lineage) for all customers.",
    )
    def daily_summaries_schedule(
        context: dg.ScheduleEvaluationContext,
    ) -> list[dg.RunRequest] | dg.SkipReason:
        scheduled = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        requests = yesterday_requests(context.instance, scheduled)
        return requests or dg.SkipReason("No customers registered: run `reporting-assets customers add NAME`")

    return daily_summaries_schedule
