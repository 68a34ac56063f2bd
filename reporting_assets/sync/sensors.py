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

import dagster as dg

from reporting_assets.resources import PostgresResource
from reporting_assets.sync.assets import SYNC_JOB_NAME


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
        from reporting_assets.sync.dead_runs import finalize_dead_run

        run = context.dagster_run
        if run.job_name != SYNC_JOB_NAME:
            return dg.SkipReason(f"Run {run.run_id} is not a {SYNC_JOB_NAME} run")
        with postgres.connection(doing=f"finalizing the sync session of run {run.run_id}") as conn:
            outcome = finalize_dead_run(conn, context.instance, run)
        return dg.SkipReason(outcome)

    return sensor


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
    from reporting_assets.sync.dead_runs import finalize_ended_runs

    with postgres.connection(doing="looking for sync sessions whose run ended") as conn:
        done = finalize_ended_runs(conn, context.instance)
    return dg.SkipReason("; ".join(done) or "No sync session outlived its run.")


failed_sync_run_sensor = _build(dg.DagsterRunStatus.FAILURE, "failed_sync_run_sensor")
canceled_sync_run_sensor = _build(dg.DagsterRunStatus.CANCELED, "canceled_sync_run_sensor")
sync_sensors = [failed_sync_run_sensor, canceled_sync_run_sensor, stale_sync_sessions_sensor]
