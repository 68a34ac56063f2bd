"""``error_patterns``: one daily partition = the patterns of that day's execution reports.

A run may cover a range of days (a backfill is one run): the days are refreshed in order, so
each day's flags compare with the days before it, and each day gets its own materialization.
The asset is wiring; what it does when it runs is in :mod:`reporting_assets.error_patterns.materialize`.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg

from reporting_assets.partitions import PARTITIONS_START_DATE, latest_day_schedule, run_partition_keys
from reporting_assets.resources import PostgresResource, ReportSettingsResource

ERROR_PATTERNS = dg.AssetKey("error_patterns")
EXECUTION_REPORTS = dg.AssetKey("execution_reports")
pattern_days = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START_DATE, timezone="UTC")
"""Complete UTC days (today's partition appears once the day is over)."""


@dg.multi_asset(
    name="error_patterns",
    specs=[
        dg.AssetSpec(
            ERROR_PATTERNS,
            deps=[EXECUTION_REPORTS],
            group_name="reports",
            skippable=True,
            kinds={"postgres"},
            description=(
                "The errors and warnings of every execution report of the day, grouped by "
                "fingerprint (the message with numbers, ids, quoted values and timestamps masked): "
                "occurrences, customers and pipelines affected, first and last day seen, the latest "
                "run. Patterns first seen that day are flagged new, those above 3x their 7-day "
                "average growing; the daily summaries of the affected customers and the automation "
                "reports list them. Stored in reporting.error_patterns (docs/error-patterns.md); "
                "re-running a day recomputes it and adds nothing. The asset view shows the day's "
                "patterns as a table."
            ),
        )
    ],
    partitions_def=pattern_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def error_patterns(
    context: dg.AssetExecutionContext, postgres: PostgresResource, report_settings: ReportSettingsResource
) -> Iterator[dg.AssetMaterialization]:
    from reporting_assets.error_patterns.materialize import materialize_days

    days = sorted(dt.date.fromisoformat(k) for k in run_partition_keys(context))
    yield from materialize_days(context, days, postgres, report_settings)


error_patterns_job = dg.define_asset_job("error_patterns_job", selection=[ERROR_PATTERNS])
error_patterns_schedule = latest_day_schedule(
    error_patterns_job, pattern_days, name="error_patterns_schedule", hour_of_day=0, minute_of_hour=15
)
