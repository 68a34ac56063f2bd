"""The instance's run launcher: Dagster's default one, plus a worker health check so that run
monitoring (``run_monitoring`` in ``dagster.yaml``) can tell a dead run from a running one.

Dagster's default launcher cannot say whether a run's process still lives, so its monitoring
only ends runs by timeout: a run whose process died with the database (it could not even write
its failure) stayed STARTED for good, and the run-failure sensors never wrote its reports. Here
the process that started the run (the ``RUN_START`` event's pid: the run worker of a launched
run, or the process of an in-process run such as the CLI's) is looked up on this machine; when
it is gone, the monitoring daemon marks the run FAILURE.

This assumes what the repo's setup does: the daemon runs on the machine that runs the runs
(``dagster dev``, the CLI, one code server). Deployments that run workers elsewhere use a
launcher with its own health check (Docker, Kubernetes, ECS).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.launcher.default_run_launcher import DefaultRunLauncher


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie that nobody reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): ask the kernel instead
        import os

        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process that started the run (its ``RUN_START`` event)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    if not records or records[0].event_log_entry.dagster_event is None:
        return None
    return records[0].event_log_entry.dagster_event.pid


class ReportingRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher with a health check by process id (see the module docstring)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = run_worker_pid(self._instance, run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run has not logged its start yet")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is running")
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"process {pid}, which ran it, is gone (killed, or it exited when it could not record the "
            f"run's end, e.g. because PostgreSQL went away); re-run it",
        )
