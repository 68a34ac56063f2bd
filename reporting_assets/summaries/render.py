"""Render a customer's day as markdown (``templates/daily_summary.md.j2``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import jinja2

from reporting_assets.execution_reports.render import (
    STATUS_BADGES,
    count_change,
    duration,
    labels_for,
    thousands,
)
from reporting_assets.markdown_text import MarkdownSafe, markdown_environment
from reporting_assets.summaries.aggregate import DaySummary

TOTAL_LABELS = {
    "new_orders": "New Orders",
    "updated_orders": "Updated Orders",
    "manufacturing_updates": "Manufacturing Updates",
    "shipping_updates": "Shipping Updates",
}


@cache
def environment() -> jinja2.Environment:
    return markdown_environment("reporting_assets.summaries", {"thousands": thousands, "duration": duration})


def render_summary(summary: DaySummary, previous: DaySummary | None, run_url: Callable[[str], str]) -> str:
    """Seed 000's daily summary: totals with change vs the previous day, timeline, problems."""
    totals = [
        (
            label,
            thousands(summary.totals[name]),
            count_change(
                summary.totals[name], previous.totals[name] if previous and previous.total_pipelines else None
            ),
        )
        for name, label in TOTAL_LABELS.items()
    ]
    timeline = [
        (
            MarkdownSafe(entry.started_at.strftime("%H:%M")) if entry.started_at else MarkdownSafe("—"),
            labels_for(entry.pipeline_type).title,
            MarkdownSafe(STATUS_BADGES[entry.status]),
            duration(entry.seconds),
            MarkdownSafe(f"[{entry.run_id[:8]}]({run_url(entry.run_id)})"),
        )
        for entry in summary.timeline
    ]
    problems = [(labels_for(p).title, "❌", m) for p, m in summary.errors] + [
        (labels_for(p).title, "⚠️", m) for p, m in summary.warnings
    ]
    return (
        environment()
        .get_template("daily_summary.md.j2")
        .render(
            s=summary,
            status=MarkdownSafe("✅ COMPLETE" if summary.is_complete else "⚠️ INCOMPLETE"),
            missing=[labels_for(p).title for p in summary.missing],
            failed=[labels_for(p).title for p in summary.failed],
            totals=totals,
            timeline=timeline,
            problems=problems,
        )
    )
