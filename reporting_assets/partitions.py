"""Customer x day partitions shared by the source pipelines and the report assets.

Keys read ``customer|date`` (Dagster orders dimensions by name), e.g. ``ACTIVELY BLACK|2025-06-17``.
Days are UTC days; today's partition exists so runs can land during the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import dagster as dg

from reporting_assets.partition_keys import CustomerDay, parse_partition_key

PARTITIONS_START_DATE = "2025-01-01"
CUSTOMERS_PARTITIONS_NAME = "customers"

customers_partitions = dg.DynamicPartitionsDefinition(name=CUSTOMERS_PARTITIONS_NAME)
days_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START_DATE, timezone="UTC", end_offset=1)
customer_day_partitions = dg.MultiPartitionsDefinition(
    {"date": days_partitions, "customer": customers_partitions}
)


def split_valid_partition_keys(
    instance: dg.DagsterInstance, partition_keys: Iterable[str]
) -> tuple[list[str], list[str]]:
    """``partition_keys`` as (valid, invalid) for ``customer_day_partitions`` (sorted): a key
    whose customer was removed from the dynamic partitions, or that is no customer-day key at
    all, would fail a whole sensor tick if requested. One query for the customers, whatever the
    number of keys."""
    keys = sorted(set(partition_keys))
    customers = set(instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME)) if keys else set()
    valid: list[str] = []
    invalid: list[str] = []
    for key in keys:
        customer, _, day = key.rpartition("|")
        known = customer in customers and days_partitions.has_partition_key(day)
        (valid if known else invalid).append(key)
    return valid, invalid


def every_customer_requests(
    instance: dg.DagsterInstance,
    day: dt.date,
    run_key: Callable[[str], str],
    asset_selection: Sequence[dg.AssetKey] | None = None,
) -> list[dg.RunRequest]:
    """One run per registered customer for its partition of ``day`` (schedules fan out this
    way); ``run_key(customer)`` names each run so a tick evaluated twice launches it once."""
    return [
        dg.RunRequest(
            partition_key=CustomerDay(customer, day).partition_key,
            asset_selection=asset_selection,
            run_key=run_key(customer),
        )
        for customer in sorted(instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME))
    ]


__all__ = [
    "CustomerDay",
    "customer_day_partitions",
    "every_customer_requests",
    "parse_partition_key",
    "split_valid_partition_keys",
]
