"""The report builder's operations: every endpoint of the report API as a plain function.

Each takes the connection, the acting :class:`Actor` (tenant, user, role) and plain values, and
returns plain values (``models``); errors are ``ExportError`` subclasses whose class says what
kind of failure it is (an HTTP layer maps NotFound -> 404, PermissionDenied -> 403,
validation -> 422, state -> 409) and whose message names the bad part. The CLI and the Dagster
wiring call the same functions.

Access rules (tenant isolation first: another tenant's rows are always "not found"):

* reports: every user creates; owners and admins update/delete; others see public reports
  read-only (preview, export) and do not see private ones;
* schedules and exports: owners (``created_by`` / ``initiated_by``) and admins.

Nothing here commits except where noted: callers own the transaction (the CLI's connection
commits on success).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.errors import RecipientError
from reporting_assets.delivery.recipients import normalize_email
from reporting_assets.exports.catalog import describe_tables
from reporting_assets.exports.dsl import (
    DEFAULT_ROW_LIMIT,
    CompiledQuery,
    QuerySpec,
    check_row_limit,
    compile_query,
    parse_filters,
    parse_query,
)
from reporting_assets.exports.errors import (
    ExportError,
    ExportStateError,
    NotFoundError,
    PermissionDeniedError,
    QueryValidationError,
    ReportValidationError,
    ScheduleValidationError,
    StorageError,
)
from reporting_assets.exports.formats import FORMATS, MEDIA_TYPES
from reporting_assets.exports.formats.cells import jsonable
from reporting_assets.exports.models import Actor, Export, Report, Schedule
from reporting_assets.exports.s3 import ENV_PREFIX as S3_ENV_PREFIX
from reporting_assets.exports.s3 import S3Settings, check_bucket_name, check_prefix, probe_bucket
from reporting_assets.exports.scheduling import check_cron, check_timezone, next_occurrence
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import AnalyticsSource
from reporting_assets.exports.visualization import parse_visualization
from reporting_assets.text_rules import refuse_control_characters

DELIVERY_METHODS = ("email", "s3", "both")
EXPORT_STATUSES = ("pending", "processing", "completed", "failed")
MAX_RECIPIENTS = 50
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
_SCHEDULE_FIELDS = {
    "name",
    "description",
    "cron_expression",
    "timezone",
    "format",
    "delivery_method",
    "recipients",
    "s3_config",
    "email_config",
    "is_active",
}

# What str.splitlines (and so an email header) treats as a line break: a subject with one of
# them would fail every run of its schedule, so it is refused when the schedule is saved.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFoundError(
            f"{what} {str(value)[:80]!r} is not an id (ids are UUIDs such as "
            f"'3f1c2a9e-7d4b-4c1e-9a53-2b6f0c8e1d7a'; `reporting-assets exports list` shows them)"
        ) from None


def _jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


# --- tables and query validation -------------------------------------------------------------


def list_tables() -> list[dict[str, object]]:
    """Available tables and fields (``GET /api/reports/tables``)."""
    return describe_tables()


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


def validate_query(
    actor: Actor,
    query_config: Mapping[str, Any],
    settings: ExportSettings,
    *,
    filters: Sequence[Any] | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
) -> dict[str, Any]:
    """``POST /api/reports/validate-query``: the result columns and filters as applied, or a
    QueryValidationError listing every problem."""
    compiled = compile_for(actor, query_config, settings, filters=filters, row_limit=row_limit)
    return {
        "valid": True,
        "table": compiled.table.name,
        "columns": [c.as_json() for c in compiled.columns],
        "filters": list(compiled.filters_text),
        "row_limit": compiled.limit,
    }


# --- reports ---------------------------------------------------------------------------------


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


def _check_name(value: Any, what: str, error: type[ExportError]) -> str:
    """A report or schedule name as stored: trimmed, runs of spaces made one; otherwise as
    typed (HTML, '../', '|' and emoji are text: documents and file names never interpret them).
    Control characters are refused, naming the character and its position."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(f"name: a {what} name must be text, got {type(value).__name__}")
    refuse_control_characters(value, f"{what} name", error)
    name = " ".join(value.split())
    if not name or len(name) > 255:
        raise error(f"name: a {what} needs a name of 1-255 characters (got {len(name)})")
    return name


