"""Partition ranges that select no partition are refused, naming the wrong end, on every
partitioned asset: through the real ``dagster asset materialize`` CLI and through runs with the
range tags. Nothing stored before is changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from reporting_assets.definitions import loaded_definitions
from reporting_assets.partitions import empty_range_problem
from reporting_assets_tests.helpers import QUIET, REPO_ROOT, render, run_sources, table_snapshot
from reporting_assets_tests.support.sync import step_error

REVERSED = (
    "The partition range 'PELOTON|2025-06-17...PELOTON|2025-06-11' selects no partition: its start "
    "(2025-06-17) is after its end (2025-06-11); swap them."
)


def test_a_reversed_range_names_the_end_that_is_wrong() -> None:
    customers = ["ACTIVELY BLACK", "PELOTON", "GREYSON"]
    assert empty_range_problem("PELOTON|2025-06-17", "PELOTON|2025-06-11", customers) == REVERSED
    assert empty_range_problem("GREYSON|2025-06-11", "PELOTON|2025-06-17", customers) == (
        "The partition range 'GREYSON|2025-06-11...PELOTON|2025-06-17' selects no partition: its start "
        "customer (GREYSON) comes after its end customer (PELOTON) in the order the customers were "
        "registered (ACTIVELY BLACK, PELOTON, GREYSON); swap them."
    )
    assert empty_range_problem("2025-06-17", "2025-06-11") == (
        "The partition range '2025-06-17...2025-06-11' selects no partition: its start (2025-06-17) is "
        "after its end (2025-06-11); swap them."
    )


def test_a_reversed_range_run_of_the_report_assets_fails_and_changes_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    """execution_reports, workflow_lineage and daily_customer_summaries share the range step."""
    for day in ("2025-06-11", "2025-06-17"):
        run_sources(instance, f"PELOTON|{day}")
    render(instance, "PELOTON|2025-06-11", "PELOTON|2025-06-17")
    before = table_snapshot(conn)
    result = render(instance, "PELOTON|2025-06-17", "PELOTON|2025-06-11", raise_on_error=False)
    assert not result.success
    assert REVERSED in step_error(result)
    assert table_snapshot(conn) == before


def test_single_partition_assets_refuse_a_range_with_what_to_do(
    instance: dg.DagsterInstance, customers: list[str]
) -> None:
    """Sources and customer_trends take one partition per run: a reversed range gets the same
    message, a range of several partitions says to launch one run per partition."""
    defs = loaded_definitions()
    trends = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("customer_trends")}
    )
    reversed_days = trends.execute_in_process(
        instance=instance,
        run_config=QUIET,
        tags={ASSET_PARTITION_RANGE_START_TAG: "2025-06-17", ASSET_PARTITION_RANGE_END_TAG: "2025-06-11"},
        raise_on_error=False,
    )
    assert "The partition range '2025-06-17...2025-06-11' selects no partition: its start (2025-06-17) " in (
        step_error(reversed_days)
    )
    sources = defs.resolve_job_def("sample_pipelines").get_subset(asset_selection={dg.AssetKey("order_sync")})
    several = sources.execute_in_process(
        instance=instance,
        run_config=QUIET,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: "PELOTON|2025-06-11",
            ASSET_PARTITION_RANGE_END_TAG: "PELOTON|2025-06-12",
        },
        raise_on_error=False,
    )
    assert (
        "order_sync takes one partition per run, but the partition range "
        "'PELOTON|2025-06-11...PELOTON|2025-06-12' selects 2: launch a backfill"
    ) in step_error(several)
    reversed_sources = sources.execute_in_process(
        instance=instance,
        run_config=QUIET,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: "PELOTON|2025-06-17",
            ASSET_PARTITION_RANGE_END_TAG: "PELOTON|2025-06-11",
        },
        raise_on_error=False,
    )
    assert REVERSED in step_error(reversed_sources)


def test_dagster_asset_materialize_refuses_a_reversed_partition_range(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    """The documented command with its ends swapped fails with the message instead of succeeding."""
    run_sources(instance, "PELOTON|2025-06-17")
    before = table_snapshot(conn)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "asset",
            "materialize",
            "-m",
            "reporting_assets.definitions",
            "--select",
            "execution_reports,workflow_lineage",
            "--partition-range",
            "PELOTON|2025-06-17...PELOTON|2025-06-11",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert REVERSED in result.stderr and "Materialization failed" in result.stderr
    assert table_snapshot(conn) == before
