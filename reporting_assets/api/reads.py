"""Tenant-scoped reads of the pipeline reports: customers and their status, stored execution
reports, daily summaries with their versions, and lineage (run -> partitions -> figures).

A caller sees the customers of its token's tenant (``reporting.customers.tenant_id``); the
operations tenant sees every customer. Anything of a customer the caller may not see is "not
found", exactly like an id that does not exist, so nothing about other tenants leaks. Plain
functions over a connection; the routers only translate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reporting_assets.api.auth import Principal
from reporting_assets.api.errors import ApiError
from reporting_assets.db.connection import Connection
from reporting_assets.delivery.render import markdown_to_html
from reporting_assets.delivery.summaries import SummaryVersion, load_current

_VISIBLE = "(%(all)s OR c.tenant_id = %(tenant)s)"
"""The visibility condition on ``c`` (reporting.customers); SQL below is built only from such
constant fragments, every value is a bound parameter."""


def _scope(principal: Principal) -> dict[str, Any]:
    return {"all": principal.operations, "tenant": principal.actor.tenant_id}


def _not_found(what: str, principal: Principal) -> ApiError:
    return ApiError(404, "not_found", f"{what} does not exist for tenant {principal.actor.tenant_id!r}.")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


def list_customers(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT c.partition_key AS key, c.display_name, c.tenant_id FROM reporting.customers c "
        f"WHERE {_VISIBLE} ORDER BY c.partition_key",
        _scope(principal),
    ).fetchall()
    return [dict(r) for r in rows]


def visible_customer(conn: Connection, principal: Principal, key: str) -> dict[str, Any]:
    """The customer ``key`` if the principal may read it; not found otherwise (ids do not leak)."""
    row = conn.execute(
        "SELECT c.partition_key AS key, c.display_name, c.tenant_id FROM reporting.customers c "
        f"WHERE c.partition_key = %(key)s AND {_VISIBLE}",
        {**_scope(principal), "key": key},
    ).fetchone()
    if row is None:
        raise _not_found(f"Customer {key[:100]!r}", principal)
    return dict(row)


def _summary_json(summary: SummaryVersion | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "date": summary.summary_date.isoformat(),
        "version": summary.version,
        "complete": summary.is_complete,
        "status": summary.status_text(),
        "missing_pipelines": list(summary.missing),
        "failed_pipelines": list(summary.failed),
        "totals": summary.totals,
        "updated_at": summary.updated_at.isoformat(),
    }


def customer_status(
    conn: Connection, principal: Principal, key: str, today: dt.date | None = None
) -> dict[str, Any]:
    """Latest run per expected pipeline, today's and yesterday's summary, and open problems
    (failed or partial reports of those two days, expected pipelines without a report)."""
    customer = visible_customer(conn, principal, key)
    day = today or dt.datetime.now(dt.UTC).date()
    latest = conn.execute(
        """SELECT DISTINCT ON (p.pipeline_type) p.pipeline_type, r.id AS report_id, r.execution_id,
                  r.execution_date, r.status, r.run_started_at
           FROM (SELECT pipeline_type FROM reporting.customer_expected_pipelines WHERE customer_key = %(key)s
                 UNION SELECT pipeline_type FROM reporting.pipeline_execution_reports
                       WHERE customer_key = %(key)s) p
           LEFT JOIN reporting.pipeline_execution_reports r
                  ON r.customer_key = %(key)s AND r.pipeline_type = p.pipeline_type
           ORDER BY p.pipeline_type, r.execution_date DESC NULLS LAST, r.run_started_at DESC NULLS LAST""",
        {"key": key},
    ).fetchall()
    problems = conn.execute(
        """SELECT id AS report_id, pipeline_type, execution_date, status, execution_id
           FROM reporting.pipeline_execution_reports
           WHERE customer_key = %(key)s AND execution_date >= %(since)s AND status <> 'success'
           ORDER BY execution_date DESC, pipeline_type""",
        {"key": key, "since": day - dt.timedelta(days=1)},
    ).fetchall()
    return {
        "customer": customer,
        "pipelines": [_jsonable(dict(r)) for r in latest],
        "today": _summary_json(load_current(conn, key, day)),
        "yesterday": _summary_json(load_current(conn, key, day - dt.timedelta(days=1))),
        "problems": [_jsonable(dict(r)) for r in problems],
    }


_REPORTS_FROM = (
    "FROM reporting.pipeline_execution_reports r "
    "JOIN reporting.customers c ON c.partition_key = r.customer_key"
)
_REPORT_COLUMNS = (
    "r.id, r.customer_key, r.customer_name, r.execution_date, r.pipeline_type, r.execution_id, "
    "r.external_execution_id, r.partition_key, r.status, r.run_started_at, r.generated_at, r.updated_at"
)


def list_pipeline_reports(
    conn: Connection,
    principal: Principal,
    *,
    customer: str | None,
    day: dt.date | None,
    pipeline: str | None,
    status: str | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    params = {
        **_scope(principal),
        "customer": customer,
        "day": day,
        "pipeline": pipeline,
        "status": status,
        "limit": page_size,
        "offset": (page - 1) * page_size,
    }
    where = (
        f"{_VISIBLE} AND (%(customer)s::text IS NULL OR r.customer_key = %(customer)s) "
        "AND (%(day)s::date IS NULL OR r.execution_date = %(day)s) "
        "AND (%(pipeline)s::text IS NULL OR r.pipeline_type = %(pipeline)s) "
        "AND (%(status)s::text IS NULL OR r.status = %(status)s)"
    )
    total_row = conn.execute(f"SELECT count(*) AS n {_REPORTS_FROM} WHERE {where}", params).fetchone()
    total = int(total_row["n"]) if total_row else 0
    page_count = max(1, -(-total // page_size))
    if page > page_count and total:
        raise ApiError(422, "invalid", f"page: {page} is past the last page ({page_count})", field="page")
    rows = conn.execute(
        f"SELECT {_REPORT_COLUMNS} {_REPORTS_FROM} WHERE {where} "
        "ORDER BY r.execution_date DESC, r.customer_key, r.pipeline_type, r.id "
        "LIMIT %(limit)s OFFSET %(offset)s",
        params,
    ).fetchall()
    return {
        "items": [_jsonable(dict(r)) for r in rows],
        "total": total,
        "page": page,
        "page_size": page_size,
        "page_count": page_count,
    }


def pipeline_report(conn: Connection, principal: Principal, report_id: int) -> dict[str, Any]:
    """A stored report: its markdown, the HTML the emails render from it, and its summary."""
    row = conn.execute(
        f"SELECT {_REPORT_COLUMNS}, r.markdown_content, r.summary_json, r.content_hash "
        f"{_REPORTS_FROM} WHERE r.id = %(id)s AND {_VISIBLE}",
        {**_scope(principal), "id": report_id},
    ).fetchone()
    if row is None:
        raise _not_found(f"Pipeline report {report_id}", principal)
    report = _jsonable(dict(row))
    report["markdown"] = report.pop("markdown_content")
    report["html"] = str(markdown_to_html(report["markdown"]))
    report["content_hash"] = str(report["content_hash"]).strip()
    report["links"] = {
        "figures": f"/api/lineage/figures?report_id={report_id}",
        "run": f"/api/lineage/runs/{report['execution_id']}",
    }
    return report


def summary_with_history(
    conn: Connection, principal: Principal, customer: str, day: dt.date
) -> dict[str, Any]:
    """The current daily summary of a customer and every earlier version, newest first."""
    visible_customer(conn, principal, customer)
    current = load_current(conn, customer, day)
    if current is None:
        raise _not_found(f"The daily summary of {customer[:100]!r} for {day.isoformat()}", principal)
    history = conn.execute(
        """SELECT version, replaced_by_version, is_complete, status_json, content_hash, combined_markdown,
                  valid_from, replaced_at
           FROM reporting.daily_customer_summary_history
           WHERE customer_key = %(key)s AND summary_date = %(day)s ORDER BY version DESC""",
        {"key": customer, "day": day},
    ).fetchall()
    return {
        **(_summary_json(current) or {}),
        "customer_key": customer,
        "markdown": current.combined_markdown,
        "html": str(markdown_to_html(current.combined_markdown)),
        "content_hash": current.content_hash,
        "versions": [{**_jsonable(dict(r)), "content_hash": str(r["content_hash"]).strip()} for r in history],
    }


def lineage_run(conn: Connection, principal: Principal, run_id: str) -> dict[str, Any]:
    """A run, its external execution id, the partitions it covered and every figure it produced
    (of the customers the caller may see)."""
    partitions = conn.execute(
        """SELECT p.id, p.pipeline_type, p.customer_key, p.execution_date, p.partition_key, p.status,
                  p.record_count, p.external_execution_id
           FROM reporting.workflow_execution_partitions p
           JOIN reporting.customers c ON c.partition_key = p.customer_key
           WHERE p.run_id = %(run_id)s AND """
        + _VISIBLE
        + " ORDER BY p.execution_date, p.customer_key, p.pipeline_type",
        {**_scope(principal), "run_id": run_id},
    ).fetchall()
    if not partitions:
        raise _not_found(f"Run {run_id[:100]!r}", principal)
    run = conn.execute(
        "SELECT run_id, job_name, status, started_at, completed_at, external_execution_id "
        "FROM reporting.workflow_executions WHERE run_id = %(run_id)s",
        {"run_id": run_id},
    ).fetchone()
    figures = conn.execute(
        """SELECT l.report_id, l.figure_path, l.figure_value, l.event_storage_id, l.external_execution_id,
                  l.execution_partition_id, r.partition_key, r.pipeline_type
           FROM reporting.pipeline_execution_reports r
           JOIN reporting.report_lineage l ON l.report_id = r.id
           JOIN reporting.customers c ON c.partition_key = r.customer_key
           WHERE r.execution_id = %(run_id)s AND """
        + _VISIBLE
        + " ORDER BY l.report_id, l.figure_path",
        {**_scope(principal), "run_id": run_id},
    ).fetchall()
    return {
        **_jsonable(dict(run or {"run_id": run_id})),
        "partitions": [_jsonable(dict(p)) for p in partitions],
        "figures": [_jsonable(dict(f)) for f in figures],
    }


def lineage_figures(
    conn: Connection, principal: Principal, report_id: int, path: str | None
) -> list[dict[str, Any]]:
    """Which run and event produced each figure of a report (or the one at ``path``)."""
    pipeline_report(conn, principal, report_id)  # 404 unless visible
    rows = conn.execute(
        """SELECT l.figure_path, l.figure_value, l.run_id, l.event_storage_id, l.external_execution_id,
                  p.partition_key, p.pipeline_type, p.status AS partition_status, w.job_name,
                  w.status AS run_status
           FROM reporting.report_lineage l
           JOIN reporting.workflow_execution_partitions p ON p.id = l.execution_partition_id
           JOIN reporting.workflow_executions w ON w.run_id = l.run_id
           WHERE l.report_id = %(report_id)s AND (%(path)s::text IS NULL OR l.figure_path = %(path)s)
           ORDER BY l.figure_path""",
        {"report_id": report_id, "path": path},
    ).fetchall()
    if path is not None and not rows:
        raise ApiError(
            404,
            "not_found",
            f"Report {report_id} has no figure at path {path[:200]!r}; leave out `path` to list its figures.",
            field="path",
        )
    return [{**_jsonable(dict(r)), "links": {"run": f"/api/lineage/runs/{r['run_id']}"}} for r in rows]