def _check_report(actor: Actor, values: Mapping[str, Any], settings: ExportSettings) -> _ReportFields:
    name = _check_name(values.get("name"), "report", ReportValidationError)
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
    """``POST /api/reports``: validate and save; ``created_by`` is the actor."""
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
            "visualization_config": _jsonb(fields.visualization_config),
            "filters": _jsonb(fields.filters),
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


def _load_report(conn: Connection, actor: Actor, report_id: str) -> Report:
    row = conn.execute(
        query("exports_report_get"), {"id": _uuid(report_id, "report"), "tenant_id": actor.tenant_id}
    ).fetchone()
    report = Report.from_row(row) if row else None
    if report is None or not (actor.is_admin or report.created_by == actor.user_id or report.is_public):
        raise NotFoundError(
            f"Report {report_id} does not exist in tenant {actor.tenant_id!r} "
            "(or is private to another user)."
        )
    return report


def get_report(conn: Connection, actor: Actor, report_id: str) -> Report:
    """``GET /api/reports/{id}``."""
    return _load_report(conn, actor, report_id)


def _check_owner(actor: Actor, owner: str, what: str) -> None:
    if not (actor.is_admin or owner == actor.user_id):
        raise PermissionDeniedError(
            f"{what} belongs to {owner!r}; only its owner or an admin of tenant {actor.tenant_id!r} "
            "can change it."
        )


def update_report(
    conn: Connection, actor: Actor, report_id: str, changes: Mapping[str, Any], settings: ExportSettings
) -> Report:
    """``PUT /api/reports/{id}``: change some fields; the whole result is validated again."""
    unknown = set(changes) - _REPORT_FIELDS
    if unknown:
        raise ReportValidationError(f"unknown report field(s): {', '.join(sorted(unknown))}")
    report = _load_report(conn, actor, report_id)
    _check_owner(actor, report.created_by, f"Report {report.name!r}")
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
            "visualization_config": _jsonb(fields.visualization_config),
            "filters": _jsonb(fields.filters),
            "row_limit": fields.row_limit,
            "is_public": fields.is_public,
            "tags": fields.tags,
        },
    ).fetchone()
    assert row is not None
    return Report.from_row(row)


def delete_report(conn: Connection, actor: Actor, report_id: str) -> None:
    """``DELETE /api/reports/{id}``: its schedules and exports go with it (ON DELETE
    CASCADE); their files are removed by the next cleanup (``export_files`` keeps them)."""
    report = _load_report(conn, actor, report_id)
    _check_owner(actor, report.created_by, f"Report {report.name!r}")
    conn.execute(query("exports_report_delete"), {"id": report.id, "tenant_id": actor.tenant_id})


def list_reports(conn: Connection, actor: Actor, *, limit: int = 500) -> list[Report]:
    """``GET /api/reports``: the reports the actor may see."""
    rows = conn.execute(
        query("exports_report_list"),
        {"tenant_id": actor.tenant_id, "user_id": actor.user_id, "is_admin": actor.is_admin, "limit": limit},
    ).fetchall()
    return [Report.from_row(r) for r in rows]


@dataclass(frozen=True)
class Preview:
    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    page: int
    page_size: int
    total: int
    page_count: int
    row_limit: int
    filters: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
            "page_count": self.page_count,
            "row_limit": self.row_limit,
            "filters": self.filters,
        }


