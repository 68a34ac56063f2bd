"""Test session: a real PostgreSQL (pgserver, started here) and a real PostgreSQL-backed
Dagster instance using the project's own storage class; the fixtures of ``support/`` (real SMTP
and S3 servers, the sync tables) are registered here; every test that needs any of them is
marked ``integration``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import dagster as dg
import pytest

from reporting_assets.customers import add_customer
from reporting_assets.db.connection import Connection, connect
from reporting_assets.db.embedded import ensure_embedded_server
from reporting_assets.db.migrations import migrate
from reporting_assets.db.urls import (
    DAGSTER_DATABASE_URL_ENV,
    DATABASE_URL_ENV,
    ensure_databases,
    with_database,
)
from reporting_assets_tests.support.database import wipe

TEST_REPORTING_DB = "reporting_test"
TEST_DAGSTER_DB = "dagster_test"

pytest_plugins = [
    "reporting_assets_tests.support.servers",
    "reporting_assets_tests.support.sync",
]

INTEGRATION_FIXTURES = frozenset({"pg_server_url", "smtp_server", "s3_endpoint"})
"""A test that uses any of these (directly or through another fixture) needs PostgreSQL, a
Dagster instance on it, or a real server: it is an integration test."""


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reaches the database or a server as ``integration``, so
    ``-m "not integration"`` keeps only the pure tests; tests that start subprocesses or Dagster
    runs without these fixtures carry the mark themselves."""
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL for the whole session, in a throw-away data folder."""
    root = tmp_path_factory.mktemp("pg")
    url = ensure_embedded_server(root)
    ensure_databases(url, [TEST_REPORTING_DB, TEST_DAGSTER_DB])
    yield url


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    url = with_database(pg_server_url, TEST_REPORTING_DB)
    saved = {k: os.environ.get(k) for k in (DATABASE_URL_ENV, DAGSTER_DATABASE_URL_ENV)}
    os.environ[DATABASE_URL_ENV] = url
    os.environ[DAGSTER_DATABASE_URL_ENV] = with_database(pg_server_url, TEST_DAGSTER_DB)
    migrate(url)
    yield url
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def session_instance(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dg.DagsterInstance]:
    """A PostgreSQL-backed instance through the same storage class dagster.yaml names."""
    overrides = {
        "storage": {
            "custom": {
                "module": "reporting_assets.db.dagster_storage",
                "class": "ReportingPostgresStorage",
                "config": {},
            }
        },
        "telemetry": {"enabled": False},
    }
    with dg.instance_for_test(
        overrides=overrides, temp_dir=str(tmp_path_factory.mktemp("dagster_home"))
    ) as inst:
        yield inst


@pytest.fixture
def instance(session_instance: dg.DagsterInstance, database_url: str) -> dg.DagsterInstance:
    """A clean instance and reporting database for each test."""
    wipe(session_instance, database_url)
    return session_instance


@pytest.fixture
def conn(database_url: str) -> Iterator[Connection]:
    with connect(database_url) as connection:
        yield connection


@pytest.fixture
def customers(instance: dg.DagsterInstance, conn: Connection) -> list[str]:
    """The three sample customers, registered."""
    names = ["ACTIVELY BLACK", "PELOTON", "GREYSON"]
    for name in names:
        add_customer(conn, instance, name)
    return names
