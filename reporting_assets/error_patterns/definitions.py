"""``error_patterns`` (daily partitions), its job and schedule (00:15 UTC, before the nightly
summaries read the flags). It uses the shared ``postgres`` and ``report_settings``."""

import dagster as dg

from reporting_assets.error_patterns.assets import error_patterns, error_patterns_job, error_patterns_schedule


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[error_patterns], jobs=[error_patterns_job], schedules=[error_patterns_schedule]
    )
