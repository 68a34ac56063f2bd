"""Sync sessions under faults: a run terminated mid-session, a run killed outright (finished by
the failure sensor), a read-only or full reports root, two sessions of the same minute, two
sessions for the same customer at once. Real runs, real processes, real file systems."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.db.connection import connect
from reporting_assets.errors import DatabaseUnavailableError
from reporting_assets.resources import PostgresResource
from reporting_assets.sync.assets import SYNC_JOB_NAME
from reporting_assets.sync.config import load_config
from reporting_assets.sync.engine import SessionResult, SyncRequest, run_session
from reporting_assets.sync.folders import SUMMARY_FILE, new_sync_id
from reporting_assets.sync.sensors import failed_sync_run_sensor, stale_sync_sessions_sensor
from reporting_assets_tests.helpers import REPO_ROOT
from reporting_assets_tests.support.sync import (
    add_orders,
    check_summary_against_database,
    contract_events,
    one,
    rows,
    run_sync,
    session_of,
    step_error,
    write_config,
)

pytestmark = pytest.mark.usefixtures("clean_sync_tables")
TODAY = dt.datetime.now(dt.UTC).date()


def wait_for_first_batch(
    url: str, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        with connect(url) as conn:
            row = conn.execute("SELECT count(*) AS n FROM reporting.sync_batches").fetchone()
        if row and row["n"] >= 1:
            return True
        time.sleep(0.02)
    return False


def test_run_terminated_mid_session_still_reports_every_customer(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    tmp_path: Path,
    database_url: str,
) -> None:
    """Terminate as Dagster does (mark the run CANCELING, signal the process) after the first batch."""
    for customer in customers:
        add_orders(conn, customer, ["Received"] * 8)
    config = write_config(tmp_path, latency_ms=40)
    done = threading.Event()

    def terminate() -> None:
        if wait_for_first_batch(database_url) and not done.is_set():
            (run,) = instance.get_runs(
                dg.RunsFilter(job_name=SYNC_JOB_NAME, statuses=[dg.DagsterRunStatus.STARTED])
            )
            instance.report_run_canceling(run)
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, lambda *_: None)  # a late signal must not stop pytest
    watcher = threading.Thread(target=terminate)
    watcher.start()
    try:
        result = run_sync(instance, config, tmp_path / "reports", execute=True)
    finally:
        done.set()
        watcher.join()
        signal.signal(signal.SIGINT, previous)
    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.CANCELED  # type: ignore[union-attr]
    session = session_of(conn, result.run_id)
    assert session["status"] == "canceled" and session["finalized_by"] == "session"
    assert "terminated" in session["error"]
    lines = {c["customer_key"]: c for c in session["summary_json"]["customers"]}
    first = lines["ACTIVELY BLACK"]  # customers run in key order
    assert first["status"] == "failed" and 4 <= first["records_processed"] < 8
    assert "Not synced: the session was canceled" in first["error"]
    assert {lines[c]["records_processed"] for c in ("GREYSON", "PELOTON")} == {0}
    check_summary_against_database(conn, session)
    folder = Path(session["folder"])
    assert len(list((folder / "customer_reports").iterdir())) == 3
    assert "❌ CANCELED" in (folder / SUMMARY_FILE).read_text()
    events = contract_events(instance, result.run_id)
    assert {kind for kind, _ in events.values()} == {"observation"}
    assert set(events) == {f"{c}|{TODAY.isoformat()}" for c in customers}
    assert all(contract["status"] == "failed" for _, contract in events.values())


def test_killed_run_is_finished_by_the_failure_sensor(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    tmp_path: Path,
    database_url: str,
) -> None:
    """The CLI's process is SIGKILLed mid-session: no ``finally`` runs. Run monitoring marks the
    run failed; the failure sensor's tick fails (database down), and the sweep sensor then writes
    every customer's report and the executive summary."""
    for customer in customers:
        add_orders(conn, customer, ["Received"] * 8)
    config = write_config(tmp_path, latency_ms=40)
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "reporting_assets.sync.cli", "sync", "--environment", "test"]
    command += ["--config", str(config), "--reports-dir", str(reports), "--execute", "--quiet"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for_first_batch(database_url, process=process), process.communicate(timeout=5)
    finally:
        process.kill()
        process.communicate(timeout=30)
    (run,) = instance.get_runs(dg.RunsFilter(job_name=SYNC_JOB_NAME))
    assert run.status == dg.DagsterRunStatus.STARTED
    running = session_of(conn, run.run_id)
    assert running["status"] == "running"
    instance.report_run_failed(run)  # what run monitoring does for a dead run worker
    failure = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[-1]
    assert failure.event_log_entry.dagster_event is not None

    def evaluate(url: str = database_url) -> str:
        context = dg.build_run_status_sensor_context(
            sensor_name=failed_sync_run_sensor.name,
            dagster_event=failure.event_log_entry.dagster_event,  # type: ignore[arg-type]
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(run.run_id),  # type: ignore[arg-type]
            resources={"postgres": PostgresResource(database_url=url, apply_migrations=False)},
        )
        outcome = failed_sync_run_sensor(context)
        assert isinstance(outcome, dg.SkipReason)
        return str(outcome.skip_message)

    def sweep() -> str:
        context = dg.build_sensor_context(
            instance=instance,
            resources={"postgres": PostgresResource(database_url=database_url, apply_migrations=False)},
        )
        outcome = stale_sync_sessions_sensor(context)
        assert isinstance(outcome, dg.SkipReason)
        return str(outcome.skip_message)

    # the database is still down when the failure sensor sees the run: its one tick fails
    with pytest.raises(DatabaseUnavailableError, match=r"PostgreSQL at \S*127\.0\.0\.1:9\S* is unavailable"):
        evaluate("postgresql://nobody@127.0.0.1:9/reporting")
    assert session_of(conn, run.run_id)["status"] == "running"
    assert "closed as failed" in sweep()  # the sweep, minutes later, with the database back
    session = session_of(conn, run.run_id)
    assert session["status"] == "failed" and session["finalized_by"] == "sensor"
    check_summary_against_database(conn, session)
    folder = Path(session["folder"])
    assert len(list((folder / "customer_reports").iterdir())) == 3
    assert (folder / SUMMARY_FILE).read_text() == session["summary_markdown"]
    assert "the run ended FAILURE while syncing this customer" in session["summary_markdown"]
    assert '"log_id": "sn-001"' in (folder / "logs" / "sync_session.jsonl").read_text()
    assert "already finalized" in evaluate()  # a second evaluation changes nothing
    assert sweep() == "No sync session outlived its run."


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:  # root ignores permissions: a read-only mount instead
        path.mkdir()
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    with tmpfs(path, "ro,size=1m") as mounted:
        yield mounted


def test_read_only_reports_root_fails_before_any_call_and_keeps_the_session_record(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received"] * 3)
    with read_only_folder(tmp_path / "ro") as root:
        result = run_sync(instance, write_config(tmp_path), root, execute=True, customers=["PELOTON"])
    message = step_error(result)
    assert "read-only or not writable" in message and "reporting.sync_sessions" in message
    session = session_of(conn, result.run_id)
    assert session["status"] == "failed" and session["reports_error"]
    assert "| PELOTON | ❌ FAILED | 0 | 0 |" in session["summary_markdown"]  # the summary is kept
    assert one(conn, "SELECT count(*) FROM reporting.sync_api_operations") == 0
    kind, contract = contract_events(instance, result.run_id)[f"PELOTON|{TODAY.isoformat()}"]
    assert kind == "observation" and "read-only or not writable" in " ".join(contract["errors"])
    assert one(conn, "SELECT count(*) FROM sample_target.items") == 0


def test_full_disk_is_a_clear_error_and_the_summary_stays_in_the_database(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received"] * 3)
    with tmpfs(tmp_path / "full", "size=256k") as root:
        with contextlib.suppress(OSError), (root / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        with pytest.raises(OSError, match="No space left on device") as full:
            (root / "probe").write_bytes(b"\0" * 65536)
        assert full.value.errno == errno.ENOSPC
        result = run_sync(instance, write_config(tmp_path), root, execute=True, customers=["PELOTON"])
        message = step_error(result)
        assert "the disk is full" in message and "reporting.sync_sessions" in message
        assert not list(root.rglob(".*.tmp")), "no half-written file is left behind"
    session = session_of(conn, result.run_id)
    assert session["reports_error"] and "disk is full" in session["reports_error"]
    assert session["status"] == "success", "the sync itself worked; only its files could not be written"
    assert "| PELOTON | ✅ SUCCESS | 3 | 0 |" in session["summary_markdown"]
    check_summary_against_database(conn, session)


def test_two_sessions_of_the_same_minute_never_share_an_id_or_folder(
    customers: list[str], conn: psycopg.Connection, database_url: str, tmp_path: Path
) -> None:
    assert len({new_sync_id(dt.datetime(2025, 8, 2, 20, 27, tzinfo=dt.UTC)) for _ in range(500)}) == 500
    add_orders(conn, "PELOTON", ["Received"])
    profile = load_config(write_config(tmp_path)).profile("test")
    request = SyncRequest(environment="test", customers=("PELOTON",))
    tokens = iter(["765151E9", "765151E9", "0BADCAFE"])  # the second session draws the first's id first
    minute = dt.datetime(2025, 8, 2, 20, 27, 5, tzinfo=dt.UTC)
    first = run_session(database_url, request, profile, tmp_path, now=minute, token=lambda: next(tokens))
    second = run_session(
        database_url,
        request,
        profile,
        tmp_path,
        now=minute + dt.timedelta(seconds=30),
        token=lambda: next(tokens),
    )
    assert (first.sync_id, second.sync_id) == ("202508022027-SYNC-765151E9", "202508022027-SYNC-0BADCAFE")
    assert (
        first.folder != second.folder
        and (first.folder / SUMMARY_FILE).is_file()
        and (second.folder / SUMMARY_FILE).is_file()
    )
    assert [
        r["sync_id"] for r in rows(conn, "SELECT sync_id FROM reporting.sync_sessions ORDER BY 1")
    ] == sorted([first.sync_id, second.sync_id])


def _wait_for_lock_wait(admin: psycopg.Connection, what: str) -> None:
    """Until a backend of the sync waits for a table lock the test holds."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        waiting = admin.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            (f"%{what}%",),
        ).fetchone()
        admin.commit()  # a new snapshot of pg_stat_activity each time
        if waiting and waiting["n"]:
            return
        time.sleep(0.02)
    raise AssertionError(f"no backend ever waited for {what}")


def test_a_session_blocked_by_another_sessions_lock_reports_not_started_with_the_holder(
    instance: dg.DagsterInstance,
    customers: list[str],
    conn: psycopg.Connection,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The first session holds PELOTON's lock (held still by a table lock on the target); the second
    session for PELOTON does not start: 0 attempted, its reports say so and name the first."""
    orders = add_orders(conn, "PELOTON", ["Received"] * 3)
    config = write_config(tmp_path)
    profile = load_config(config).profile("test")
    first: list[object] = []
    with connect(database_url) as admin, connect(database_url) as blocker:
        blocker.execute("LOCK TABLE sample_target.groups IN ACCESS EXCLUSIVE MODE")
        holder = threading.Thread(
            target=lambda: first.append(
                run_session(
                    database_url,
                    SyncRequest(environment="test", customers=("PELOTON",), execute=True),
                    profile,
                    tmp_path / "first",
                )
            )
        )
        holder.start()
        try:
            _wait_for_lock_wait(admin, "sample_target.groups")
            second = run_sync(instance, config, tmp_path / "second", customers=["PELOTON"], execute=True)
        finally:
            blocker.rollback()
            holder.join(60)
    (first_result,) = first
    assert isinstance(first_result, SessionResult) and first_result.status == "success"
    assert f": Not started: sync session {first_result.sync_id} is syncing PELOTON" in step_error(second)
    session = session_of(conn, second.run_id)
    assert session["status"] == "failed" and session["summary_json"]["not_started"] is True
    assert session["error"].startswith(f"Not started: sync session {first_result.sync_id} is syncing PELOTON")
    (line,) = session["summary_json"]["customers"]
    assert (line["status"], line["records_processed"], line["errors"]) == ("pending", 0, 0)
    summary = (Path(session["folder"]) / SUMMARY_FILE).read_text(encoding="utf-8")
    assert "| **Status** | ⏸️ NOT STARTED |" in summary
    assert "| PELOTON | ⏸️ NOT STARTED | 0 | 0 |" in summary
    assert "Records Processed 60" not in summary and "No record failed." in summary
    report = (Path(session["folder"]) / line["report_file"]).read_text(encoding="utf-8")
    assert "**Status**: ⏸️ NOT STARTED" in report
    assert f"Not started: sync session {first_result.sync_id}" in report
    assert "| **Records Processed** | 0 |" in report and "No batch was sent." in report
    check_summary_against_database(conn, session)
    operations = "SELECT count(*) FROM reporting.sync_api_operations WHERE sync_id = %s"
    assert one(conn, operations, session["sync_id"]) == 0
    assert one(conn, "SELECT count(*) FROM reporting.sync_record_errors") == 0
    assert rows(
        conn,
        "SELECT order_id, sync_state, sync_attempts, last_error FROM reporting.sync_order_list "
        "ORDER BY order_id",
    ) == [{"order_id": o, "sync_state": "SYNCED", "sync_attempts": 1, "last_error": None} for o in orders]
    assert contract_events(instance, second.run_id)[f"PELOTON|{TODAY}"][0] == "observation"


def test_a_customer_locked_by_another_connection_does_not_start_and_the_others_sync(
    customers: list[str], conn: psycopg.Connection, database_url: str, tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received"] * 2)
    add_orders(conn, "GREYSON", ["Received"] * 2)
    profile = load_config(write_config(tmp_path)).profile("test")
    request = SyncRequest(environment="test", customers=("PELOTON", "GREYSON"), execute=True)
    with connect(database_url) as other:  # a connection that is not a sync session holds PELOTON's lock
        other.execute("SELECT pg_advisory_lock(hashtext('reporting.sync:' || 'PELOTON'))")
        pid = other.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]  # type: ignore[index]
        result = run_session(database_url, request, profile, tmp_path)
    assert result.status == "partial" and result.summary is not None
    by_customer = {c["customer_key"]: c for c in result.summary["customers"]}
    assert by_customer["PELOTON"]["status"] == "pending" and by_customer["GREYSON"]["status"] == "success"
    assert by_customer["PELOTON"]["error"].startswith(
        f"Not started: another database connection (backend pid {pid}, not a sync session) is syncing PELOTON"
    )
    assert (by_customer["PELOTON"]["records_processed"], by_customer["PELOTON"]["errors"]) == (0, 0)
    assert result.summary["totals"]["customers_not_started"] == 1 and not result.summary["not_started"]
    assert one(conn, "SELECT count(*) FROM reporting.sync_api_operations WHERE customer_key = 'PELOTON'") == 0
    assert one(conn, "SELECT count(*) FROM reporting.sync_record_errors") == 0
