"""Customer x day partitions shared by the source pipelines and the report assets.

Keys read ``customer|date`` (Dagster orders dimensions by name), e.g. ``ACTIVELY BLACK|2025-06-17``.
Days are UTC days; today's partition exists so runs can land during the day.
"""

from __future__ import annotations

import dagster as dg

from reporting_assets.partition_keys import CustomerDay, parse_partition_key

PARTITIONS_START_DATE = "2025-01-01"
CUSTOMERS_PARTITIONS_NAME = "customers"

customers_partitions = dg.DynamicPartitionsDefinition(name=CUSTOMERS_PARTITIONS_NAME)
days_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START_DATE, timezone="UTC", end_offset=1)
customer_day_partitions = dg.MultiPartitionsDefinition(
    {"date": days_partitions, "customer": customers_partitions}
)


__all__ = ["CustomerDay", "customer_day_partitions", "parse_partition_key"]
