"""Period over period in customer_trends: each figure against the week (30 days) before, with
change and direction, from real reports."""

from __future__ import annotations

import dagster as dg
import psycopg

from reporting_assets.resources import PostgresResource
from reporting_assets.trends.assets import customer_trends
from reporting_assets.trends.periods import Figure, compare_rows
from reporting_assets_tests.helpers import QUIET, latest_materialization_metadata, render, run_sources


def test_a_figure_reads_with_its_change_and_direction() -> None:
    rate = Figure("success rate", 96.2, 98.3, "%")
    assert rate.phrase("week") == "success rate 96.2 % (-2.1 pt vs last week)"
    assert rate.direction == "down" and rate.change == -2.1
    assert Figure("runs", 21.0, 18.0, "").phrase("month") == "runs 21 (+3 vs last month)"
    assert Figure("processing time p95", 80.0, 80.0, "s").phrase("week").endswith("(no change vs last week)")
    assert Figure("new orders", 40.0, None, "").direction == "new"
    assert Figure("success rate", None, 90.0, "%").phrase("week") == "success rate — (no runs)"


def test_compare_rows_pairs_each_customer_with_its_previous_period() -> None:
    rows = [
        {"customer_key": "P", "customer_name": "P", "period": p, "runs": runs, "successful_runs": ok,
         "new_orders": new, "p50_seconds": 10.0 + p, "p95_seconds": 20.0}
        for p, runs, ok, new in ((0, 3, 2, 40), (1, 3, 3, 30))
    ]  # fmt: skip
    (comparison,) = compare_rows(rows, "week")
    assert comparison.summary() == (
        "runs 3 (no change vs last week); success rate 66.7 % (-33.3 pt vs last week); "
        "new orders 40 (+10 vs last week); processing time p50 10.0 s (-1.0 s vs last week); "
        "processing time p95 20.0 s (no change vs last week)"
    )


def test_customer_trends_compares_this_week_with_the_week_before(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, "PELOTON|2025-06-10")
    run_sources(instance, "PELOTON|2025-06-17", ops={"shipping_sync": {"simulate": "failure"}})
    render(instance, "PELOTON|2025-06-10")
    render(instance, "PELOTON|2025-06-17")
    dg.materialize(
        [customer_trends],
        instance=instance,
        partition_key="2025-06-17",
        run_config=QUIET,
        resources={"postgres": PostgresResource()},
    )
    metadata = latest_materialization_metadata(instance, "customer_trends", "2025-06-17")
    weekly = {r.data["customer"]: r.data for r in metadata["week_over_week"].value.records}
    peloton = weekly["PELOTON"]
    assert peloton["runs"] == 3.0 and peloton["runs_change"] == 0.0 and peloton["runs_direction"] == "flat"
    assert peloton["success_rate"] == 66.7 and peloton["success_rate_change"] == -33.3
    assert peloton["success_rate_direction"] == "down"
    assert "success rate 66.7 % (-33.3 pt vs last week)" in peloton["summary"]
    assert weekly["GREYSON"]["runs"] == 0.0 and "success rate — (no runs)" in weekly["GREYSON"]["summary"]
    monthly = {r.data["customer"]: r.data for r in metadata["month_over_month"].value.records}
    assert monthly["PELOTON"]["runs"] == 6.0 and monthly["PELOTON"]["runs_direction"] == "up"
    assert monthly["PELOTON"]["new_orders_direction"] == "new"  # no runs in the 30 days before