def _preview(
    source: AnalyticsSource, compiled: CompiledQuery, page: int, page_size: int, settings: ExportSettings
) -> Preview:
    if page < 1:
        raise ReportValidationError(f"page: pages start at 1, got {page}")
    if not 1 <= page_size <= settings.preview_max_page_size:
        raise ReportValidationError(f"page_size: must be 1-{settings.preview_max_page_size}, got {page_size}")
    result = source.page(compiled, page=page, page_size=page_size)
    if page > result.page_count and result.total:
        raise ReportValidationError(f"page: {page} is past the last page ({result.page_count})")
    return Preview(
        columns=[c.as_json() for c in compiled.columns],
        rows=[[jsonable(v) for v in row] for row in result.rows],
        page=page,
        page_size=page_size,
        total=result.total,
        page_count=result.page_count,
        row_limit=compiled.limit,
        filters=list(compiled.filters_text),
    )


def preview_report(
    conn: Connection,
    actor: Actor,
    report_id: str,
    source: AnalyticsSource,
    settings: ExportSettings,
    *,
    page: int = 1,
    page_size: int = 50,
) -> Preview:
    """``GET /api/reports/{id}/preview``: one page of the row-limited result, with the total
    and the page count."""
    report = _load_report(conn, actor, report_id)
    return _preview(source, compile_report(report, settings), page, page_size, settings)


def preview_query(
    actor: Actor,
    query_config: Mapping[str, Any],
    source: AnalyticsSource,
    settings: ExportSettings,
    *,
    filters: Sequence[Any] | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
    page: int = 1,
    page_size: int = 50,
) -> Preview:
    """A preview of an unsaved query (the builder's live preview)."""
    compiled = compile_for(actor, query_config, settings, filters=filters, row_limit=row_limit)
    return _preview(source, compiled, page, page_size, settings)


# --- schedules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ScheduleFields:
    name: str
    description: str | None
    cron_expression: str
    timezone: str
    format: str
    delivery_method: str
    recipients: list[str]
    s3_config: dict[str, Any] | None
    email_config: dict[str, Any] | None
    is_active: bool


def _check_schedule(values: Mapping[str, Any], s3: S3Settings | None) -> _ScheduleFields:
    name = _check_name(values.get("name"), "schedule", ScheduleValidationError)
    description = values.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 10_000):
        raise ScheduleValidationError("description: must be text of at most 10,000 characters")
    cron = check_cron(str(values.get("cron_expression") or ""))
    timezone = check_timezone(str(values.get("timezone") or "UTC"))
    fmt = values.get("format")
    if fmt not in FORMATS:
        raise ScheduleValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    method = values.get("delivery_method")
    if method not in DELIVERY_METHODS:
        raise ScheduleValidationError(
            f"delivery_method: {method!r} is not one of {', '.join(DELIVERY_METHODS)}"
        )
    raw = values.get("recipients") or []
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise ScheduleValidationError("recipients: must be a list of email addresses")
    recipients: list[str] = []
    for i, text in enumerate(raw):
        try:
            email = normalize_email(str(text))
        except RecipientError as exc:
            raise ScheduleValidationError(f"recipients[{i}]: {exc}") from None
        if email not in recipients:
            recipients.append(email)
    if method in ("email", "both") and not recipients:
        raise ScheduleValidationError(
            f"recipients: delivery_method {method!r} sends email, so at least one recipient is needed "
            f"(or use delivery_method 's3')"
        )
    if len(recipients) > MAX_RECIPIENTS:
        raise ScheduleValidationError(f"recipients: at most {MAX_RECIPIENTS} addresses per schedule")
    s3_config = values.get("s3_config")
    if s3_config is not None:
        if not isinstance(s3_config, Mapping) or set(s3_config) - {"bucket", "prefix"}:
            raise ScheduleValidationError('s3_config: must be {"bucket": ..., "prefix": ...} (both optional)')
        s3_config = dict(s3_config)
        try:
            if s3_config.get("bucket") is not None:
                s3_config["bucket"] = check_bucket_name(str(s3_config["bucket"]))
            if s3_config.get("prefix") is not None:
                s3_config["prefix"] = check_prefix(str(s3_config["prefix"]))
        except StorageError as exc:
            raise ScheduleValidationError(str(exc)) from None
    if method in ("s3", "both"):
        _s3_bucket(s3_config, s3, str(method))
    email_config = values.get("email_config")
    if email_config is not None:
        if not isinstance(email_config, Mapping) or set(email_config) - {"subject", "body", "attach"}:
            raise ScheduleValidationError(
                'email_config: must be {"subject": ..., "body": ..., "attach": true|false} (all optional)'
            )
        subject = email_config.get("subject")
        if subject is not None and (
            not isinstance(subject, str) or len(subject) > 200 or _LINE_BREAKS.search(subject)
        ):
            raise ScheduleValidationError("email_config.subject: one line of at most 200 characters")
        body = email_config.get("body")
        if body is not None and (not isinstance(body, str) or len(body) > 5000):
            raise ScheduleValidationError("email_config.body: text of at most 5,000 characters")
        if "attach" in email_config and not isinstance(email_config["attach"], bool):
            raise ScheduleValidationError("email_config.attach: must be true or false")
        email_config = dict(email_config)
    is_active = values.get("is_active", True)
    if not isinstance(is_active, bool):
        raise ScheduleValidationError("is_active: must be true or false")
    return _ScheduleFields(
        name,
        description,
        cron,
        timezone,
        str(fmt),
        str(method),
        recipients,
        s3_config,
        email_config,
        is_active,
    )


