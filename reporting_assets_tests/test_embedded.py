"""The embedded default: with no REPORTING_DATABASE_URL a real PostgreSQL starts from the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from reporting_assets_tests.helpers import REPO_ROOT

pytestmark = pytest.mark.integration  # the embedded PostgreSQL server, started for real


def test_no_url_starts_the_embedded_server_and_creates_both_databases(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REPORTING_DATABASE_URL", "REPORTING_DAGSTER_DATABASE_URL")
    }
    env["REPORTING_DATA_DIR"] = str(tmp_path / "data")
    script = (
        "from reporting_assets.db.urls import resolve_urls\n"
        "from reporting_assets.db.migrations import migrate\n"
        "u = resolve_urls()\n"
        "print(u.embedded)\nprint(u.reporting)\nprint(u.dagster_sqlalchemy)\n"
        "print(','.join(migrate(u.reporting)))\n"
        "import psycopg\n"
        "with psycopg.connect(u.reporting) as c:\n"
        "    print(c.execute('SHOW server_version').fetchone()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    embedded, reporting, dagster, applied, version = result.stdout.strip().splitlines()
    assert embedded == "True"
    assert reporting.startswith("postgresql://postgres:@/reporting?host=")
    assert str(tmp_path / "data" / "postgres") in reporting
    assert dagster.startswith("postgresql+psycopg2://postgres:@/dagster?host=")
    assert applied.startswith("001_reporting_core")
    assert version.startswith("16")
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    # the process held the last handle: the server stopped when it exited; data stays
    second = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[3] == ""  # migrations already applied: data persisted


def test_external_url_starts_nothing(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REPORTING_DATABASE_URL": database_url,
        "REPORTING_DATA_DIR": str(tmp_path / "unused"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "reporting_assets.cli", "db", "url"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == database_url
    assert not (tmp_path / "unused").exists()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
