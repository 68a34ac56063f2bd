"""The report builder over HTTP: reports, previews, schedules, exports, query validation and
tables. Each route translates the request into one ``exports.engine`` call as the token's
actor, and the result (or the engine's error) into the response; the engine enforces tenancy
and roles.

Routes with a fixed second segment (``/schedules``, ``/exports``, ``/validate-query``,
``/tables``) are declared before ``/api/reports/{report_id}`` so they are never read as ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reporting_assets.api.context import ApiContext, Caller, Conn, Context
from reporting_assets.api.errors import ApiError
from reporting_assets.api.settings import MAX_PAGE_SIZE
from reporting_assets.db.connection import Connection
from reporting_assets.errors import ReportingError
from reporting_assets.exports import engine
from reporting_assets.exports.errors import ExportStateError
from reporting_assets.exports.models import Export, Schedule
from reporting_assets.exports.scheduling import next_occurrence

router = APIRouter(prefix="/api/reports", tags=["report builder"])

Format = Literal["csv", "pdf", "xlsx"]
Delivery = Literal["email", "s3", "both"]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"rows per page, 1-{MAX_PAGE_SIZE}")]
Page = Annotated[int, Query(ge=1, le=2**31 - 1, description="page number, from 1")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"at most this many, 1-{MAX_PAGE_SIZE}")]
NEXT_RUNS = 5


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportCreate(_Body):
    name: str = Field(description="1-255 characters, no control characters")
    description: str | None = None
    query_config: dict[str, Any] = Field(description="the query DSL (docs/exports.md)")
    visualization_config: dict[str, Any] | None = None
    filters: list[Any] | None = None
    row_limit: int = 10_000
    is_public: bool = False
    tags: list[str] = Field(default_factory=list)


class ReportUpdate(_Body):
    """The fields to change; the whole result is validated again."""

    name: str | None = None
    description: str | None = None
    query_config: dict[str, Any] | None = None
    visualization_config: dict[str, Any] | None = None
    filters: list[Any] | None = None
    row_limit: int | None = None
    is_public: bool | None = None
    tags: list[str] | None = None


class ScheduleFields(_Body):
    name: str | None = None
    description: str | None = None
    cron_expression: str | None = Field(default=None, description="five fields, e.g. '0 9 * * 1'")
    timezone: str | None = Field(default=None, description="IANA zone, e.g. America/New_York")
    format: Format | None = None
    delivery_method: Delivery | None = None
    recipients: list[str] | None = None
    s3_config: dict[str, Any] | None = None
    email_config: dict[str, Any] | None = None
    is_active: bool | None = None


class ScheduleCreate(ScheduleFields):
    report_id: str
    name: str
    cron_expression: str
    format: Format
    delivery_method: Delivery


class Toggle(_Body):
    is_active: bool | None = Field(default=None, description="set this state; leave out to flip it")


class ExportCreate(_Body):
    report_id: str
    format: Format


class QueryCheck(_Body):
    query_config: dict[str, Any]
    filters: list[Any] | None = None
    row_limit: int = 10_000


def _given(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


# --- views ------------------------------------------------------------------------------------


def schedule_view(schedule: Schedule, now: dt.datetime | None = None) -> dict[str, Any]:
    """A schedule with its next five run times, in its own zone and in UTC."""
    zone = ZoneInfo(schedule.timezone)
    moment = now or dt.datetime.now(dt.UTC)
    upcoming = []
    for _ in range(NEXT_RUNS):
        moment = next_occurrence(schedule.cron_expression, schedule.timezone, moment)
        upcoming.append({"local": moment.astimezone(zone).isoformat(), "utc": moment.isoformat()})
    return {**schedule.as_json(), "next_runs": upcoming}


def export_view(export: Export, *, run_id: str | None = None, note: str | None = None) -> dict[str, Any]:
    """An export without the server's file path; where to poll and download it."""
    view = {k: v for k, v in export.as_json().items() if k != "file_path"}
    view["links"] = {
        "self": f"/api/reports/exports/{export.id}",
        "download": f"/api/reports/exports/{export.id}/download",
    }
    if run_id is not None or note is not None:
        view["run_id"] = run_id
    if note is not None:
        view["note"] = note
    return view


