"""Export settings: limits, retention, where files are kept, alert thresholds, and which
analytics engine reports read (PostgreSQL by default, or ClickHouse).

``ExportSettings`` is the plain value the engine takes; ``ExportSettingsResource`` the Dagster
resource (key ``exports``) that makes one, configured from ``REPORTING_EXPORTS_*`` when set.
``export_settings_from_env`` is the one place those variables are parsed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field, ValidationInfo, field_validator

from reporting_assets.env_settings import Environment, choice, is_env_var, whole
from reporting_assets.errors import SettingsError
from reporting_assets.exports.clickhouse_url import check_clickhouse_url
from reporting_assets.exports.limits import DEFAULT_MAX_ROW_LIMIT
from reporting_assets.resources import env_var_config

ENV_PREFIX = "REPORTING_EXPORTS_"
HARD_MAX_ROW_LIMIT = 10_000_000
"""The database CHECK on reports.row_limit; max_row_limit cannot go above it."""
MAX_RETENTION_DAYS = 3650
MAX_STATEMENT_TIMEOUT_SECONDS = 24 * 3600
ANALYTICS_ENGINES = ("postgres", "clickhouse")

EXPORT_VARIABLES: dict[str, tuple[str, Literal["str", "int", "value"]]] = {
    "storage_dir": (f"{ENV_PREFIX}DIR", "str"),
    "max_row_limit": (f"{ENV_PREFIX}MAX_ROW_LIMIT", "int"),
    "retention_days": (f"{ENV_PREFIX}RETENTION_DAYS", "int"),
    "statement_timeout_seconds": (f"{ENV_PREFIX}STATEMENT_TIMEOUT_SECONDS", "int"),
    "analytics_engine": ("REPORTING_ANALYTICS_ENGINE", "str"),
    "analytics_url": ("REPORTING_ANALYTICS_URL", "str"),
}
"""ExportSettingsResource field -> the variable it is read from and how it reaches the resource
(see ``env_var_config``)."""

_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "max_row_limit": lambda name, value: whole(name, value, 1, HARD_MAX_ROW_LIMIT),
    "retention_days": lambda name, value: whole(name, value, 1, MAX_RETENTION_DAYS),
    "statement_timeout_seconds": lambda name, value: whole(name, value, 1, MAX_STATEMENT_TIMEOUT_SECONDS),
    "analytics_engine": lambda name, value: choice(name, value, ANALYTICS_ENGINES),
    "analytics_url": lambda name, value: check_clickhouse_url(name, value),
}


@dataclass(frozen=True)
class ExportSettings:
    storage_dir: Path
    max_row_limit: int = DEFAULT_MAX_ROW_LIMIT
    retention: dt.timedelta = dt.timedelta(days=7)
    max_attachment_bytes: int = 20 * 1024 * 1024
    batch_rows: int = 5000
    statement_timeout_ms: int = 600_000
    preview_max_page_size: int = 1000
    failure_rate_alert: float = 0.10
    pending_alert: int = 100
    health_window: dt.timedelta = dt.timedelta(hours=24)
    stuck_after: dt.timedelta = dt.timedelta(hours=1)
    analytics_engine: str = "postgres"
    analytics_url: str = ""
    """ClickHouse server URL; empty with the clickhouse engine = the embedded engine."""


def default_storage_dir() -> Path:
    from reporting_assets.db.urls import data_dir  # psycopg: not at load, where the settings are made

    return data_dir() / "exports"


class ExportSettingsResource(dg.ConfigurableResource):
    """How exports are made and kept."""

    storage_dir: str = Field(default="", description="Folder for export files; empty = <data dir>/exports.")
    max_row_limit: int = Field(
        default=DEFAULT_MAX_ROW_LIMIT,
        description="Largest row_limit a report may have, 1-10000000 (requests above it are rejected).",
    )
    retention_days: int = Field(
        default=7, description="Days export files (local and S3) are kept before cleanup, 1-3650."
    )
    max_attachment_mb: int = Field(
        default=20,
        ge=1,
        le=100,
        description="Larger files are sent as a link (needs S3) instead of attached.",
    )
    batch_rows: int = Field(
        default=5000, ge=100, le=100_000, description="Rows fetched per server-side batch."
    )
    statement_timeout_seconds: int = Field(
        default=600, description="Timeout of one analytics query, 1-86400 seconds."
    )
    failure_rate_alert_percent: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Asset check fails when more exports than this % failed in the window.",
    )
    pending_alert: int = Field(
        default=100, ge=1, description="Asset check fails when more exports than this wait."
    )
    health_window_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="Window of the failure-rate check."
    )
    analytics_engine: str = Field(
        default="postgres",
        description="Engine of the analytics tables reports read: postgres (the reporting database) "
        "or clickhouse.",
    )
    analytics_url: str = Field(
        default="",
        description="ClickHouse server, clickhouse://user:password@host:8123/database (clickhouses:// "
        "for TLS); empty with engine clickhouse = the embedded engine in the project home.",
    )

    @field_validator(*_PARSERS, mode="before")
    @classmethod
    def _check_value(cls, value: object, info: ValidationInfo) -> object:
        """The rules ``export_settings_from_env`` applies, so a launchpad value gets its message."""
        if is_env_var(value):
            return value
        name = str(info.field_name)
        return _PARSERS[name](EXPORT_VARIABLES[name][0], value)

    def settings(self) -> ExportSettings:
        if self.analytics_url and self.analytics_engine != "clickhouse":
            raise SettingsError(
                "REPORTING_ANALYTICS_URL is set but REPORTING_ANALYTICS_ENGINE is "
                f"{self.analytics_engine!r}: set REPORTING_ANALYTICS_ENGINE=clickhouse to read the analytics "
                "tables from that server, or unset REPORTING_ANALYTICS_URL to read them from PostgreSQL."
            )
        return ExportSettings(
            storage_dir=Path(self.storage_dir) if self.storage_dir else default_storage_dir(),
            max_row_limit=self.max_row_limit,
            retention=dt.timedelta(days=self.retention_days),
            max_attachment_bytes=self.max_attachment_mb * 1024 * 1024,
            batch_rows=self.batch_rows,
            statement_timeout_ms=self.statement_timeout_seconds * 1000,
            failure_rate_alert=self.failure_rate_alert_percent / 100,
            pending_alert=self.pending_alert,
            health_window=dt.timedelta(hours=self.health_window_hours),
            analytics_engine=self.analytics_engine,
            analytics_url=self.analytics_url,
        )


def _parsed_from_env(environ: Mapping[str, str] | None) -> dict[str, Any]:
    env = Environment(environ)
    values: dict[str, Any] = {}
    for name, (variable, _kind) in EXPORT_VARIABLES.items():
        text = env.get(variable)
        if text is not None:
            parse = _PARSERS.get(name)
            values[name] = parse(variable, text) if parse else text
    return values


def export_settings_from_env(environ: Mapping[str, str] | None = None) -> ExportSettings:
    """ExportSettings from the ``REPORTING_EXPORTS_*`` variables that are set (defaults
    otherwise), for the CLI. Raises :class:`SettingsError` naming the variable and the values it
    may take; the code location's resource is built after the same check."""
    return ExportSettingsResource(**_parsed_from_env(environ)).settings()


def export_settings_resource_from_env(environ: Mapping[str, str] | None = None) -> ExportSettingsResource:
    """``REPORTING_EXPORTS_*`` when set, checked as ``export_settings_from_env`` checks them, then
    passed as EnvVars (resolved at run time); the defaults otherwise."""
    _parsed_from_env(environ)
    fields = [(name, variable, kind) for name, (variable, kind) in EXPORT_VARIABLES.items()]
    return ExportSettingsResource(**env_var_config(fields, None, environ))
