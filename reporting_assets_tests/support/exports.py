"""Helpers of the report builder and export tests (no tests here)."""

from __future__ import annotations

from psycopg import sql

from reporting_assets.db.connection import Connection
from reporting_assets.exports.execute import ExportServices
from reporting_assets.exports.s3 import S3Settings
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import PostgresAnalyticsSource
from reporting_assets_tests.support.servers import ACCESS, SmtpServer

EXPORT_SMTP = {"sender": "Reports <reports@reporting.example>", "max_attempts": 2}
"""How the export tests talk to the test SMTP server: their own sender, two attempts."""


def truncate_exports(conn: Connection) -> None:
    """No reports, schedules, exports or export deliveries (other deliveries stay)."""
    conn.execute(
        sql.SQL("TRUNCATE {} CASCADE").format(
            sql.SQL(", ").join(
                sql.Identifier("reporting", t) for t in ("export_files", "exports", "schedules", "reports")
            )
        )
    )
    conn.execute("DELETE FROM reporting.deliveries WHERE kind = 'export'")


def services(
    url: str,
    settings: ExportSettings,
    smtp: SmtpServer | None = None,
    s3_endpoint: str | None = None,
    bucket: str = "",
) -> ExportServices:
    return ExportServices(
        source=PostgresAnalyticsSource(url),
        settings=settings,
        smtp=smtp.settings(**EXPORT_SMTP) if smtp else None,
        s3=S3Settings(endpoint_url=s3_endpoint, bucket=bucket, **ACCESS) if s3_endpoint else None,
        sleep=lambda _s: None,
    )
