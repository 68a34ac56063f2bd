"""Saved reports: create, read, change, delete and list them, and compile a report's query.

Access: every user creates; owners and admins change and delete; others see public reports
read-only (preview, export) and do not see private ones. Another tenant's reports are always
"not found". Nothing here commits: callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.checks import check_name, check_owner, jsonb_or_none, parse_id
from reporting_assets.exports.dsl import (
    DEFAULT_ROW_LIMIT,
    CompiledQuery,
    QuerySpec,
    check_row_limit,
    compile_query,
    parse_filters,
    parse_query,
)
from reporting_assets.exports.errors import NotFoundError, QueryValidationError, ReportValidationError
from reporting_assets.exports.models import Actor, Report
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.visualization import parse_visualization

_REPORT_FIELDS = {
    "name",
    "description",
    "query_config",
    "visualization_config",
    "filters",
    "row_limit",
    "is_public",
    "tags",
}


def compile_for(
    actor: Actor,
    query_config: Mapping[str, Any] | QuerySpec,
    settings: ExportSettings,
    *,
    filters: Sequence[Any] | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
    as_of: dt.datetime | None = None,
) -> CompiledQuery:
    return compile_query(
        query_config,
        tenant_id=actor.tenant_id,
        row_limit=row_limit,
        max_row_limit=settings.max_row_limit,
        as_of=as_of,
        extra_filters=filters,
    )


def compile_report(
    report: Report, settings: ExportSettings, *, as_of: dt.datetime | None = None
) -> CompiledQuery:
    """A saved report's query, compiled for its tenant. A report stored before one of the
    query rules existed fails here (preview, export) with the rule's own message, naming the
    report, instead of failing in the database."""
    try:
        return compile_query(
            report.query_config,
            tenant_id=report.tenant_id,
            row_limit=report.row_limit,
            max_row_limit=settings.max_row_limit,
            as_of=as_of,
            extra_filters=report.filters,
        )
    except QueryValidationError as exc:
        raise QueryValidationError(exc.problems, report=f"Report {report.name!r} ({report.id})") from None


@dataclass(frozen=True)
class _ReportFields:
    name: str
    description: str | None
    query_config: dict[str, Any]
    visualization_config: dict[str, Any] | None
    filters: list[Any] | None
    row_limit: int
    is_public: bool
    tags: list[str]


def _check_report(actor: Actor, values: Mapping[str, Any], settings: ExportSettings) -> _ReportFields:
    name = check_name(values.get("name"), "report", ReportValidationError)
    description = values.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 10_000):
        raise ReportValidationError("description: must be text of at most 10,000 characters")
    row_limit = check_row_limit(values.get("row_limit", DEFAULT_ROW_LIMIT), settings.max_row_limit)
    spec = parse_query(values.get("query_config") or {})
    filters = values.get("filters")
    parsed_filters = parse_filters(filters, "filters") if filters is not None else None
    compiled = compile_for(actor, spec, settings, filters=filters, row_limit=row_limit)
    viz = parse_visualization(values.get("visualization_config"), compiled)
    tags = values.get("tags") or []
    if (
        not isinstance(tags, list | tuple)
        or len(tags) > 20
        or any(not isinstance(t, str) or not 1 <= len(t) <= 50 for t in tags)
    ):
        raise ReportValidationError("tags: at most 20 tags of 1-50 characters each")
    is_public = values.get("is_public", False)
    if not isinstance(is_public, bool):
        raise ReportValidationError("is_public: must be true or false")
    return _ReportFields(
        name=name,
        description=description,
        query_config=spec.model_dump(mode="json", by_alias=True, exclude_none=True),
        visualization_config=viz.model_dump(mode="json", exclude_none=True) if viz else None,
        filters=[f.model_dump(mode="json") for f in parsed_filters] if parsed_filters is not None else None,
        row_limit=row_limit,
        is_public=is_public,
        tags=[str(t) for t in tags],
    )


def create_report(
    conn: Connection,
    actor: Actor,
    values: Mapping[str, Any],
    settings: ExportSettings,
    *,
    system_key: str | None = None,
) -> Report:
    """Validate and save a report; ``created_by`` is the actor."""
    unknown = set(values) - _REPORT_FIELDS
    if unknown:
        raise ReportValidationError(f"unknown report field(s): {', '.join(sorted(unknown))}")
    fields = _check_report(actor, values, settings)
    row = conn.execute(
        query("exports_report_insert"),
        {
            "name": fields.name,
            "description": fields.description,
            "tenant_id": actor.tenant_id,
            "created_by": actor.user_id,
            "query_config": Jsonb(fields.query_config),
            "visualization_config": jsonb_or_none(fields.visualization_config),
            "filters": jsonb_or_none(fields.filters),
            "row_limit": fields.row_limit,
            "is_public": fields.is_public,
            "tags": fields.tags,
            "system_key": system_key,
        },
    ).fetchone()
    if row is None:  # a default that already exists (system_key conflict)
        existing = conn.execute(
            query("exports_report_by_system_key"), {"tenant_id": actor.tenant_id, "system_key": system_key}
        ).fetchone()
        assert existing is not None
        return Report.from_row(existing)
    return Report.from_row(row)


def get_report(conn: Connection, actor: Actor, report_id: str) -> Report:
    """A report the actor may see (their own, a public one, or any as an admin); otherwise
    NotFoundError."""
    row = conn.execute(
        query("exports_report_get"), {"id": parse_id(report_id, "report"), "tenant_id": actor.tenant_id}
    ).fetchone()
    report = Report.from_row(row) if row else None
    if report is None or not (actor.is_admin or report.created_by == actor.user_id or report.is_public):
        raise NotFoundError(
            f"Report {report_id} does not exist in tenant {actor.tenant_id!r} "
            "(or is private to another user)."
        )
    return report


def update_report(
    conn: Connection, actor: Actor, report_id: str, changes: Mapping[str, Any], settings: ExportSettings
) -> Report:
    """Change some fields of a report; the whole result is validated again."""
    unknown = set(changes) - _REPORT_FIELDS
    if unknown:
        raise ReportValidationError(f"unknown report field(s): {', '.join(sorted(unknown))}")
    report = get_report(conn, actor, report_id)
    check_owner(actor, report.created_by, f"Report {report.name!r}")
    merged = {
        "name": report.name,
        "description": report.description,
        "query_config": report.query_config,
        "visualization_config": report.visualization_config,
        "filters": report.filters,
        "row_limit": report.row_limit,
        "is_public": report.is_public,
        "tags": report.tags,
        **changes,
    }
    fields = _check_report(actor, merged, settings)
    row = conn.execute(
        query("exports_report_update"),
        {
            "id": report.id,
            "tenant_id": actor.tenant_id,
            "name": fields.name,
            "description": fields.description,
            "query_config": Jsonb(fields.query_config),
            "visualization_config": jsonb_or_none(fields.visualization_config),
            "filters": jsonb_or_none(fields.filters),
            "row_limit": fields.row_limit,
            "is_public": fields.is_public,
            "tags": fields.tags,
        },
    ).fetchone()
    assert row is not None
    return Report.from_row(row)


def delete_report(conn: Connection, actor: Actor, report_id: str) -> None:
    """Delete a report: its schedules and exports go with it (ON DELETE
    CASCADE); their files are removed by the next cleanup (``export_files`` keeps them)."""
    report = get_report(conn, actor, report_id)
    check_owner(actor, report.created_by, f"Report {report.name!r}")
    conn.execute(query("exports_report_delete"), {"id": report.id, "tenant_id": actor.tenant_id})


def list_reports(conn: Connection, actor: Actor, *, limit: int = 500) -> list[Report]:
    """The reports the actor may see."""
    rows = conn.execute(
        query("exports_report_list"),
        {"tenant_id": actor.tenant_id, "user_id": actor.user_id, "is_admin": actor.is_admin, "limit": limit},
    ).fetchall()
    return [Report.from_row(r) for r in rows]
