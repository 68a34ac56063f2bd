"""Pages of the report builder: the reports list, a report with its preview and one-click
download, and the builder (new or edit) with its live preview. Every change goes through
``exports.engine`` as the signed-in actor, exactly as ``/api/reports`` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from reporting_assets.api.context import Conn, Context
from reporting_assets.api.pages import builder_form as bf
from reporting_assets.api.pages.nonces import once
from reporting_assets.api.pages.previews import preview_saved, preview_state
from reporting_assets.api.pages.routing import PageRoute, error_page
from reporting_assets.api.pages.session import FormFields, SignedIn
from reporting_assets.api.pages.templating import environment, render
from reporting_assets.api.routers.report_builder import submit_export
from reporting_assets.errors import ReportingError
from reporting_assets.exports import engine
from reporting_assets.exports.errors import NotFoundError, PermissionDeniedError, QueryValidationError
from reporting_assets.exports.formats import FORMATS

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _builder(
    request: Request,
    viewer: SignedIn,
    state: bf.BuilderState,
    *,
    report_id: str | None = None,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "builder.html.j2",
        status_code=status_code,
        viewer=viewer,
        state=state.with_blank_rows(),
        report_id=report_id,
        errors=errors or {},
        catalog=bf.catalog(),
        catalog_data={"tables": bf.catalog(), "operators": bf.OPERATORS},
        operators=bf.OPERATORS,
        aggregates=bf.AGGREGATES,
        buckets=bf.BUCKETS,
        units=bf.UNITS,
        visualizations=bf.VISUALIZATIONS,
    )


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, viewer: SignedIn, conn: Conn) -> HTMLResponse:
    reports = engine.list_reports(conn, viewer.actor)
    return render(request, "reports.html.j2", viewer=viewer, reports=reports, formats=FORMATS)


@router.get("/reports/new", response_class=HTMLResponse)
def new_report(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _builder(request, viewer, bf.BuilderState())


@router.post("/reports/preview")
def preview(request: Request, viewer: SignedIn, form: FormFields, context: Context) -> JSONResponse:
    """The live preview: a fragment of HTML (rows, pages, chart) and the problems per control."""
    page_text = form.raw("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 10**6 else 1
    result = preview_state(context, viewer.actor, bf.parse_form(form), page)
    html = environment().get_template("_preview.html.j2").render(result=result)
    return JSONResponse({"html": html, "errors": result.errors})


def _save(
    request: Request, viewer: SignedIn, conn: Conn, context: Context, form: FormFields, report_id: str | None
) -> Response:
    state = bf.parse_form(form)
    built = bf.to_values(state)
    try:
        if report_id is None:
            report = engine.create_report(conn, viewer.actor, built.values, context.exports)
        else:
            report = engine.update_report(conn, viewer.actor, report_id, built.values, context.exports)
    except QueryValidationError as exc:
        conn.rollback()
        errors = bf.place_errors([str(p) for p in exc.problems] or [str(exc)], built.controls)
        return _builder(request, viewer, state, report_id=report_id, errors=errors, status_code=422)
    except (NotFoundError, PermissionDeniedError):
        conn.rollback()
        raise
    except ReportingError as exc:
        conn.rollback()
        errors = bf.place_errors([str(exc)], built.controls)
        return _builder(request, viewer, state, report_id=report_id, errors=errors, status_code=422)
    conn.commit()
    return RedirectResponse(f"/reports/{report.id}?saved=1", status_code=303)


@router.post("/reports")
def create_report(
    request: Request, viewer: SignedIn, conn: Conn, context: Context, form: FormFields
) -> Response:
    return _save(request, viewer, conn, context, form, None)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(
    request: Request,
    report_id: str,
    viewer: SignedIn,
    conn: Conn,
    context: Context,
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
    saved: bool = False,
) -> HTMLResponse:
    report = engine.get_report(conn, viewer.actor, report_id)
    result = preview_saved(context, report, page)
    schedules = engine.list_schedules(conn, viewer.actor, report_id=report.id)
    exports = engine.list_exports(conn, viewer.actor, report_id=report.id, limit=10)
    can_change = viewer.actor.is_admin or report.created_by == viewer.actor.user_id
    return render(
        request,
        "report.html.j2",
        viewer=viewer,
        report=report,
        result=result,
        schedules=schedules,
        exports=exports,
        formats=FORMATS,
        can_change=can_change,
        saved=saved,
    )


@router.get("/reports/{report_id}/edit", response_class=HTMLResponse)
def edit_report(request: Request, report_id: str, viewer: SignedIn, conn: Conn) -> HTMLResponse:
    report = engine.get_report(conn, viewer.actor, report_id)
    return _builder(request, viewer, bf.from_report(report), report_id=report.id)


@router.post("/reports/{report_id}")
def update_report(
    request: Request, report_id: str, viewer: SignedIn, conn: Conn, context: Context, form: FormFields
) -> Response:
    engine.get_report(conn, viewer.actor, report_id)  # not found: the 404 page, not the form
    return _save(request, viewer, conn, context, form, report_id)


@router.post("/reports/{report_id}/delete")
def delete_report(report_id: str, viewer: SignedIn, conn: Conn, form: FormFields) -> Response:
    report = engine.get_report(conn, viewer.actor, report_id)
    engine.delete_report(conn, viewer.actor, report.id)
    conn.commit()
    return RedirectResponse("/reports?deleted=1", status_code=303)


@router.post("/reports/{report_id}/download")
def download_report(
    request: Request, report_id: str, viewer: SignedIn, conn: Conn, context: Context, form: FormFields
) -> Response:
    """One click: create the export and submit its run; the page polls it and downloads the
    file. The form's one-time nonce makes a double click one export."""
    fmt = form.raw("format", "pdf")
    if fmt not in FORMATS:
        return error_page(request, 422, f"format: {fmt!r} is not one of {', '.join(FORMATS)}")

    def create() -> str:
        export = engine.create_export(conn, viewer.actor, report_id, fmt)
        submit_export(conn, context, export)
        return export.id

    nonce = f"{form.raw('nonce')}:download:{report_id}:{fmt}"
    export_id = once.run(viewer.principal.subject, nonce, create)
    return JSONResponse(
        {"export_id": export_id, "status": f"/exports/{export_id}/status", "page": f"/exports/{export_id}"},
        status_code=202,
    )
