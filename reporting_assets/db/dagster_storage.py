"""Dagster run/event/schedule storage on the project's PostgreSQL, URL resolved on demand.

``dagster.yaml`` names this class, so ``dagster dev`` and ``dagster asset materialize`` find
the embedded server (starting it when needed) or the external one, with nothing exported.

Why a connection pool: dagster-postgres opens a fresh connection (``NullPool``) for every
event it stores, and a batched run of 90 partitions stores hundreds of events (a planned and
a materialization event per partition and asset): connecting was half of Dagster's own cost
per partition. Each storage here keeps one connection open per process (more only while
threads overlap), checked with a ping before use so a restarted server costs one reconnect.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy.pool as db_pool
from dagster._config.config_schema import UserConfigSchema
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import DagsterPostgresException, create_pg_engine
from sqlalchemy.exc import SQLAlchemyError

from reporting_assets.db.urls import DAGSTER_DATABASE_URL_ENV, DATABASE_URL_ENV, redact, resolve_urls
from reporting_assets.errors import DatabaseUnavailableError

POOL_SIZE = 1
POOL_OVERFLOW = 8
POOL_RECYCLE_SECONDS = 3600


class ReportingPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage in the ``dagster`` database of the project's server."""

    def __init__(self, postgres_url: str, inst_data: ConfigurableClassData | None = None) -> None:
        try:
            super().__init__(postgres_url=postgres_url, inst_data=inst_data)
        except (DagsterPostgresException, SQLAlchemyError) as exc:
            reason = exc.__cause__ if isinstance(exc, DagsterPostgresException) and exc.__cause__ else exc
            raise DatabaseUnavailableError(
                f"Dagster's storage database at {redact(postgres_url)} is unavailable: "
                f"{' '.join(str(reason).split())}. Start the server (or fix {DATABASE_URL_ENV} / "
                f"{DAGSTER_DATABASE_URL_ENV}) and retry."
            ) from exc
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage._engine = pooled_engine(postgres_url)  # see the module docstring

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> ReportingPostgresStorage:
        return cls(postgres_url=resolve_urls().dagster_sqlalchemy, inst_data=inst_data)


def pooled_engine(postgres_url: str) -> Any:
    """An autocommit engine holding ``POOL_SIZE`` connections, pinged before each checkout."""
    return create_pg_engine(
        postgres_url,
        isolation_level="AUTOCOMMIT",
        poolclass=db_pool.QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_pre_ping=True,
    )
