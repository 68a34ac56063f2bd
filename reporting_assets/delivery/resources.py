"""Delivery resources for the code location: SMTP from ``REPORTING_SMTP_*`` and the daily
summary email settings (deadline, sensor window)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

import dagster as dg
from pydantic import Field, field_validator, model_validator

from reporting_assets.delivery.smtp import SMTP_VARIABLES, SmtpResource, smtp_settings_from_env
from reporting_assets.resources import env_var_config
from reporting_assets.time_of_day import parse_time_of_day

_KINDS: dict[str, Literal["str", "int", "value"]] = {
    "port": "int",
    "max_attempts": "int",
    "starttls": "value",
    "timeout_seconds": "value",
    "backoff_base_seconds": "value",
}
"""How each SMTP setting reaches the resource (see ``env_var_config``); the rest are "str"."""


class SummaryEmailSettingsResource(dg.ConfigurableResource):
    """When daily summary emails go out: once the day is over and its summary is complete, or at
    the deadline even if it is not (default 06:00 UTC the next day)."""

    deadline_time_utc: str = Field(
        default="06:00", description="HH:MM (UTC) after which an incomplete summary is sent anyway."
    )
    deadline_days_after: int = Field(
        default=1, ge=0, le=7, description="Days after the summary date the deadline falls on (1 = next day)."
    )
    lookback_days: int = Field(
        default=3,
        ge=1,
        le=60,
        description="The sensor looks at summaries of the last N days and summaries restated in the "
        "last N days (older days are not emailed automatically).",
    )
    wait_for_day_end: bool = Field(
        default=True,
        description="Email a complete summary only once its UTC day is over: runs later in the "
        "day would each restate it and send a correction (the sample pipelines run hourly).",
    )
    retry_after_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="Minutes after a recipient's email failed (after the run's own retries) before "
        "the sensor launches a run that tries the failed recipients again.",
    )
    retry_runs: int = Field(
        default=3,
        ge=0,
        le=20,
        description="Automatic retry runs per summary version; after them (or with 0), failed "
        "recipients wait for someone to re-execute the run.",
    )

    @field_validator("deadline_time_utc")
    @classmethod
    def _check_time(cls, value: str) -> str:
        try:
            parse_time_of_day(value)
        except ValueError:
            raise ValueError(
                f"deadline_time_utc must be HH:MM in 24-hour UTC, e.g. '06:00', got {value!r}"
            ) from None
        return value

    @model_validator(mode="after")
    def _check_window(self) -> SummaryEmailSettingsResource:
        if self.lookback_days <= self.deadline_days_after:
            raise ValueError(
                f"lookback_days ({self.lookback_days}) must be greater than deadline_days_after "
                f"({self.deadline_days_after}): the sensor only looks back lookback_days days, so an "
                "incomplete summary whose deadline falls later would never be emailed. Raise "
                "lookback_days or lower deadline_days_after."
            )
        return self

    def deadline_for(self, day: dt.date) -> dt.datetime:
        """When an incomplete summary of ``day`` is sent anyway."""
        at = parse_time_of_day(self.deadline_time_utc).replace(tzinfo=dt.UTC)
        return dt.datetime.combine(day + dt.timedelta(days=self.deadline_days_after), at)


def smtp_resource_from_env(environ: Mapping[str, str] | None = None) -> SmtpResource:
    """An SmtpResource configured from the ``REPORTING_SMTP_*`` variables that are set.

    The variables are checked first by ``smtp_settings_from_env`` (the CLI's parser), so a bad
    one fails the code location with the CLI's message. Text and integer settings then go
    through ``dg.EnvVar`` (resolved when a run starts, shown in the UI by name only: the password
    never is); STARTTLS, timeout and backoff take the values read now. Unset variables keep the
    defaults, so with nothing set it reaches a local server on localhost:1025.
    """
    fields = [(name, variable, _KINDS.get(name, "str")) for name, variable in SMTP_VARIABLES.items()]
    return SmtpResource(**env_var_config(fields, smtp_settings_from_env(environ), environ))


def build_delivery_resources(environ: Mapping[str, str] | None = None) -> dict[str, dg.ConfigurableResource]:
    """Resource key -> resource, for ``dg.Definitions(resources=...)`` (``postgres`` is the
    project's own PostgresResource, already wired)."""
    return {"smtp": smtp_resource_from_env(environ), "summary_email": SummaryEmailSettingsResource()}