def submit_export(conn: Connection, context: ApiContext, export: Export) -> tuple[str | None, str | None]:
    """Commit the pending export and submit its Dagster run: the run id, or None and a note
    saying who runs it instead (the API and the web pages share this)."""
    conn.commit()
    if context.runs is None:
        return None, "No Dagster instance is attached to this API; scheduled_exports_sensor runs the export."
    try:
        return context.runs.submit(export), None
    except ReportingError as exc:
        return None, str(exc)


def _submitted(conn: Connection, context: ApiContext, export: Export) -> JSONResponse:
    """Commit the pending export, submit its Dagster run, answer 202 with where to poll."""
    run_id, note = submit_export(conn, context, export)
    return JSONResponse(
        export_view(export, run_id=run_id, note=note),
        status_code=202,
        headers={"Location": f"/api/reports/exports/{export.id}"},
    )


# --- fixed paths first ------------------------------------------------------------------------


@router.get("/tables", summary="Tables and fields a report may read")
def list_tables(caller: Caller) -> list[dict[str, Any]]:
    return engine.list_tables()


@router.post("/validate-query", summary="Check a query without saving it")
def validate_query(body: QueryCheck, caller: Caller, context: Context) -> dict[str, Any]:
    return engine.validate_query(
        caller.actor, body.query_config, context.exports, filters=body.filters, row_limit=body.row_limit
    )


@router.get("/schedules", summary="Your schedules (all of the tenant's, as an admin)")
def list_schedules(
    caller: Caller, conn: Conn, report_id: str | None = None, limit: Limit = 100
) -> list[dict[str, Any]]:
    return [
        schedule_view(s) for s in engine.list_schedules(conn, caller.actor, report_id=report_id, limit=limit)
    ]


@router.post("/schedules", status_code=201, summary="Schedule a report")
def create_schedule(body: ScheduleCreate, caller: Caller, conn: Conn, context: Context) -> dict[str, Any]:
    values = _given(body)
    report_id = values.pop("report_id")
    schedule = engine.create_schedule(conn, caller.actor, report_id, values, s3=context.s3)
    conn.commit()
    return schedule_view(schedule)


@router.get("/schedules/{schedule_id}", summary="A schedule with its next five run times")
def get_schedule(schedule_id: str, caller: Caller, conn: Conn) -> dict[str, Any]:
    return schedule_view(engine.get_schedule(conn, caller.actor, schedule_id))


@router.put("/schedules/{schedule_id}", summary="Change a schedule")
def update_schedule(
    schedule_id: str, body: ScheduleFields, caller: Caller, conn: Conn, context: Context
) -> dict[str, Any]:
    schedule = engine.update_schedule(conn, caller.actor, schedule_id, _given(body), s3=context.s3)
    conn.commit()
    return schedule_view(schedule)


@router.delete("/schedules/{schedule_id}", status_code=204, summary="Delete a schedule (its exports stay)")
def delete_schedule(schedule_id: str, caller: Caller, conn: Conn) -> Response:
    engine.delete_schedule(conn, caller.actor, schedule_id)
    conn.commit()
    return Response(status_code=204)


@router.post("/schedules/{schedule_id}/run", status_code=202, summary="Run a schedule now (a Dagster run)")
def run_schedule(schedule_id: str, caller: Caller, conn: Conn, context: Context) -> JSONResponse:
    return _submitted(conn, context, engine.run_schedule(conn, caller.actor, schedule_id))


@router.patch("/schedules/{schedule_id}/toggle", summary="Pause or resume a schedule")
def toggle_schedule(
    schedule_id: str, caller: Caller, conn: Conn, context: Context, body: Toggle | None = None
) -> dict[str, Any]:
    active = body.is_active if body is not None else None
    schedule = engine.toggle_schedule(conn, caller.actor, schedule_id, active, s3=context.s3)
    conn.commit()
    return schedule_view(schedule)


