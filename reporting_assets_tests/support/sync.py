"""Fixtures and helpers of the sync tests (no tests here).

``clean_sync_tables`` empties the sample target (and the sync's own tables) before a test; the
sync test modules ask for it with ``pytestmark = pytest.mark.usefixtures("clean_sync_tables")``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from psycopg import sql

from reporting_assets.contract import RUN_REPORT_METADATA_KEY
from reporting_assets.db.connection import Connection, connect
from reporting_assets.definitions import loaded_definitions
from reporting_assets.sync.assets import SYNC_JOB_NAME, SYNC_OP_NAME, SYNC_ORDER_LIST
from reporting_assets.sync.order_list import load_sample_orders, split_sizes, store_orders
from reporting_assets_tests.helpers import QUIET, REPO_ROOT

SYNC_TABLES = (
    ("reporting", "sync_record_errors"),
    ("reporting", "sync_api_operations"),
    ("reporting", "sync_batches"),
    ("reporting", "sync_session_customers"),
    ("reporting", "sync_sessions"),
    ("reporting", "sync_order_list"),
    ("sample_target", "subitems"),
    ("sample_target", "items"),
    ("sample_target", "groups"),
)
SAMPLE_DAY = dt.date(2025, 6, 17)


@pytest.fixture
def clean_sync_tables(database_url: str) -> Iterator[None]:
    with connect(database_url) as conn:
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(schema, table) for schema, table in SYNC_TABLES)
            )
        )
    yield


def write_config(folder: Path, environment: str = "test", extra: str = "", **target: Any) -> Path:
    """The repo's config/sync.toml plus a fast ``test`` environment (no latency, no backoff)."""
    settings = {"latency_ms": 0, "jitter_ms": 0, "timeout_rate": 0.0, "item_failure_rate": 0.0, **target}
    lines = [f"[environments.{environment}]", "retry_backoff_seconds = 0.0", "batch_size = 4", extra]
    lines.append(f"[environments.{environment}.target]")
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path = folder / "sync.toml"
    path.write_text(
        (REPO_ROOT / "config" / "sync.toml").read_text(encoding="utf-8") + "\n" + "\n".join(lines) + "\n"
    )
    return path


def load_orders(conn: Connection, customers: list[str], day: dt.date = SAMPLE_DAY) -> None:
    load_sample_orders(conn, customers, day)


def run_sync(
    instance: dg.DagsterInstance,
    config_path: Path,
    reports: Path,
    *,
    raise_on_error: bool = False,
    tags: dict[str, str] | None = None,
    **config: Any,
) -> dg.ExecuteInProcessResult:
    """One real ``sync_order_list`` run on the test instance."""
    run_config = {
        **QUIET,
        "ops": {SYNC_OP_NAME: {"config": {"environment": "test", **config}}},
        "resources": {
            "reports_output": {"config": {"root": str(reports)}},
            "sync_settings": {"config": {"config_path": str(config_path)}},
        },
    }
    return (
        loaded_definitions()
        .resolve_job_def(SYNC_JOB_NAME)
        .execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=raise_on_error, tags=tags
        )
    )


def session_of(conn: Connection, run_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM reporting.sync_sessions WHERE run_id = %s", (run_id,)).fetchone()
    conn.commit()
    assert row is not None, f"no sync session for run {run_id}"
    return row


def rows(conn: Connection, statement: str, *params: Any) -> list[dict[str, Any]]:
    found = conn.execute(statement, params).fetchall()
    conn.commit()
    return found


def one(conn: Connection, statement: str, *params: Any) -> Any:
    row = conn.execute(statement, params).fetchone()
    conn.commit()
    assert row is not None
    return next(iter(row.values()))


def add_orders(conn: Connection, customer: str, statuses: list[str], quantity: int = 100) -> list[str]:
    """Hand-made pending records (exact counts, unlike the synthetic board)."""
    orders = [
        {
            "customer_key": customer,
            "order_id": f"{customer[:3]}-T-{i:03d}",
            "product": f"Product {i}",
            "quantity": quantity,
            "delivery_date": dt.date(2025, 7, 1),
            "status": status,
            "sizes": split_sizes(quantity),
        }
        for i, status in enumerate(statuses, start=1)
    ]
    store_orders(conn, orders)
    conn.commit()
    return [str(o["order_id"]) for o in orders]


def contract_events(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """partition -> (kind, contract) of the run's sync_order_list events."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.asset_materialization or entry.asset_observation
        if event is None or event.asset_key != SYNC_ORDER_LIST:
            continue
        kind = "materialization" if entry.asset_materialization else "observation"
        assert event.partition is not None
        found[event.partition] = (kind, event.metadata[RUN_REPORT_METADATA_KEY].value)  # type: ignore[assignment]
    return found


def check_summary_against_database(conn: Connection, session: dict[str, Any]) -> dict[str, Any]:
    """Every total of the executive summary, recomputed from the session's rows."""
    sync_id = session["sync_id"]
    totals = session["summary_json"]["totals"]
    ops = rows(
        conn,
        "SELECT count(*) AS n, count(*) FILTER (WHERE status IN ('error', 'timeout')) AS failed, "
        "count(*) FILTER (WHERE attempt > 1) AS retries "
        "FROM reporting.sync_api_operations WHERE sync_id = %s",
        sync_id,
    )[0]
    assert totals["api_operations"] == ops["n"]
    assert totals["api_failed"] == ops["failed"]
    assert totals["api_retries"] == ops["retries"]
    assert totals["errors"] == one(
        conn, "SELECT count(*) FROM reporting.sync_record_errors WHERE sync_id = %s", sync_id
    )
    batches = rows(
        conn, "SELECT status, records, synced FROM reporting.sync_batches WHERE sync_id = %s", sync_id
    )
    assert totals["batches_total"] == len(batches)
    ok = sum(1 for b in batches if b["status"] in ("success", "planned"))
    assert totals["batches_succeeded"] == ok
    assert totals["batch_success_rate"] == (round(100 * ok / len(batches), 1) if batches else None)
    if not session["dry_run"]:
        synced = one(
            conn,
            "SELECT count(*) FROM reporting.sync_order_list "
            "WHERE last_sync_id = %s AND sync_state = 'SYNCED'",
            sync_id,
        )
        assert totals["records_synced"] == synced == sum(b["synced"] for b in batches)
        failed_records = one(
            conn,
            "SELECT count(*) FROM reporting.sync_order_list "
            "WHERE last_sync_id = %s AND last_error IS NOT NULL",
            sync_id,
        )
        assert totals["records_processed"] == synced + failed_records
    markdown = session["summary_markdown"]
    assert f"| **Errors** | {totals['errors']:,} |" in markdown
    assert f"| **API Operations** | {totals['api_operations']:,}" in markdown
    for customer in session["summary_json"]["customers"]:
        line = one(
            conn,
            "SELECT row_to_json(c) FROM reporting.sync_session_customers c "
            "WHERE sync_id = %s AND customer_key = %s",
            sync_id,
            customer["customer_key"],
        )
        assert customer["records_processed"] == line["records_processed"]
        assert customer["errors"] == line["errors"]
        assert (
            f"| {customer['status_label']} | {line['records_processed']:,} | {line['errors']:,} |" in markdown
        )
    return totals


def step_error(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.step_failure_data.error.to_string()  # type: ignore[union-attr]
