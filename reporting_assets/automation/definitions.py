"""Automation reports: ``automation_reports`` (with its success-rate check) and
``automation_alerts``, their job and the twice-daily schedule, with the ``automation`` resource
(``REPORTING_AUTOMATION_ALERT_THRESHOLD`` / ``_RECIPIENTS`` when set, else 95% and no recipients).

The assets also use the shared ``postgres`` and ``report_settings``, the delivery domain's
``smtp``, and ``code_location``: the schedules and sensors the report's system health counts,
which only the root can know, so the root adds it with :func:`code_location_definitions`.
"""

import dagster as dg

from reporting_assets.automation.assets import (
    automation_alerts,
    automation_reports,
    automation_reports_job,
    automation_reports_schedule,
)
from reporting_assets.automation.health import LocationAutomations
from reporting_assets.automation.resources import build_automation_resources

CODE_LOCATION_RESOURCE = "code_location"


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[automation_reports, automation_alerts],
        jobs=[automation_reports_job],
        schedules=[automation_reports_schedule],
        resources=build_automation_resources(),
    )


def code_location_definitions(location: dg.Definitions) -> dg.Definitions:
    """The ``code_location`` resource: every schedule and sensor of ``location``."""
    automations = LocationAutomations(tuple(location.schedules or ()), tuple(location.sensors or ()))
    resource = dg.ResourceDefinition.hardcoded_resource(
        automations,
        "The code location's schedules and sensors, counted by the automation report's system "
        "health when a run has no repository to read them from (execute_in_process).",
    )
    return dg.Definitions(resources={CODE_LOCATION_RESOURCE: resource})
