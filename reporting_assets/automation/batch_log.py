"""Lightweight per-batch logging: what a pipeline does after each batch instead of building a
report.

Building a full automation report after every 100-record batch would cost a report's worth of
queries each time; here a batch costs one structured log line on a standard :mod:`logging`
logger (no database, no Dagster event log write, no report), and the full report is the
scheduled ``automation_reports`` asset.
``benchmarks/automation.py`` measures the cost per batch in microseconds.

    from reporting_assets.automation.batch_log import log_batch
    log_batch("hubspot_sync", batch=3, records=100, failed=2, seconds=0.41)
    # [ab-001] INFO reporting_assets.automation.batch_log batch_complete source=hubspot_sync batch=3 ...
"""

from __future__ import annotations

import logging

from reporting_assets.logging_ids import get_logger

LOGGER_NAME = __name__
log = get_logger(__name__)


def log_batch(
    source: str,
    *,
    batch: int,
    records: int,
    failed: int = 0,
    seconds: float | None = None,
    run_id: str | None = None,
) -> None:
    """One ``batch_complete`` line (key=value pairs); formatted only if INFO is enabled."""
    if not log.is_enabled_for(logging.INFO):
        return
    log.info(
        "ab-001",
        "batch_complete source=%s batch=%d records=%d failed=%d seconds=%s run_id=%s",
        source,
        batch,
        records,
        failed,
        "-" if seconds is None else f"{seconds:.3f}",
        run_id or "-",
    )
