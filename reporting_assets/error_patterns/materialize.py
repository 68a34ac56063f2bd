"""What the ``error_patterns`` asset does when it runs: refresh each day's patterns in order and
materialize each day with its table (imported by the asset's body, not when the code location loads)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import dagster as dg

from reporting_assets.error_patterns.assets import ERROR_PATTERNS
from reporting_assets.error_patterns.render import SHOWN_PATTERNS, patterns_markdown
from reporting_assets.error_patterns.store import day_patterns, refresh_day
from reporting_assets.logging_ids import get_logger
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.resources import PostgresResource, ReportSettingsResource


def materialize_days(
    context: dg.AssetExecutionContext,
    days: Sequence[dt.date],
    postgres: PostgresResource,
    report_settings: ReportSettingsResource,
) -> Iterator[dg.AssetMaterialization]:
    """Refresh ``days`` in order (each day's flags compare with the days before it)."""
    log = get_logger(__name__, context.log)
    with postgres.connection(doing=f"grouping the error patterns of {len(days)} day(s)") as conn:
        run_url = load_registry(conn).run_links(report_settings.run_url, report_settings.asset_url)
        for day in days:
            refresh_day(conn, day)
            rows = day_patterns(conn, day, limit=SHOWN_PATTERNS)
            total = rows[0]["total"] if rows else 0
            flagged = rows[0]["flagged_total"] if rows else 0
            log.info("ep-001", "%s: %d pattern(s), %d flagged", day, total, flagged)
            yield dg.AssetMaterialization(
                asset_key=ERROR_PATTERNS,
                partition=day.isoformat(),
                metadata={
                    "patterns": dg.MetadataValue.md(patterns_markdown(day.isoformat(), rows, run_url)),
                    "pattern_count": dg.MetadataValue.int(total),
                    "flagged": dg.MetadataValue.int(flagged),
                },
            )
