"""Rule-based recommendations: each rule looks at one source's metrics (or at the system's
automations) and may say what to do, with a priority and a category.

Rules are plain functions over plain data so each can be tested from the metrics of real runs;
``RULES`` is the list the report applies, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reporting_assets.automation.health import AutomationHealth, describe_failure
from reporting_assets.automation.metrics import SourceMetrics
from reporting_assets.automation.window import ReportWindow, iso
from reporting_assets.error_patterns.flagged import FlaggedPattern

Priority = Literal["high", "medium", "low"]
Category = Literal["reliability", "performance", "freshness", "automation", "data_quality"]
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
DEFAULT_ALERT_THRESHOLD = 0.95


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the rules (AutomationSettingsResource carries them in Dagster)."""

    alert_threshold: float = DEFAULT_ALERT_THRESHOLD  # success rate below this alerts
    high_priority_below: float = 0.80  # ... and below this it is high priority
    min_actions: int = 1  # fewer actions than this in the window: no success-rate verdict
    partial_rate: float = 0.10  # share of partial actions that deserves a look
    duration_ratio: float = 1.5  # average duration this many times the previous window's
    duration_min_increase_seconds: float = 1.0  # ... and at least this many seconds longer
    min_runs_for_trend: int = 3  # timed actions needed in both windows to compare durations

    def __post_init__(self) -> None:
        if not 0 < self.alert_threshold <= 1:
            raise ValueError(f"alert_threshold must be in (0, 1], e.g. 0.95; got {self.alert_threshold}")


