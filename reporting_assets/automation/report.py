"""Build automation reports: one JSON document per source system for one window.

:func:`generate_reports` is the one entry point the asset, the schedule and the CLI share. It
reads the window's metrics from the lineage tables with one aggregate query, falls back to
basic metrics from the Dagster event log for a source the lineage has nothing on (or for all of
them when the reporting database is away), applies the rules, and returns one document per
source with exactly four sections: ``metadata``, ``performance_metrics``,
``system_health``, ``recommendations`` (plus ``details`` when detailed). The JSON Schema is
``docs/automation_report.schema.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reporting_assets.automation.details import window_details
from reporting_assets.automation.health import AutomationHealth
from reporting_assets.automation.metrics import (
    ObservedAction,
    SourceMetrics,
    empty_metrics,
    last_reported_actions,
    metrics_from_actions,
    window_metrics,
    with_last_action,
)
from reporting_assets.automation.rules import (
    Recommendation,
    RuleInput,
    RuleSettings,
    below_alert_threshold,
    recommend,
)
from reporting_assets.automation.sources import known_sources, resolve_sources
from reporting_assets.automation.window import ReportWindow, iso
from reporting_assets.db.connection import Connection
from reporting_assets.error_patterns.flagged import FlaggedPattern
from reporting_assets.error_patterns.store import flagged_by_source

SCHEMA_VERSION = 1
EventLogReader = Callable[[Sequence[str], ReportWindow], Mapping[str, Sequence[ObservedAction]]]
"""Reads source actions from the Dagster event log for the given sources (the fallback)."""


@dataclass(frozen=True)
class ReportRequest:
    """What to report on: the window, which sources, how much detail, which thresholds."""

    window: ReportWindow
    sources: str | Sequence[str] = "all"
    detailed: bool = False
    settings: RuleSettings = field(default_factory=RuleSettings)
    run_url: Callable[[str], str] = lambda run_id: f"http://localhost:3000/runs/{run_id}"


@dataclass(frozen=True)
class AutomationReport:
    """One source's report: the JSON document and what it was built from."""

    source: str
    window: ReportWindow
    document: dict[str, Any]
    metrics: SourceMetrics
    recommendations: list[Recommendation]
    fallback_reason: str | None = None

    @property
    def fallback(self) -> bool:
        return self.metrics.data_source == "event_log"

    @property
    def below_alert_threshold(self) -> bool:
        return bool(self.document["performance_metrics"]["below_alert_threshold"])

    @property
    def detailed(self) -> bool:
        return "details" in self.document

    def json_text(self, indent: int | None = None) -> str:
        return json.dumps(self.document, ensure_ascii=False, sort_keys=indent is None, indent=indent)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.json_text().encode()).hexdigest()


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def build_document(
    metrics: SourceMetrics,
    health: AutomationHealth,
    recommendations: Sequence[Recommendation],
    window: ReportWindow,
    settings: RuleSettings,
    *,
    details: dict[str, Any] | None = None,
    fallback_reason: str | None = None,
) -> dict[str, Any]:
    """The report for one source: each section's core keys first, in docs/automation.md's order."""
    fallback = metrics.data_source == "event_log"
    last_action = metrics.last_action_at or metrics.previous_last_action_at
    document: dict[str, Any] = {
        "metadata": {
            "source": metrics.source,
            "report_generated_at": iso(window.end),
            "time_window_hours": window.hours,
            "window_start": iso(window.start),
            "window_end": iso(window.end),
            "report_type": "fallback" if fallback else "standard",
            "data_source": "dagster_event_log" if fallback else "lineage",
            "fallback_reason": fallback_reason if fallback else None,
            "detailed": details is not None,
            "alert_threshold": settings.alert_threshold,
            "schema_version": SCHEMA_VERSION,
        },
        "performance_metrics": {
            "total_actions": metrics.total,
            "successful_actions": metrics.successful,
            "failed_actions": metrics.failed,
            "overall_success_rate": _round(metrics.success_rate, 3),
            "actions_per_hour": round(metrics.actions_per_hour(window.hours), 2),
            "partial_actions": metrics.partial,
            "avg_duration_seconds": _round(metrics.avg_seconds, 3),
            "last_action_at": iso(last_action) if last_action else None,
            "below_alert_threshold": below_alert_threshold(metrics, settings),
            "previous_window": {
                "total_actions": metrics.previous_total,
                "overall_success_rate": _round(metrics.previous_success_rate, 3),
                "avg_duration_seconds": _round(metrics.previous_avg_seconds, 3),
            },
        },
        "system_health": health.as_json(),
        "recommendations": [r.as_json() for r in recommendations],
    }
    if details is not None:
        document["details"] = details
    return document


