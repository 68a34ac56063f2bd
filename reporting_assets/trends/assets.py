"""``customer_trends``: one daily partition = the 30 days ending that day, per customer."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg

from reporting_assets.db.queries import query
from reporting_assets.partitions import PARTITIONS_START_DATE, latest_day_schedule, run_partition_key
from reporting_assets.resources import PostgresResource
from reporting_assets.trends.periods import Comparison, period_comparisons

TREND_WINDOW_DAYS = 30
trend_days = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START_DATE, timezone="UTC")


@dg.asset(
    partitions_def=trend_days,
    group_name="reports",
    kinds={"postgres"},
    description=(
        "The last 30 days per customer, as of the partition day: runs, success rate, new orders "
        "(each day's latest order run, as in the daily summaries) and average processing time; "
        "week over week and month over month per customer (runs, success rate, new orders, "
        "processing time p50/p95, with change and direction); totals as numeric metadata for the plots."
    ),
)
def customer_trends(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    day = dt.date.fromisoformat(run_partition_key(context))
    with postgres.connection(doing=f"computing customer trends for {day}") as conn:
        rows = conn.execute(query("trends_window"), {"day": day, "window_days": TREND_WINDOW_DAYS}).fetchall()
        comparisons = period_comparisons(conn, day)
    runs = sum(r["runs"] for r in rows)
    successful = sum(r["successful_runs"] for r in rows)
    seconds = sum(float(r["total_seconds"]) for r in rows)
    return dg.MaterializeResult(
        metadata={
            "trends": dg.MetadataValue.table(
                records=[dg.TableRecord(_trend_record(r)) for r in rows],
                schema=dg.TableSchema(
                    columns=[
                        dg.TableColumn("customer", "string"),
                        dg.TableColumn("runs", "int"),
                        dg.TableColumn(
                            "success_rate",
                            "float",
                            description="percent of runs that succeeded (empty: no runs)",
                        ),
                        dg.TableColumn(
                            "new_orders",
                            "int",
                            description="each day's latest order_sync run, as in the summaries",
                        ),
                        dg.TableColumn("avg_seconds", "float", description="mean processing time per run"),
                        dg.TableColumn("active_days", "int", description="days with at least one run"),
                    ]
                ),
            ),
            **{f"{period}_over_{period}": comparison_table(found) for period, found in comparisons.items()},
            "window_days": dg.MetadataValue.int(TREND_WINDOW_DAYS),
            "customers": dg.MetadataValue.int(len(rows)),
            "runs": dg.MetadataValue.int(runs),
            "success_rate": dg.MetadataValue.float(round(100.0 * successful / runs, 2) if runs else 0.0),
            "new_orders": dg.MetadataValue.int(sum(r["new_orders"] for r in rows)),
            "avg_processing_seconds": dg.MetadataValue.float(round(seconds / runs, 3) if runs else 0.0),
        }
    )


def _trend_record(row: Mapping[str, Any]) -> dict[str, str | int | float | None]:
    runs = row["runs"]
    return {
        "customer": row["customer_name"],
        "runs": runs,
        "success_rate": round(100.0 * row["successful_runs"] / runs, 1) if runs else None,
        "new_orders": row["new_orders"],
        "avg_seconds": round(float(row["total_seconds"]) / runs, 3) if runs else None,
        "active_days": row["active_days"],
    }


def comparison_table(comparisons: list[Comparison]) -> dg.TableMetadataValue:
    """One row per customer: each figure, its change against the period before and direction."""
    columns = [dg.TableColumn("customer", "string")]
    records = []
    for comparison in comparisons:
        record: dict[str, str | int | float | None] = {"customer": comparison.customer_name}
        for figure in comparison.figures:
            name = figure.name.replace(" ", "_")
            record[name] = figure.current
            record[f"{name}_change"] = figure.change
            record[f"{name}_direction"] = figure.direction
        record["summary"] = comparison.summary()
        records.append(dg.TableRecord(record))
    if comparisons:
        for figure in comparisons[0].figures:
            name = figure.name.replace(" ", "_")
            unit = " (points)" if figure.unit == "%" else ""
            columns += [
                dg.TableColumn(name, "float"),
                dg.TableColumn(f"{name}_change", "float", description=f"change vs the period before{unit}"),
                dg.TableColumn(f"{name}_direction", "string", description="up, down, flat or new"),
            ]
    columns.append(dg.TableColumn("summary", "string"))
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


customer_trends_job = dg.define_asset_job("customer_trends_job", selection=[customer_trends])
customer_trends_schedule = latest_day_schedule(
    customer_trends_job, trend_days, name="customer_trends_schedule", hour_of_day=0, minute_of_hour=45
)
