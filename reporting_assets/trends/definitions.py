"""``customer_trends`` (daily partitions), its job and schedule. It uses the shared ``postgres``."""

import dagster as dg

from reporting_assets.trends.assets import customer_trends, customer_trends_job, customer_trends_schedule


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[customer_trends], jobs=[customer_trends_job], schedules=[customer_trends_schedule]
    )
