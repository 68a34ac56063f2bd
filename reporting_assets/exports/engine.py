"""The report builder's operations in one place: every operation on reports, schedules and
exports as a plain function.

Each takes the connection, the acting :class:`~reporting_assets.exports.models.Actor` (tenant,
user, role) and plain values, and returns plain values (``models``). Errors are ``ExportError``
subclasses whose class says what kind of failure it is (``NotFoundError``,
``PermissionDeniedError``, ``QueryValidationError`` / ``ReportValidationError`` /
``ScheduleValidationError``, ``ExportStateError``) and whose message names the bad part.
The CLI and the default report call these; callers own the transaction (the CLI's connection
commits on success).

The functions live with their entity (``reports``, ``previews``, ``schedules`` with
``schedule_fields``, ``export_runs``); this module only gathers them, so a caller has one list
of what the report builder can do.
"""

from __future__ import annotations

from reporting_assets.exports.export_runs import (
    EXPORT_STATUSES,
    Download,
    create_export,
    delete_export,
    download_export,
    download_filename,
    get_export,
    list_exports,
    retry_export,
)
from reporting_assets.exports.previews import (
    Preview,
    list_tables,
    preview_compiled,
    preview_query,
    preview_report,
    validate_query,
)
from reporting_assets.exports.reports import (
    compile_for,
    compile_report,
    create_report,
    delete_report,
    get_report,
    list_reports,
    update_report,
)
from reporting_assets.exports.schedule_fields import DELIVERY_METHODS, MAX_RECIPIENTS
from reporting_assets.exports.schedules import (
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    run_schedule,
    toggle_schedule,
    update_schedule,
)

__all__ = [
    "DELIVERY_METHODS",
    "EXPORT_STATUSES",
    "MAX_RECIPIENTS",
    "Download",
    "Preview",
    "compile_for",
    "compile_report",
    "create_export",
    "create_report",
    "create_schedule",
    "delete_export",
    "delete_report",
    "delete_schedule",
    "download_export",
    "download_filename",
    "get_export",
    "get_report",
    "get_schedule",
    "list_exports",
    "list_reports",
    "list_schedules",
    "list_tables",
    "preview_compiled",
    "preview_query",
    "preview_report",
    "retry_export",
    "run_schedule",
    "toggle_schedule",
    "update_report",
    "update_schedule",
    "validate_query",
]
