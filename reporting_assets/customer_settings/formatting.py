"""How numbers, dates and times read in a report: the default format, or a customer's locale
(Babel) and time zone.

The default is what the reports always printed (``1,247``, ``2025-06-17``, UTC times without a
zone); :class:`LocalizedFormat` changes only what its customer set. Results are marked
:class:`MarkdownSafe`: digits, separators and month names hold no markdown syntax.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

import babel
from babel import dates, numbers

from reporting_assets.markdown_text import MarkdownSafe


class PlainFormat:
    """The default format (what reports print when a customer sets nothing)."""

    def integer(self, value: int) -> MarkdownSafe:
        return MarkdownSafe(f"{value:,}")

    def signed(self, value: int) -> MarkdownSafe:
        return MarkdownSafe(f"{value:+,}")

    def decimal(self, value: float, digits: int) -> MarkdownSafe:
        """Grouped thousands and ``digits`` decimals."""
        return MarkdownSafe(f"{value:,.{digits}f}")

    def signed_decimal(self, value: float, digits: int) -> MarkdownSafe:
        return MarkdownSafe(f"{value:+,.{digits}f}")

    def fixed(self, value: float, digits: int) -> MarkdownSafe:
        """``digits`` decimals, no grouping (durations)."""
        return MarkdownSafe(f"{value:.{digits}f}")

    def date(self, value: dt.date) -> MarkdownSafe:
        return MarkdownSafe(value.isoformat())

    def timestamp(self, value: dt.datetime) -> MarkdownSafe:
        return MarkdownSafe(value.strftime("%Y-%m-%d %H:%M:%S"))


PLAIN = PlainFormat()


@cache
def _locale(name: str) -> babel.Locale:
    return babel.Locale.parse(name)


@dataclass(frozen=True)
class LocalizedFormat(PlainFormat):
    """Numbers and dates in ``locale`` (None: the default), times shown in ``time_zone``
    (None: UTC, the zone they are stored in), with the zone named."""

    locale: str | None
    time_zone: str | None

    def _pattern(self, value: float, pattern: str) -> MarkdownSafe:
        assert self.locale is not None
        return MarkdownSafe(numbers.format_decimal(value, format=pattern, locale=_locale(self.locale)))

    def integer(self, value: int) -> MarkdownSafe:
        return super().integer(value) if self.locale is None else self._pattern(value, "#,##0")

    def signed(self, value: int) -> MarkdownSafe:
        if self.locale is None:
            return super().signed(value)
        return MarkdownSafe(("+" if value >= 0 else "") + self._pattern(value, "#,##0"))

    def decimal(self, value: float, digits: int) -> MarkdownSafe:
        if self.locale is None:
            return super().decimal(value, digits)
        return self._pattern(value, "#,##0." + "0" * digits if digits else "#,##0")

    def signed_decimal(self, value: float, digits: int) -> MarkdownSafe:
        if self.locale is None:
            return super().signed_decimal(value, digits)
        return MarkdownSafe(("+" if value >= 0 else "") + self.decimal(value, digits))

    def fixed(self, value: float, digits: int) -> MarkdownSafe:
        if self.locale is None:
            return super().fixed(value, digits)
        return self._pattern(value, "0." + "0" * digits if digits else "0")

    def date(self, value: dt.date) -> MarkdownSafe:
        if self.locale is None:
            return super().date(value)
        return MarkdownSafe(dates.format_date(value, format="medium", locale=_locale(self.locale)))

    def timestamp(self, value: dt.datetime) -> MarkdownSafe:
        zone = zoneinfo.ZoneInfo(self.time_zone or "UTC")
        moment = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)
        if self.locale is None:
            text = moment.strftime("%Y-%m-%d %H:%M:%S")
        else:
            text = dates.format_datetime(moment, format="medium", tzinfo=zone, locale=_locale(self.locale))
        return MarkdownSafe(f"{text} ({zone.key})")
