"""The pipeline reports, read-only: customers and their status, stored execution reports
(markdown and HTML) and daily summaries with their versions, of the caller's tenant."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from reporting_assets.api import reads
from reporting_assets.api.context import Caller, Conn
from reporting_assets.api.settings import MAX_PAGE_SIZE

router = APIRouter(tags=["pipeline reports"])


@router.get("/api/customers", summary="The customers whose reports you may read")
def list_customers(caller: Caller, conn: Conn) -> list[dict[str, Any]]:
    return reads.list_customers(conn, caller)


@router.get("/api/customers/{key}/status", summary="Latest run per pipeline, today's and yesterday's summary")
def customer_status(key: str, caller: Caller, conn: Conn) -> dict[str, Any]:
    return reads.customer_status(conn, caller, key)


@router.get("/api/pipeline-reports", summary="Stored execution reports, newest first (paginated)")
def list_pipeline_reports(
    caller: Caller,
    conn: Conn,
    customer: str | None = None,
    date: dt.date | None = None,
    pipeline: str | None = None,
    status: Literal["success", "failed", "partial"] | None = None,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    return reads.list_pipeline_reports(
        conn,
        caller,
        customer=customer,
        day=date,
        pipeline=pipeline,
        status=status,
        page=page,
        page_size=page_size,
    )


@router.get("/api/pipeline-reports/{report_id}", summary="A report's markdown and its HTML rendering")
def pipeline_report(
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)], caller: Caller, conn: Conn
) -> dict[str, Any]:
    return reads.pipeline_report(conn, caller, report_id)


@router.get("/api/summaries/{customer}/{date}", summary="A customer's daily summary with its version history")
def summary(customer: str, date: dt.date, caller: Caller, conn: Conn) -> dict[str, Any]:
    return reads.summary_with_history(conn, caller, customer, date)
