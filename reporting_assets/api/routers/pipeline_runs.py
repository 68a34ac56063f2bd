"""``POST /api/pipeline-runs``: a run of a registered pipeline that ran outside Dagster, reported
by a system without Python (curl in a shell task, a webhook). Needs a token with role
``pipeline``; it may report for its tenant's customers only (the operations tenant: any)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated, Any

import sqlalchemy.exc
from dagster_postgres.utils import DagsterPostgresException
from fastapi import APIRouter, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reporting_assets.api.auth import Principal, bearer_token, verify_token
from reporting_assets.api.context import Conn, Context
from reporting_assets.api.errors import ApiError
from reporting_assets.contract import RunReport
from reporting_assets.pipelines.ingest import record_run

router = APIRouter(tags=["pipeline runs"])
_bearer = HTTPBearer(
    auto_error=False, description="A JWT with role 'pipeline' (`reporting-assets api token`)."
)


def pipeline_caller(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    """The pipeline sending the report (401 without a good token, 403 for other roles)."""
    principal = verify_token(
        context.settings, bearer_token(request.headers.get("authorization")), pipeline_route=True
    )
    context.limiter.hit(principal.subject)
    if not principal.pipeline:
        raise ApiError(
            403,
            "forbidden",
            "Run reports are sent with a token of role 'pipeline'; this one has role "
            f"'{principal.actor.role}'. Get one with `reporting-assets api token --tenant T --user U "
            "--role pipeline`.",
        )
    return principal


def _check_tenant(conn: Conn, principal: Principal, customer_key: str) -> None:
    """A pipeline token reports for its tenant's customers; others are "not registered" to it."""
    if principal.operations:
        return  # an unregistered customer gets the registry's message, with close names
    row = conn.execute(
        "SELECT 1 FROM reporting.customers WHERE partition_key = %s AND tenant_id = %s",
        (customer_key, principal.actor.tenant_id),
    ).fetchone()
    if row is None:
        raise ApiError(
            404,
            "not_found",
            f"Customer {customer_key[:100]!r} is not registered for tenant {principal.actor.tenant_id!r}: "
            f"ask an operator to run `reporting-assets customers add {customer_key[:100]!r} --tenant "
            f"{principal.actor.tenant_id}`.",
            field="customer_key",
        )


@router.post(
    "/api/pipeline-runs",
    status_code=202,
    summary="Report a run of a registered pipeline that ran outside Dagster",
    description="The body is the run-report contract (docs/contract.md) with `external_execution_id` "
    "set. It is recorded on the Dagster instance and the report sensor renders its report, lineage "
    "and summary; the answer says where the report will appear. Sending the same pipeline and "
    "external execution id again makes no second report.",
)
def report_pipeline_run(
    report: RunReport,
    principal: Annotated[Principal, Security(pipeline_caller)],
    context: Context,
    conn: Conn,
    partition: Annotated[
        str | None,
        Query(max_length=200, description="'CUSTOMER|YYYY-MM-DD'; refused unless it is the contract's"),
    ] = None,
) -> dict[str, Any]:
    if context.runs is None:
        raise ApiError(
            503, "instance_unavailable", "This API server has no Dagster instance to record runs on."
        )
    _check_tenant(conn, principal, report.customer_key)
    try:
        run = record_run(context.runs.instance, lambda: nullcontext(conn), report, partition)
    except (DagsterPostgresException, sqlalchemy.exc.OperationalError) as exc:
        raise ApiError(
            503,
            "instance_unavailable",
            f"The Dagster instance could not record the run ({' '.join(str(exc).split())[:300]}); send it "
            "again later: the same external execution id makes one report.",
        ) from exc
    return {
        "status": "accepted",
        **run.as_json(),
        "reports_url": (
            f"/api/pipeline-reports?customer={report.customer_key}&date={report.execution_date}"
            f"&pipeline={report.pipeline_type}"
        ),
    }
