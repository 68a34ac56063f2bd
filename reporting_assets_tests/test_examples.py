"""The examples run: the board-planning script reporting with ``save()`` (run as the Kestra flow
runs it, with Kestra's execution id) and the Dagster Pipes asset whose script reports through
``dagster_pipes`` alone; both end as rendered reports."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import dagster as dg
import psycopg
import pytest
import yaml

from reporting_assets.pipelines.registry import Pipeline, add_pipeline
from reporting_assets_tests.helpers import QUIET, REPO_ROOT, render, report_rows

EXAMPLES = REPO_ROOT / "examples"
DAY = "2025-06-17"


def example_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.integration
def test_the_kestra_flow_runs_the_board_planning_script_which_reports_with_kestras_id(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_pipeline(
        conn,
        Pipeline(
            "board_planning",
            "Board Planning",
            "board_planning",
            "monday",
            "https://kestra.example.com/ui/executions/{id}",
        ),
    )
    flow = yaml.safe_load((EXAMPLES / "kestra_flow.yaml").read_text())
    (task,) = flow["tasks"]
    assert task["env"]["KESTRA_EXECUTION_ID"] == "{{ execution.id }}"
    (command,) = task["commands"]
    command = (
        command.replace("{{ inputs.customer }}", "ACTIVELY BLACK")
        .replace("{{ execution.startDate | date('yyyy-MM-dd') }}", DAY)
        .replace("python ", f"{sys.executable} ", 1)
    )
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env |= {"KESTRA_EXECUTION_ID": "5xG2kestra", "REPORTING_HOME": str(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        f"Recorded board_planning 5xG2kestra: reporting-assets reports show 'ACTIVELY BLACK|{DAY}'"
        in done.stdout
    )

    render(instance, f"ACTIVELY BLACK|{DAY}")
    (row,) = [r for r in report_rows(conn) if r["pipeline_type"] == "board_planning"]
    assert row["external_execution_id"] == "5xG2kestra" and row["status"] == "success"
    assert "(https://kestra.example.com/ui/executions/5xG2kestra)" in row["markdown_content"]


@pytest.mark.integration
def test_the_pipes_asset_reports_through_dagster_pipes_and_is_rendered(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    add_pipeline(
        conn,
        Pipeline(
            "board_planning_pipes",
            "Board Planning (Pipes)",
            "board_planning_pipes",
            "monday",
            expected_daily=False,
        ),
    )
    example = example_module("pipes_asset")
    result = dg.materialize(
        [example.board_planning_pipes],
        instance=instance,
        partition_key=f"PELOTON|{DAY}",
        resources={"pipes_subprocess_client": dg.PipesSubprocessClient()},
        run_config=QUIET,
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("board_planning_pipes")
    assert materialization.metadata["run_report"].value["counts"]["new"] == 2  # type: ignore[index]

    render(instance, f"PELOTON|{DAY}")
    (row,) = [r for r in report_rows(conn) if r["pipeline_type"] == "board_planning_pipes"]
    assert row["execution_id"] == result.run_id and row["source_event"] == "materialization"
    assert "**Pipeline**: Board Planning (Pipes)" in row["markdown_content"]
    assert "**BP-202** - Canvas Tote (Qty: 2,500)" in row["markdown_content"]
