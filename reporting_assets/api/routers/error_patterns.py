"""Error patterns of a day, read-only: the errors and warnings of the caller's customers grouped
by fingerprint, flagged ones first (the ``error_patterns`` asset writes them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from reporting_assets.api.context import Caller, Conn
from reporting_assets.api.errors import ApiError
from reporting_assets.api.settings import MAX_PAGE_SIZE
from reporting_assets.error_patterns.store import day_patterns, latest_day

router = APIRouter(tags=["pipeline reports"])


def _item(row: dict[str, Any]) -> dict[str, Any]:
    item = {k: v for k, v in row.items() if k not in ("total", "flagged_total")}
    for key in ("first_seen", "last_seen"):
        item[key] = item[key].isoformat()
    item["links"] = {
        "report": f"/api/pipeline-reports/{row['latest_report_id']}",
        "run": f"/api/lineage/runs/{row['latest_run_id']}",
    }
    return item


@router.get(
    "/api/error-patterns", summary="A day's error patterns of your customers, flagged first (paginated)"
)
def list_error_patterns(
    caller: Caller,
    conn: Conn,
    day: dt.date | None = None,
    flagged: bool = False,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    every, tenant = caller.operations, caller.actor.tenant_id
    shown = day or latest_day(conn, every_customer=every, tenant=tenant)
    rows = []
    if shown is not None:
        rows = day_patterns(
            conn,
            shown,
            every_customer=every,
            tenant=tenant,
            flagged=flagged,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
    total = rows[0]["total"] if rows else 0
    if not rows and page > 1 and shown is not None:
        counted = day_patterns(conn, shown, every_customer=every, tenant=tenant, flagged=flagged, limit=1)
        last = max(1, -(-(counted[0]["total"] if counted else 0) // page_size))
        raise ApiError(422, "invalid", f"page: {page} is past the last page ({last})", field="page")
    return {
        "day": shown.isoformat() if shown else None,
        "flagged_only": flagged,
        "items": [_item(r) for r in rows],
        "total": total,
        "flagged_total": rows[0]["flagged_total"] if rows else 0,
        "page": page,
        "page_size": page_size,
        "page_count": max(1, -(-total // page_size)),
    }
