"""Automation reports as people read them: markdown for the Dagster asset view and the alert
email (templates in ``templates/``, every value escaped by ``markdown_environment``), and
plain text for the console."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import jinja2

from reporting_assets.automation.report import AutomationReport, overall
from reporting_assets.automation.window import ReportWindow, iso, parse_report_time
from reporting_assets.markdown_text import MarkdownSafe, link_target, markdown_environment

DATA_LABELS = {"lineage": "lineage", "dagster_event_log": "event log (fallback)"}


def rate(value: float | None) -> MarkdownSafe:
    return MarkdownSafe("n/a" if value is None else f"{value * 100:.1f}%")


def number(value: float | int | None) -> MarkdownSafe:
    return MarkdownSafe("n/a" if value is None else f"{value:,.2f}")


def thousands(value: int) -> MarkdownSafe:
    return MarkdownSafe(f"{int(value):,}")


def seconds(value: float | None) -> MarkdownSafe:
    if value is None:
        return MarkdownSafe("n/a")
    if value < 1:
        return MarkdownSafe(f"{value * 1000:.0f} ms")
    if value < 120:
        return MarkdownSafe(f"{value:.1f} s")
    return MarkdownSafe(f"{value / 60:.1f} min")


def data_label(value: str) -> str:
    return DATA_LABELS.get(value, value)


@cache
def environment() -> jinja2.Environment:
    return markdown_environment(
        "reporting_assets.automation",
        {
            "rate": rate,
            "number": number,
            "thousands": thousands,
            "seconds": seconds,
            "url": link_target,
            "data_label": data_label,
        },
    )


def _recommendations(reports: Sequence[AutomationReport]) -> list[tuple[str | None, dict[str, Any]]]:
    """Source recommendations per source, system-wide ones (automations) once."""
    seen: set[tuple[str, str]] = set()
    found: list[tuple[str | None, dict[str, Any]]] = []
    for report in reports:
        for rec in report.document["recommendations"]:
            system_wide = rec["category"] == "automation"
            key = (rec["rule"], rec["recommendation"])
            if system_wide and key in seen:
                continue
            seen.add(key)
            found.append((None if system_wide else report.source, rec))
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda item: order[item[1]["priority"]])


def render_markdown(reports: Sequence[AutomationReport], window: ReportWindow) -> str:
    """The asset view: one table of sources, system health, recommendations, details."""
    totals = overall(reports)
    threshold = reports[0].document["metadata"]["alert_threshold"] if reports else None
    health = reports[0].document["system_health"] if reports else _empty_health()
    return (
        environment()
        .get_template("automation_report.md.j2")
        .render(
            reports=list(reports),
            window_text=window.describe(),
            generated_at=iso(window.end),
            totals=totals,
            below=totals["below_alert_threshold"],
            threshold=threshold,
            health=health,
            recommendations=_recommendations(reports),
        )
    )


def _empty_health() -> dict[str, Any]:
    return {
        "active_rules": 0,
        "total_rules": 0,
        "rule_utilization_rate": None,
        "schedules_running": 0,
        "schedules_total": 0,
        "sensors_running": 0,
        "sensors_total": 0,
        "failed_ticks": 0,
        "automations": [],
    }


def render_alert_markdown(document: dict[str, Any]) -> str:
    """The alert email's text (markdown): figures, what to do, top errors if detailed."""
    meta = document["metadata"]
    window = ReportWindow.ending_at(parse_report_time(meta["window_end"]), int(meta["time_window_hours"]))
    return (
        environment()
        .get_template("automation_alert.md.j2")
        .render(
            source=meta["source"],
            metrics=document["performance_metrics"],
            threshold=meta["alert_threshold"],
            window_text=window.describe(),
            window_key=window.key(),
            recommendations=[r for r in document["recommendations"] if r["category"] != "automation"],
            top_errors=document.get("details", {}).get("top_errors", []),
        )
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def render_text(reports: Sequence[AutomationReport], window: ReportWindow) -> str:
    """The CLI's console output (plain text, no markdown escapes)."""
    lines = [f"Automation reports: {window.describe()}"]
    if reports:
        h = reports[0].document["system_health"]
        lines.append(
            f"Automations running: {h['active_rules']} of {h['total_rules']} "
            f"({_pct(h['rule_utilization_rate'])}); failed ticks in the window: {h['failed_ticks']}"
        )
    for report in reports:
        m = report.document["performance_metrics"]
        meta = report.document["metadata"]
        flag = "  << below the alert threshold" if m["below_alert_threshold"] else ""
        lines.append("")
        lines.append(f"[{report.source}]" + (" FALLBACK (Dagster event log)" if report.fallback else ""))
        if report.fallback:
            lines.append(f"  reason: {meta['fallback_reason']}")
        lines.append(
            f"  actions {m['total_actions']:,}: {m['successful_actions']:,} successful, "
            f"{m['failed_actions']:,} failed, {m['partial_actions']:,} partial"
        )
        duration = "n/a" if m["avg_duration_seconds"] is None else f"{m['avg_duration_seconds']:.3f} s"
        lines.append(
            f"  success rate {_pct(m['overall_success_rate'])} (target {_pct(meta['alert_threshold'])}), "
            f"{m['actions_per_hour']:.2f} actions/h, avg duration {duration}{flag}"
        )
        details = report.document.get("details")
        if details:
            d = details["durations"]
            p50 = "n/a" if d["p50_seconds"] is None else f"{d['p50_seconds']:.3f} s"
            p95 = "n/a" if d["p95_seconds"] is None else f"{d['p95_seconds']:.3f} s"
            lines.append(f"  durations: p50 {p50}, p95 {p95}")
            for c in details["by_customer"]:
                lines.append(
                    f"  customer {c['customer_name']}: {c['total_actions']} actions, "
                    f"{_pct(c['overall_success_rate'])}"
                )
            for p in details["by_pipeline"]:
                rate = _pct(p["overall_success_rate"])
                lines.append(f"  pipeline {p['pipeline']}: {p['total_actions']} actions, {rate}")
            for e in details["top_errors"]:
                lines.append(f"  error x{e['count']}: {e['message']}")
            for s in details["slowest_runs"]:
                lines.append(
                    f"  slow run {s['url']} ({s['customer']} {s['execution_date']}): {s['seconds']} s"
                )
        for rec in report.document["recommendations"]:
            lines.append(f"  - {rec['priority'].upper()} [{rec['category']}] {rec['recommendation']}")
    if not reports:
        lines.append("No sources selected.")
    return "\n".join(lines)