def _s3_bucket(s3_config: Mapping[str, Any] | None, s3: S3Settings | None, method: str) -> str:
    """The bucket an S3 delivery of this schedule uploads to: its own, else the configured
    default; a schedule with neither would fail at every run, so it is refused."""
    bucket = str((s3_config or {}).get("bucket") or "")
    if bucket:
        return bucket
    default = s3.bucket if s3 is not None else ""
    if not default:
        raise ScheduleValidationError(
            f"s3_config.bucket: delivery_method {method!r} uploads to S3, but the schedule names no "
            f"bucket and no default bucket is configured; give one (s3_config.bucket, or --s3-bucket "
            f"NAME on the command line) or set {S3_ENV_PREFIX}BUCKET"
        )
    try:
        return check_bucket_name(default, f"{S3_ENV_PREFIX}BUCKET (the default bucket)")
    except StorageError as exc:
        raise ScheduleValidationError(str(exc)) from None


def _delivery_warnings(fields: _ScheduleFields, s3: S3Settings | None) -> tuple[str, ...]:
    """Where S3 is configured, whether the schedule's bucket answers now. Not an error: the
    bucket may be created after the schedule, so the schedule is saved with a warning."""
    if fields.delivery_method not in ("s3", "both") or s3 is None:
        return ()
    if not (s3.endpoint_url or s3.bucket or s3.access_key_id):
        return ()  # S3 is not configured here: nothing to check against
    bucket = _s3_bucket(fields.s3_config, s3, fields.delivery_method)
    problem = probe_bucket(s3, bucket)
    if problem is None:
        return ()
    return (
        f"s3_config.bucket: {problem}. The schedule is saved, but its S3 deliveries will fail "
        f"until this is fixed.",
    )


def create_schedule(
    conn: Connection,
    actor: Actor,
    report_id: str,
    values: Mapping[str, Any],
    *,
    s3: S3Settings | None = None,
    now: dt.datetime | None = None,
    system_key: str | None = None,
) -> Schedule:
    """``POST /api/reports/schedules``: for a report the actor can read; ``next_run_at`` is the
    first occurrence after now (nothing runs for times before the schedule existed).

    ``s3`` is the S3 configuration its exports will use (default bucket, endpoint); None when
    S3 is not configured, so an S3 delivery needs its own ``s3_config.bucket``. A bucket that
    cannot be reached is a warning on the returned schedule (``warnings``), not an error.
    """
    unknown = set(values) - _SCHEDULE_FIELDS
    if unknown:
        raise ScheduleValidationError(f"unknown schedule field(s): {', '.join(sorted(unknown))}")
    report = _load_report(conn, actor, report_id)
    fields = _check_schedule(values, s3)
    warnings = _delivery_warnings(fields, s3)
    upcoming = next_occurrence(fields.cron_expression, fields.timezone, now or _now())
    row = conn.execute(
        query("exports_schedule_insert"),
        {
            "report_id": report.id,
            "name": fields.name,
            "description": fields.description,
            "cron_expression": fields.cron_expression,
            "timezone": fields.timezone,
            "format": fields.format,
            "delivery_method": fields.delivery_method,
            "recipients": fields.recipients,
            "s3_config": _jsonb(fields.s3_config),
            "email_config": _jsonb(fields.email_config),
            "is_active": fields.is_active,
            "next_run_at": upcoming,
            "tenant_id": actor.tenant_id,
            "created_by": actor.user_id,
            "system_key": system_key,
        },
    ).fetchone()
    if row is None:
        existing = conn.execute(
            query("exports_schedule_by_system_key"), {"tenant_id": actor.tenant_id, "system_key": system_key}
        ).fetchone()
        assert existing is not None
        return Schedule.from_row(existing)
    return replace(Schedule.from_row(row), warnings=warnings)


