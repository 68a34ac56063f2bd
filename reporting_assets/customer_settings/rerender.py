"""Re-render a customer's reports after its settings changed: one batched ``render_reports``
run over the days since a date (the normal path, so summaries restated by it are versioned)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from reporting_assets.batched_runs import QUIET_LOGGERS, range_tags
from reporting_assets.customer_settings.model import CustomerSettingsError
from reporting_assets.customers import get_customer
from reporting_assets.db.connection import Connection
from reporting_assets.partition_keys import CustomerDay

RERENDER_TAG = "reporting/rerender"


@dataclass(frozen=True)
class Rerendered:
    run_id: str
    first: str
    last: str
    days: int
    success: bool


def rerender_range(conn: Connection, customer_key: str, since: dt.date) -> tuple[CustomerDay, CustomerDay]:
    """The first and last partition to re-render: ``since`` to the customer's latest report day."""
    customer = get_customer(conn, customer_key)
    row = conn.execute(
        "SELECT max(execution_date) AS last FROM reporting.pipeline_execution_reports "
        "WHERE customer_key = %s AND execution_date >= %s",
        (customer.partition_key, since),
    ).fetchone()
    conn.commit()
    if row is None or row["last"] is None:
        raise CustomerSettingsError(
            f"Customer {customer.partition_key!r} has no execution reports on or after {since}: nothing "
            f"to re-render. Give an earlier --since."
        )
    return CustomerDay(customer.partition_key, since), CustomerDay(customer.partition_key, row["last"])


def rerender(
    defs: dg.Definitions, instance: dg.DagsterInstance, first: CustomerDay, last: CustomerDay
) -> Rerendered:
    """Run ``render_reports`` over ``first``..``last`` in one batched run, in this process."""
    job = defs.resolve_job_def("render_reports")
    outcome = job.execute_in_process(
        instance=instance,
        run_config=QUIET_LOGGERS,
        tags={**range_tags(first.partition_key, last.partition_key), RERENDER_TAG: "customer_settings"},
        raise_on_error=False,
    )
    return Rerendered(
        outcome.run_id,
        first.partition_key,
        last.partition_key,
        (last.day - first.day).days + 1,
        outcome.success,
    )