@router.get("/exports", summary="Export history, newest first")
def list_exports(
    caller: Caller,
    conn: Conn,
    report_id: str | None = None,
    schedule_id: str | None = None,
    status: Literal["pending", "processing", "completed", "failed"] | None = None,
    limit: Limit = 50,
) -> list[dict[str, Any]]:
    exports = engine.list_exports(
        conn, caller.actor, report_id=report_id, schedule_id=schedule_id, status=status, limit=limit
    )
    return [export_view(e) for e in exports]


@router.post("/exports", status_code=202, summary="Export a report now (a Dagster run); poll the export")
def create_export(body: ExportCreate, caller: Caller, conn: Conn, context: Context) -> JSONResponse:
    return _submitted(conn, context, engine.create_export(conn, caller.actor, body.report_id, body.format))


@router.get("/exports/{export_id}", summary="An export: its status, rows, size, error")
def get_export(export_id: str, caller: Caller, conn: Conn) -> dict[str, Any]:
    return export_view(engine.get_export(conn, caller.actor, export_id))


@router.delete("/exports/{export_id}", status_code=204, summary="Delete an export and its file")
def delete_export(export_id: str, caller: Caller, conn: Conn) -> Response:
    engine.delete_export(conn, caller.actor, export_id)
    conn.commit()
    return Response(status_code=204)


@router.get(
    "/exports/{export_id}/download",
    summary="The export's file",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}, "application/octet-stream": {}}}},
)
def download_export(export_id: str, caller: Caller, conn: Conn) -> FileResponse:
    export = engine.get_export(conn, caller.actor, export_id)
    try:
        download = engine.download_export(conn, caller.actor, export_id)
    except ExportStateError as exc:
        if export.status == "completed" or export.file_path:
            raise ApiError(410, "gone", str(exc)) from None
        raise
    return FileResponse(download.path, media_type=download.media_type, filename=download.filename)


@router.post("/exports/{export_id}/retry", status_code=202, summary="Retry a failed export (a Dagster run)")
def retry_export(export_id: str, caller: Caller, conn: Conn, context: Context) -> JSONResponse:
    return _submitted(conn, context, engine.retry_export(conn, caller.actor, export_id))


# --- reports ----------------------------------------------------------------------------------


@router.get("", summary="The reports you may see")
def list_reports(caller: Caller, conn: Conn, limit: Limit = 500) -> list[dict[str, Any]]:
    return [r.as_json() for r in engine.list_reports(conn, caller.actor, limit=limit)]


@router.post("", status_code=201, summary="Save a report")
def create_report(body: ReportCreate, caller: Caller, conn: Conn, context: Context) -> dict[str, Any]:
    report = engine.create_report(conn, caller.actor, _given(body), context.exports)
    conn.commit()
    return report.as_json()


@router.get("/{report_id}", summary="A report")
def get_report(report_id: str, caller: Caller, conn: Conn) -> dict[str, Any]:
    return engine.get_report(conn, caller.actor, report_id).as_json()


@router.put("/{report_id}", summary="Change a report (owner or admin)")
def update_report(
    report_id: str, body: ReportUpdate, caller: Caller, conn: Conn, context: Context
) -> dict[str, Any]:
    report = engine.update_report(conn, caller.actor, report_id, _given(body), context.exports)
    conn.commit()
    return report.as_json()


@router.delete("/{report_id}", status_code=204, summary="Delete a report with its schedules and exports")
def delete_report(report_id: str, caller: Caller, conn: Conn) -> Response:
    engine.delete_report(conn, caller.actor, report_id)
    conn.commit()
    return Response(status_code=204)


@router.get("/{report_id}/preview", summary="One page of a report's rows, with the total and page count")
def preview_report(
    report_id: str, caller: Caller, conn: Conn, context: Context, page: Page = 1, page_size: PageSize = 50
) -> dict[str, Any]:
    preview = engine.preview_report(
        conn, caller.actor, report_id, context.source(), context.exports, page=page, page_size=page_size
    )
    return preview.as_json()
