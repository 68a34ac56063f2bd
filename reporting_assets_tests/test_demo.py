"""The main job (what `reporting-assets demo` runs) on a real instance; re-running is idempotent."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg

from reporting_assets.api.server import DEV_TENANT
from reporting_assets.definitions import loaded_definitions
from reporting_assets.demo import DEMO_TENANT, run_demo
from reporting_assets.lineage.verify import verify
from reporting_assets_tests.helpers import table_snapshot


def test_demo_runs_sources_reports_and_lineage_and_reruns_idempotently(
    instance: dg.DagsterInstance, conn: psycopg.Connection, database_url: str
) -> None:
    lines: list[str] = []
    result = run_demo(loaded_definitions(), instance, database_url, days=6, progress=lines.append)
    assert result.runs_launched == 18 and result.runs_skipped == 0
    assert len(result.failed_runs) == 1  # PELOTON's shipping_sync fails on purpose on day 5
    assert result.table_counts == {
        "customers": 3,
        "daily_customer_summaries": 18,
        "pipeline_execution_reports": 54,
        "workflow_executions": 18,
        "workflow_execution_partitions": 54,
        "report_lineage": result.table_counts["report_lineage"],
    }
    assert result.table_counts["report_lineage"] > 54 * 10
    assert any(line.startswith("[3/4]") for line in lines)
    (patterns_line,) = [line for line in lines if line.startswith("      error patterns   6 days in ")]
    assert patterns_line.endswith(" flagged")
    greyson = conn.execute(
        "SELECT markdown_content FROM reporting.pipeline_execution_reports "
        "WHERE customer_key = 'GREYSON' AND pipeline_type = 'manufacturing_sync' "
        "AND execution_date = '2025-06-17'"
    ).fetchone()
    assert greyson is not None  # the customised customer: German dates, no manufacturing section
    assert "**Date**: 17.06.2025" in greyson["markdown_content"]
    assert "Manufacturing Updates" not in greyson["markdown_content"]
    patterns = conn.execute(
        "SELECT count(*) AS n FROM reporting.error_pattern_days WHERE day = '2025-06-17'"
    ).fetchone()
    assert patterns is not None and patterns["n"] > 0
    assert any("FAILED on purpose (shipping_sync)" in line for line in lines)
    assert sorted(instance.get_dynamic_partitions("customers")) == ["ACTIVELY BLACK", "GREYSON", "PELOTON"]
    tenants = conn.execute("SELECT DISTINCT tenant_id FROM reporting.customers").fetchall()
    assert [r["tenant_id"] for r in tenants] == [DEMO_TENANT] == [DEV_TENANT]  # what `api --dev` shows
    statuses = {
        r["status"]: r["n"]
        for r in conn.execute(
            "SELECT status, count(*) AS n FROM reporting.pipeline_execution_reports GROUP BY status"
        )
    }
    assert statuses == {"success": 52, "failed": 1, "partial": 1}
    assert verify(conn).ok
    external = conn.execute(
        "SELECT count(*) AS n FROM reporting.workflow_execution_partitions "
        "WHERE external_execution_id LIKE 'kestra_exec_%%'"
    ).fetchone()
    assert external is not None and external["n"] == 54
    conn.commit()

    before = table_snapshot(conn)
    again = run_demo(loaded_definitions(), instance, database_url, days=6, progress=lines.append)
    assert again.runs_launched == 0 and again.runs_skipped == 18
    assert table_snapshot(conn) == before


def test_demo_days_cover_the_documented_partition() -> None:
    from reporting_assets.demo import DEMO_END_DATE, demo_partitions

    keys = [p.partition_key for p in demo_partitions(("ACTIVELY BLACK",), DEMO_END_DATE, 7)]
    assert keys[0] == "ACTIVELY BLACK|2025-06-11" and keys[-1] == "ACTIVELY BLACK|2025-06-17"
    assert dt.date(2025, 6, 17) == DEMO_END_DATE
