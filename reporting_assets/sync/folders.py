"""Sync ids and session folders: ``reports/sync/{SYNC-ID}/`` with ``customer_reports/``,
``logs/``, ``summaries/`` and ``_SYNC_SUMMARY.md``.

The id reads ``YYYYMMDDHHMM-SYNC-XXXXXXXX`` (UTC minute, 8 upper-case hex from a CSPRNG), so
folders sort by time and two sessions of the same minute still differ (the database primary key
catches the 1-in-4-billion repeat). Folder and file names never come from free text: a customer
file is ``{slug}-{hash}_{timestamp}.md`` where the slug is ASCII ``[a-z0-9-]`` and the hash is
of the customer key, so names that slug alike ('Acme/EU' and 'Acme EU') never collide and no
name can climb out of the folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reporting_assets.home import project_home
from reporting_assets.logging_ids import get_logger
from reporting_assets.sync.errors import ReportsFolderError, SyncInputError

log = get_logger(__name__)

SYNC_ID = re.compile(r"^(\d{12})-SYNC-([0-9A-F]{8})$")
REPORTS_DIR_ENV = "REPORTING_REPORTS_DIR"
SUMMARY_FILE = "_SYNC_SUMMARY.md"
SUBFOLDERS = ("customer_reports", "logs", "summaries")
LOG_FILE = "logs/sync_session.jsonl"
SLUG_MAX = 40


def random_token() -> str:
    return secrets.token_hex(4).upper()


def new_sync_id(now: dt.datetime, token: Callable[[], str] = random_token) -> str:
    """``YYYYMMDDHHMM-SYNC-XXXXXXXX`` for a session starting at ``now`` (UTC)."""
    sync_id = f"{now.astimezone(dt.UTC):%Y%m%d%H%M}-SYNC-{token()}"
    return parse_sync_id(sync_id)


def parse_sync_id(text: str) -> str:
    """A valid sync id, or an error showing the format (ids become folder names)."""
    if not SYNC_ID.match(text or ""):
        raise SyncInputError(
            f"{text!r} is not a sync id; they read YYYYMMDDHHMM-SYNC-XXXXXXXX (8 upper-case hex), "
            f"e.g. 202508022027-SYNC-765151E9."
        )
    return text


def customer_slug(customer_key: str) -> str:
    """ASCII slug plus a short hash of the key: safe as a file name, unique per key."""
    ascii_text = unicodedata.normalize("NFKD", customer_key).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_MAX].strip("-") or "customer"
    return f"{base}-{hashlib.sha256(customer_key.encode('utf-8')).hexdigest()[:6]}"


def reports_root(root: str | Path | None = None) -> Path:
    """The reports root: the argument, else ``REPORTING_REPORTS_DIR``, else ``reports/`` in the
    project home."""
    if root:
        return Path(root).expanduser().absolute()
    env = os.environ.get(REPORTS_DIR_ENV, "").strip()
    return Path(env).expanduser().absolute() if env else project_home() / "reports"


def _explain(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exhausted"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the location is read-only or not writable"
    return exc.strerror or type(exc).__name__


@dataclass(frozen=True)
class SessionFolder:
    """One session's folder below ``{root}/sync/``."""

    root: Path
    sync_id: str

    @property
    def path(self) -> Path:
        return self.root / "sync" / parse_sync_id(self.sync_id)

    def error(self, doing: str, exc: OSError) -> ReportsFolderError:
        return ReportsFolderError(
            f"Cannot {doing} in the sync session folder {self.path}: {_explain(exc)} ({exc}). The "
            f"session is recorded in reporting.sync_sessions (sync id {self.sync_id}) with its "
            f"summary. Free space or make the reports root writable, or point the reports_output "
            f"resource (--reports-dir, {REPORTS_DIR_ENV}) to another folder, then re-run."
        )

    def create(self, *, new: bool = True) -> Path:
        """Make the folder and its subfolders; ``new`` refuses an existing session folder."""
        try:
            (self.root / "sync").mkdir(parents=True, exist_ok=True)
            self.path.mkdir(exist_ok=not new)
            for sub in SUBFOLDERS:
                (self.path / sub).mkdir(exist_ok=True)
        except FileExistsError as exc:
            raise ReportsFolderError(
                f"The sync session folder {self.path} already exists: sync ids must be unique; "
                f"start a new session (a new id is drawn each time)."
            ) from exc
        except OSError as exc:
            raise self.error("create folders", exc) from exc
        log.debug("sf-001", "Session folder ready: %s", self.path)
        return self.path

    def customer_report_name(self, customer_key: str, started_at: dt.datetime) -> str:
        """``customer_reports/{slug}_{YYYYMMDD_HHMMSS}.md`` (relative to the session folder)."""
        return (
            f"customer_reports/{customer_slug(customer_key)}_{started_at.astimezone(dt.UTC):%Y%m%d_%H%M%S}.md"
        )

    def resolve(self, relative: str) -> Path:
        target = (self.path / relative).resolve()
        if not target.is_relative_to(self.path.resolve()):
            raise SyncInputError(f"{relative!r} is outside the session folder {self.path}.")
        return target

    def write_text(self, relative: str, text: str) -> Path:
        """Write a file atomically (temp file + rename): a full disk leaves no half file."""
        target = self.resolve(relative)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with temp.open("w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise self.error(f"write {relative}", exc) from exc
        log.debug("sf-002", "Wrote %s (%d bytes)", relative, len(text.encode("utf-8")))
        return target
