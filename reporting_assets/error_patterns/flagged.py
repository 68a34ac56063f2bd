"""A flagged error pattern as the daily summaries and automation reports list it: plain data,
without the database, so the renderers and rules that show it load without the driver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GROWTH_FACTOR = 3.0
"""A pattern is flagged 'growing' when a day has more than this many times its 7-day average."""

Flag = Literal["new", "growing"]


@dataclass(frozen=True)
class FlaggedPattern:
    """A flagged pattern as a daily summary or an automation report lists it."""

    flag: Flag
    severity: str
    fingerprint: str
    occurrences: int  # a customer's own in a daily summary, else every customer's
    total_occurrences: int  # every customer's, that day
    seven_day_average: float  # every customer's, a day

    def phrase(self) -> str:
        """``new error (12x): Order <n> failed`` / ``growing warning (40x, 7-day average 3.1): ...``."""
        if self.flag == "new":
            return f"new {self.severity} ({self.occurrences:,}x): {self.fingerprint}"
        return (
            f"growing {self.severity} ({self.occurrences:,}x, 7-day average "
            f"{self.seven_day_average:,.1f}): {self.fingerprint}"
        )
