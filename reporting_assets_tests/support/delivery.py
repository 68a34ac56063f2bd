"""Daily summaries as the summary asset stores them, and email runs of them, for the delivery
tests (no tests here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import dagster as dg
from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.delivery.jobs import send_daily_summary_emails
from reporting_assets.delivery.ledger import for_subject
from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.resources import PostgresResource
from reporting_assets_tests.helpers import QUIET

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
TWO_DAYS_AGO = TODAY - dt.timedelta(days=2)

SUMMARY_MARKDOWN = """# 📅 Daily Summary - PELOTON
**Date**: {day}

## 📈 Daily Totals

| Metric | Value |
|--------|-------|
| **New Orders** | {new_orders} |
| **Shipping Updates** | {shipping_updates} |

<script>alert("owned")</script> and <img src=x onerror=alert(1)>
"""


def insert_summary(
    conn: Connection,
    customer_key: str,
    day: dt.date,
    *,
    customer_name: str | None = None,
    missing: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    new_orders: int = 12,
    shipping_updates: int = 4,
) -> str:
    """A daily_customer_summaries row as the summary asset writes it; returns its content hash."""
    markdown = SUMMARY_MARKDOWN.format(day=day, new_orders=new_orders, shipping_updates=shipping_updates)
    status = _status(missing, failed)
    content_hash = _hash(markdown, status)
    conn.execute(
        """INSERT INTO reporting.daily_customer_summaries
               (customer_name, customer_key, summary_date, partition_key, total_pipelines,
                successful_pipelines, new_orders, updated_orders, manufacturing_updates,
                shipping_updates, combined_markdown, status_json, is_complete, missing_pipelines,
                content_hash)
           VALUES (%s, %s, %s, %s, 3, %s, %s, 5, 9, %s, %s, %s, %s, %s, %s)""",
        (
            customer_name or customer_key,
            customer_key,
            day,
            f"{customer_key}|{day.isoformat()}",
            3 - len(missing) - len(failed),
            new_orders,
            shipping_updates,
            markdown,
            Jsonb(status),
            status["complete"],
            list(missing),
            content_hash,
        ),
    )
    conn.commit()
    return content_hash


def restate(
    conn: Connection,
    customer_key: str,
    day: dt.date,
    *,
    missing: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    new_orders: int,
    shipping_updates: int,
) -> str:
    """Restate a summary the way the summary asset does: archive the current version in the
    history, then bump the version with the new content. Returns the new content hash."""
    conn.execute(
        """INSERT INTO reporting.daily_customer_summary_history
               (summary_id, customer_key, summary_date, version, replaced_by_version, total_pipelines,
                successful_pipelines, new_orders, updated_orders, manufacturing_updates,
                shipping_updates, combined_markdown, status_json, is_complete, content_hash, valid_from)
           SELECT id, customer_key, summary_date, version, version + 1, total_pipelines,
                  successful_pipelines, new_orders, updated_orders, manufacturing_updates,
                  shipping_updates, combined_markdown, status_json, is_complete, content_hash, updated_at
           FROM reporting.daily_customer_summaries WHERE customer_key = %s AND summary_date = %s""",
        (customer_key, day),
    )
    markdown = SUMMARY_MARKDOWN.format(day=day, new_orders=new_orders, shipping_updates=shipping_updates)
    status = _status(missing, failed)
    content_hash = _hash(markdown, status)
    conn.execute(
        """UPDATE reporting.daily_customer_summaries
           SET combined_markdown = %s, status_json = %s, is_complete = %s, missing_pipelines = %s,
               new_orders = %s, shipping_updates = %s, successful_pipelines = %s, content_hash = %s,
               version = version + 1, updated_at = now()
           WHERE customer_key = %s AND summary_date = %s""",
        (
            markdown,
            Jsonb(status),
            status["complete"],
            list(missing),
            new_orders,
            shipping_updates,
            3 - len(missing) - len(failed),
            content_hash,
            customer_key,
            day,
        ),
    )
    conn.commit()
    return content_hash


def _status(missing: tuple[str, ...], failed: tuple[str, ...]) -> dict[str, Any]:
    return {
        "complete": not missing and not failed,
        "expected": ["manufacturing_sync", "order_sync", "shipping_sync"],
        "missing": list(missing),
        "failed": list(failed),
        "runs": 3 - len(missing),
        "successful_runs": 3 - len(missing) - len(failed),
        "warnings": 0,
        "errors": 0,
    }


def _hash(markdown: str, status: dict[str, Any]) -> str:
    digest = hashlib.sha256(markdown.encode())
    digest.update(json.dumps(status, sort_keys=True).encode())
    return digest.hexdigest()


def ledger(conn: Connection, subject: str) -> dict[tuple[str, str], Any]:
    """(kind, recipient) -> the latest ledger row of a subject."""
    rows = for_subject(conn, subject)
    conn.commit()
    return {(d.key.kind, d.key.recipient): d for d in rows}


def send_run(
    instance: dg.DagsterInstance,
    database_url: str,
    smtp: SmtpResource,
    run_config: dict[str, Any],
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    return send_daily_summary_emails.execute_in_process(
        instance=instance,
        run_config={**run_config, **QUIET},
        resources={"smtp": smtp, "postgres": PostgresResource(database_url=database_url)},
        raise_on_error=False,
        tags=tags,
    )