def _load_schedule(conn: Connection, actor: Actor, schedule_id: str) -> Schedule:
    row = conn.execute(
        query("exports_schedule_get"), {"id": _uuid(schedule_id, "schedule"), "tenant_id": actor.tenant_id}
    ).fetchone()
    schedule = Schedule.from_row(row) if row else None
    if schedule is None or not (actor.is_admin or schedule.created_by == actor.user_id):
        raise NotFoundError(
            f"Schedule {schedule_id} does not exist in tenant {actor.tenant_id!r} (deleting a report "
            f"deletes its schedules), or it belongs to another user."
        )
    return schedule


def get_schedule(conn: Connection, actor: Actor, schedule_id: str) -> Schedule:
    """``GET /api/reports/schedules/{id}``."""
    return _load_schedule(conn, actor, schedule_id)


def list_schedules(
    conn: Connection, actor: Actor, *, report_id: str | None = None, limit: int = 500
) -> list[Schedule]:
    """``GET /api/reports/schedules``."""
    rows = conn.execute(
        query("exports_schedule_list"),
        {
            "tenant_id": actor.tenant_id,
            "user_id": actor.user_id,
            "is_admin": actor.is_admin,
            "report_id": _uuid(report_id, "report") if report_id else None,
            "limit": limit,
        },
    ).fetchall()
    return [Schedule.from_row(r) for r in rows]


def update_schedule(
    conn: Connection,
    actor: Actor,
    schedule_id: str,
    changes: Mapping[str, Any],
    *,
    s3: S3Settings | None = None,
    now: dt.datetime | None = None,
) -> Schedule:
    """``PUT /api/reports/schedules/{id}``; a changed cron/timezone or a re-activation moves
    ``next_run_at`` to the next occurrence after now (no catch-up of the inactive time). The
    whole result is validated again, its delivery targets as :func:`create_schedule` does."""
    unknown = set(changes) - _SCHEDULE_FIELDS
    if unknown:
        raise ScheduleValidationError(f"unknown schedule field(s): {', '.join(sorted(unknown))}")
    schedule = _load_schedule(conn, actor, schedule_id)
    merged = {
        "name": schedule.name,
        "description": schedule.description,
        "cron_expression": schedule.cron_expression,
        "timezone": schedule.timezone,
        "format": schedule.format,
        "delivery_method": schedule.delivery_method,
        "recipients": schedule.recipients,
        "s3_config": schedule.s3_config,
        "email_config": schedule.email_config,
        "is_active": schedule.is_active,
        **changes,
    }
    fields = _check_schedule(merged, s3)
    warnings = _delivery_warnings(fields, s3)
    timing_changed = (
        fields.cron_expression != schedule.cron_expression
        or fields.timezone != schedule.timezone
        or (fields.is_active and not schedule.is_active)
    )
    next_run = (
        next_occurrence(fields.cron_expression, fields.timezone, now or _now())
        if timing_changed or schedule.next_run_at is None
        else schedule.next_run_at
    )
    row = conn.execute(
        query("exports_schedule_update"),
        {
            "id": schedule.id,
            "tenant_id": actor.tenant_id,
            "name": fields.name,
            "description": fields.description,
            "cron_expression": fields.cron_expression,
            "timezone": fields.timezone,
            "format": fields.format,
            "delivery_method": fields.delivery_method,
            "recipients": fields.recipients,
            "s3_config": _jsonb(fields.s3_config),
            "email_config": _jsonb(fields.email_config),
            "is_active": fields.is_active,
            "next_run_at": next_run,
        },
    ).fetchone()
    assert row is not None
    return replace(Schedule.from_row(row), warnings=warnings)


