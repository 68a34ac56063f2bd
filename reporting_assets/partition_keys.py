"""Partition keys of the customer x day partitions: ``customer|YYYY-MM-DD`` (no Dagster import).

Kept apart from ``partitions.py`` so worker processes that render reports stay light.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class CustomerDay:
    """One partition: a registered customer's partition key and a UTC day."""

    customer_key: str
    day: dt.date

    @property
    def partition_key(self) -> str:
        return f"{self.customer_key}|{self.day.isoformat()}"

    def previous_day(self) -> CustomerDay:
        return CustomerDay(self.customer_key, self.day - dt.timedelta(days=1))


def parse_partition_key(key: str) -> CustomerDay:
    """Parse ``CUSTOMER|YYYY-MM-DD`` with a message that shows the expected shape and what is off."""
    customer, sep, day = key.rpartition("|")
    if not sep:
        problem = "there is no '|' between the customer and the day"
    elif not customer and not day:
        problem = "the customer before '|' and the day after it are both missing"
    elif not customer:
        problem = "the customer before '|' is missing"
    else:
        try:
            return CustomerDay(customer, dt.date.fromisoformat(day))
        except ValueError:
            problem = f"the day after '|' ({day!r}) is not a date YYYY-MM-DD"
    raise ValueError(
        f"Partition key {key!r} is not 'CUSTOMER|YYYY-MM-DD' (e.g. 'PELOTON|2025-06-17'): {problem}."
    )
