"""The reporting-assets CLI and the dagster CLI, as users run them (real subprocesses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.cli import main
from reporting_assets_tests.helpers import REPO_ROOT, render, report_rows, run_cli, run_sources


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["demo"],
        ["db"],
        ["db", "url"],
        ["customers", "add"],
        ["reports", "show"],
        ["lineage", "verify"],
        ["pipelines", "add"],
        ["pipelines", "list"],
        ["report-run"],
    ],
)
def test_every_command_has_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$") as exit_info:
        main([*args, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: reporting-assets")
    assert len(out.splitlines()) > 3


def test_db_url_hides_the_password(database_url: str) -> None:
    secret = "postgresql://report_user:s3cr3t@db.example.com:5432/reporting"
    result = _cli(
        "db", "url", "--dagster", env={"REPORTING_DATABASE_URL": secret, "REPORTING_DAGSTER_DATABASE_URL": ""}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "postgresql://report_user:***@db.example.com:5432/reporting",
        "postgresql+psycopg2://report_user:***@db.example.com:5432/dagster",
    ]
    assert "s3cr3t" not in result.stdout + result.stderr


def test_customers_add_rejects_path_and_pipe_names_with_a_suggestion(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    bad = _cli("customers", "add", "../../etc|passwd")
    assert bad.returncode == 2
    assert "not a valid customer partition key" in bad.stderr
    assert "--key 'etc-passwd'" in bad.stderr
    good = _cli("customers", "add", "../../etc|passwd", "--key", "etc-passwd")
    assert good.returncode == 0, good.stderr
    listed = _cli("customers", "list", "--json")
    assert '"partition_key": "etc-passwd"' in listed.stdout
    assert '"display_name": "../../etc|passwd"' in listed.stdout


def test_lineage_verify_passes_then_fails_on_a_missing_figure(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, "GREYSON|2025-06-17")
    render(instance, "GREYSON|2025-06-17")
    ok = _cli("lineage", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "RESULT: OK" in ok.stdout
    assert "figures without lineage: 0" in ok.stdout
    assert "100.0% populated" in ok.stdout
    conn.execute(
        "DELETE FROM reporting.report_lineage WHERE (report_id, figure_path) = "
        "(SELECT report_id, figure_path FROM reporting.report_lineage ORDER BY 1, 2 LIMIT 1)"
    )
    conn.commit()
    broken = _cli("lineage", "verify")
    assert broken.returncode == 1
    assert "FAIL figures without lineage: 1" in broken.stdout
    assert "RESULT: FAILED" in broken.stdout


def test_reports_show_prints_markdown_or_says_how_to_make_it(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    missing = _cli("reports", "show", "PELOTON|2025-06-17")
    assert missing.returncode == 2
    assert "dagster asset materialize" in missing.stderr
    run_sources(instance, "PELOTON|2025-06-17")
    render(instance, "PELOTON|2025-06-17")
    shown = _cli("reports", "show", "PELOTON|2025-06-17", "--pipeline", "order_sync")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("# 📋 Pipeline Execution Report") == 1
    assert "**Pipeline**: Order Sync" in shown.stdout
    bad = _cli("reports", "show", "PELOTON-2025-06-17")
    assert bad.returncode == 2 and "'CUSTOMER|YYYY-MM-DD' (e.g. 'PELOTON|2025-06-17')" in bad.stderr


def test_dagster_asset_materialize_cli_uses_the_postgres_instance(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    """`dagster asset materialize ... --partition 'customer|date'` from the repo root, as documented."""
    run_sources(instance, "ACTIVELY BLACK|2025-06-17")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "reporting_assets.definitions",
            "--select",
            "execution_reports",
            "--partition",
            "ACTIVELY BLACK|2025-06-17",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = report_rows(conn, ["ACTIVELY BLACK|2025-06-17"])
    assert len(rows) == 3
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": "ACTIVELY BLACK|2025-06-17"}))
    assert any(r.job_name == "__ASSET_JOB" for r in runs), [r.job_name for r in runs]
