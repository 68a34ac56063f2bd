"""``AutomationSettingsResource``: alert threshold, alert recipients and rule thresholds.

Configured from the environment when the code location loads (lists and floats have no
``dg.EnvVar`` form): ``REPORTING_AUTOMATION_ALERT_THRESHOLD`` (default 0.95) and
``REPORTING_AUTOMATION_ALERT_RECIPIENTS`` (comma-separated addresses, default none). Everything
can also be set per run in the launchpad under ``resources.automation.config``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field, field_validator

from reporting_assets.automation.errors import AutomationReportError
from reporting_assets.delivery.addresses import normalize_email

if TYPE_CHECKING:
    from reporting_assets.automation.rules import RuleSettings

THRESHOLD_ENV = "REPORTING_AUTOMATION_ALERT_THRESHOLD"
RECIPIENTS_ENV = "REPORTING_AUTOMATION_ALERT_RECIPIENTS"
RESOURCE_KEY = "automation"


class AutomationSettingsResource(dg.ConfigurableResource):
    """When an automation report alerts and who hears about it; the rules' thresholds (the
    defaults are ``RuleSettings``'s)."""

    alert_threshold: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="A source whose success rate in the window is below this (0-1) alerts: a WARN "
        "check on automation_reports and one email per source and window.",
    )
    alert_recipients: list[str] = Field(
        default=[], description="Who gets alert emails (addresses); empty = the check only."
    )
    min_actions_for_alert: int = Field(
        default=1, ge=1, description="Fewer actions than this in the window: no success-rate verdict."
    )
    high_priority_below: float = Field(
        default=0.80, gt=0, le=1, description="Success rate below which the recommendation is high priority."
    )
    partial_rate_threshold: float = Field(
        default=0.10,
        gt=0,
        le=1,
        description="Share of partial actions that gets a data-quality recommendation.",
    )
    duration_ratio: float = Field(
        default=1.5, gt=1, description="Average duration this many times the previous window's: 'rising'."
    )
    duration_min_increase_seconds: float = Field(
        default=1.0, ge=0, description="... and at least this many seconds longer."
    )
    min_runs_for_trend: int = Field(
        default=3, ge=1, description="Timed actions needed in both windows to compare durations."
    )

    @field_validator("alert_recipients")
    @classmethod
    def _check_recipients(cls, value: list[str]) -> list[str]:
        return [normalize_email(v) for v in value if v.strip()]

    def rule_settings(self) -> RuleSettings:
        from reporting_assets.automation.rules import RuleSettings  # the report's rules: paid by the run

        return RuleSettings(
            alert_threshold=self.alert_threshold,
            high_priority_below=self.high_priority_below,
            min_actions=self.min_actions_for_alert,
            partial_rate=self.partial_rate_threshold,
            duration_ratio=self.duration_ratio,
            duration_min_increase_seconds=self.duration_min_increase_seconds,
            min_runs_for_trend=self.min_runs_for_trend,
        )


def automation_settings_from_env(environ: Mapping[str, str] | None = None) -> AutomationSettingsResource:
    """The settings resource from ``REPORTING_AUTOMATION_*`` (unset = defaults)."""
    env = os.environ if environ is None else environ
    config: dict[str, object] = {}
    threshold = env.get(THRESHOLD_ENV, "").strip()
    if threshold:
        try:
            value = float(threshold.rstrip("%")) / (100 if threshold.endswith("%") else 1)
        except ValueError:
            raise AutomationReportError(
                f"{THRESHOLD_ENV}={threshold!r} is not a number; use a rate such as 0.95 (or 95%)."
            ) from None
        if not 0 < value <= 1:
            raise AutomationReportError(f"{THRESHOLD_ENV}={threshold!r} must be a rate in (0, 1], e.g. 0.95.")
        config["alert_threshold"] = value
    recipients = [part.strip() for part in env.get(RECIPIENTS_ENV, "").split(",") if part.strip()]
    if recipients:
        config["alert_recipients"] = [normalize_email(r) for r in recipients]
    return AutomationSettingsResource(**config)  # type: ignore[arg-type]


def build_automation_resources(
    environ: Mapping[str, str] | None = None,
) -> dict[str, dg.ConfigurableResource]:
    """Resource key -> resource for ``dg.Definitions(resources=...)`` (``postgres``, ``smtp`` and
    ``report_settings`` are the project's, already wired)."""
    return {RESOURCE_KEY: automation_settings_from_env(environ)}
