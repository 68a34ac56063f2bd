"""``reporting-assets db start/stop/shell/url``: the embedded server outlives the command that
started it until ``db stop``; ``db shell`` runs the wheel's psql on the database in use."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from reporting_assets.db.dagster_storage import ReportingPostgresStorage
from reporting_assets.errors import DatabaseUnavailableError
from reporting_assets_tests.helpers import run_cli

# a real PostgreSQL server started by the CLI, psql and the CLI in subprocesses
pytestmark = pytest.mark.integration

NOT_KEPT = "Run `reporting-assets db start` to keep it up until `reporting-assets db stop`."


def _cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, stdin=stdin)


@pytest.fixture
def embedded_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user without REPORTING_DATABASE_URL, with a fresh data folder;
    the embedded server is stopped at the end whatever the test did."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REPORTING_DATABASE_URL", "REPORTING_DAGSTER_DATABASE_URL")
    }
    env["REPORTING_DATA_DIR"] = str(tmp_path / "data")
    yield env
    _cli("db", "stop", env=env)


def _connects(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def test_db_start_keeps_the_embedded_server_up_until_db_stop(embedded_env: dict[str, str]) -> None:
    before = _cli("db", "url", env=embedded_env)
    assert before.returncode == 0, before.stderr
    url = before.stdout.strip()
    assert url.startswith("postgresql://postgres:@/reporting?host=")
    assert "it was not running, so this command started it and stops it on exit" in before.stderr
    assert NOT_KEPT in before.stderr
    assert not _connects(url)  # the URL died with the command

    started = _cli("db", "start", env=embedded_env)
    assert started.returncode == 0, started.stderr
    assert "until `reporting-assets db stop`" in started.stdout
    assert f"URL: {url}" in started.stdout
    assert _connects(url)  # outlives the command that started it

    listed = _cli("customers", "list", env=embedded_env)  # joins, then leaves as the last holder
    assert listed.returncode == 0, listed.stderr
    assert _connects(url)
    again = _cli("db", "url", env=embedded_env)
    assert (again.stdout.strip(), again.stderr) == (url, "")

    stopped = _cli("db", "stop", env=embedded_env)
    assert stopped.stdout.strip() == "Embedded PostgreSQL stopped."
    assert not _connects(url)
    after = _cli("db", "url", env=embedded_env)
    assert NOT_KEPT in after.stderr
    assert not _connects(url)  # no longer kept: it stops with the command again


def test_db_shell_runs_psql_on_the_embedded_server(embedded_env: dict[str, str]) -> None:
    query = _cli("db", "shell", "--", "-At", "-c", "select 42, current_database()", env=embedded_env)
    assert query.returncode == 0, query.stderr
    assert query.stdout.strip() == "42|reporting"
    piped = _cli(
        "db", "shell", "--dagster", "--", "-At", env=embedded_env, stdin="select current_database();\n"
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.strip() == "dagster"
    failing = _cli("db", "shell", "--", "-c", "select * from no_such_table", env=embedded_env)
    assert failing.returncode == 1
    assert 'relation "no_such_table" does not exist' in failing.stderr


def test_db_shell_uses_the_external_server_and_keeps_the_password_off_the_command_line(
    database_url: str,
) -> None:
    # the test server trusts local connections, so any password gets in: what matters is
    # that psql connected with it and that it never reached the output
    with_password = database_url.replace("postgresql://postgres:@", "postgresql://postgres:Sh3llS3cret@")
    env = {**os.environ, "REPORTING_DATABASE_URL": with_password, "REPORTING_DAGSTER_DATABASE_URL": ""}
    result = _cli("db", "shell", "--", "-At", "-c", "select current_database()", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "reporting_test"
    assert "Sh3llS3cret" not in result.stdout + result.stderr


def test_db_start_with_an_external_server_starts_nothing(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REPORTING_DATABASE_URL": database_url,
        "REPORTING_DATA_DIR": str(tmp_path / "unused"),
    }
    result = _cli("db", "start", env=env)
    assert result.returncode == 0, result.stderr
    assert "REPORTING_DATABASE_URL is set: the project uses that server" in result.stdout
    assert not (tmp_path / "unused").exists()


def test_unreachable_dagster_storage_names_the_server_without_its_password() -> None:
    url = "postgresql+psycopg2://u@127.0.0.1:1/dagster?password=St0rageS3cret"
    with pytest.raises(DatabaseUnavailableError, match="Dagster's storage database at ") as error:
        ReportingPostgresStorage(postgres_url=url)
    message = str(error.value)
    assert "postgresql+psycopg2://u@127.0.0.1:1/dagster?password=*** is unavailable" in message
    assert "Connection refused" in message and "Start the server" in message
    assert "St0rageS3cret" not in message
