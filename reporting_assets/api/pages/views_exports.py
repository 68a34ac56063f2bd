"""Pages of the export history: every export with its status, rows, size, time, who started it
and its delivery per recipient or target (from the delivery ledger), its file, and a retry of a
failed one (the ledger re-sends only what was not sent)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from reporting_assets.api.context import Conn, Context
from reporting_assets.api.errors import ApiError
from reporting_assets.api.pages.nonces import once
from reporting_assets.api.pages.routing import PageRoute
from reporting_assets.api.pages.session import FormFields, SignedIn
from reporting_assets.api.pages.templating import render
from reporting_assets.api.routers.report_builder import submit_export
from reporting_assets.delivery import ledger
from reporting_assets.exports import engine
from reporting_assets.exports.errors import ExportStateError

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HISTORY_LIMIT = 200


@router.get("/exports", response_class=HTMLResponse)
def exports_page(
    request: Request,
    viewer: SignedIn,
    conn: Conn,
    report_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["pending", "processing", "completed", "failed"] | None = None,
) -> HTMLResponse:
    exports = engine.list_exports(
        conn, viewer.actor, report_id=report_id or None, status=status, limit=HISTORY_LIMIT
    )
    names = {r.id: r.name for r in engine.list_reports(conn, viewer.actor)}
    return render(
        request,
        "exports.html.j2",
        viewer=viewer,
        exports=exports,
        names=names,
        report_id=report_id,
        status=status,
    )


@router.get("/exports/{export_id}", response_class=HTMLResponse)
def export_page(request: Request, export_id: str, viewer: SignedIn, conn: Conn) -> HTMLResponse:
    export = engine.get_export(conn, viewer.actor, export_id)
    report = engine.get_report(conn, viewer.actor, export.report_id)
    deliveries = ledger.for_subject(conn, export.subject_key, kinds=["export"])
    return render(
        request, "export.html.j2", viewer=viewer, export=export, report=report, deliveries=deliveries
    )


@router.get("/exports/{export_id}/status")
def export_status(export_id: str, viewer: SignedIn, conn: Conn) -> JSONResponse:
    """What the page's script polls while an export runs."""
    export = engine.get_export(conn, viewer.actor, export_id)
    return JSONResponse(
        {
            "id": export.id,
            "status": export.status,
            "row_count": export.row_count,
            "file_size": export.file_size,
            "error_message": export.error_message,
            "download": f"/exports/{export.id}/download",
            "page": f"/exports/{export.id}",
        }
    )


@router.get("/exports/{export_id}/download")
def download(export_id: str, viewer: SignedIn, conn: Conn) -> FileResponse:
    export = engine.get_export(conn, viewer.actor, export_id)
    try:
        file = engine.download_export(conn, viewer.actor, export.id)
    except ExportStateError as exc:
        if export.status == "completed" or export.file_path:
            raise ApiError(410, "gone", str(exc)) from None
        raise
    return FileResponse(file.path, media_type=file.media_type, filename=file.filename)


@router.post("/exports/{export_id}/retry")
def retry(export_id: str, viewer: SignedIn, conn: Conn, context: Context, form: FormFields) -> JSONResponse:
    def again() -> str:
        export = engine.retry_export(conn, viewer.actor, export_id)
        submit_export(conn, context, export)
        return export.id

    retried = once.run(viewer.principal.subject, f"{form.raw('nonce')}:retry:{export_id}", again)
    return JSONResponse(
        {"export_id": retried, "status": f"/exports/{retried}/status", "page": f"/exports/{retried}"},
        status_code=202,
    )
