"""When schedules are due: cron expressions evaluated in each schedule's time zone, DST-correct,
and the sensor's plan (plain functions; ``dagster_defs.py`` wraps them).

**How times are computed.** croniter walks the *local wall clock* of the schedule's zone
(naive datetimes), and each occurrence is then placed in the zone with ``zoneinfo``. So
"0 9 * * 1" in America/New_York is 09:00 in New York every Monday: 14:00 UTC in winter, 13:00
UTC in summer. An occurrence in the spring-forward gap (02:30 on the change day) runs at the
same instant as 03:30 that day; one in the repeated autumn hour runs once, at the first 01:30.

**Exactly once.** An occurrence is identified by (schedule id, due time in UTC). The sensor
asks for one run per occurrence with that as the run key; the run claims the occurrence in
``reporting.exports`` (UNIQUE (schedule_id, scheduled_for)) before it does anything, and moves
``next_run_at`` past it. A tick evaluated twice, a restarted daemon or a re-executed run find the
key or the claim and do nothing new.

**Missed occurrences** (the daemon was down over several due times): only the latest due
occurrence runs, once; the skipped ones are named in the sensor's log. Sending a burst of stale
weekly reports after an outage helps nobody, and the latest one covers the most recent data.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.dsl import zone
from reporting_assets.exports.errors import ScheduleValidationError
from reporting_assets.exports.models import Schedule

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MIN_INTERVAL = dt.timedelta(minutes=5)
CRON_GAPS_CHECKED = 500
"""Firings whose gaps check_cron measures (years of a monthly schedule, days of a dense one)."""
MAX_MISSED_COUNTED = 1000
CURSOR_VERSION = 1


def check_cron(expression: str) -> str:
    """``expression`` (trimmed) if it is a 5-field cron expression or a macro such as @weekly
    that fires at most every 5 minutes; else a ScheduleValidationError saying why."""
    text = " ".join(str(expression).split())
    example = "e.g. '0 9 * * 1' (Mondays 09:00) or '30 6 1 * *' (06:30 on the 1st)"
    if not text or len(text) > 100:
        raise ScheduleValidationError(f"cron_expression: must be 1-100 characters, {example}")
    if not (text in MACROS or len(text.split(" ")) == 5) or not croniter.is_valid(text):
        raise ScheduleValidationError(
            f"cron_expression: {text!r} is not a valid cron expression; use five fields "
            f"(minute hour day-of-month month day-of-week), {example}"
        )
    it = croniter(text, dt.datetime(2025, 1, 6))
    try:
        # the shortest gap over many firings, not only the first two: "0,59 0,23 * * *" fires at
        # 23:59 and again at 00:00
        previous = it.get_next(dt.datetime)
        for _ in range(CRON_GAPS_CHECKED):
            current = it.get_next(dt.datetime)
            if current - previous < MIN_INTERVAL:
                raise ScheduleValidationError(
                    f"cron_expression: {text!r} fires {int((current - previous).total_seconds() // 60)} "
                    f"minute(s) apart (at {previous:%H:%M} and {current:%H:%M}); exports may run at most "
                    f"every {int(MIN_INTERVAL.total_seconds() // 60)} minutes"
                )
            previous = current
    except CroniterBadDateError:
        raise ScheduleValidationError(
            f"cron_expression: {text!r} never fires (no such date, e.g. February 31st); {example}"
        ) from None
    return text


def check_timezone(name: str) -> str:
    try:
        zone(name)
    except ValueError as exc:
        raise ScheduleValidationError(str(exc)) from None
    return name


def _local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _aware(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def next_occurrence(cron: str, timezone: str, after: dt.datetime) -> dt.datetime:
    """The first occurrence strictly after ``after`` (UTC)."""
    tz = zone(timezone)
    local = _local(after, tz).replace(second=0, microsecond=0)
    it = croniter(cron, local)
    while True:
        candidate = _aware(it.get_next(dt.datetime), tz)
        if candidate > after:
            return candidate


def latest_occurrence(cron: str, timezone: str, at_or_before: dt.datetime) -> dt.datetime:
    """The last occurrence at or before ``at_or_before`` (UTC)."""
    tz = zone(timezone)
    local = _local(at_or_before, tz).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    it = croniter(cron, local)
    while True:
        candidate = _aware(it.get_prev(dt.datetime), tz)
        if candidate <= at_or_before:
            return candidate


def occurrences_between(cron: str, timezone: str, start: dt.datetime, end: dt.datetime) -> int:
    """How many occurrences fall in [start, end] (counted up to MAX_MISSED_COUNTED)."""
    count = 0
    moment = start - dt.timedelta(microseconds=1)
    while count < MAX_MISSED_COUNTED:
        moment = next_occurrence(cron, timezone, moment)
        if moment > end:
            break
        count += 1
    return count


# --- the sensor's plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class DueOccurrence:
    schedule_id: str
    schedule_name: str
    tenant_id: str
    scheduled_for: dt.datetime
    skipped: int
    """Earlier occurrences not run (missed while nothing evaluated the schedule)."""

    @property
    def run_key(self) -> str:
        return occurrence_run_key(self.schedule_id, self.scheduled_for)


def occurrence_run_key(schedule_id: str, scheduled_for: dt.datetime) -> str:
    """``scheduled_export:{schedule id}:{due time, UTC ISO}``: one run per occurrence."""
    return f"scheduled_export:{schedule_id}:{scheduled_for.astimezone(dt.UTC).isoformat()}"


@dataclass
class ExportPlan:
    due: list[DueOccurrence] = field(default_factory=list)
    pending_exports: list[tuple[str, int]] = field(default_factory=list)
    """(export id, attempts) of pending exports waiting for a run (manual, queued retries)."""
    notes: list[str] = field(default_factory=list)
    cursor: dict[str, dict[str, str]] = field(default_factory=lambda: {"schedules": {}, "exports": {}})


def parse_cursor(cursor: str | None) -> dict[str, dict[str, str]]:
    """What the last tick requested (an unreadable cursor counts as empty: run keys and the
    occurrence claim still prevent duplicates)."""
    empty: dict[str, dict[str, str]] = {"schedules": {}, "exports": {}}
    if not cursor:
        return empty
    try:
        data = json.loads(cursor)
    except ValueError:
        return empty
    if not isinstance(data, dict):
        return empty
    out = {}
    for key in ("schedules", "exports"):
        part = data.get(key)
        out[key] = {str(k): str(v) for k, v in part.items()} if isinstance(part, dict) else {}
    return out


def format_cursor(cursor: Mapping[str, Mapping[str, str]]) -> str:
    return json.dumps(
        {"v": CURSOR_VERSION, **{k: dict(sorted(v.items())) for k, v in cursor.items()}}, sort_keys=True
    )


def plan_exports(
    conn: Connection,
    *,
    now: dt.datetime,
    cursor: Mapping[str, Mapping[str, str]],
    pending_grace: dt.timedelta = dt.timedelta(seconds=30),
    limit: int = 500,
) -> ExportPlan:
    """Which schedule occurrences are due at ``now`` and which pending exports wait for a run.

    Writes only ``next_run_at`` of schedules that never had one (and commits); everything else
    is decided by the runs, so evaluating this twice changes nothing.
    """
    plan = ExportPlan()
    requested = dict(cursor.get("schedules", {}))
    rows = conn.execute(query("exports_schedules_due"), {"now": now, "limit": limit}).fetchall()
    for row in rows:
        schedule = Schedule.from_row(row)
        try:
            if schedule.next_run_at is None:
                upcoming = next_occurrence(schedule.cron_expression, schedule.timezone, now)
                conn.execute(
                    query("exports_schedule_set_next"),
                    {"id": schedule.id, "next_run_at": upcoming, "expected": None},
                )
                plan.notes.append(f"{schedule.name} ({schedule.id}): first occurrence {upcoming.isoformat()}")
                continue
            due = latest_occurrence(schedule.cron_expression, schedule.timezone, now)
        except (ValueError, KeyError) as exc:
            plan.notes.append(f"{schedule.name} ({schedule.id}): cannot evaluate its cron/timezone: {exc}")
            continue
        if due < schedule.next_run_at:
            continue  # the stored next occurrence is later (e.g. the cron was just changed)
        key = due.isoformat()
        plan.cursor["schedules"][schedule.id] = key
        if requested.get(schedule.id) == key:
            continue  # requested by an earlier tick; its run has not claimed it yet
        skipped = (
            occurrences_between(schedule.cron_expression, schedule.timezone, schedule.next_run_at, due) - 1
        )
        if skipped > 0:
            plan.notes.append(
                f"{schedule.name} ({schedule.id}): {skipped} missed occurrence(s) since "
                f"{schedule.next_run_at.isoformat()} not run; running the latest ({key}) once"
            )
        plan.due.append(DueOccurrence(schedule.id, schedule.name, schedule.tenant_id, due, max(skipped, 0)))
    conn.commit()
    requested_exports = dict(cursor.get("exports", {}))
    for row in conn.execute(query("exports_pending"), {"before": now - pending_grace, "limit": limit}):
        export_id, attempts = str(row["id"]), int(row["attempts"])
        plan.cursor["exports"][export_id] = str(attempts)
        if requested_exports.get(export_id) == str(attempts):
            continue
        plan.pending_exports.append((export_id, attempts))
    conn.commit()
    return plan


def pending_run_key(export_id: str, attempts: int) -> str:
    """One run per pending export and attempt (a retried export gets a new run)."""
    return f"export:{export_id}:attempt:{attempts}"
