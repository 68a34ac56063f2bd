"""Deliveries: the daily summary email and the one delivery ledger (``reporting.deliveries``)
that alerts and report exports reuse. See docs/delivery.md.

For the code location (``definitions.py``)::

    from reporting_assets.delivery import delivery_jobs, delivery_resources, delivery_sensors

Names are imported lazily, so ``reporting_assets.delivery.cli`` (and ``ledger``) load without
importing Dagster: the ``reporting-assets`` CLI stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

    from reporting_assets.delivery.jobs import send_daily_summary_emails
    from reporting_assets.delivery.resources import (
        SummaryEmailSettingsResource,
        build_delivery_resources,
        smtp_resource_from_env,
    )
    from reporting_assets.delivery.sensors import daily_summary_email_sensor
    from reporting_assets.delivery.smtp import SmtpResource, SmtpSettings, send_message

    delivery_jobs: list[dg.JobDefinition]
    delivery_sensors: list[dg.SensorDefinition]
    delivery_resources: dict[str, dg.ConfigurableResource]

_LAZY = {
    "SmtpResource": "reporting_assets.delivery.smtp",
    "SmtpSettings": "reporting_assets.delivery.smtp",
    "send_message": "reporting_assets.delivery.smtp",
    "SummaryEmailSettingsResource": "reporting_assets.delivery.resources",
    "build_delivery_resources": "reporting_assets.delivery.resources",
    "smtp_resource_from_env": "reporting_assets.delivery.resources",
    "send_daily_summary_emails": "reporting_assets.delivery.jobs",
    "daily_summary_email_sensor": "reporting_assets.delivery.sensors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "delivery_jobs":
        return [__getattr__("send_daily_summary_emails")]
    if name == "delivery_sensors":
        return [__getattr__("daily_summary_email_sensor")]
    if name == "delivery_resources":
        # ``smtp``: REPORTING_SMTP_* when set, else localhost:1025; ``summary_email``: deadline
        # 06:00 UTC next day. The job and sensor also use the project's ``postgres`` resource.
        return __getattr__("build_delivery_resources")()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SmtpResource",
    "SmtpSettings",
    "SummaryEmailSettingsResource",
    "build_delivery_resources",
    "daily_summary_email_sensor",
    "delivery_jobs",
    "delivery_resources",
    "delivery_sensors",
    "send_daily_summary_emails",
    "send_message",
    "smtp_resource_from_env",
]
