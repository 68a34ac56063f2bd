"""Lineage: from a run to every figure it produced, and from a figure back to its run and event."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from reporting_assets.api import reads
from reporting_assets.api.context import Caller, Conn

router = APIRouter(prefix="/api/lineage", tags=["lineage"])


@router.get("/runs/{run_id}", summary="A run, its external execution id, partitions and figures")
def lineage_run(run_id: str, caller: Caller, conn: Conn) -> dict[str, Any]:
    return reads.lineage_run(conn, caller, run_id)


@router.get("/figures", summary="Which run and event produced a report's figures")
def lineage_figures(
    caller: Caller,
    conn: Conn,
    report_id: Annotated[int, Query(ge=1, le=2**63 - 1)],
    path: str | None = None,
) -> list[dict[str, Any]]:
    return reads.lineage_figures(conn, caller, report_id, path)
