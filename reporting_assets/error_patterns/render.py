"""The day's patterns as a markdown table (the asset view): values escaped, links http(s) only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reporting_assets.markdown_text import link_target, md_escape

SHOWN_PATTERNS = 50
"""Rows of the table; the rest are counted below it."""
_FLAGS = {"new": "🆕 new", "growing": "📈 growing", None: ""}


def patterns_markdown(day: str, rows: Sequence[Mapping[str, Any]], run_url: Callable[[str], str]) -> str:
    """``rows`` of ``store.day_patterns`` as a table, flagged first."""
    if not rows:
        return f"No errors or warnings in the reports of {day}."
    total = rows[0]["total"]
    flagged = rows[0]["flagged_total"]
    lines = [
        f"**{total:,} pattern(s)** in the reports of {day}, {flagged:,} flagged "
        "(new today, or more than 3x the 7-day average).",
        "",
        "| Flag | Severity | Pattern | Today | 7-day avg | Customers | Pipelines | First seen | Latest run |",
        "|------|----------|---------|-------|-----------|-----------|-----------|------------|------------|",
    ]
    for r in rows[:SHOWN_PATTERNS]:
        run = r["latest_run_id"]
        lines.append(
            f"| {_FLAGS[r['flag']]} | {r['severity']} | {md_escape(r['fingerprint'])} | {r['occurrences']:,} "
            f"| {r['seven_day_average']:,.1f} | {md_escape(', '.join(r['customers']))} "
            f"| {md_escape(', '.join(r['pipelines']))} | {r['first_seen'].isoformat()} "
            f"| [{md_escape(run[:16])}]({link_target(run_url(run))}) |"
        )
    if total > SHOWN_PATTERNS:
        lines += ["", f"... ({total - SHOWN_PATTERNS:,} more: `GET /api/error-patterns?day={day}`)"]
    return "\n".join(lines) + "\n"
