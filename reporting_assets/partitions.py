"""Customer x day partitions shared by the source pipelines and the report assets.

Keys read ``customer|date`` (Dagster orders dimensions by name), e.g. ``ACTIVELY BLACK|2025-06-17``.
Days are UTC days; today's partition exists so runs can land during the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import dagster as dg

from reporting_assets.errors import CustomerError
from reporting_assets.partition_keys import CustomerDay, parse_partition_key

PARTITIONS_START_DATE = "2025-01-01"
CUSTOMERS_PARTITIONS_NAME = "customers"
ORDER_LISTED = 10
"""At most this many registered customers are listed in a partition range's message."""

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


def latest_day_schedule(
    job: dg.UnresolvedAssetJobDefinition,
    days: dg.DailyPartitionsDefinition,
    *,
    name: str,
    hour_of_day: int,
    minute_of_hour: int,
) -> dg.ScheduleDefinition:
    """A daily schedule requesting ``job``'s last partition of ``days`` as of the tick, keyed by
    that partition. It builds what ``build_schedule_from_partitioned_job`` builds for a daily
    job, whose evaluation goes through Dagster's deprecated ``run_request_for_partition``."""

    @dg.schedule(
        name=name,
        cron_schedule=days.get_cron_schedule(minute_of_hour=minute_of_hour, hour_of_day=hour_of_day),
        execution_timezone=days.timezone,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def latest_day(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        with dg.partition_loading_context(effective_dt=context.scheduled_execution_time):
            key = days.get_last_partition_key()
        if key is None:
            return dg.SkipReason("The job's PartitionsDefinition has no partitions")
        return dg.RunRequest(partition_key=key, run_key=key)

    return latest_day


def empty_range_problem(start: str, end: str, customer_order: Sequence[str] = ()) -> str:
    """Why the partition range ``start...end`` selects no partition, naming the wrong end.

    Keys are ``customer|YYYY-MM-DD`` or bare days; Dagster takes each dimension from start to end,
    days in calendar order and customers in the order they were registered (``customer_order``)."""
    start_customer, _, start_day = start.rpartition("|")
    end_customer, _, end_day = end.rpartition("|")
    problems = []
    swapped = False
    if start_day > end_day:
        problems.append(f"its start ({start_day}) is after its end ({end_day})")
        swapped = True
    unknown = []
    if start_customer != end_customer:
        unknown = [c for c in (start_customer, end_customer) if c not in customer_order]
    if unknown:
        problems.append(
            " and ".join(f"customer {c!r}" for c in unknown)
            + " not registered (`reporting-assets customers list` shows the registered ones)"
        )
    elif start_customer != end_customer and customer_order.index(start_customer) > customer_order.index(
        end_customer
    ):
        problems.append(
            f"its start customer ({start_customer}) comes after its end customer ({end_customer}) "
            f"in the order the customers were registered"
            + (f" ({', '.join(customer_order)})" if len(customer_order) <= ORDER_LISTED else "")
        )
        swapped = True
    if swapped and not unknown:
        problems.append("swap them")
    reason = "; ".join(problems) or "check both ends against the asset's partitions"
    return f"The partition range '{start}...{end}' selects no partition: {reason}."


def run_partition_keys(context: dg.AssetExecutionContext) -> list[str]:
    """The partitions a run covers: its one partition, or every partition of its range. A range
    that selects none (ends swapped) is refused instead of succeeding with nothing done."""
    keys = list(context.partition_keys)
    if keys or not context.has_partition_key_range:
        return keys
    key_range = context.partition_key_range
    customers = context.instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME)
    raise CustomerError(empty_range_problem(key_range.start, key_range.end, customers))


def run_partition_key(context: dg.AssetExecutionContext) -> str:
    """The one partition of a run of an asset that renders one partition per run; a range is
    refused with what to do instead (an empty range with :func:`run_partition_keys`'s message)."""
    if not context.has_partition_key_range:
        return context.partition_key
    keys = run_partition_keys(context)
    if len(keys) == 1:
        return keys[0]
    key_range = context.partition_key_range
    raise CustomerError(
        f"{context.asset_key.to_user_string()} takes one partition per run, but the partition range "
        f"'{key_range.start}...{key_range.end}' selects {len(keys)}: launch a backfill (one run per "
        f"partition) or run each partition with --partition."
    )


__all__ = [
    "CustomerDay",
    "customer_day_partitions",
    "empty_range_problem",
    "every_customer_requests",
    "latest_day_schedule",
    "parse_partition_key",
    "run_partition_key",
    "run_partition_keys",
    "split_valid_partition_keys",
]
