"""Schedules of a report: create, read, change, pause, delete and list them, and run one now.

Owners (``created_by``) and admins see and change a schedule; another tenant's schedules are
always "not found". Nothing here commits: callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.checks import parse_id, utc_now
from reporting_assets.exports.errors import NotFoundError, ScheduleValidationError
from reporting_assets.exports.models import Actor, Export, Schedule
from reporting_assets.exports.reports import get_report
from reporting_assets.exports.s3 import S3Settings
from reporting_assets.exports.schedule_fields import SCHEDULE_FIELDS, check_schedule, delivery_warnings
from reporting_assets.exports.scheduling import next_occurrence


def create_schedule(
    conn: Connection,
    actor: Actor,
    report_id: str,
    values: Mapping[str, Any],
    *,
    s3: S3Settings | None = None,
    now: dt.datetime | None = None,
    system_key: str | None = None,
) -> Schedule:
    """Schedule a report the actor can read; ``next_run_at`` is the first occurrence after now
    (nothing runs for times before the schedule existed).

    ``s3`` is the S3 configuration its exports will use (default bucket, endpoint); None when
    S3 is not configured, so an S3 delivery needs its own ``s3_config.bucket``. A bucket that
    cannot be reached is a warning on the returned schedule (``warnings``), not an error.
    """
    unknown = set(values) - SCHEDULE_FIELDS
    if unknown:
        raise ScheduleValidationError(f"unknown schedule field(s): {', '.join(sorted(unknown))}")
    report = get_report(conn, actor, report_id)
    fields = check_schedule(values, s3)
    warnings = delivery_warnings(fields, s3)
    upcoming = next_occurrence(fields.cron_expression, fields.timezone, now or utc_now())
    row = conn.execute(
        query("exports_schedule_insert"),
        {
            "report_id": report.id,
            **fields.sql_params(),
            "next_run_at": upcoming,
            "tenant_id": actor.tenant_id,
            "created_by": actor.user_id,
            "system_key": system_key,
        },
    ).fetchone()
    if row is None:
        existing = conn.execute(
            query("exports_schedule_by_system_key"), {"tenant_id": actor.tenant_id, "system_key": system_key}
        ).fetchone()
        assert existing is not None
        return Schedule.from_row(existing)
    return replace(Schedule.from_row(row), warnings=warnings)


def get_schedule(conn: Connection, actor: Actor, schedule_id: str) -> Schedule:
    """A schedule the actor owns (or any, as an admin); otherwise NotFoundError."""
    row = conn.execute(
        query("exports_schedule_get"), {"id": parse_id(schedule_id, "schedule"), "tenant_id": actor.tenant_id}
    ).fetchone()
    schedule = Schedule.from_row(row) if row else None
    if schedule is None or not (actor.is_admin or schedule.created_by == actor.user_id):
        raise NotFoundError(
            f"Schedule {schedule_id} does not exist in tenant {actor.tenant_id!r} (deleting a report "
            f"deletes its schedules), or it belongs to another user."
        )
    return schedule


def list_schedules(
    conn: Connection, actor: Actor, *, report_id: str | None = None, limit: int = 500
) -> list[Schedule]:
    """The schedules the actor owns (all of the tenant's, as an admin), optionally of one report."""
    rows = conn.execute(
        query("exports_schedule_list"),
        {
            "tenant_id": actor.tenant_id,
            "user_id": actor.user_id,
            "is_admin": actor.is_admin,
            "report_id": parse_id(report_id, "report") if report_id else None,
            "limit": limit,
        },
    ).fetchall()
    return [Schedule.from_row(r) for r in rows]


def update_schedule(
    conn: Connection,
    actor: Actor,
    schedule_id: str,
    changes: Mapping[str, Any],
    *,
    s3: S3Settings | None = None,
    now: dt.datetime | None = None,
) -> Schedule:
    """Change some fields of a schedule; a changed cron/timezone or a re-activation moves
    ``next_run_at`` to the next occurrence after now (no catch-up of the inactive time). The
    whole result is validated again, its delivery targets as :func:`create_schedule` does."""
    unknown = set(changes) - SCHEDULE_FIELDS
    if unknown:
        raise ScheduleValidationError(f"unknown schedule field(s): {', '.join(sorted(unknown))}")
    schedule = get_schedule(conn, actor, schedule_id)
    merged = {
        "name": schedule.name,
        "description": schedule.description,
        "cron_expression": schedule.cron_expression,
        "timezone": schedule.timezone,
        "format": schedule.format,
        "delivery_method": schedule.delivery_method,
        "recipients": schedule.recipients,
        "s3_config": schedule.s3_config,
        "email_config": schedule.email_config,
        "is_active": schedule.is_active,
        **changes,
    }
    fields = check_schedule(merged, s3)
    warnings = delivery_warnings(fields, s3)
    timing_changed = (
        fields.cron_expression != schedule.cron_expression
        or fields.timezone != schedule.timezone
        or (fields.is_active and not schedule.is_active)
    )
    next_run = (
        next_occurrence(fields.cron_expression, fields.timezone, now or utc_now())
        if timing_changed or schedule.next_run_at is None
        else schedule.next_run_at
    )
    row = conn.execute(
        query("exports_schedule_update"),
        {
            "id": schedule.id,
            "tenant_id": actor.tenant_id,
            **fields.sql_params(),
            "next_run_at": next_run,
        },
    ).fetchone()
    assert row is not None
    return replace(Schedule.from_row(row), warnings=warnings)


def toggle_schedule(
    conn: Connection,
    actor: Actor,
    schedule_id: str,
    active: bool | None = None,
    *,
    s3: S3Settings | None = None,
    now: dt.datetime | None = None,
) -> Schedule:
    """Pause or resume a schedule: flip (or set) ``is_active``."""
    schedule = get_schedule(conn, actor, schedule_id)
    target = (not schedule.is_active) if active is None else active
    return update_schedule(conn, actor, schedule_id, {"is_active": target}, s3=s3, now=now)


def delete_schedule(conn: Connection, actor: Actor, schedule_id: str) -> None:
    """Delete a schedule: its exports stay in the history (schedule_id
    becomes NULL, ON DELETE SET NULL)."""
    schedule = get_schedule(conn, actor, schedule_id)
    conn.execute(query("exports_schedule_delete"), {"id": schedule.id, "tenant_id": actor.tenant_id})


def run_schedule(
    conn: Connection, actor: Actor, schedule_id: str, *, now: dt.datetime | None = None
) -> Export:
    """Run a schedule now (``exports run``): a manual export with the schedule's format and
    delivery, pending until a run (the CLI right away, or the sensor) processes it. Works for
    inactive schedules too; it is not an occurrence (``next_run_at`` is unchanged)."""
    schedule = get_schedule(conn, actor, schedule_id)
    get_report(conn, actor, schedule.report_id)  # the actor must still be able to read the report
    row = conn.execute(
        query("exports_export_insert"),
        {
            "report_id": schedule.report_id,
            "schedule_id": schedule.id,
            "tenant_id": actor.tenant_id,
            "initiated_by": actor.user_id,
            "format": schedule.format,
            "as_of": now or utc_now(),
            "delivery_method": schedule.delivery_method,
            "delivery_config": Jsonb(schedule.delivery_config()),
        },
    ).fetchone()
    assert row is not None
    return Export.from_row(row)


# --- exports ---------------------------------------------------------------------------------
