"""``reporting-assets sync``: flags, help, bad input, and a real session launched on the test
instance with progress, the executive summary and the folder printed at the end."""

from __future__ import annotations

import io
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.execution_reports.assets import EXECUTION_REPORTS, render_execution_reports
from reporting_assets.sync.assets import SYNC_ID_TAG, SYNC_JOB_NAME, SYNC_ORDER_LIST
from reporting_assets.sync.cli import build_parser, main, sync_command
from reporting_assets_tests.support.sync import add_orders, one, rows, write_config

FLAGS = (
    "--environment",
    "--customer",
    "--limit",
    "--skip-subitems",
    "--generate-report",
    "--execute",
    "--config",
    "--reports-dir",
    "--sample-day",
    "--quiet",
)


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$") as exit_info:
        main(["sync", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: reporting-assets sync")
    for flag in FLAGS:
        assert flag in out
    assert "dry run" in out and "examples:" in out and "Exit status" in out


@pytest.mark.parametrize(("value", "expected"), [("0", "got 0"), ("-2", "got -2"), ("three", "whole number")])
def test_bad_limits_are_refused_with_the_rule(
    value: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match=r"^2$") as exit_info:
        main(["sync", f"--limit={value}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --limit" in err and expected in err
    if value != "three":
        assert "must be at least 1" in err and "leave --limit out to sync every pending record" in err


@pytest.mark.usefixtures("clean_sync_tables")
def test_unknown_customer_and_environment_are_clear_errors(
    customers: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert main(["sync", "--config", str(config), "--customer", "PELOTN"]) == 2
    err = capsys.readouterr().err
    assert "Customer 'PELOTN' is not registered. Did you mean 'PELOTON'?" in err
    assert main(["sync", "--config", str(config), "--environment", "prod"]) == 2
    err = capsys.readouterr().err
    assert "Environment 'prod' is not defined" in err and "Did you mean 'production'?" in err


@pytest.mark.usefixtures("clean_sync_tables")
def test_cli_launches_a_real_run_and_prints_progress_the_summary_and_the_folder(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received", "In Production", "Cancelled", "Shipped", "Received"])
    config = write_config(tmp_path)
    args = build_parser().parse_args(
        [
            "sync", "--environment", "test", "--config", str(config), "--reports-dir", str(tmp_path / "r"),
            "--customer", "PELOTON", "--limit", "3", "--skip-subitems", "--generate-report", "--execute",
        ]
    )  # fmt: skip
    out = io.StringIO()
    assert sync_command(args, instance=instance, out=out) == 0
    text = out.getvalue()
    (run,) = instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB_NAME))
    session = rows(conn, "SELECT * FROM reporting.sync_sessions")[0]
    assert run.tags[SYNC_ID_TAG] == session["sync_id"] and session["run_id"] == run.run_id
    assert text.startswith(f"Sync session {session['sync_id']}: EXECUTE, environment test, customers PELOTON")
    assert " se-002 Sync session" in text and " se-013 PELOTON batch 1/1: 3 synced" in text  # progress
    assert session["summary_markdown"] in text  # the executive summary, as saved
    assert f"Session folder: {session['folder']}" in text and Path(session["folder"]).is_dir()
    assert one(conn, "SELECT count(*) FROM sample_target.items") == 3
    assert one(conn, "SELECT count(*) FROM sample_target.subitems") == 0  # --skip-subitems
    assert "| **Subitems** | skipped (--skip-subitems) |" in session["summary_markdown"]
    assert "rendered for 1 partition(s)" in text  # --generate-report
    renders = instance.get_runs(dg.RunsFilter(job_name="render_reports"))
    assert len(renders) == 1 and renders[0].status == dg.DagsterRunStatus.SUCCESS
    if SYNC_ORDER_LIST in render_execution_reports.asset_deps[EXECUTION_REPORTS]:  # once wired (docs/sync.md)
        stored = rows(
            conn,
            "SELECT status, external_execution_id FROM reporting.pipeline_execution_reports "
            "WHERE pipeline_type = 'sync_order_list'",
        )
        assert stored == [{"status": "success", "external_execution_id": session["sync_id"]}]


@pytest.mark.usefixtures("clean_sync_tables")
def test_cli_dry_run_is_the_default(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "GREYSON", ["Received"] * 2)
    args = build_parser().parse_args(
        [
            "sync",
            "-e",
            "test",
            "--config",
            str(write_config(tmp_path)),
            "--reports-dir",
            str(tmp_path),
            "--quiet",
        ]
    )
    out = io.StringIO()
    assert sync_command(args, instance=instance, out=out) == 0
    assert "DRY RUN (nothing will change; add --execute to apply)" in out.getvalue()
    assert "se-002" not in out.getvalue()  # --quiet: no progress lines
    assert one(conn, "SELECT count(*) FROM sample_target.items") == 0
    assert one(conn, "SELECT count(*) FROM reporting.sync_order_list WHERE sync_state = 'PENDING'") == 2
