"""The defaults of a tenant: the "Usage Summary" report and its "Weekly Usage Summary
Email" schedule (Mondays 09:00 America/New_York, PDF, email, active).

Created idempotently (``system_key`` + ``ON CONFLICT DO NOTHING``): running it again changes
nothing, also not a report or schedule an admin has since edited. Per tenant, because reports
and recipients are tenant data: ``reporting-assets exports init-defaults --tenant T --user U
--role admin --recipient ops@example.com``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports import engine
from reporting_assets.exports.dsl import USAGE_SUMMARY_QUERY
from reporting_assets.exports.errors import PermissionDeniedError
from reporting_assets.exports.models import Actor, Report, Schedule
from reporting_assets.exports.settings import ExportSettings

REPORT_KEY = "usage_summary"
SCHEDULE_KEY = "weekly_usage_summary_email"
USAGE_SUMMARY: dict[str, Any] = {
    "name": "Usage Summary",
    "description": "Daily events, unique users and unique devices per event type over the last 7 days.",
    "query_config": USAGE_SUMMARY_QUERY,
    "visualization_config": {"type": "bar", "x": "date", "y": "total_events", "title": "Events per day"},
    "row_limit": 1000,
    "is_public": True,
    "tags": ["default", "usage"],
}
WEEKLY_EMAIL: dict[str, Any] = {
    "name": "Weekly Usage Summary Email",
    "description": "Every Monday at 09:00 New York time, the Usage Summary as PDF by email.",
    "cron_expression": "0 9 * * 1",
    "timezone": "America/New_York",
    "format": "pdf",
    "delivery_method": "email",
    "is_active": True,
}


@dataclass(frozen=True)
class Defaults:
    report: Report
    schedule: Schedule
    created_report: bool
    created_schedule: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.report.as_json(),
            "schedule": self.schedule.as_json(),
            "created_report": self.created_report,
            "created_schedule": self.created_schedule,
        }


def init_defaults(
    conn: Connection,
    actor: Actor,
    recipients: Sequence[str],
    settings: ExportSettings,
    *,
    now: dt.datetime | None = None,
) -> Defaults:
    """Create the tenant's default report and schedule when missing (admins only). Commits."""
    if not actor.is_admin:
        raise PermissionDeniedError(
            f"Creating tenant {actor.tenant_id!r}'s default report and schedule needs the admin role "
            f"(--role admin)."
        )
    existing_report = conn.execute(
        query("exports_report_by_system_key"), {"tenant_id": actor.tenant_id, "system_key": REPORT_KEY}
    ).fetchone()
    report = engine.create_report(conn, actor, USAGE_SUMMARY, settings, system_key=REPORT_KEY)
    existing_schedule = conn.execute(
        query("exports_schedule_by_system_key"), {"tenant_id": actor.tenant_id, "system_key": SCHEDULE_KEY}
    ).fetchone()
    if existing_schedule is not None:
        schedule = Schedule.from_row(existing_schedule)
    else:
        schedule = engine.create_schedule(
            conn,
            actor,
            report.id,
            {**WEEKLY_EMAIL, "recipients": list(recipients)},
            now=now,
            system_key=SCHEDULE_KEY,
        )
    conn.commit()
    return Defaults(report, schedule, existing_report is None, existing_schedule is None)
