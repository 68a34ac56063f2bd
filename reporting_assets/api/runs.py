"""Export runs as Dagster runs: ``POST /api/reports/exports`` (and ``run``/``retry``) submit one
``scheduled_exports_job`` run for the export to the instance, so it is made and delivered by the
same asset as a scheduled export and shows in the UI with its logs.

The job is read from the code location (a gRPC code server this process starts, as ``dagster
job launch`` does), and the run is submitted to the instance: with the queued run coordinator
of ``dagster.yaml`` the daemon launches it; with the default coordinator it is launched at once.
The code location name must be the one the daemon loads (``REPORTING_API_CODE_LOCATION``,
default ``reporting_assets.definitions`` as in ``workspace.yaml``).
"""

from __future__ import annotations

import threading
from typing import Any

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget

from reporting_assets.errors import ReportingError
from reporting_assets.exports.dagster_defs import JOB_NAME, export_run_config
from reporting_assets.exports.models import Export

MODULE = "reporting_assets.definitions"


class RunSubmissionError(ReportingError):
    """The export is saved (pending) but its Dagster run could not be submitted."""


class ExportRuns:
    """Submits one Dagster run per export attempt. Thread-safe; the code server is started once,
    in the background, when the app starts (``start``)."""

    def __init__(self, instance: dg.DagsterInstance, code_location: str) -> None:
        self.instance = instance
        self.code_location = code_location
        self._context: WorkspaceProcessContext | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self.load, name="export-runs-code-server", daemon=True).start()

    def load(self) -> WorkspaceProcessContext:
        """The workspace, its code server started on the first call (later calls wait for it)."""
        with self._lock:
            if self._context is None:
                self._context = WorkspaceProcessContext(
                    instance=self.instance,
                    workspace_load_target=ModuleTarget(MODULE, None, None, self.code_location),
                    version=dg.__version__,
                    read_only=False,
                )
            return self._context

    def submit(self, export: Export) -> str:
        """Submit the run that makes and delivers ``export``; its run id."""
        request = self.load().create_request_context()
        try:
            location = request.get_code_location(self.code_location)
        except Exception as exc:
            errors = request.get_code_location_error(self.code_location)
            raise RunSubmissionError(
                f"Export {export.id} is saved (pending), but the code location {self.code_location!r} did "
                f"not load, so no Dagster run was submitted: {errors.message if errors else exc}. "
                f"scheduled_exports_sensor runs pending exports once the code location loads."
            ) from exc
        [repository] = location.get_repositories().values()
        selector = JobSubsetSelector(
            location_name=location.name, repository_name=repository.name, job_name=JOB_NAME, op_selection=None
        )
        remote_job = location.get_job(selector)
        run_config: dict[str, Any] = export_run_config(export.id)
        plan = location.get_execution_plan(
            remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=self.instance
        )
        snapshot = plan.execution_plan_snapshot
        run = self.instance.create_run(
            job_name=JOB_NAME,
            run_id=None,
            run_config=run_config,
            resolved_op_selection=None,
            step_keys_to_execute=snapshot.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags={
                **remote_job.tags,
                "reporting/export_id": export.id,
                "reporting/tenant": export.tenant_id,
                "reporting/attempt": str(export.attempts + 1),
            },
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=snapshot,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=None,
            asset_check_selection=None,
            asset_graph=repository.asset_graph,
        )
        self.instance.submit_run(run.run_id, request)
        return run.run_id

    def close(self) -> None:
        with self._lock:
            if self._context is not None:
                self._context.__exit__(None, None, None)
                self._context = None
