"""The report step (``execution_reports``, ``workflow_lineage`` and ``daily_customer_summaries``
in one multi-asset, so the lineage and summaries domains have no assets of their own), the
``render_reports`` job and the sensors that follow source runs. They use the shared ``postgres``
and ``report_settings`` resources."""

import dagster as dg

from reporting_assets.execution_reports.assets import render_execution_reports, render_reports_job
from reporting_assets.execution_reports.sensors import report_sensors


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[render_execution_reports], jobs=[render_reports_job], sensors=report_sensors
    )