def toggle_schedule(
    conn: Connection,
    actor: Actor,
    schedule_id: str,
    active: bool | None = None,
    *,
    s3: S3Settings | None = None,
    now: dt.datetime | None = None,
) -> Schedule:
    """``PATCH /api/reports/schedules/{id}/toggle``: flip (or set) ``is_active``."""
    schedule = _load_schedule(conn, actor, schedule_id)
    target = (not schedule.is_active) if active is None else active
    return update_schedule(conn, actor, schedule_id, {"is_active": target}, s3=s3, now=now)


def delete_schedule(conn: Connection, actor: Actor, schedule_id: str) -> None:
    """``DELETE /api/reports/schedules/{id}``: its exports stay in the history (schedule_id
    becomes NULL, ON DELETE SET NULL)."""
    schedule = _load_schedule(conn, actor, schedule_id)
    conn.execute(query("exports_schedule_delete"), {"id": schedule.id, "tenant_id": actor.tenant_id})


def run_schedule(
    conn: Connection, actor: Actor, schedule_id: str, *, now: dt.datetime | None = None
) -> Export:
    """``POST /api/reports/schedules/{id}/run``: a manual export with the schedule's format and
    delivery, pending until a run (the CLI right away, or the sensor) processes it. Works for
    inactive schedules too; it is not an occurrence (``next_run_at`` is unchanged)."""
    schedule = _load_schedule(conn, actor, schedule_id)
    _load_report(conn, actor, schedule.report_id)  # the actor must still be able to read the report
    row = conn.execute(
        query("exports_export_insert"),
        {
            "report_id": schedule.report_id,
            "schedule_id": schedule.id,
            "tenant_id": actor.tenant_id,
            "initiated_by": actor.user_id,
            "format": schedule.format,
            "as_of": now or _now(),
            "delivery_method": schedule.delivery_method,
            "delivery_config": Jsonb(schedule.delivery_config()),
        },
    ).fetchone()
    assert row is not None
    return Export.from_row(row)


# --- exports ---------------------------------------------------------------------------------


def create_export(
    conn: Connection, actor: Actor, report_id: str, fmt: str, *, now: dt.datetime | None = None
) -> Export:
    """``POST /api/reports/exports``: a download export of a report the actor can read
    ("Download Report" on a dashboard), pending until a run processes it."""
    if fmt not in FORMATS:
        raise ReportValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    report = _load_report(conn, actor, report_id)
    row = conn.execute(
        query("exports_export_insert"),
        {
            "report_id": report.id,
            "schedule_id": None,
            "tenant_id": actor.tenant_id,
            "initiated_by": actor.user_id,
            "format": fmt,
            "as_of": now or _now(),
            "delivery_method": None,
            "delivery_config": Jsonb({}),
        },
    ).fetchone()
    assert row is not None
    return Export.from_row(row)


def _load_export(conn: Connection, actor: Actor, export_id: str) -> Export:
    row = conn.execute(
        query("exports_export_get"), {"id": _uuid(export_id, "export"), "tenant_id": actor.tenant_id}
    ).fetchone()
    export = Export.from_row(row) if row else None
    if export is None or not (actor.is_admin or export.initiated_by == actor.user_id):
        raise NotFoundError(
            f"Export {export_id} does not exist in tenant {actor.tenant_id!r} (deleting a report deletes "
            f"its exports), or another user started it."
        )
    return export


def get_export(conn: Connection, actor: Actor, export_id: str) -> Export:
    """``GET /api/reports/exports/{id}``."""
    return _load_export(conn, actor, export_id)


