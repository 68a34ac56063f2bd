"""Plain values of the report builder: who acts (:class:`Actor`) and the stored rows
(:class:`Report`, :class:`Schedule`, :class:`Export`). No Dagster: the CLI and the Dagster
wiring pass these to the same functions (``engine``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reporting_assets.exports.errors import ExportError

Role = Literal["admin", "user"]
ROLES: tuple[str, ...] = ("admin", "user")
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
USER_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


@dataclass(frozen=True)
class Actor:
    """The tenant and user on whose behalf an operation runs (from a JWT later; ``--tenant``/
    ``--user``/``--role`` in the CLI). Admins manage everything of their tenant; users manage
    their own reports/schedules/exports and read public reports."""

    tenant_id: str
    user_id: str
    role: Role = "user"

    def __post_init__(self) -> None:
        if not TENANT_ID.match(self.tenant_id or ""):
            raise ExportError(
                f"Tenant id {self.tenant_id!r} is not valid: 1-100 letters, digits, '.', '_' or '-', "
                f"starting with a letter or digit."
            )
        if not USER_ID.match(self.user_id or "") or not self.user_id.strip():
            raise ExportError(
                f"User id {self.user_id!r} is not valid: 1-100 characters, no control characters."
            )
        if self.role not in ROLES:
            raise ExportError(f"Role {self.role!r} is not valid; use one of {', '.join(ROLES)}.")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Report:
    id: str
    name: str
    description: str | None
    tenant_id: str
    created_by: str
    query_config: dict[str, Any]
    visualization_config: dict[str, Any] | None
    filters: list[Any] | None
    row_limit: int
    is_public: bool
    tags: list[str]
    system_key: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Report:
        return cls(
            id=str(row["id"]),
            name=row["name"],
            description=row["description"],
            tenant_id=row["tenant_id"],
            created_by=row["created_by"],
            query_config=dict(row["query_config"]),
            visualization_config=dict(row["visualization_config"]) if row["visualization_config"] else None,
            filters=list(row["filters"]) if row["filters"] is not None else None,
            row_limit=row["row_limit"],
            is_public=row["is_public"],
            tags=list(row["tags"] or []),
            system_key=row["system_key"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "tenant_id": self.tenant_id,
            "created_by": self.created_by,
            "query_config": self.query_config,
            "visualization_config": self.visualization_config,
            "filters": self.filters,
            "row_limit": self.row_limit,
            "is_public": self.is_public,
            "tags": self.tags,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class Schedule:
    id: str
    report_id: str
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
    last_run_at: dt.datetime | None
    next_run_at: dt.datetime | None
    run_count: int
    tenant_id: str
    created_by: str
    system_key: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    warnings: tuple[str, ...] = ()
    """Problems found when it was saved that do not stop it being saved (an S3 bucket that
    cannot be reached right now); not stored."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Schedule:
        return cls(
            id=str(row["id"]),
            report_id=str(row["report_id"]),
            name=row["name"],
            description=row["description"],
            cron_expression=row["cron_expression"],
            timezone=row["timezone"],
            format=row["format"],
            delivery_method=row["delivery_method"],
            recipients=list(row["recipients"] or []),
            s3_config=dict(row["s3_config"]) if row["s3_config"] else None,
            email_config=dict(row["email_config"]) if row["email_config"] else None,
            is_active=row["is_active"],
            last_run_at=row["last_run_at"],
            next_run_at=row["next_run_at"],
            run_count=row["run_count"],
            tenant_id=row["tenant_id"],
            created_by=row["created_by"],
            system_key=row["system_key"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def delivery_config(self) -> dict[str, Any]:
        """What an export of this schedule delivers to (copied onto the export row)."""
        return {
            "recipients": list(self.recipients) if self.delivery_method in ("email", "both") else [],
            "s3": dict(self.s3_config or {}) if self.delivery_method in ("s3", "both") else None,
            "email": dict(self.email_config or {}),
            "timezone": self.timezone,
            "schedule_name": self.name,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "report_id": self.report_id,
            "name": self.name,
            "description": self.description,
            "cron_expression": self.cron_expression,
            "timezone": self.timezone,
            "format": self.format,
            "delivery_method": self.delivery_method,
            "recipients": self.recipients,
            "s3_config": self.s3_config,
            "email_config": self.email_config,
            "is_active": self.is_active,
            "last_run_at": _iso(self.last_run_at),
            "next_run_at": _iso(self.next_run_at),
            "run_count": self.run_count,
            "tenant_id": self.tenant_id,
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Export:
    id: str
    report_id: str
    schedule_id: str | None
    tenant_id: str
    initiated_by: str
    format: str
    status: str
    file_path: str | None
    file_size: int | None
    row_count: int | None
    error_message: str | None
    download_url: str | None
    expires_at: dt.datetime | None
    execution_time_ms: int | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    trigger: str
    scheduled_for: dt.datetime | None
    as_of: dt.datetime
    delivery_method: str | None
    delivery_config: dict[str, Any] = field(default_factory=dict)
    content_hash: str | None = None
    attempts: int = 0
    started_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Export:
        return cls(
            id=str(row["id"]),
            report_id=str(row["report_id"]),
            schedule_id=str(row["schedule_id"]) if row["schedule_id"] else None,
            tenant_id=row["tenant_id"],
            initiated_by=row["initiated_by"],
            format=row["format"],
            status=row["status"],
            file_path=row["file_path"],
            file_size=row["file_size"],
            row_count=row["row_count"],
            error_message=row["error_message"],
            download_url=row["download_url"],
            expires_at=row["expires_at"],
            execution_time_ms=row["execution_time_ms"],
            created_at=row["created_at"],
            completed_at=row["completed_at"],
            trigger=row["trigger"],
            scheduled_for=row["scheduled_for"],
            as_of=row["as_of"],
            delivery_method=row["delivery_method"],
            delivery_config=dict(row["delivery_config"] or {}),
            content_hash=row["content_hash"].strip() if row["content_hash"] else None,
            attempts=row["attempts"],
            started_at=row["started_at"],
            updated_at=row["updated_at"],
        )

    @property
    def subject_key(self) -> str:
        """This export's subject in the delivery ledger."""
        return f"export:{self.id}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "report_id": self.report_id,
            "schedule_id": self.schedule_id,
            "tenant_id": self.tenant_id,
            "initiated_by": self.initiated_by,
            "format": self.format,
            "status": self.status,
            "trigger": self.trigger,
            "scheduled_for": _iso(self.scheduled_for),
            "as_of": _iso(self.as_of),
            "delivery_method": self.delivery_method,
            "file_path": self.file_path,
            "file_size": self.file_size,
            "row_count": self.row_count,
            "content_hash": self.content_hash,
            "error_message": self.error_message,
            "download_url": self.download_url,
            "expires_at": _iso(self.expires_at),
            "execution_time_ms": self.execution_time_ms,
            "attempts": self.attempts,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
        }
