"""``HH:MM`` times of day (24-hour, UTC) in settings: the summary schedule and the email deadline."""

from __future__ import annotations

import datetime as dt
import re

_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def parse_time_of_day(text: str) -> dt.time:
    """``"06:00"`` -> 06:00; ValueError for anything that is not two-digit 24-hour ``HH:MM``."""
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not HH:MM in 24-hour time")
    return dt.time(int(match.group(1)), int(match.group(2)))
