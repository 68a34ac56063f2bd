"""PostgreSQL dies in the middle of a batched range run: the CLI says so once (no traceback, no
retry flood), the real monitoring daemon marks the dead run FAILURE, and a re-run leaves the
same rows. Its own PostgreSQL server, since this test kills it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml
from dagster._core.launcher import WorkerStatus

from reporting_assets.db.connection import connect
from reporting_assets.db.urls import (
    DAGSTER_DATABASE_URL_ENV,
    DATABASE_URL_ENV,
    ensure_databases,
    with_database,
)
from reporting_assets.definitions import loaded_definitions
from reporting_assets.demo import run_demo
from reporting_assets.instance import project_instance
from reporting_assets.run_launcher import ReportingRunLauncher, process_alive
from reporting_assets_tests.helpers import REPO_ROOT, table_snapshot

# a PostgreSQL server of its own that it stops, Dagster runs in subprocesses
pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
DEMO = ["--customer", "PELOTON", "--days", "3"]
POLL_SECONDS = 1


@pytest.fixture
def own_server() -> Iterator[object]:
    """A PostgreSQL of its own, outside pytest's temporary root: other pytest processes reset that
    root to mode 0700, which locks out the server's system user when the tests run as root."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    root = Path(tempfile.mkdtemp(prefix="reporting-run-monitoring-"))
    server = pgserver.get_server(root / "postgres", cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _stop_immediately(server: object) -> None:
    """The server dies as in a crash: every backend aborted, no clean shutdown."""
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)  # type: ignore[attr-defined]


def _wait_for_blocked_upsert(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with connect(url) as admin:
            row = admin.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND (query LIKE '%%pipeline_execution_reports%%' OR query LIKE '%%reports_stage%%')"
            ).fetchone()
        if row and row["n"]:
            return
        time.sleep(0.1)
    raise AssertionError("the render run never reached its upsert")


def _python_warning(line: str) -> bool:
    """A Python warning about a Dagster beta API (its two lines), not output of the demo."""
    return "Warning: " in line or line.strip() == "return SensorDefinition("


def _wait_for_status(instance: dg.DagsterInstance, run_id: str, timeout: float) -> dg.DagsterRunStatus:
    deadline = time.monotonic() + timeout
    while True:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        if run.status != dg.DagsterRunStatus.STARTED or time.monotonic() > deadline:
            return run.status
        time.sleep(0.5)


def test_a_run_whose_database_died_is_failed_by_run_monitoring_and_a_rerun_keeps_the_rows(
    own_server: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_url = own_server.get_uri()  # type: ignore[attr-defined]
    ensure_databases(server_url, ["reporting", "dagster"])
    url = with_database(server_url, "reporting")
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    monkeypatch.setenv(DAGSTER_DATABASE_URL_ENV, with_database(server_url, "dagster"))
    instance = project_instance()  # the shipped dagster.yaml
    assert isinstance(instance.run_launcher, ReportingRunLauncher) and instance.run_monitoring_enabled
    quiet = [].append
    run_demo(loaded_definitions(), instance, url, customers=("PELOTON",), days=3, progress=quiet)
    with connect(url) as conn:
        before = table_snapshot(conn)
    assert len(before["reports"]) == 9

    # The second demo re-renders the range; hold its upsert on a table lock, then kill the server.
    locker = psycopg.connect(url)
    locker.execute("LOCK TABLE reporting.pipeline_execution_reports IN ACCESS EXCLUSIVE MODE")
    demo = subprocess.Popen(
        [str(BIN / "reporting-assets"), "demo", *DEMO],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_blocked_upsert(url)
        _stop_immediately(own_server)
        out, err = demo.communicate(timeout=180)
    finally:
        if demo.poll() is None:
            demo.kill()
        locker.close()
    assert demo.returncode == 2, out + err
    assert err.count("error: PostgreSQL at ") == 1 and "is unavailable while running the demo" in err, err
    assert "re-run" in err
    assert "Traceback" not in err and "Retrying failed database connection" not in err, err
    shown = [line for line in err.splitlines() if line.strip() and not _python_warning(line)]
    assert len(shown) == 1 and shown[0].startswith("error: PostgreSQL at "), err

    own_server.ensure_postgres_running()  # type: ignore[attr-defined]
    (stuck,) = instance.get_runs(
        dg.RunsFilter(job_name="render_reports", statuses=[dg.DagsterRunStatus.STARTED])
    )

    # The real daemon, on an instance like the shipped one with a fast poll, fails the dead run.
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    config["run_monitoring"]["poll_interval_seconds"] = POLL_SECONDS
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    empty = tmp_path / "no_definitions.py"
    empty.write_text("import dagster as dg\n\ndefs = dg.Definitions()\n", encoding="utf-8")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-f", str(empty)],
        cwd=tmp_path,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status = _wait_for_status(instance, stuck.run_id, timeout=60)
    finally:
        daemon.terminate()
        daemon.wait(30)
    assert status == dg.DagsterRunStatus.FAILURE
    failure = instance.get_records_for_run(
        stuck.run_id, of_type=dg.DagsterEventType.RUN_FAILURE, limit=1
    ).records[0]
    assert "is gone" in (failure.event_log_entry.dagster_event.message or "")  # type: ignore[union-attr]

    again = run_demo(loaded_definitions(), instance, url, customers=("PELOTON",), days=3, progress=quiet)
    assert again.runs_skipped == 3 and again.runs_launched == 0
    with connect(url) as conn:
        assert table_snapshot(conn) == before


def test_the_health_check_keeps_a_live_run_and_fails_one_whose_process_is_gone(
    instance: dg.DagsterInstance,
) -> None:
    """Monitoring must never fail a run whose process still runs (here: this test's process)."""

    @dg.asset
    def tiny() -> None:
        return None

    launcher = ReportingRunLauncher()
    launcher.register_instance(instance)
    run = instance.get_run_by_id(dg.materialize([tiny], instance=instance).run_id)
    assert run is not None
    assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert not process_alive(int(gone.stdout))
    assert process_alive(os.getpid())
