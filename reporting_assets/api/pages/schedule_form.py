"""The schedule form: its fields as the engine's schedule values, the cron expression in words
with the next five runs in the schedule's zone and in UTC, and checks as you type (cron,
timezone with close names for a typo, each recipient)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, Options

from reporting_assets.api.pages.builder_form import place_errors
from reporting_assets.api.pages.forms import Form
from reporting_assets.delivery.errors import RecipientError
from reporting_assets.delivery.recipients import normalize_email
from reporting_assets.exports.errors import ScheduleValidationError
from reporting_assets.exports.models import Schedule
from reporting_assets.exports.scheduling import check_cron, check_timezone, next_occurrence

NEXT_RUNS = 5
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
CONTROLS = {
    "name": "name",
    "description": "description",
    "cron_expression": "cron",
    "timezone": "timezone",
    "format": "format",
    "delivery_method": "delivery",
    "recipients": "recipients",
    "s3_config": "s3-bucket",
    "s3_config.bucket": "s3-bucket",
    "s3_config.prefix": "s3-prefix",
    "email_config": "email-subject",
    "email_config.subject": "email-subject",
    "report": "report",
}


@dataclass
class ScheduleState:
    """What the form holds, as typed."""

    report_id: str = ""
    name: str = ""
    description: str = ""
    cron_expression: str = "0 9 * * 1"
    timezone: str = "UTC"
    format: str = "pdf"
    delivery_method: str = "email"
    recipients: str = ""
    s3_bucket: str = ""
    s3_prefix: str = ""
    email_subject: str = ""
    is_active: bool = True

    @classmethod
    def from_schedule(cls, schedule: Schedule) -> ScheduleState:
        return cls(
            report_id=schedule.report_id,
            name=schedule.name,
            description=schedule.description or "",
            cron_expression=schedule.cron_expression,
            timezone=schedule.timezone,
            format=schedule.format,
            delivery_method=schedule.delivery_method,
            recipients="\n".join(schedule.recipients),
            s3_bucket=str((schedule.s3_config or {}).get("bucket") or ""),
            s3_prefix=str((schedule.s3_config or {}).get("prefix") or ""),
            email_subject=str((schedule.email_config or {}).get("subject") or ""),
            is_active=schedule.is_active,
        )

    @classmethod
    def from_form(cls, form: Form) -> ScheduleState:
        return cls(
            report_id=form.text("report_id"),
            name=form.text("name"),
            description=form.text("description"),
            cron_expression=form.text("cron_expression"),
            timezone=form.text("timezone"),
            format=form.raw("format"),
            delivery_method=form.raw("delivery_method"),
            recipients=form.raw("recipients"),
            s3_bucket=form.text("s3_bucket"),
            s3_prefix=form.text("s3_prefix"),
            email_subject=form.text("email_subject"),
            is_active=form.checked("is_active"),
        )

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in re.split(r"[,;\s]+", self.recipients) if r]

    def values(self) -> dict[str, Any]:
        """The engine's schedule values."""
        values: dict[str, Any] = {
            "name": self.name,
            "description": self.description or None,
            "cron_expression": self.cron_expression,
            "timezone": self.timezone or "UTC",
            "format": self.format,
            "delivery_method": self.delivery_method,
            "recipients": self.recipient_list,
            "is_active": self.is_active,
            "s3_config": None,
            "email_config": None,
        }
        if self.s3_bucket or self.s3_prefix:
            values["s3_config"] = {
                k: v for k, v in (("bucket", self.s3_bucket), ("prefix", self.s3_prefix)) if v
            }
        if self.email_subject:
            values["email_config"] = {"subject": self.email_subject}
        return values


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows (for the form's suggestions)."""
    return _zones()


def close_zones(name: str) -> list[str]:
    """Zone names close to a mistyped ``name`` (case and separators ignored first)."""
    wanted = name.strip().lower().replace(" ", "_")
    exact = [z for z in _zones() if z.lower() == wanted]
    if exact:
        return exact
    by_lower = {z.lower(): z for z in _zones()}
    close = difflib.get_close_matches(wanted, list(by_lower), n=3, cutoff=0.6)
    by_city = {z.rsplit("/", 1)[-1].lower(): z for z in _zones()}
    close += [by_city[c] for c in difflib.get_close_matches(wanted.rsplit("/", 1)[-1], list(by_city), n=2)]
    return list(dict.fromkeys(by_lower.get(c, c) for c in close))[:3]


def describe_cron(expression: str) -> str:
    """``0 9 * * 1`` as ``At 09:00, only on Monday``."""
    text = MACROS.get(expression.strip(), expression.strip())
    options = Options()
    options.use_24hour_time_format = True
    return str(ExpressionDescriptor(text, options).get_description())


@dataclass
class Timing:
    """The cron in words and its next runs, or the problems of cron and zone."""

    description: str | None = None
    runs: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


def timing(cron: str, timezone: str, now: dt.datetime | None = None) -> Timing:
    result = Timing()
    try:
        cron = check_cron(cron)
    except ScheduleValidationError as exc:
        result.errors["cron"] = [str(exc)]
    try:
        timezone = check_timezone(timezone or "UTC")
    except ScheduleValidationError as exc:
        result.errors["timezone"] = [with_suggestion(str(exc), timezone)]
    if result.errors:
        return result
    result.description = describe_cron(cron)
    zone = ZoneInfo(timezone)
    moment = now or dt.datetime.now(dt.UTC)
    for _ in range(NEXT_RUNS):
        moment = next_occurrence(cron, timezone, moment)
        result.runs.append((moment.astimezone(zone), moment))
    return result


def with_suggestion(message: str, timezone: str) -> str:
    close = close_zones(timezone)
    return f"{message}. Did you mean {' or '.join(close)}?" if close else message


def check_recipients(text: str) -> list[str]:
    """A problem per recipient that is not an email address."""
    problems = []
    for address in [r for r in re.split(r"[,;\s]+", text) if r]:
        try:
            normalize_email(address)
        except RecipientError as exc:
            problems.append(f"{address[:100]}: {exc}")
    return problems


def engine_errors(exc: ScheduleValidationError, state: ScheduleState) -> dict[str, list[str]]:
    message = str(exc)
    if message.startswith("timezone:"):
        message = with_suggestion(message, state.timezone)
    return place_errors([message], CONTROLS)
