"""Dagster resources: thin, configurable handles over the project's plain functions."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import dagster as dg
from pydantic import Field, field_validator

from reporting_assets.errors import ReportingError
from reporting_assets.links import asset_event_link, asset_link, base_url_problem, require_base_url, run_link
from reporting_assets.redaction import redact

if TYPE_CHECKING:
    from reporting_assets.db.connection import Connection

UI_BASE_URL_SETTING = "report_settings.ui_base_url (the Dagster UI's address for run links)"


def env_var_config(
    fields: Sequence[tuple[str, str, Literal["str", "int", "value"]]],
    parsed: object,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resource config for each ``(field, variable, kind)`` whose variable is set.

    ``parsed`` is what the integration's ``*_settings_from_env`` made of the same variables, so
    a bad value has already failed with its message. "str" and "int" fields become
    ``dg.EnvVar(variable)`` / ``dg.EnvVar.int(variable)``: resolved when a run starts, shown in
    the UI by name, never by value (passwords, keys). "value" fields take ``parsed.<field>``:
    booleans and floats, which an EnvVar cannot carry (no float form; a boolean EnvVar reads any
    word but false/0/none as true). Unset variables are left out and keep the resource's
    defaults: an EnvVar of an unset variable fails the whole code location.
    """
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for field, variable, kind in fields:
        if not env.get(variable, "").strip():
            continue
        if kind == "value":
            config[field] = getattr(parsed, field)
        else:
            config[field] = dg.EnvVar.int(variable) if kind == "int" else dg.EnvVar(variable)
    return config


class SettingsError(ReportingError):
    """A resource setting has a value the project cannot use."""


class PostgresResource(dg.ConfigurableResource):
    """The reporting database. Empty URL: ``REPORTING_DATABASE_URL`` if set, else the
    embedded server (resolved when a run starts, never at import time). The database modules
    (and psycopg) are imported on first use: loading the code location does not pay for them."""

    database_url: str = Field(
        default="",
        description="postgresql:// URL of the reporting database; empty = environment/embedded.",
    )
    apply_migrations: bool = Field(
        default=True, description="Apply pending sql/ migrations when a run starts (idempotent)."
    )

    def url(self) -> str:
        from reporting_assets.db.urls import check_conninfo, resolve_urls

        if self.database_url:
            return check_conninfo(self.database_url, "PostgresResource.database_url")
        return resolve_urls().reporting

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The URL in reprs (and so in logs and tracebacks) has its password masked."""
        for name, value in super().__repr_args__():
            yield name, redact(value) if name == "database_url" and isinstance(value, str) else value

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from reporting_assets.db.migrations import migrate

        if self.apply_migrations:
            migrate(self.url())

    @contextmanager
    def connection(self, doing: str = "working") -> Iterator[Connection]:
        from reporting_assets.db.connection import connect

        with connect(self.url(), doing=doing) as conn:
            yield conn


class ReportSettingsResource(dg.ConfigurableResource):
    """How reports look: where run links point and how long change lists get."""

    ui_base_url: str = Field(
        default="http://localhost:3000",
        description="Base URL of the Dagster UI (http:// or https://), used for the run link in each "
        "report footer.",
    )
    list_length: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Changes listed per section before '... (N more)'.",
    )
    render_processes: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Processes that render a batch of 400+ reports (a backfill range): 0 = one per "
        "core, 1 = only the run's own process.",
    )

    expected_pipelines: list[str] = Field(
        default=[],
        description="Pipelines every customer is expected to run daily, unless "
        "reporting.customer_expected_pipelines lists others for that customer. Empty (the default): "
        "the registered pipelines marked expected daily (`reporting-assets pipelines list`).",
    )

    @field_validator("ui_base_url", mode="before")
    @classmethod
    def _check_ui_base_url(cls, value: object) -> object:
        if isinstance(value, str) and not isinstance(value, dg.EnvVar):
            require_base_url(value, UI_BASE_URL_SETTING)
        return value  # an EnvVar resolves when a run starts: setup_for_execution checks it then

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        problem = base_url_problem(self.ui_base_url, UI_BASE_URL_SETTING)
        if problem:
            raise SettingsError(problem)

    def run_url(self, run_id: str) -> str:
        return run_link(self.ui_base_url, run_id)

    def event_url(self, asset_key: str, partition: str, timestamp: float) -> str:
        return asset_event_link(self.ui_base_url, asset_key, partition, timestamp)

    def asset_url(self, asset_key: str) -> str:
        return asset_link(self.ui_base_url, asset_key)