@dataclass(frozen=True)
class Recommendation:
    priority: Priority
    recommendation: str
    category: Category
    rule: str

    def as_json(self) -> dict[str, Any]:
        return {
            "priority": self.priority,
            "recommendation": self.recommendation,
            "category": self.category,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class RuleInput:
    metrics: SourceMetrics
    health: AutomationHealth
    window: ReportWindow
    settings: RuleSettings
    fallback_reason: str | None = None
    flagged_patterns: Sequence[FlaggedPattern] = ()  # the source's, on the window's days


Rule = Callable[[RuleInput], list[Recommendation]]


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def below_alert_threshold(metrics: SourceMetrics, settings: RuleSettings) -> bool:
    """The alert condition: enough actions and a success rate under the threshold."""
    rate = metrics.success_rate
    return rate is not None and metrics.total >= settings.min_actions and rate < settings.alert_threshold


def all_actions_failed(data: RuleInput) -> list[Recommendation]:
    m = data.metrics
    if m.total == 0 or m.failed < m.total:
        return []
    return [
        Recommendation(
            "high",
            f"Every {m.source} action failed in the last {data.window.hours} h ({m.failed} of {m.total}): "
            f"the source is down or its credentials/configuration broke. Read the top errors "
            f"(`reporting-assets automation-report --crm {m.source} --detailed`), fix the cause, then "
            f"re-run the failed partitions.",
            "reliability",
            "all_actions_failed",
        )
    ]


def low_success_rate(data: RuleInput) -> list[Recommendation]:
    m, s = data.metrics, data.settings
    if not below_alert_threshold(m, s) or m.failed == m.total:
        return []
    rate = m.success_rate or 0.0
    priority: Priority = "high" if rate < s.high_priority_below else "medium"
    return [
        Recommendation(
            priority,
            f"{m.source} succeeded in {m.successful} of {m.total} actions ({_pct(rate)}), below the "
            f"{_pct(s.alert_threshold)} target ({m.failed} failed, {m.partial} partial). Check the top "
            f"errors with --detailed and re-run the failed partitions once the cause is fixed.",
            "reliability",
            "low_success_rate",
        )
    ]


def partial_runs(data: RuleInput) -> list[Recommendation]:
    m, s = data.metrics, data.settings
    if m.total == 0 or m.partial == 0 or m.partial / m.total < s.partial_rate:
        return []
    return [
        Recommendation(
            "medium",
            f"{m.partial} of {m.total} {m.source} actions finished partially ({_pct(m.partial / m.total)}): "
            f"some records were rejected. Review the records' errors in the execution reports and fix "
            f"the data upstream.",
            "data_quality",
            "partial_runs",
        )
    ]


def rising_duration(data: RuleInput) -> list[Recommendation]:
    m, s = data.metrics, data.settings
    now, before = m.avg_seconds, m.previous_avg_seconds
    if (
        now is None
        or before is None
        or m.timed < s.min_runs_for_trend
        or m.previous_timed < s.min_runs_for_trend
    ):
        return []
    if now < before * s.duration_ratio or now - before < s.duration_min_increase_seconds:
        return []
    factor = f"x{now / before:.1f}" if before > 0 else "up from no measurable time"
    return [
        Recommendation(
            "medium",
            f"{m.source} runs take longer: {now:.2f} s on average, up from {before:.2f} s in the previous "
            f"{data.window.hours} h ({factor}). Look at the slowest runs (--detailed) for a "
            f"slower upstream API or a growing data volume; consider larger batches or paging.",
            "performance",
            "rising_duration",
        )
    ]


def stale_source(data: RuleInput) -> list[Recommendation]:
    m = data.metrics
    if m.total:
        return []
    if m.previous_last_action_at is not None:
        seen = f"last action {iso(m.previous_last_action_at)}"
    else:
        seen = f"none in the {data.window.hours} h before either"
    return [
        Recommendation(
            "medium",
            f"No {m.source} runs in the last {data.window.hours} h ({seen}). Check that its schedule or "
            f"sensor is running and the daemon is up, or retire the source if it is no longer used.",
            "freshness",
            "stale_source",
        )
    ]


def event_log_fallback(data: RuleInput) -> list[Recommendation]:
    m = data.metrics
    if m.data_source != "event_log" or m.total == 0:
        return []
    return [
        Recommendation(
            "medium",
            f"{m.source}'s figures come from the Dagster event log ({m.total} action(s)) because "
            f"{data.fallback_reason or 'the lineage tables have nothing for it'}. Check that "
            f"source_runs_sensor is running and the reporting database is reachable, or materialize "
            f"execution_reports and workflow_lineage for the affected partitions.",
            "data_quality",
            "event_log_fallback",
        )
    ]


def failing_automation(data: RuleInput) -> list[Recommendation]:
    failing = data.health.failing
    if not failing:
        return []
    return [
        Recommendation(
            "high",
            f"{len(failing)} automation(s) failed in the last {data.window.hours} h: "
            + "; ".join(describe_failure(a) for a in failing)
            + ". Open Automation in the Dagster UI for the tick logs, fix the error, and check the runs "
            "they should have requested.",
            "automation",
            "failing_automation",
        )
    ]


def stopped_automations(data: RuleInput) -> list[Recommendation]:
    health = data.health
    stopped = health.stopped
    if not stopped:
        return []
    names = ", ".join(f"{a.kind} {a.name}" for a in stopped)
    return [
        Recommendation(
            "low",
            f"{health.active} of {health.total} automations are running; stopped: {names}. Start them in the "
            f"Dagster UI (Automation) if their reports should stay current.",
            "automation",
            "stopped_automations",
        )
    ]


FLAGGED_PATTERNS_NAMED = 3
"""Flagged error patterns a recommendation names; the rest are counted."""


def flagged_error_patterns(data: RuleInput) -> list[Recommendation]:
    found = data.flagged_patterns
    if not found:
        return []
    named = "; ".join(p.phrase() for p in found[:FLAGGED_PATTERNS_NAMED])
    more = f" (+{len(found) - FLAGGED_PATTERNS_NAMED} more)" if len(found) > FLAGGED_PATTERNS_NAMED else ""
    errors = any(p.severity == "error" for p in found)
    return [
        Recommendation(
            "medium" if errors else "low",
            f"{len(found)} error pattern(s) of {data.metrics.source} are new or above 3x their 7-day "
            f"average: {named}{more}. Read them in the error_patterns asset or "
            f"`GET /api/error-patterns?flagged=true` (customers, pipelines, latest run) and fix the cause "
            f"before they spread.",
            "reliability" if errors else "data_quality",
            "flagged_error_patterns",
        )
    ]


RULES: list[Rule] = [
    all_actions_failed,
    low_success_rate,
    partial_runs,
    rising_duration,
    stale_source,
    flagged_error_patterns,
    event_log_fallback,
    failing_automation,
    stopped_automations,
]


def recommend(data: RuleInput, rules: list[Rule] | None = None) -> list[Recommendation]:
    """Every rule's recommendations, most urgent first (stable within a priority)."""
    found = [r for rule in (rules if rules is not None else RULES) for r in rule(data)]
    return sorted(found, key=lambda r: PRIORITY_ORDER[r.priority])
