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
    """Parse ``customer|YYYY-MM-DD`` with a message that shows the expected shape."""
    customer, sep, day = key.rpartition("|")
    try:
        if not sep or not customer:
            raise ValueError("missing '|'")
        return CustomerDay(customer, dt.date.fromisoformat(day))
    except ValueError as exc:
        raise ValueError(
            f"Partition key {key!r} is not 'customer|YYYY-MM-DD' (e.g. 'ACTIVELY BLACK|2025-06-17'): {exc}"
        ) from exc