def _fallback_metrics(
    sources: Sequence[str],
    window: ReportWindow,
    event_log: EventLogReader | None,
) -> dict[str, SourceMetrics]:
    if event_log is None or not sources:
        return {}
    actions = event_log(sources, window)
    return {source: metrics_from_actions(source, window, actions.get(source, ())) for source in sources}


def generate_reports(
    conn: Connection | None,
    request: ReportRequest,
    health: AutomationHealth,
    *,
    defined_sources: Sequence[str],
    event_log: EventLogReader | None = None,
    database_problem: str | None = None,
) -> list[AutomationReport]:
    """One report per selected source for ``request.window``.

    ``conn`` None means the reporting database is unavailable (``database_problem`` says why):
    every report is then a fallback from the event log. ``defined_sources`` are the source
    assets of the code location (the ones ``event_log`` can read).
    """
    window, settings = request.window, request.settings
    known = known_sources(conn, defined_sources)
    selected = resolve_sources(request.sources, known)
    readable = [s for s in selected if s in set(defined_sources)]
    reasons: dict[str, str] = {}
    outage = f"the reporting database is unavailable ({database_problem or 'no connection'})"
    if conn is None:
        metrics = _fallback_metrics(readable, window, event_log)
        reasons = dict.fromkeys(metrics, outage)
    else:
        metrics = window_metrics(conn, window, selected)
        lineage_empty = not any(m.total for m in metrics.values())
        quiet = [s for s in readable if metrics.get(s, empty_metrics(s)).total == 0]
        for source, found in _fallback_metrics(quiet, window, event_log).items():
            if found.total:  # the event log saw runs the lineage does not have
                metrics[source] = found
                reasons[source] = (
                    "the lineage tables have no rows in this window"
                    if lineage_empty
                    else f"no lineage rows for {source} in this window (reports and lineage not rendered yet)"
                )
        silent = [s for s in selected if metrics.get(s, empty_metrics(s)).total == 0]
        for source, seen in last_reported_actions(conn, window, silent).items():
            metrics[source] = with_last_action(metrics.get(source, empty_metrics(source)), seen)
    flagged: dict[str, list[FlaggedPattern]] = {}
    if conn is not None:
        last_day = (window.end - dt.timedelta(microseconds=1)).date()
        flagged = flagged_by_source(conn, window.start.date(), last_day, selected)
    details: dict[str, dict[str, Any]] = {}
    if request.detailed and conn is not None:
        from_lineage = [s for s in selected if metrics.get(s, empty_metrics(s)).data_source == "lineage"]
        details = window_details(conn, window, from_lineage, request.run_url)
    reports: list[AutomationReport] = []
    for source in selected:
        found = metrics.get(source) or empty_metrics(source, "event_log" if conn is None else "lineage")
        if conn is None and found.data_source != "event_log":
            found = replace(found, data_source="event_log")
            reasons.setdefault(source, outage)
        reason = reasons.get(source)
        recommendations = recommend(
            RuleInput(found, health, window, settings, reason, tuple(flagged.get(source, ())))
        )
        document = build_document(
            found,
            health,
            recommendations,
            window,
            settings,
            details=details.get(source) if request.detailed and found.data_source == "lineage" else None,
            fallback_reason=reason,
        )
        reports.append(AutomationReport(source, window, document, found, recommendations, reason))
    return reports


def overall(reports: Sequence[AutomationReport]) -> dict[str, Any]:
    """Totals over all reported sources (asset metadata, CLI summary line)."""
    total = sum(r.metrics.total for r in reports)
    successful = sum(r.metrics.successful for r in reports)
    return {
        "sources": len(reports),
        "total_actions": total,
        "successful_actions": successful,
        "failed_actions": sum(r.metrics.failed for r in reports),
        "partial_actions": sum(r.metrics.partial for r in reports),
        "overall_success_rate": round(successful / total, 3) if total else None,
        "below_alert_threshold": sorted(r.source for r in reports if r.below_alert_threshold),
        "fallback": sorted(r.source for r in reports if r.fallback),
        "recommendations": sum(len(r.recommendations) for r in reports),
    }
