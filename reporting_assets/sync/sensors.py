"""Run-status sensors that finish the reports of sync sessions whose run died.

A session writes its reports in a ``finally``, also when it fails or is terminated; these
sensors cover the runs where even that could not happen (the process was killed, the machine
went away). They read the session's row in ``reporting.sync_sessions``: a session still
``running`` after its run ended is closed as failed/canceled with the run's failure messages,
and every customer in its scope gets its report from the rows the session committed.
``monitor_all_code_locations=True``: runs launched by the CLI (in-process) count too.

A run-status sensor sees each run once: if its tick fails (the database is still down when the
run dies), Dagster moves on. ``stale_sync_sessions_sensor`` therefore looks every few minutes
for sessions still ``running`` whose run has ended and closes them the same way; it keeps no
cursor, so a failed tick is simply repeated.
"""

from pathlib import Path

import dagster as dg

from reporting_assets.db.connection import Connection
from reporting_assets.execution_reports.events import _failure_messages
from reporting_assets.logging_ids import ContextFilter, JsonLinesHandler, attached, get_logger, log_context
from reporting_assets.resources import PostgresResource
from reporting_assets.sync import store
from reporting_assets.sync.assets import SYNC_ID_TAG, SYNC_JOB_NAME
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


def _build(status: dg.DagsterRunStatus, name: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Sync sessions whose run ended {status.value} get their customer reports and "
        "executive summary even when the run could not write them itself.",
    )
    def sensor(context: dg.RunStatusSensorContext, postgres: PostgresResource) -> dg.SkipReason:
        run = context.dagster_run
        if run.job_name != SYNC_JOB_NAME:
            return dg.SkipReason(f"Run {run.run_id} is not a {SYNC_JOB_NAME} run")
        with postgres.connection(doing=f"finalizing the sync session of run {run.run_id}") as conn:
            outcome = finalize_dead_run(conn, context.instance, run)
        return dg.SkipReason(outcome)

    return sensor


def finalize_ended_runs(conn: Connection, instance: dg.DagsterInstance) -> list[str]:
    """Close every session still ``running`` whose run failed or was canceled; what was done."""
    done = []
    for session in store.running_sessions(conn):
        run = instance.get_run_by_id(session["run_id"]) if session["run_id"] else None
        if run is not None and run.status in _STATUS:
            done.append(finalize_dead_run(conn, instance, run))
    return done


@dg.sensor(
    name="stale_sync_sessions_sensor",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 5 minutes: sync sessions still marked running whose run failed or was canceled "
    "get their reports (when the failure sensor's own tick could not write them, e.g. database down).",
)
def stale_sync_sessions_sensor(
    context: dg.SensorEvaluationContext, postgres: PostgresResource
) -> dg.SkipReason:
    with postgres.connection(doing="looking for sync sessions whose run ended") as conn:
        done = finalize_ended_runs(conn, context.instance)
    return dg.SkipReason("; ".join(done) or "No sync session outlived its run.")


failed_sync_run_sensor = _build(dg.DagsterRunStatus.FAILURE, "failed_sync_run_sensor")
canceled_sync_run_sensor = _build(dg.DagsterRunStatus.CANCELED, "canceled_sync_run_sensor")
sync_sensors = [failed_sync_run_sensor, canceled_sync_run_sensor, stale_sync_sessions_sensor]