def list_exports(
    conn: Connection,
    actor: Actor,
    *,
    report_id: str | None = None,
    schedule_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[Export]:
    """``GET /api/reports/exports``: the export history, newest first."""
    if status is not None and status not in EXPORT_STATUSES:
        raise ReportValidationError(f"status: {status!r} is not one of {', '.join(EXPORT_STATUSES)}")
    rows = conn.execute(
        query("exports_export_list"),
        {
            "tenant_id": actor.tenant_id,
            "user_id": actor.user_id,
            "is_admin": actor.is_admin,
            "report_id": _uuid(report_id, "report") if report_id else None,
            "schedule_id": _uuid(schedule_id, "schedule") if schedule_id else None,
            "status": status,
            "limit": limit,
        },
    ).fetchall()
    return [Export.from_row(r) for r in rows]


def retry_export(conn: Connection, actor: Actor, export_id: str) -> Export:
    """``POST /api/reports/exports/{id}/retry``: a failed export goes back to pending; its next
    run reuses the file when it is still there and delivers only to the recipients/targets the
    ledger has not marked sent."""
    export = _load_export(conn, actor, export_id)
    if export.status != "failed":
        raise ExportStateError(
            f"Export {export.id} is {export.status}; only failed exports can be retried"
            + (" (it is done; download it or run the schedule again)" if export.status == "completed" else "")
        )
    row = conn.execute(
        query("exports_export_retry"), {"id": export.id, "tenant_id": actor.tenant_id}
    ).fetchone()
    if row is None:
        raise ExportStateError(f"Export {export.id} changed state while retrying; look at it again.")
    return Export.from_row(row)


def delete_export(conn: Connection, actor: Actor, export_id: str) -> None:
    """``DELETE /api/reports/exports/{id}``: the row and its local file; S3 copies are removed
    by the next cleanup."""
    export = _load_export(conn, actor, export_id)
    if export.status == "processing":
        raise ExportStateError(f"Export {export.id} is being processed; delete it when it has finished.")
    conn.execute(query("exports_export_delete"), {"id": export.id, "tenant_id": actor.tenant_id})
    if export.file_path:
        with contextlib.suppress(FileNotFoundError):
            Path(export.file_path).unlink()


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    media_type: str
    size: int
    url: str | None


def download_filename(report_name: str, export: Export) -> str:
    """``usage-summary-2025-03-10.pdf``: readable, safe in any file system and header."""
    slug = re.sub(r"[^a-z0-9]+", "-", report_name.lower()).strip("-")[:60] or "report"
    moment = (export.scheduled_for or export.as_of).astimezone(dt.UTC)
    return f"{slug}-{moment:%Y-%m-%d}.{export.format}"


def download_export(
    conn: Connection, actor: Actor, export_id: str, *, now: dt.datetime | None = None
) -> Download:
    """``GET /api/reports/exports/{id}/download``: the completed, unexpired file (and its S3
    link when it was uploaded)."""
    export = _load_export(conn, actor, export_id)
    if export.status != "completed" and not (export.status == "failed" and export.file_path):
        raise ExportStateError(
            f"Export {export.id} is {export.status}; there is no file to download yet"
            + (f" ({export.error_message})" if export.error_message else "")
        )
    moment = now or _now()
    if export.expires_at is not None and export.expires_at <= moment:
        raise ExportStateError(
            f"Export {export.id} expired on {export.expires_at:%Y-%m-%d %H:%M} UTC and its file was removed; "
            f"create a new export of the report."
        )
    path = Path(export.file_path or "")
    if not export.file_path or not path.is_file():
        raise ExportStateError(
            f"The file of export {export.id} is no longer on this machine ({export.file_path}); "
            + (f"use its S3 link: {export.download_url}" if export.download_url else "create a new export.")
        )
    report = _load_report(conn, actor, export.report_id)
    return Download(
        path=path,
        filename=download_filename(report.name, export),
        media_type=MEDIA_TYPES[export.format],
        size=path.stat().st_size,
        url=export.download_url,
    )
