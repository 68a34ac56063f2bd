"""Pages of the pipeline reports: the status dashboard, a customer's reports by day, one
execution report with the lineage of its figures, and one run. The same reads as
``/api/customers``, ``/api/pipeline-reports`` and ``/api/lineage``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from reporting_assets.api import reads
from reporting_assets.api.context import Conn, Context
from reporting_assets.api.pages.dashboard import dashboard
from reporting_assets.api.pages.routing import PageRoute
from reporting_assets.api.pages.session import SignedIn
from reporting_assets.api.pages.templating import render
from reporting_assets.links import run_link

router = APIRouter(route_class=PageRoute, include_in_schema=False)
REPORTS_PER_PAGE = 100


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.get("/", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    viewer: SignedIn,
    conn: Conn,
    date: dt.date | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    day = date or _today()
    board = dashboard(conn, viewer.principal, day=day, q=(q or "").strip() or None, page=page)
    return render(
        request,
        "dashboard.html.j2",
        viewer=viewer,
        board=board,
        previous_day=day - dt.timedelta(days=1),
        next_day=day + dt.timedelta(days=1),
    )


@router.get("/customers/{key}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    key: Annotated[str, Path(max_length=300)],
    viewer: SignedIn,
    conn: Conn,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    status = reads.customer_status(conn, viewer.principal, key, today=_today())
    listed = reads.list_pipeline_reports(
        conn,
        viewer.principal,
        customer=key,
        day=None,
        pipeline=None,
        status=None,
        page=page,
        page_size=REPORTS_PER_PAGE,
    )
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in listed["items"]:
        by_day[item["execution_date"]].append(item)
    return render(
        request, "customer.html.j2", viewer=viewer, status=status, listed=listed, by_day=dict(by_day)
    )


@router.get("/pipeline-reports/{report_id}", response_class=HTMLResponse)
def report_page(
    request: Request,
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    viewer: SignedIn,
    conn: Conn,
    context: Context,
) -> HTMLResponse:
    report = reads.pipeline_report(conn, viewer.principal, report_id)
    figures = reads.lineage_figures(conn, viewer.principal, report_id, None)
    report["html"] = Markup(report["html"])  # markdown_to_html's output: raw HTML in reports is escaped
    return render(
        request,
        "pipeline_report.html.j2",
        viewer=viewer,
        report=report,
        figures=figures,
        dagster_run=run_link(context.settings.ui_base_url, report["execution_id"]),
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: Annotated[str, Path(max_length=200)],
    viewer: SignedIn,
    conn: Conn,
    context: Context,
) -> HTMLResponse:
    run = reads.lineage_run(conn, viewer.principal, run_id)
    return render(
        request,
        "run.html.j2",
        viewer=viewer,
        run=run,
        dagster_run=run_link(context.settings.ui_base_url, run_id),
    )
