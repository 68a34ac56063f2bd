"""The sample pipelines on a clock: every hour, today's run for every registered customer.

This is what keeps a `dagster dev` instance producing reports, summaries and emails with
nobody touching anything. Stop it in the UI (Automation) when the samples are not wanted.
"""

import datetime as dt

import dagster as dg

from reporting_assets.partitions import every_customer_requests
from reporting_assets.sources.assets import sample_pipelines_job

SAMPLE_PIPELINES_CRON = "5 * * * *"


@dg.schedule(
    name="sample_pipelines_schedule",
    cron_schedule=SAMPLE_PIPELINES_CRON,
    execution_timezone="UTC",
    job=sample_pipelines_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the three sample pipelines hourly for today's partition of every customer.",
)
def sample_pipelines_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    scheduled = (context.scheduled_execution_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    requests = every_customer_requests(
        context.instance, scheduled.date(), lambda customer: f"sample:{customer}|{scheduled:%Y-%m-%dT%H:%M}"
    )
    return requests or dg.SkipReason("No customers registered: run `reporting-assets customers add NAME`")
