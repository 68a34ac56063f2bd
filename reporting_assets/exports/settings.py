"""Export settings: limits, retention, where files are kept, alert thresholds.

``ExportSettings`` is the plain value the engine takes; ``ExportSettingsResource`` the Dagster
resource (key ``exports``) that makes one, configured from ``REPORTING_EXPORTS_*`` when set.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import Field

from reporting_assets.db.urls import data_dir
from reporting_assets.exports.dsl import DEFAULT_MAX_ROW_LIMIT
from reporting_assets.resources import env_var_config

ENV_PREFIX = "REPORTING_EXPORTS_"
HARD_MAX_ROW_LIMIT = 10_000_000
"""The database CHECK on reports.row_limit; max_row_limit cannot go above it."""


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


def default_storage_dir() -> Path:
    return data_dir() / "exports"


class ExportSettingsResource(dg.ConfigurableResource):
    """How exports are made and kept."""

    storage_dir: str = Field(default="", description="Folder for export files; empty = <data dir>/exports.")
    max_row_limit: int = Field(
        default=DEFAULT_MAX_ROW_LIMIT,
        ge=1,
        le=HARD_MAX_ROW_LIMIT,
        description="Largest row_limit a report may have (requests above it are rejected).",
    )
    retention_days: int = Field(
        default=7, ge=1, le=3650, description="Days export files (local and S3) are kept before cleanup."
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
    statement_timeout_seconds: int = Field(default=600, ge=1, description="Timeout of one analytics query.")
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

    def settings(self) -> ExportSettings:
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
        )


def export_settings_resource_from_env(environ: Mapping[str, str] | None = None) -> ExportSettingsResource:
    """``REPORTING_EXPORTS_DIR`` / ``_MAX_ROW_LIMIT`` / ``_RETENTION_DAYS`` when set (EnvVars,
    resolved at run time); the defaults otherwise."""
    config = env_var_config(
        [
            ("storage_dir", f"{ENV_PREFIX}DIR", "str"),
            ("max_row_limit", f"{ENV_PREFIX}MAX_ROW_LIMIT", "int"),
            ("retention_days", f"{ENV_PREFIX}RETENTION_DAYS", "int"),
        ],
        environ,
    )
    return ExportSettingsResource(**config)


def settings_from_env(environ: Mapping[str, str] | None = None) -> ExportSettings:
    """The same settings for the CLI (values read directly)."""
    env = os.environ if environ is None else environ

    def number(var: str, default: int) -> int:
        text = env.get(var, "").strip()
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{var}={text!r} is not a whole number") from None

    directory = env.get(f"{ENV_PREFIX}DIR", "").strip()
    return ExportSettings(
        storage_dir=Path(directory) if directory else default_storage_dir(),
        max_row_limit=min(number(f"{ENV_PREFIX}MAX_ROW_LIMIT", DEFAULT_MAX_ROW_LIMIT), HARD_MAX_ROW_LIMIT),
        retention=dt.timedelta(days=number(f"{ENV_PREFIX}RETENTION_DAYS", 7)),
    )
