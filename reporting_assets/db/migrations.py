"""A tiny, idempotent migration runner for the numbered files in the package's ``sql/``.

Each file is applied once, in order, inside its own transaction, and recorded with its
checksum in ``reporting.schema_migrations``. An advisory lock serialises concurrent starts.

The checksum covers what PostgreSQL runs, not the comment lines: rewording a comment of an
applied migration is safe, changing a statement is refused. Databases migrated before comments
stopped counting recorded the checksum of the whole file; those values are still accepted.
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
_COMMENT_LINE = re.compile(rb"^[ \t]*--.*$\n?", re.MULTILINE)
# Databases migrated before the checksum left comment lines out recorded sha256 of the whole
# file. For the files whose comments were reworded since: (that whole-file checksum as
# released, the checksum of its statements), so a recorded old value is accepted only while the
# statements are still the released ones.
_RELEASED_CHECKSUMS = {
    "001": (
        "bc26f2e4853a2d27f0f29d4b983481d3d8de2c8eec708cb2efedee1d5850355e",
        "d15685a61ef2ac270c4b155e68aaa154517778776526cf8adce6ba8f2e54b111",
    ),
    "002": (
        "6a162496c26970c77c856fafaa32f66aa3484687eec482b19493a6d751d22454",
        "8fccc023aa47fef80efd4e0a7769c438170df4780002f654e383008669b5c052",
    ),
    "003": (
        "811d091fee5de0f51acf943ce43d60dcf049457165e1a0b5b9f1995dec3f0f6f",
        "c7dc3c48e76d9b1b3b66a5653696d207a526ed3c95bac584a0cf3df9922a0827",
    ),
    "005": (
        "79799a8cbd1b1cc969759a5fec60b296be5d36431d76238dadf47a23175f0a9a",
        "be2277fe2c44b9a70e1a89047e2d934112a934becab8f6f944e97475c8cbceee",
    ),
    "006": (
        "67ff228c9222a6d2ed10e449ce7d4acdfc6813a3014f9be8325b4613be2d0eb1",
        "ce7536295da30d03480fe21749c304404c6a76e59786a262139a5a4cdb49a748",
    ),
    "007": (
        "eb3289c45bb4daf103b3b9cf4167d1b7e0d3b4902f4d5b05093d57ecc0a5e9d8",
        "077ef3bea270511ccf11465f4fb7858ef2a20b0925d31c708c759d6e194d7d13",
    ),
}


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Traversable

    @property
    def checksum(self) -> str:
        """sha256 of the file without its full-line ``--`` comments."""
        return hashlib.sha256(_COMMENT_LINE.sub(b"", self.path.read_bytes())).hexdigest()

    def matches(self, recorded: str) -> bool:
        """Whether ``recorded`` is this file's checksum, now or as an older runner recorded it."""
        statements = self.checksum
        if recorded in (statements, hashlib.sha256(self.path.read_bytes()).hexdigest()):
            return True
        return _RELEASED_CHECKSUMS.get(self.version) == (recorded, statements)


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
                    if not migration.matches(previous["checksum"]):
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
