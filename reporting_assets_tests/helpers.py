"""Launching real runs on the test instance, the way the demo and a backfill do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg

from reporting_assets.batched_runs import range_tags
from reporting_assets.definitions import loaded_definitions

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout (tests run the CLIs from here, as the README does); the code never uses it."""


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``reporting-assets ARGS`` in a real subprocess from the checkout, as a user runs it;
    ``env`` is its whole environment (default: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "reporting_assets.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=dict(os.environ if env is None else env),
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


INJECTION_PAYLOADS = [
    "event_type; DROP TABLE analytics.usage_events; --",
    "event_type' OR '1'='1",
    'event_type" FROM analytics.usage_events; --',
    "1=1) OR (1=1",
    "pg_sleep(10)",
]
"""SQL injection attempts the report DSL tests put in every identifier and value position."""

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
"""Run config that keeps Dagster's console logger to errors, so test output stays readable."""
GOLDEN_DIR = Path(__file__).parent / "golden"
"""Expected renderings, compared byte for byte."""


def run_sources(
    instance: dg.DagsterInstance,
    partition_key: str,
    ops: dict[str, dict[str, Any]] | None = None,
    only: set[str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One sample_pipelines run for a partition (all 3 source assets, or ``only`` these);
    ``ops`` = per-asset config."""
    run_config: dict[str, Any] = dict(QUIET)
    if ops:
        run_config["ops"] = {name: {"config": config} for name, config in ops.items()}
    return (
        loaded_definitions()
        .resolve_job_def("sample_pipelines")
        .execute_in_process(
            instance=instance,
            partition_key=partition_key,
            run_config=run_config,
            raise_on_error=False,
            asset_selection=[dg.AssetKey(name) for name in sorted(only)] if only else None,
        )
    )


def render(
    instance: dg.DagsterInstance, first: str, last: str | None = None, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    """A render_reports run for one partition, or a batched range run (first..last)."""
    job = loaded_definitions().resolve_job_def("render_reports")
    if last is None:
        return job.execute_in_process(
            instance=instance, partition_key=first, run_config=QUIET, raise_on_error=raise_on_error
        )
    return job.execute_in_process(
        instance=instance,
        run_config=QUIET,
        tags=range_tags(first, last),
        raise_on_error=raise_on_error,
    )


def report_rows(conn: psycopg.Connection, partition_keys: Sequence[str] | None = None) -> list[dict]:
    rows = conn.execute(
        "SELECT * FROM reporting.pipeline_execution_reports "
        "WHERE %(keys)s::text[] IS NULL OR partition_key = ANY(%(keys)s) "
        "ORDER BY partition_key, pipeline_type, execution_id",
        {"keys": list(partition_keys) if partition_keys is not None else None},
    ).fetchall()
    conn.commit()
    return rows


def table_snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every reporting row (minus surrogate ids), to compare before/after re-runs."""
    snapshot = {
        "reports": conn.execute(
            "SELECT execution_id, pipeline_type, customer_key, execution_date, status, markdown_content, "
            "summary_json::text, content_hash, generated_at, updated_at "
            "FROM reporting.pipeline_execution_reports ORDER BY 1, 2, 3, 4"
        ).fetchall(),
        "executions": conn.execute(
            "SELECT run_id, job_name, status, external_execution_id, updated_at "
            "FROM reporting.workflow_executions ORDER BY 1"
        ).fetchall(),
        "lineage": conn.execute(
            "SELECT r.execution_id, r.pipeline_type, r.execution_date, l.figure_path, l.figure_value::text, "
            "l.event_storage_id, l.updated_at FROM reporting.report_lineage l "
            "JOIN reporting.pipeline_execution_reports r ON r.id = l.report_id ORDER BY 1, 2, 3, 4"
        ).fetchall(),
    }
    conn.commit()
    return {k: [tuple(r.values()) for r in v] for k, v in snapshot.items()}


def latest_materialization_metadata(
    instance: dg.DagsterInstance, asset: str, partition_key: str
) -> dict[str, Any]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition_key]), limit=1
    ).records
    assert records, f"no materialization of {asset} for {partition_key}"
    materialization = records[0].asset_materialization
    assert materialization is not None
    return dict(materialization.metadata)
