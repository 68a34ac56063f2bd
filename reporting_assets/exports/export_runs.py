"""Exports: one file made from a report (a download, or a schedule's run), its history,
retry, deletion and download.

Owners (``initiated_by``) and admins see an export; another tenant's exports are always
"not found". Making the file and delivering it is ``execute.py``'s job; here an export is
created pending. Nothing here commits: callers own the transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.checks import parse_id, utc_now
from reporting_assets.exports.errors import ExportStateError, NotFoundError, ReportValidationError
from reporting_assets.exports.formats import FORMATS, MEDIA_TYPES
from reporting_assets.exports.models import Actor, Export
from reporting_assets.exports.reports import get_report

EXPORT_STATUSES = ("pending", "processing", "completed", "failed")


def create_export(
    conn: Connection, actor: Actor, report_id: str, fmt: str, *, now: dt.datetime | None = None
) -> Export:
    """A download export of a report the actor can read (``exports create export``), pending
    until a run processes it."""
    if fmt not in FORMATS:
        raise ReportValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    report = get_report(conn, actor, report_id)
    row = conn.execute(
        query("exports_export_insert"),
        {
            "report_id": report.id,
            "schedule_id": None,
            "tenant_id": actor.tenant_id,
            "initiated_by": actor.user_id,
            "format": fmt,
            "as_of": now or utc_now(),
            "delivery_method": None,
            "delivery_config": Jsonb({}),
        },
    ).fetchone()
    assert row is not None
    return Export.from_row(row)


def get_export(conn: Connection, actor: Actor, export_id: str) -> Export:
    """An export the actor started (or any, as an admin); otherwise NotFoundError."""
    row = conn.execute(
        query("exports_export_get"), {"id": parse_id(export_id, "export"), "tenant_id": actor.tenant_id}
    ).fetchone()
    export = Export.from_row(row) if row else None
    if export is None or not (actor.is_admin or export.initiated_by == actor.user_id):
        raise NotFoundError(
            f"Export {export_id} does not exist in tenant {actor.tenant_id!r} (deleting a report deletes "
            f"its exports), or another user started it."
        )
    return export


def list_exports(
    conn: Connection,
    actor: Actor,
    *,
    report_id: str | None = None,
    schedule_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[Export]:
    """The export history, newest first (``exports history``)."""
    if status is not None and status not in EXPORT_STATUSES:
        raise ReportValidationError(f"status: {status!r} is not one of {', '.join(EXPORT_STATUSES)}")
    rows = conn.execute(
        query("exports_export_list"),
        {
            "tenant_id": actor.tenant_id,
            "user_id": actor.user_id,
            "is_admin": actor.is_admin,
            "report_id": parse_id(report_id, "report") if report_id else None,
            "schedule_id": parse_id(schedule_id, "schedule") if schedule_id else None,
            "status": status,
            "limit": limit,
        },
    ).fetchall()
    return [Export.from_row(r) for r in rows]


def retry_export(conn: Connection, actor: Actor, export_id: str) -> Export:
    """Retry a failed export (``exports retry``): it goes back to pending; its next
    run reuses the file when it is still there and delivers only to the recipients/targets the
    ledger has not marked sent."""
    export = get_export(conn, actor, export_id)
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
    """Delete an export: the row and its local file; S3 copies are removed
    by the next cleanup."""
    export = get_export(conn, actor, export_id)
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
    """The file of an export (``exports download``): the completed, unexpired file (and its S3
    link when it was uploaded)."""
    export = get_export(conn, actor, export_id)
    if export.status != "completed" and not (export.status == "failed" and export.file_path):
        raise ExportStateError(
            f"Export {export.id} is {export.status}; there is no file to download yet"
            + (f" ({export.error_message})" if export.error_message else "")
        )
    moment = now or utc_now()
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
    report = get_report(conn, actor, export.report_id)
    return Download(
        path=path,
        filename=download_filename(report.name, export),
        media_type=MEDIA_TYPES[export.format],
        size=path.stat().st_size,
        url=export.download_url,
    )
