"""A tiny, idempotent migration runner for the numbered files in the package's ``sql/``.

Each file is applied once, in order, inside its own transaction, and recorded with its
checksum in ``reporting.schema_migrations``. An advisory lock serialises concurrent starts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import psycopg

from reporting_assets.db.connection import connect
from reporting_assets.errors import MigrationError

SQL_DIR: Traversable = resources.files("reporting_assets") / "sql"
"""Package data, so a wheel install migrates like a checkout (the repo's ``sql/`` points here)."""
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_ADVISORY_LOCK_KEY = 7_210_431_001


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Traversable

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(sql_dir: Traversable = SQL_DIR) -> list[Migration]:
    if not sql_dir.is_dir():
        raise MigrationError(
            f"Migration folder {sql_dir} is missing: the installed package is incomplete; "
            f"reinstall reporting_assets (pip install --force-reinstall reporting_assets)."
        )
    found = []
    files = (p for p in sql_dir.iterdir() if p.name.endswith(".sql") and p.is_file())
    for path in sorted(files, key=lambda p: p.name):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path.name}: migration files must be named NNN_lower_snake.sql (e.g. 002_x.sql)."
            )
        found.append(Migration(version=match.group(1), name=path.name.removesuffix(".sql"), path=path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"Two migration files in {sql_dir} share a version number.")
    return found


def migrate(url: str, sql_dir: Traversable = SQL_DIR) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    migrations = discover(sql_dir)
    applied_now: list[str] = []
    with connect(url, doing="applying migrations") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS reporting")
            conn.execute(
                """CREATE TABLE IF NOT EXISTS reporting.schema_migrations (
                       version text PRIMARY KEY,
                       name text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            conn.commit()
            done = {
                row["version"]: row
                for row in conn.execute("SELECT version, name, checksum FROM reporting.schema_migrations")
            }
            conn.commit()  # each migration below runs in its own top-level transaction
            for migration in migrations:
                previous = done.get(migration.version)
                if previous is not None:
                    if previous["checksum"] != migration.checksum:
                        raise MigrationError(
                            f"{migration.path.name} changed after it was applied. Never edit an "
                            f"applied migration: add a new numbered file instead."
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(migration.path.read_text(encoding="utf-8"))
                        conn.execute(
                            "INSERT INTO reporting.schema_migrations (version, name, checksum) "
                            "VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.errors.Error as exc:
                    if isinstance(exc, psycopg.OperationalError):
                        raise
                    raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
                applied_now.append(migration.name)
        finally:
            if not conn.closed and not conn.broken:
                conn.rollback()
                conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
                conn.commit()
    return applied_now
