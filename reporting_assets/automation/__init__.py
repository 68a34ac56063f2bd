"""Automation reports (seed 002): per source system metrics over a time window, twice daily
and on demand, with recommendations, a success-rate check and alert emails. See
docs/automation.md.

For the code location (``definitions.py``)::

    from reporting_assets.automation import (
        automation_asset_checks, automation_assets, automation_jobs, automation_resources,
        automation_schedules,
    )

Names are imported lazily, so ``reporting_assets.automation.cli`` loads without importing
Dagster: the ``reporting-assets`` CLI stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

    from reporting_assets.automation.assets import (
        automation_alerts,
        automation_reports,
        automation_reports_job,
        automation_reports_schedule,
    )
    from reporting_assets.automation.resources import AutomationSettingsResource, build_automation_resources

    automation_assets: list[dg.AssetsDefinition]
    automation_asset_checks: list[dg.AssetChecksDefinition]
    automation_jobs: list[dg.UnresolvedAssetJobDefinition]
    automation_schedules: list[dg.ScheduleDefinition]
    automation_resources: dict[str, dg.ConfigurableResource]

_LAZY = {
    "automation_reports": "reporting_assets.automation.assets",
    "automation_alerts": "reporting_assets.automation.assets",
    "automation_reports_job": "reporting_assets.automation.assets",
    "automation_reports_schedule": "reporting_assets.automation.assets",
    "AutomationSettingsResource": "reporting_assets.automation.resources",
    "build_automation_resources": "reporting_assets.automation.resources",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "automation_assets":
        return [__getattr__("automation_reports"), __getattr__("automation_alerts")]
    if name == "automation_asset_checks":
        return []  # the success-rate check is a check spec of automation_reports itself
    if name == "automation_jobs":
        return [__getattr__("automation_reports_job")]
    if name == "automation_schedules":
        return [__getattr__("automation_reports_schedule")]
    if name == "automation_resources":
        # ``automation``: REPORTING_AUTOMATION_ALERT_THRESHOLD / _RECIPIENTS when set, else 95% and
        # no recipients. The assets also use ``postgres``, ``report_settings`` and ``smtp``.
        return __getattr__("build_automation_resources")()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AutomationSettingsResource",
    "automation_alerts",
    "automation_asset_checks",
    "automation_assets",
    "automation_jobs",
    "automation_reports",
    "automation_reports_job",
    "automation_reports_schedule",
    "automation_resources",
    "automation_schedules",
    "build_automation_resources",
]
