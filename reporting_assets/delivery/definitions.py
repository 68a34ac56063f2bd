"""The daily summary emails: ``send_daily_summary_emails`` and its sensor, with the ``smtp``
resource (owned here, also used by automation alerts and export emails) and ``summary_email``.

``smtp`` reads ``REPORTING_SMTP_*`` when ``defs()`` runs (unset: localhost:1025); the job and
sensor also use the shared ``postgres``.
"""

import dagster as dg

from reporting_assets.delivery.jobs import send_daily_summary_emails
from reporting_assets.delivery.resources import build_delivery_resources
from reporting_assets.delivery.sensors import daily_summary_email_sensor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[send_daily_summary_emails],
        sensors=[daily_summary_email_sensor],
        resources=build_delivery_resources(),
    )
