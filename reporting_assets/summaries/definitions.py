"""The nightly ``daily_summaries_schedule``: yesterday's summaries for every customer, through the
``render_reports`` job of the execution_reports domain (which produces the summaries asset).

Its time of day (``REPORTING_SUMMARY_TIME_UTC``) is read when ``defs()`` runs, i.e. when Dagster
loads the code location.
"""

import dagster as dg

from reporting_assets.summaries.schedules import build_daily_summaries_schedule, summary_cron


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(schedules=[build_daily_summaries_schedule(summary_cron())])
