"""Shared fixtures and helpers of the sync tests (no tests here).

The autouse fixture empties the sync's own tables (and the sample target) before each test of
the modules that import it; conftest's ``instance`` fixture cleans the rest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from reporting_assets.db.connection import connect
from reporting_assets.definitions import loaded_definitions
from reporting_assets.sync.assets import SYNC_ID_TAG, SYNC_JOB_NAME, SYNC_OP_NAME
from reporting_assets.sync.order_list import load_sample_orders
from reporting_assets_tests.helpers import REPO_ROOT

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
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@pytest.fixture(autouse=True)
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


def load_orders(conn: psycopg.Connection, customers: list[str], day: dt.date = SAMPLE_DAY) -> None:
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


def session_of(conn: psycopg.Connection, run_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM reporting.sync_sessions WHERE run_id = %s", (run_id,)).fetchone()
    conn.commit()
    assert row is not None, f"no sync session for run {run_id}"
    return row


def rows(conn: psycopg.Connection, statement: str, *params: Any) -> list[dict[str, Any]]:
    found = conn.execute(statement, params).fetchall()
    conn.commit()
    return found


def one(conn: psycopg.Connection, statement: str, *params: Any) -> Any:
    row = conn.execute(statement, params).fetchone()
    conn.commit()
    assert row is not None
    return next(iter(row.values()))


__all__ = ["SYNC_ID_TAG", "clean_sync_tables"]
