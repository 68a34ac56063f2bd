"""The reporting_assets code location: every domain's ``defs()``, merged.

Each domain folder has a ``definitions.py`` whose ``defs()`` returns its assets, jobs, sensors,
schedules and the resources it owns; ``shared_definitions`` provides the resources all of them
use (``postgres``, ``report_settings``). One owner per resource key: ``dg.Definitions.merge``
refuses two objects under one key. Assembled when Dagster loads the code location
(``@dg.definitions``), not when this module is imported: the resources read which
``REPORTING_*`` variables are set, and the nightly summary schedule its time of day
(``REPORTING_SUMMARY_TIME_UTC``), at that moment.
"""

from functools import cache

import dagster as dg

from reporting_assets import shared_definitions
from reporting_assets.automation import definitions as automation
from reporting_assets.delivery import definitions as delivery
from reporting_assets.error_patterns import definitions as error_patterns
from reporting_assets.execution_reports import definitions as execution_reports
from reporting_assets.exports import definitions as exports
from reporting_assets.sources import definitions as sources
from reporting_assets.summaries import definitions as summaries
from reporting_assets.sync import definitions as sync
from reporting_assets.trends import definitions as trends

DOMAINS = (
    shared_definitions,
    sources,
    execution_reports,
    summaries,
    trends,
    error_patterns,
    delivery,
    automation,
    exports,
    sync,
)


@dg.definitions
def defs() -> dg.Definitions:
    merged = dg.Definitions.merge(*(domain.defs() for domain in DOMAINS))
    # the automation report counts the schedules and sensors of the whole code location
    return dg.Definitions.merge(merged, automation.code_location_definitions(merged))


@cache
def loaded_definitions() -> dg.Definitions:
    """``defs()`` once per process, for in-process callers (CLI commands, tests)."""
    return defs()
