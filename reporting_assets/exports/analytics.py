"""Which analytics engine reports read: one function the CLI, Dagster and the HTTP API share.

``REPORTING_ANALYTICS_ENGINE`` (``ExportSettings.analytics_engine``) chooses: ``postgres`` (the
default) reads the ``analytics`` schema of the reporting database; ``clickhouse`` reads the
server of ``REPORTING_ANALYTICS_URL`` or, without one, the embedded engine in the project home.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import connect
from reporting_assets.db.urls import data_dir
from reporting_assets.exports.clickhouse_url import ClickHouseTarget, embedded_target, parse_clickhouse_url
from reporting_assets.exports.sample_data import (
    SampleSpec,
    generate_clickhouse_sample_data,
    generate_sample_data,
)
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import AnalyticsSource, PostgresAnalyticsSource
from reporting_assets.redaction import redact


def clickhouse_target(settings: ExportSettings) -> ClickHouseTarget:
    """The server of ``analytics_url``, or the embedded engine under the data folder."""
    if settings.analytics_url:
        return parse_clickhouse_url(settings.analytics_url)
    return embedded_target(data_dir())


def analytics_source(settings: ExportSettings, postgres_url: str) -> AnalyticsSource:
    """The source of the engine ``settings`` chooses (nothing connects until a query runs)."""
    if settings.analytics_engine == "clickhouse":
        from reporting_assets.exports.clickhouse_source import ClickHouseAnalyticsSource

        return ClickHouseAnalyticsSource(
            clickhouse_target(settings), statement_timeout_ms=settings.statement_timeout_ms
        )
    return PostgresAnalyticsSource(postgres_url, statement_timeout_ms=settings.statement_timeout_ms)


@dataclass(frozen=True)
class AnalyticsInit:
    """What ``analytics init`` did: where the tables are, and the sample rows it inserted."""

    engine: str
    where: str
    inserted: dict[str, int] | None

    def as_json(self) -> dict[str, Any]:
        return {"engine": self.engine, "where": self.where, "inserted": self.inserted}


def init_analytics(settings: ExportSettings, postgres_url: str, sample: SampleSpec | None) -> AnalyticsInit:
    """Make sure the analytics tables exist on the chosen engine (idempotent) and, with
    ``sample``, insert the deterministic sample there (rows already there stay).

    PostgreSQL's tables come with the migrations (applied before this runs); ClickHouse's are
    created here. Either way the sample rows are computed by PostgreSQL's generator, so both
    engines get the same rows."""
    if settings.analytics_engine != "clickhouse":
        inserted = None
        if sample is not None:
            with connect(postgres_url, doing="generating sample analytics data") as conn:
                inserted = generate_sample_data(conn, sample)
        return AnalyticsInit("postgres", f"schema analytics of {redact(postgres_url)}", inserted)
    from reporting_assets.exports.clickhouse_client import client_errors, open_client
    from reporting_assets.exports.clickhouse_schema import init_tables

    target = clickhouse_target(settings)
    client = open_client(target, doing="creating the analytics tables")
    try:
        with client_errors(target, "creating the analytics tables"):
            init_tables(client, target.database)
            inserted = None
            if sample is not None:
                with connect(postgres_url, doing="generating sample analytics data") as conn:
                    inserted = generate_clickhouse_sample_data(conn, client, target.database, sample)
    finally:
        client.close()
    return AnalyticsInit("clickhouse", f"database {target.database} of {target.shown}", inserted)
