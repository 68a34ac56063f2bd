"""``daily_summary_email_sensor``: request a ``send_daily_summary_emails`` run for each
customer's day once its summary is ready to email (complete and the day over, or past the
deadline), once per content version; and, when recipients of that version failed, a retry run for them after a
delay (a bounded number of times).

Cost does not grow with history: one indexed query over summaries of the last
``lookback_days`` days or restated in that time, each with its count of active recipients, of
recipients that already have this exact content, and of its failed deliveries (a delivery
left 'sending' or 'pending' longer than the ledger's stale interval by a run that died counts as
failed, so it is retried like one; a run that died before the ledger is found by its
``reporting/email_version`` tag and run status). The run key
``daily_summary:{customer|date}:{content_hash}`` makes a repeated request a no-op in the
daemon; the cursor (requested version per recent summary, pruned to the window) makes a second
evaluation request nothing at all.
"""

import datetime as dt

import dagster as dg

from reporting_assets.delivery.jobs import send_daily_summary_emails
from reporting_assets.delivery.resources import SummaryEmailSettingsResource
from reporting_assets.logging_ids import get_logger
from reporting_assets.resources import PostgresResource

SENSOR_NAME = "daily_summary_email_sensor"


@dg.sensor(
    name=SENSOR_NAME,
    job=send_daily_summary_emails,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Emails each customer's daily summary once its day is over and it is complete, or "
    "at the deadline (default 06:00 UTC next day) even if incomplete; a restated summary gets one "
    "correction; failed recipients (and deliveries a stopped run left 'sending' for 15 minutes) are "
    "retried by a new run after retry_after_minutes, up to retry_runs times.",
)
def daily_summary_email_sensor(
    context: dg.SensorEvaluationContext,
    postgres: PostgresResource,
    summary_email: SummaryEmailSettingsResource,
) -> dg.SensorResult:
    from reporting_assets.delivery.email_plan import (
        EmailRuns,
        format_cursor,
        parse_cursor,
        plan_summary_emails,
    )

    now = dt.datetime.now(dt.UTC)
    with postgres.connection(doing="checking daily summaries to email") as conn:
        plan = plan_summary_emails(
            conn,
            now=now,
            settings=summary_email,
            requested=parse_cursor(context.cursor),
            runs=EmailRuns(context.instance),
        )
    log = get_logger(__name__, context.log)
    for note in plan.notes:
        log.info("ds-001", "%s", note)
    for run in plan.runs:
        log.info("ds-002", "%s version %s: %s", run.partition_key, run.version, run.reason)
    skip = None if plan.runs else "No daily summary is ready to email."
    return dg.SensorResult(
        run_requests=[run.run_request() for run in plan.runs],
        cursor=format_cursor(plan.requested),
        skip_reason=skip,
    )
