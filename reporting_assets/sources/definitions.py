"""The sample pipelines' assets (``order_sync``, ``manufacturing_sync``, ``shipping_sync``), their
job and the hourly schedule. They use the shared ``postgres`` resource."""

import dagster as dg

from reporting_assets.sources.assets import sample_pipelines_job, source_assets
from reporting_assets.sources.schedules import sample_pipelines_schedule


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=source_assets, jobs=[sample_pipelines_job], schedules=[sample_pipelines_schedule]
    )
