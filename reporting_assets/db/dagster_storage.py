"""Dagster run/event/schedule storage on the project's PostgreSQL, URL resolved on demand.

``dagster.yaml`` names this class, so ``dagster dev`` and ``dagster asset materialize`` find
the embedded server (starting it when needed) or the external one, with nothing exported.
"""

from __future__ import annotations

from typing import Any

from dagster._config.config_schema import UserConfigSchema
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

from reporting_assets.db.urls import resolve_urls


class ReportingPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage in the ``dagster`` database of the project's server."""

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> ReportingPostgresStorage:
        return cls(postgres_url=resolve_urls().dagster_sqlalchemy, inst_data=inst_data)
