"""JSON export for external monitoring: one file per source and report time, e.g.
``logs/automation_reports/automation_report_order_sync_20250710T210000Z.json``, valid against
``docs/automation_report.schema.json``.

The folder is checked (created, written to) before any report is built, so a bad
``--output-dir`` fails in a second with a message instead of after the work. Files are written
to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reporting_assets.automation.errors import ExportError

if TYPE_CHECKING:
    from reporting_assets.automation.report import AutomationReport

DEFAULT_OUTPUT_DIR = Path("logs") / "automation_reports"


def export_name(report: AutomationReport) -> str:
    """``automation_report_<source>_<YYYYMMDDTHHMMSSZ>.json`` (the report time, UTC)."""
    return f"automation_report_{report.source}_{report.window.end:%Y%m%dT%H%M%SZ}.json"


def check_output_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it is writable; ExportError says what to do if not."""
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise ExportError(
            f"--output-dir {target} exists and is not a directory; pass a directory path "
            f"(default {DEFAULT_OUTPUT_DIR})."
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, prefix=".write-test-", delete=True):
            pass
    except OSError as exc:
        raise ExportError(
            f"Cannot write automation reports to {target}: {exc.strerror or exc}. Choose a writable "
            f"--output-dir (default {DEFAULT_OUTPUT_DIR}) or fix the folder's permissions."
        ) from exc
    return target.resolve()


def export_reports(reports: Sequence[AutomationReport], output_dir: Path) -> list[Path]:
    """Write each report as pretty JSON; return the paths written."""
    folder = check_output_dir(output_dir)
    written: list[Path] = []
    for report in reports:
        path = folder / export_name(report)
        temporary: str | None = None
        try:
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=folder, prefix=f".{path.name}.", delete=False
            ) as handle:
                temporary = handle.name
                handle.write(report.json_text(indent=2) + "\n")
            os.replace(temporary, path)
        except OSError as exc:
            if temporary is not None and os.path.exists(temporary):
                os.unlink(temporary)
            raise ExportError(
                f"Writing {path} failed: {exc.strerror or exc}. {len(written)} of {len(reports)} "
                f"file(s) were written; fix the folder and run the command again."
            ) from exc
        written.append(path)
    return written
