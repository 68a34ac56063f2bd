"""Closing the sync session of a run that ended (failed, canceled, killed) without closing it:
its customers are marked, the session is finalized and every customer's report written. Used by
the sync sensors when they tick, so loading the code location does not pay for the engine."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from reporting_assets.db.connection import Connection
from reporting_assets.execution_reports.events import _failure_messages
from reporting_assets.logging_ids import ContextFilter, JsonLinesHandler, attached, get_logger, log_context
from reporting_assets.sync import store
from reporting_assets.sync.assets import SYNC_ID_TAG
from reporting_assets.sync.engine import finalize_session
from reporting_assets.sync.folders import LOG_FILE, SessionFolder

log = get_logger(__name__)

_STATUS = {dg.DagsterRunStatus.FAILURE: "failed", dg.DagsterRunStatus.CANCELED: "canceled"}


def finalize_dead_run(conn: Connection, instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """Close the session of a run that ended without closing it; returns what was done."""
    session = store.get_session(conn, run_id=run.run_id)
    tagged = run.tags.get(SYNC_ID_TAG)
    if session is None and tagged:
        session = store.get_session(conn, sync_id=tagged)
    if session is None:
        return (
            f"Run {run.run_id} ended {run.status.value} before its sync session started: nothing was sent "
            f"and there is no session to report."
        )
    sync_id = session["sync_id"]
    if session["status"] != "running":
        return f"Sync session {sync_id} was already finalized ({session['status']}) by the run itself."
    status = _STATUS.get(run.status, "failed")
    messages = _failure_messages(instance, run.run_id, run.status)
    error = f"The run ended {run.status.value} before the session finished: {' | '.join(messages)}"
    for line in store.customer_lines(conn, sync_id):
        if line.status in ("pending", "running"):
            line.error = line.error or (
                f"Not synced: the run ended {run.status.value} "
                + ("while syncing this customer." if line.status == "running" else "before this customer.")
            )
            line.status = "failed"
            store.upsert_customer(conn, sync_id, line)
    conn.commit()
    path = Path(session["folder"])
    folder = SessionFolder(path.parent.parent, sync_id)
    handler = JsonLinesHandler(folder.path / LOG_FILE)
    handler.addFilter(ContextFilter(sync_id=sync_id))
    with log_context(sync_id=sync_id, run_id=run.run_id), attached(handler):
        log.warning(
            "sn-001", "Finalizing sync session %s of run %s (%s): %s", sync_id, run.run_id, status, error
        )
        result = finalize_session(
            conn,
            sync_id,
            status=status,
            error=error,
            folder=folder,
            finalized_by="sensor",
            log_handler=handler,
        )
    done = f"Sync session {sync_id} closed as {status}; reports in {result.folder}"
    if result.reports_error:
        done += f" (incomplete: {result.reports_error})"
    return done


def finalize_ended_runs(conn: Connection, instance: dg.DagsterInstance) -> list[str]:
    """Close every session still ``running`` whose run failed or was canceled; what was done."""
    done = []
    for session in store.running_sessions(conn):
        run = instance.get_run_by_id(session["run_id"]) if session["run_id"] else None
        if run is not None and run.status in _STATUS:
            done.append(finalize_dead_run(conn, instance, run))
    return done
