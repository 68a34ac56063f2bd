"""Pages of the schedules: list, create and edit (cron + timezone in words with the next five
runs, checked as you type), pause/resume, run now and delete, through ``exports.engine`` as
``/api/reports/schedules`` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from reporting_assets.api.context import Conn, Context
from reporting_assets.api.pages.nonces import once
from reporting_assets.api.pages.routing import PageRoute
from reporting_assets.api.pages.schedule_form import (
    ScheduleState,
    check_recipients,
    engine_errors,
    timing,
    zone_names,
)
from reporting_assets.api.pages.session import FormFields, SignedIn, Viewer
from reporting_assets.api.pages.templating import environment, render
from reporting_assets.api.routers.report_builder import submit_export
from reporting_assets.db.connection import Connection
from reporting_assets.exports import engine
from reporting_assets.exports.errors import ScheduleValidationError
from reporting_assets.exports.formats import FORMATS
from reporting_assets.exports.schedule_fields import DELIVERY_METHODS

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _form(
    request: Request,
    viewer: Viewer,
    conn: Connection,
    state: ScheduleState,
    *,
    schedule_id: str | None = None,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
    warnings: tuple[str, ...] = (),
) -> HTMLResponse:
    schedule = engine.get_schedule(conn, viewer.actor, schedule_id) if schedule_id else None
    exports = (
        engine.list_exports(conn, viewer.actor, schedule_id=schedule_id, limit=10) if schedule_id else []
    )
    return render(
        request,
        "schedule_form.html.j2",
        status_code=status_code,
        viewer=viewer,
        state=state,
        schedule=schedule,
        schedule_id=schedule_id,
        reports=engine.list_reports(conn, viewer.actor),
        errors=errors or {},
        timing=timing(state.cron_expression, state.timezone),
        zones=zone_names(),
        formats=FORMATS,
        methods=DELIVERY_METHODS,
        exports=exports,
        warnings=warnings,
    )


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, viewer: SignedIn, conn: Conn) -> HTMLResponse:
    schedules = engine.list_schedules(conn, viewer.actor)
    names = {r.id: r.name for r in engine.list_reports(conn, viewer.actor)}
    timings = {s.id: timing(s.cron_expression, s.timezone) for s in schedules}
    return render(
        request, "schedules.html.j2", viewer=viewer, schedules=schedules, names=names, timings=timings
    )


@router.get("/schedules/new", response_class=HTMLResponse)
def new_schedule(
    request: Request,
    viewer: SignedIn,
    conn: Conn,
    report_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    state = ScheduleState(report_id=report_id or "")
    if report_id:
        report = engine.get_report(conn, viewer.actor, report_id)
        state.name = f"{report.name} (weekly)"[:255]
    return _form(request, viewer, conn, state)


@router.post("/schedules/check")
def check(request: Request, viewer: SignedIn, form: FormFields) -> JSONResponse:
    """Checks as you type: the cron in words and its next runs, or what is wrong with the cron,
    the timezone or a recipient."""
    state = ScheduleState.from_form(form)
    result = timing(state.cron_expression, state.timezone)
    errors = dict(result.errors)
    recipients = check_recipients(state.recipients)
    if recipients:
        errors["recipients"] = recipients
    html = environment().get_template("_timing.html.j2").render(timing=result)
    return JSONResponse({"html": html, "errors": errors})


@router.post("/schedules")
def create_schedule(
    request: Request, viewer: SignedIn, conn: Conn, context: Context, form: FormFields
) -> Response:
    state = ScheduleState.from_form(form)
    if not state.report_id:
        return _form(
            request, viewer, conn, state, errors={"report": ["Pick the report to schedule."]}, status_code=422
        )
    try:
        schedule = engine.create_schedule(conn, viewer.actor, state.report_id, state.values(), s3=context.s3)
    except ScheduleValidationError as exc:
        conn.rollback()
        return _form(request, viewer, conn, state, errors=engine_errors(exc, state), status_code=422)
    conn.commit()
    return RedirectResponse(f"/schedules/{schedule.id}?saved=1", status_code=303)


@router.get("/schedules/{schedule_id}", response_class=HTMLResponse)
def schedule_page(request: Request, schedule_id: str, viewer: SignedIn, conn: Conn) -> HTMLResponse:
    schedule = engine.get_schedule(conn, viewer.actor, schedule_id)
    return _form(request, viewer, conn, ScheduleState.from_schedule(schedule), schedule_id=schedule.id)


@router.post("/schedules/{schedule_id}")
def update_schedule(
    request: Request, schedule_id: str, viewer: SignedIn, conn: Conn, context: Context, form: FormFields
) -> Response:
    schedule = engine.get_schedule(conn, viewer.actor, schedule_id)
    state = ScheduleState.from_form(form)
    values = state.values()
    try:
        engine.update_schedule(conn, viewer.actor, schedule.id, values, s3=context.s3)
    except ScheduleValidationError as exc:
        conn.rollback()
        return _form(
            request,
            viewer,
            conn,
            state,
            schedule_id=schedule.id,
            errors=engine_errors(exc, state),
            status_code=422,
        )
    conn.commit()
    return RedirectResponse(f"/schedules/{schedule.id}?saved=1", status_code=303)


@router.post("/schedules/{schedule_id}/toggle")
def toggle(schedule_id: str, viewer: SignedIn, conn: Conn, context: Context, form: FormFields) -> Response:
    engine.toggle_schedule(conn, viewer.actor, schedule_id, None, s3=context.s3)
    conn.commit()
    back = form.raw("back", "/schedules")
    return RedirectResponse(back if back.startswith("/schedules") else "/schedules", status_code=303)


@router.post("/schedules/{schedule_id}/run")
def run_now(
    schedule_id: str, viewer: SignedIn, conn: Conn, context: Context, form: FormFields
) -> JSONResponse:
    """Run now: one export (a double click with the same nonce is the same export)."""

    def run() -> str:
        export = engine.run_schedule(conn, viewer.actor, schedule_id)
        submit_export(conn, context, export)
        return export.id

    export_id = once.run(viewer.principal.subject, f"{form.raw('nonce')}:run:{schedule_id}", run)
    return JSONResponse(
        {"export_id": export_id, "status": f"/exports/{export_id}/status", "page": f"/exports/{export_id}"},
        status_code=202,
    )


@router.post("/schedules/{schedule_id}/delete")
def delete(schedule_id: str, viewer: SignedIn, conn: Conn, form: FormFields) -> Response:
    engine.delete_schedule(conn, viewer.actor, schedule_id)
    conn.commit()
    return RedirectResponse("/schedules?deleted=1", status_code=303)
