"""The API under test: a real uvicorn on 127.0.0.1 serving the app over the session's
PostgreSQL and PostgreSQL-backed Dagster instance, with a real SMTP server (aiosmtpd) and a real
S3 endpoint (moto's server). Export runs are submitted to the instance, whose default launcher
starts them in a code server subprocess (``dagster api grpc``), as a deployment does.

The SMTP/S3/export-folder variables are set only while the code server starts: the code location
reads them when it loads (its resources) and its run workers inherit them from it. This process
never sees them afterwards, so no later test (nor its cached definitions) depends on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from moto.server import ThreadedMotoServer
from psycopg import sql

from reporting_assets.api.app import create_app
from reporting_assets.api.server import serve_in_thread
from reporting_assets.api.settings import ApiSettings
from reporting_assets.db.connection import connect
from reporting_assets.exports.s3 import S3Settings
from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
from reporting_assets.exports.settings import ExportSettings
from reporting_assets_tests.api.browser import LAUNCH_ARGS, chromium_path, screenshots_dir
from reporting_assets_tests.api.support import OPERATIONS, SECRET, Served
from reporting_assets_tests.support.servers import ACCESS, Handler, SmtpServer, free_port, running_smtp


@pytest.fixture(scope="package")
def package_smtp() -> Iterator[SmtpServer]:
    """The SMTP server the API's export runs send to."""
    with running_smtp() as server:
        yield server


@pytest.fixture
def mailbox(package_smtp: SmtpServer) -> Handler:
    """The messages the API's SMTP server accepted (``reject`` refuses RCPT per address)."""
    return package_smtp.handler


@pytest.fixture(scope="package")
def s3_settings() -> Iterator[S3Settings]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings = S3Settings(endpoint_url=f"http://{host}:{port}", bucket="api-exports", **ACCESS)
    settings.client().create_bucket(Bucket=settings.bucket)
    try:
        yield settings
    finally:
        server.stop()


@pytest.fixture(scope="package")
def export_settings(tmp_path_factory: pytest.TempPathFactory) -> ExportSettings:
    folder = tmp_path_factory.mktemp("api-exports")
    return ExportSettings(storage_dir=folder)


@pytest.fixture(scope="package")
def analytics(database_url: str) -> str:
    """Sample analytics of acme and globex for Q1 2025."""
    with connect(database_url) as conn:
        generate_sample_data(conn, SampleSpec(end=dt.date(2025, 3, 31), tenants=("acme", "globex"), days=60))
    return database_url


@pytest.fixture(scope="package")
def launching_instance(
    session_instance: dg.DagsterInstance, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dg.DagsterInstance]:
    """The session's instance storage (same PostgreSQL database, so its runs are the session's
    runs), with the default run coordinator: a submitted run is launched at once by the run
    launcher (a run worker subprocess of the code server), as the daemon would launch a queued one."""
    overrides = {
        "storage": {
            "custom": {
                "module": "reporting_assets.db.dagster_storage",
                "class": "ReportingPostgresStorage",
                "config": {},
            }
        },
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
        "telemetry": {"enabled": False},
    }
    with dg.instance_for_test(
        overrides=overrides, temp_dir=str(tmp_path_factory.mktemp("api_dagster_home"))
    ) as inst:
        yield inst


@pytest.fixture(scope="package")
def api(
    analytics: str,
    launching_instance: dg.DagsterInstance,
    package_smtp: SmtpServer,
    s3_settings: S3Settings,
    export_settings: ExportSettings,
) -> Iterator[Served]:
    """The API with its export runs going to the session's Dagster instance."""
    settings = ApiSettings(
        algorithm="HS256", key=SECRET, rate_limit_per_minute=100_000, operations_tenant=OPERATIONS
    )
    app = create_app(
        settings=settings,
        database_url=analytics,
        exports=export_settings,
        s3=s3_settings,
        instance=launching_instance,
    )
    code_server_env = {
        "REPORTING_SMTP_HOST": "127.0.0.1",
        "REPORTING_SMTP_PORT": str(package_smtp.port),
        "REPORTING_SMTP_SENDER": "Reports <reports@reporting.example>",
        "REPORTING_SMTP_BACKOFF_SECONDS": "0.01",
        "REPORTING_S3_ENDPOINT_URL": s3_settings.endpoint_url or "",
        "REPORTING_S3_BUCKET": s3_settings.bucket,
        "REPORTING_S3_ACCESS_KEY_ID": ACCESS["access_key_id"],
        "REPORTING_S3_SECRET_ACCESS_KEY": ACCESS["secret_access_key"],
        "REPORTING_EXPORTS_DIR": str(export_settings.storage_dir),
    }
    with pytest.MonkeyPatch.context() as env:
        for name, value in code_server_env.items():
            env.setenv(name, value)
        app.state.context.runs.load()  # the code server starts with them, and keeps them
    with serve_in_thread(app) as url:
        yield Served(url, settings)


@pytest.fixture(autouse=True)
def clean(database_url: str) -> None:
    """Each test starts without reports, schedules, exports, export deliveries or customers."""
    with connect(database_url) as conn:
        conn.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(
                sql.SQL(", ").join(
                    sql.Identifier("reporting", t)
                    for t in ("export_files", "exports", "schedules", "reports")
                )
            )
        )
        conn.execute("DELETE FROM reporting.deliveries WHERE kind = 'export'")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """The system Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save a screenshot of each page (kept as test artifacts)."""
    return screenshots_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="package")
def light_api(analytics: str, export_settings: ExportSettings) -> Iterator[Served]:
    """The app without a Dagster instance (exports stay pending), with the --dev sign-in: for
    page tests that need no export to run."""
    settings = ApiSettings(
        algorithm="HS256",
        key=SECRET,
        rate_limit_per_minute=100_000,
        operations_tenant=OPERATIONS,
        dev_sign_in=True,
    )
    app = create_app(
        settings=settings, database_url=analytics, exports=export_settings, s3=None, instance=None
    )
    with serve_in_thread(app) as url:
        yield Served(url, settings)
