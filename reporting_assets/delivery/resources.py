"""Delivery resources for the code location: SMTP from ``REPORTING_SMTP_*`` and the daily
summary email settings (deadline, sensor window)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

import dagster as dg
from pydantic import Field, field_validator, model_validator

from reporting_assets.delivery.errors import DeliveryError
from reporting_assets.delivery.smtp import ENV_PREFIX, SmtpResource
from reporting_assets.resources import env_var_config
from reporting_assets.time_of_day import parse_time_of_day

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


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


def _flag(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DeliveryError(f"{name}={value!r} is not a yes/no value; use true or false.")


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DeliveryError(f"{name}={value!r} is not a number.") from None


def smtp_resource_from_env(environ: Mapping[str, str] | None = None) -> SmtpResource:
    """An SmtpResource configured from the ``REPORTING_SMTP_*`` variables that are set.

    Text and integer settings go through ``dg.EnvVar`` (resolved when a run starts, shown in the
    UI by name only: the password never is); unset variables keep the defaults, so with nothing
    set it reaches a local server on localhost:1025. STARTTLS, timeout and backoff are read here,
    when the code location loads (Dagster has no boolean/float EnvVar).
    """
    env = os.environ if environ is None else environ
    config = env_var_config(
        [
            ("host", f"{ENV_PREFIX}HOST", "str"),
            ("port", f"{ENV_PREFIX}PORT", "int"),
            ("username", f"{ENV_PREFIX}USERNAME", "str"),
            ("password", f"{ENV_PREFIX}PASSWORD", "str"),
            ("sender", f"{ENV_PREFIX}SENDER", "str"),
            ("max_attempts", f"{ENV_PREFIX}MAX_ATTEMPTS", "int"),
        ],
        env,
    )
    if env.get(f"{ENV_PREFIX}STARTTLS", "").strip():
        config["starttls"] = _flag(f"{ENV_PREFIX}STARTTLS", env[f"{ENV_PREFIX}STARTTLS"])
    for field, name in (
        ("timeout_seconds", f"{ENV_PREFIX}TIMEOUT_SECONDS"),
        ("backoff_base_seconds", f"{ENV_PREFIX}BACKOFF_SECONDS"),
    ):
        if env.get(name, "").strip():
            config[field] = _number(name, env[name])
    return SmtpResource(**config)


def build_delivery_resources(environ: Mapping[str, str] | None = None) -> dict[str, dg.ConfigurableResource]:
    """Resource key -> resource, for ``dg.Definitions(resources=...)`` (``postgres`` is the
    project's own PostgresResource, already wired)."""
    return {"smtp": smtp_resource_from_env(environ), "summary_email": SummaryEmailSettingsResource()}
