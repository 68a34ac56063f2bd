"""The report window: the ``time_window_hours`` before the report time.

Each report covers a rolling window ending at its report time, not a cron partition: the
04:00 and 21:00 UTC reports both look back 24 h and overlap by 7 h, so each reads as "the last
day" (cron partitions would give 7 h and 17 h windows). The window before it (same length) is what
trends compare with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reporting_assets.automation.errors import TimeWindowError

DEFAULT_TIME_WINDOW_HOURS = 24
MAX_TIME_WINDOW_HOURS = 720  # 30 days: longer views are trends (customer_trends), not operations
# How far ahead of the clock a report time may be: room for clock skew and time-zone slips,
# not for a window in which nothing has run yet.
MAX_REPORT_TIME_AHEAD = dt.timedelta(days=1)


def validate_time_window(hours: object) -> int:
    """``hours`` as a whole number of hours in 1..720, or a TimeWindowError saying why not."""
    if isinstance(hours, bool) or not isinstance(hours, int):
        raise TimeWindowError(
            f"The time window must be a whole number of hours, got {hours!r}; e.g. --time-window 24."
        )
    if hours < 1:
        raise TimeWindowError(
            f"The time window must be at least 1 hour, got {hours}; the default is "
            f"{DEFAULT_TIME_WINDOW_HOURS} (the last day)."
        )
    if hours > MAX_TIME_WINDOW_HOURS:
        raise TimeWindowError(
            f"A time window of {hours:,} hours ({hours / 24:,.1f} days) is longer than the "
            f"{MAX_TIME_WINDOW_HOURS} hours (30 days) automation reports cover; use a shorter window "
            f"(e.g. --time-window 168 for a week) or the customer_trends asset for long-term trends."
        )
    return hours


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def parse_report_time(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 time (``2025-07-10T21:00:00Z``; no zone = UTC) as aware UTC, whole seconds;
    not more than a day after ``now`` (default: the current time)."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TimeWindowError(
            f"Report time {text!r} is not an ISO 8601 date-time; use e.g. 2025-07-10T21:00:00Z."
        ) from None
    moment = as_utc(parsed).replace(microsecond=0)
    latest = as_utc(now or dt.datetime.now(dt.UTC)) + MAX_REPORT_TIME_AHEAD
    if moment > latest:
        raise TimeWindowError(
            f"Report time {iso(moment)} is more than a day in the future: a report covers the hours "
            f"before its report time, and nothing has run then yet. Use a past time (e.g. "
            f"2025-07-10T21:00:00Z), or leave the report time out for now."
        )
    return moment


def current_report_time(now: dt.datetime | None = None) -> dt.datetime:
    """The report time of a report made now: the current time rounded up to a whole second, so
    a run that started in the same second as the report is inside its window, not lost."""
    moment = as_utc(now or dt.datetime.now(dt.UTC))
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + dt.timedelta(seconds=1)
    return moment


@dataclass(frozen=True)
class ReportWindow:
    """``[start, end)`` in UTC, ``hours`` long; ``end`` is the report time."""

    end: dt.datetime
    hours: int

    def __post_init__(self) -> None:
        validate_time_window(self.hours)
        if self.end.tzinfo is None or self.end.utcoffset() != dt.timedelta(0):
            raise TimeWindowError(f"The report time must be in UTC, got {self.end!r}.")

    @classmethod
    def ending_at(cls, report_time: dt.datetime, hours: int = DEFAULT_TIME_WINDOW_HOURS) -> ReportWindow:
        return cls(as_utc(report_time).replace(microsecond=0), validate_time_window(hours))

    @property
    def length(self) -> dt.timedelta:
        return dt.timedelta(hours=self.hours)

    @property
    def start(self) -> dt.datetime:
        return self.end - self.length

    @property
    def previous_start(self) -> dt.datetime:
        """Start of the window before this one (same length), for trends."""
        return self.start - self.length

    def describe(self) -> str:
        """``2025-07-09 21:00 → 2025-07-10 21:00 UTC (24 h)``."""
        return f"{self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M} UTC ({self.hours} h)"

    def key(self) -> str:
        """``2025-07-10T21:00:00Z/24h``: identifies the window (alerts, run keys)."""
        return f"{iso(self.end)}/{self.hours}h"


def iso(moment: dt.datetime) -> str:
    """``2025-07-10T21:00:00Z`` (UTC, whole seconds), the format of every time in a report."""
    return as_utc(moment).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
