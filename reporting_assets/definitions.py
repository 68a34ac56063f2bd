"""The reporting_assets code location: assets, jobs, sensors, schedules and resources, assembled.

Assembled when Dagster loads the code location (``@dg.definitions``), not when this module is
imported: the resources read which ``REPORTING_*`` variables are set, and the nightly summary
schedule its time of day (``REPORTING_SUMMARY_TIME_UTC``), at that moment.
"""

from functools import cache

import dagster as dg

from reporting_assets.automation import automation_assets, automation_jobs, automation_schedules
from reporting_assets.automation.resources import build_automation_resources
from reporting_assets.delivery import delivery_jobs, delivery_sensors
from reporting_assets.delivery.resources import build_delivery_resources
from reporting_assets.execution_reports.assets import render_execution_reports, render_reports_job
from reporting_assets.execution_reports.sensors import report_sensors
from reporting_assets.exports import build_export_resources, export_assets, export_jobs, export_sensors
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets.sources.assets import sample_pipelines_job, source_assets
from reporting_assets.sources.schedules import sample_pipelines_schedule
from reporting_assets.summaries.schedules import build_daily_summaries_schedule, summary_cron
from reporting_assets.sync import sync_assets, sync_jobs, sync_resources, sync_sensors
from reporting_assets.trends.assets import customer_trends, customer_trends_job, customer_trends_schedule


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *source_assets,
            render_execution_reports,
            customer_trends,
            *automation_assets,
            *export_assets,
            *sync_assets,
        ],
        jobs=[
            sample_pipelines_job,
            render_reports_job,
            customer_trends_job,
            *delivery_jobs,
            *automation_jobs,
            *export_jobs,
            *sync_jobs,
        ],
        sensors=[*report_sensors, *delivery_sensors, *export_sensors, *sync_sensors],
        schedules=[
            sample_pipelines_schedule,
            build_daily_summaries_schedule(summary_cron()),
            customer_trends_schedule,
            *automation_schedules,
        ],
        resources={
            "postgres": PostgresResource(),
            "report_settings": ReportSettingsResource(),
            **build_delivery_resources(),
            **build_automation_resources(),
            **build_export_resources(),
            **sync_resources,
        },
    )


@cache
def loaded_definitions() -> dg.Definitions:
    """``defs()`` once per process, for in-process callers (CLI commands, tests)."""
    return defs()
