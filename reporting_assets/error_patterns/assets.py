"""``error_patterns``: one daily partition = the patterns of that day's execution reports."""

import datetime as dt

import dagster as dg

from reporting_assets.error_patterns.render import SHOWN_PATTERNS, patterns_markdown
from reporting_assets.error_patterns.store import day_patterns, refresh_day
from reporting_assets.partitions import PARTITIONS_START_DATE, run_partition_key
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.resources import PostgresResource, ReportSettingsResource

EXECUTION_REPORTS = dg.AssetKey("execution_reports")
pattern_days = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START_DATE, timezone="UTC")


@dg.asset(
    partitions_def=pattern_days,
    group_name="reports",
    kinds={"postgres"},
    deps=[
        dg.AssetDep(
            EXECUTION_REPORTS,
            partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"),
        )
    ],
)
def error_patterns(
    context: dg.AssetExecutionContext, postgres: PostgresResource, report_settings: ReportSettingsResource
) -> dg.MaterializeResult:
    """The errors and warnings of every execution report of the day, grouped by fingerprint (the
    message with numbers, ids, quoted values and timestamps masked): occurrences, customers and
    pipelines affected, first and last day seen, the latest run. Patterns first seen that day
    are flagged new, those with more than 3x their 7-day average growing; the daily summaries
    of the affected customers and the automation reports list them. Stored in
    reporting.error_patterns; re-running a day recomputes it and adds nothing."""
    day = dt.date.fromisoformat(run_partition_key(context))
    with postgres.connection(doing=f"grouping the error patterns of {day}") as conn:
        refresh_day(conn, day)
        rows = day_patterns(conn, day, limit=SHOWN_PATTERNS)
        run_url = load_registry(conn).run_links(report_settings.run_url, report_settings.asset_url)
    total = rows[0]["total"] if rows else 0
    return dg.MaterializeResult(
        metadata={
            "patterns": dg.MetadataValue.md(patterns_markdown(day.isoformat(), rows, run_url)),
            "pattern_count": dg.MetadataValue.int(total),
            "flagged": dg.MetadataValue.int(rows[0]["flagged_total"] if rows else 0),
            "occurrences_shown": dg.MetadataValue.int(sum(r["occurrences"] for r in rows)),
        }
    )


error_patterns_job = dg.define_asset_job("error_patterns_job", selection=[error_patterns])
error_patterns_schedule = dg.build_schedule_from_partitioned_job(
    error_patterns_job,
    name="error_patterns_schedule",
    hour_of_day=0,
    minute_of_hour=15,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
