"""``execution_reports``, ``workflow_lineage`` and ``daily_customer_summaries``: one
subsettable step over partition ranges.

They share one step because a batched (partition-range) run yields one materialization per
partition, and Dagster skips any *downstream step* of an asset that yields no output: as
separate assets, lineage and summaries would be skipped in every batched run. Any subset can
still be selected alone. What the step does is in :mod:`reporting_assets.execution_reports.materialize`,
imported when it runs.
"""

from collections.abc import Iterator

import dagster as dg

from reporting_assets.partitions import customer_day_partitions
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets.sources.assets import SOURCE_ASSET_KEYS
from reporting_assets.sync.assets import SYNC_ORDER_LIST

EXECUTION_REPORTS = dg.AssetKey("execution_reports")
WORKFLOW_LINEAGE = dg.AssetKey("workflow_lineage")
DAILY_SUMMARIES = dg.AssetKey("daily_customer_summaries")
REPORT_ASSET_KEYS = [EXECUTION_REPORTS, WORKFLOW_LINEAGE, DAILY_SUMMARIES]
REPORTS_GROUP = "reports"
LOCAL_PIPELINE_KEYS = [*SOURCE_ASSET_KEYS, SYNC_ORDER_LIST]
"""This code location's own pipeline assets, drawn upstream of the report step in the asset graph.
Which runs get reports is the pipeline registry's business (any asset key, any code location)."""


@dg.multi_asset(
    name="render_execution_reports",
    specs=[
        dg.AssetSpec(
            EXECUTION_REPORTS,
            deps=LOCAL_PIPELINE_KEYS,
            group_name=REPORTS_GROUP,
            skippable=True,
            kinds={"postgres"},
            description=(
                "Markdown execution report (format in docs/report-format.md) for every run of a "
                "registered pipeline (`reporting-assets pipelines list`) in the partition, Dagster "
                "runs and runs reported from outside Dagster alike (one per run and pipeline), stored in "
                "reporting.pipeline_execution_reports. The asset view shows the latest report and a "
                "table of the partition's runs."
            ),
        ),
        dg.AssetSpec(
            WORKFLOW_LINEAGE,
            deps=[EXECUTION_REPORTS],
            group_name=REPORTS_GROUP,
            skippable=True,
            kinds={"postgres"},
            description=(
                "Workflow lineage: one workflow_executions row per run, a child row per run, "
                "pipeline, customer and day, and one report_lineage row per figure of each report."
            ),
        ),
        dg.AssetSpec(
            DAILY_SUMMARIES,
            deps=[EXECUTION_REPORTS],
            group_name=REPORTS_GROUP,
            skippable=True,
            kinds={"postgres"},
            description=(
                "Daily customer summary (format in docs/report-format.md): the day's totals with "
                "change against the previous day, a timeline of the day's runs and their warnings "
                "and errors, marked incomplete while an expected pipeline is missing or failed. "
                "Restatements are versioned in reporting.daily_customer_summary_history."
            ),
        ),
    ],
    partitions_def=customer_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
)
def render_execution_reports(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    report_settings: ReportSettingsResource,
) -> Iterator[dg.AssetMaterialization]:
    from reporting_assets.execution_reports.materialize import materialize_reports

    yield from materialize_reports(context, postgres, report_settings)


render_reports_job = dg.define_asset_job(
    "render_reports",
    selection=dg.AssetSelection.assets(*REPORT_ASSET_KEYS),
    description="Execution reports, lineage and daily summaries for a partition or a range of days.",
)
