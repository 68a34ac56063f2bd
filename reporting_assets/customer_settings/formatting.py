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
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache, lru_cache

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
        return _plain_timestamp(value, value.utcoffset())

    def warm(self) -> None:
        """Load the locale and time zone data this format uses now: forked render workers inherit
        it instead of each loading it (~14 ms per locale)."""
        self.decimal(1234.5, 2)
        self.date(_SAMPLE_DAY)
        self.timestamp(_SAMPLE_TIME)


_SAMPLE_DAY = dt.date(2025, 6, 17)
_SAMPLE_TIME = dt.datetime(2025, 6, 17, 12, tzinfo=dt.UTC)
PLAIN = PlainFormat()


@cache
def _locale(name: str) -> babel.Locale:
    return babel.Locale.parse(name)


@cache
def _separators(name: str) -> dict[int, str]:
    """The locale's group and decimal separators, as a translation of Python's ``,`` and ``.``
    (built once per locale: a report formats a dozen numbers)."""
    locale = _locale(name)
    return str.maketrans(
        {",": str(numbers.get_group_symbol(locale)), ".": str(numbers.get_decimal_symbol(locale))}
    )


_QUANTUM = [Decimal(1).scaleb(-digits) for digits in range(10)]


def _number_text(locale: str, value: float, digits: int, grouped: bool) -> MarkdownSafe:
    """What Babel's ``#,##0.00``-style patterns write (its rounding: the value's shortest decimal
    text, half to even), without parsing a pattern for each of a report's many numbers; and
    grouped in the Swiss locales too, where Babel loses the ' separator. Tested against Babel for
    every locale."""
    if isinstance(value, int) and digits == 0:
        text = f"{value:,}" if grouped else str(value)
    else:
        exact = Decimal(str(value))
        text = f"{exact.quantize(_QUANTUM[digits], rounding=ROUND_HALF_EVEN):{',' if grouped else ''}f}"
    return MarkdownSafe(text.translate(_separators(locale)))


@dataclass(frozen=True)
class LocalizedFormat(PlainFormat):
    """Numbers and dates in ``locale`` (None: the default), times shown in ``time_zone``
    (None: UTC, the zone they are stored in), with the zone named."""

    locale: str | None
    time_zone: str | None

    def integer(self, value: int) -> MarkdownSafe:
        if self.locale is None:
            return super().integer(value)
        return _number_text(self.locale, value, 0, grouped=True)

    def signed(self, value: int) -> MarkdownSafe:
        if self.locale is None:
            return super().signed(value)
        return MarkdownSafe(("+" if value >= 0 else "") + self.integer(value))

    def decimal(self, value: float, digits: int) -> MarkdownSafe:
        if self.locale is None:
            return super().decimal(value, digits)
        return _number_text(self.locale, value, digits, grouped=True)

    def signed_decimal(self, value: float, digits: int) -> MarkdownSafe:
        if self.locale is None:
            return super().signed_decimal(value, digits)
        return MarkdownSafe(("+" if value >= 0 else "") + self.decimal(value, digits))

    def fixed(self, value: float, digits: int) -> MarkdownSafe:
        if self.locale is None:
            return super().fixed(value, digits)
        return _number_text(self.locale, value, digits, grouped=False)

    def date(self, value: dt.date) -> MarkdownSafe:
        if self.locale is None:
            return super().date(value)
        return _date_text(self.locale, value)

    def timestamp(self, value: dt.datetime) -> MarkdownSafe:
        return _timestamp_text(self.locale, self.time_zone, value)


# A batch of reports shares a few days and one generation time: each is formatted once
@lru_cache(maxsize=4096)
def _plain_timestamp(value: dt.datetime, offset: dt.timedelta | None) -> MarkdownSafe:
    """``offset`` is part of the key: aware times of one instant are equal in other zones, but
    print their own wall-clock time."""
    return MarkdownSafe(value.strftime("%Y-%m-%d %H:%M:%S"))


@lru_cache(maxsize=4096)
def _date_text(locale: str, value: dt.date) -> MarkdownSafe:
    return MarkdownSafe(dates.format_date(value, format="medium", locale=_locale(locale)))


@lru_cache(maxsize=4096)
def _timestamp_text(locale: str | None, time_zone: str | None, value: dt.datetime) -> MarkdownSafe:
    zone = zoneinfo.ZoneInfo(time_zone or "UTC")
    moment = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)
    if locale is None:
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = dates.format_datetime(moment, format="medium", tzinfo=zone, locale=_locale(locale))
    return MarkdownSafe(f"{text} ({zone.key})")
