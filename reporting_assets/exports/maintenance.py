"""Housekeeping: remove expired export files (local and S3) and measure export health.

Files are tracked in ``reporting.export_files`` rather than read from ``exports``, because an
export row can disappear (deleted, or cascaded away with its report) while its files remain;
such orphans are removed at the next cleanup, expired or not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.errors import StorageError
from reporting_assets.exports.s3 import S3Settings, delete_object
from reporting_assets.exports.settings import ExportSettings


@dataclass
class CleanupReport:
    removed_local: int = 0
    removed_s3: int = 0
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"removed_local": self.removed_local, "removed_s3": self.removed_s3, "errors": self.errors}


def cleanup_expired(
    conn: Connection,
    *,
    now: dt.datetime,
    settings: ExportSettings,
    s3: S3Settings | None,
    limit: int = 1000,
) -> CleanupReport:
    """Delete files past ``expires_at`` and files of deleted exports; mark each removed. A file
    that cannot be removed (S3 down, permissions) is reported and tried again next time. Commits."""
    report = CleanupReport()
    clients: dict[str, Any] = {}
    rows = conn.execute(query("exports_files_to_clean"), {"now": now, "limit": limit}).fetchall()
    conn.commit()
    root = settings.storage_dir.resolve()
    for row in rows:
        try:
            if row["storage"] == "local":
                path = Path(row["location"]).resolve()
                if root not in path.parents:
                    raise StorageError(f"{path} is outside the export folder {root}; not deleting it")
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                report.removed_local += 1
            else:
                if s3 is None:
                    raise StorageError("S3 is not configured; cannot delete S3 copies")
                endpoint = row["endpoint_url"] or ""
                if endpoint not in clients:
                    clients[endpoint] = replace(s3, endpoint_url=endpoint or None).client()
                delete_object(clients[endpoint], s3, row["bucket"], row["location"])
                report.removed_s3 += 1
            conn.execute(query("exports_file_deleted"), {"id": row["id"]})
            conn.commit()
        except (StorageError, OSError) as exc:
            conn.rollback()
            report.errors.append(f"{row['storage']} {row['bucket'] or ''}{row['location']}: {exc}")
    return report


@dataclass(frozen=True)
class Health:
    completed: int
    failed: int
    pending: int
    stuck: int
    window_hours: float

    @property
    def failure_rate(self) -> float:
        finished = self.completed + self.failed
        return self.failed / finished if finished else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "failed": self.failed,
            "pending": self.pending,
            "stuck_processing": self.stuck,
            "failure_rate": round(self.failure_rate, 4),
            "window_hours": self.window_hours,
        }


def export_health(conn: Connection, *, now: dt.datetime, settings: ExportSettings) -> Health:
    """Exports finished in the window (completed/failed), waiting, and stuck processing."""
    row = conn.execute(
        query("exports_health"),
        {"since": now - settings.health_window, "stuck_before": now - settings.stuck_after},
    ).fetchone()
    assert row is not None
    return Health(
        completed=int(row["completed"]),
        failed=int(row["failed"]),
        pending=int(row["pending"]),
        stuck=int(row["stuck"]),
        window_hours=settings.health_window.total_seconds() / 3600,
    )
