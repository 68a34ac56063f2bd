"""A registered pipeline's runs count in the daily summary's totals: its new and updated records
get their own rows (named by the registry's labels, with the change against the day before),
next to the totals the sample pipelines feed."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg

from reporting_assets.pipelines.registry import Pipeline, add_pipeline
from reporting_assets.reporter import PipelineReporter
from reporting_assets_tests.helpers import render

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
CRM = Pipeline(
    "crm_sync", "CRM Sync", "crm/sync", "hubspot", new_label="New Contacts", updated_label="Updated Contacts"
)


def send(instance: dg.DagsterInstance, pipeline: str, day: dt.date, new: int, updated: int, run: str) -> None:
    reporter = PipelineReporter("PELOTON", pipeline, execution_date=day, external_execution_id=run)
    reporter.log_metric("new", new)
    reporter.log_metric("updated", updated)
    reporter.save(instance=instance)


def summary(conn: psycopg.Connection, day: dt.date) -> str:
    row = conn.execute(
        "SELECT combined_markdown FROM reporting.daily_customer_summaries WHERE partition_key = %s",
        (f"PELOTON|{day}",),
    ).fetchone()
    conn.commit()
    assert row is not None, f"no summary for PELOTON on {day}"
    return str(row["combined_markdown"])


def test_a_registered_pipelines_records_are_totalled_in_the_daily_summary(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    add_pipeline(conn, CRM)
    send(instance, "crm_sync", YESTERDAY, 4, 9, "crm-y")
    send(instance, "order_sync", YESTERDAY, 10, 1, "order-y")
    render(instance, f"PELOTON|{YESTERDAY}")
    first = summary(conn, YESTERDAY)
    assert "| **New Orders** | 10 | first run |" in first
    assert "| **CRM Sync: New Contacts** | 4 | first run |" in first
    assert "| **CRM Sync: Updated Contacts** | 9 | first run |" in first

    send(instance, "crm_sync", TODAY, 6, 9, "crm-t1")
    send(instance, "crm_sync", TODAY, 7, 2, "crm-t2")  # a re-run: the latest counts, not the sum
    render(instance, f"PELOTON|{TODAY}")
    today = summary(conn, TODAY)
    assert "| **New Orders** | 0 | -10 from yesterday |" in today
    assert "| **CRM Sync: New Contacts** | 7 | +3 from yesterday |" in today
    assert "| **CRM Sync: Updated Contacts** | 2 | -7 from yesterday |" in today
    assert "Order Sync:" not in today  # the sample pipelines feed the named totals only
