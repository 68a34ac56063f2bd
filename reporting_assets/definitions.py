"""The reporting_assets code location: assets, jobs and resources, assembled."""

import dagster as dg

from reporting_assets.execution_reports.assets import render_execution_reports, render_reports_job
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets.sources.assets import sample_pipelines_job, source_assets

defs = dg.Definitions(
    assets=[*source_assets, render_execution_reports],
    jobs=[sample_pipelines_job, render_reports_job],
    resources={
        "postgres": PostgresResource(),
        "report_settings": ReportSettingsResource(),
    },
)
