"""Which PostgreSQL server the project uses, resolved at run time (never at import time).

With ``REPORTING_DATABASE_URL`` set, that server is used and nothing is started. Without it,
a real PostgreSQL from the ``pgserver`` wheel runs in the data folder (``.data/`` in the
project home, see :mod:`reporting_assets.home`). Dagster's own
storage lives in a separate database (``dagster``) on the same server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from reporting_assets.errors import DatabaseUnavailableError
from reporting_assets.home import project_home

DATABASE_URL_ENV = "REPORTING_DATABASE_URL"
DAGSTER_DATABASE_URL_ENV = "REPORTING_DAGSTER_DATABASE_URL"
DATA_DIR_ENV = "REPORTING_DATA_DIR"
REPORTING_DATABASE = "reporting"
DAGSTER_DATABASE = "dagster"


@dataclass(frozen=True)
class DatabaseUrls:
    """Connection URLs for the project's database and Dagster's storage database."""

    reporting: str
    dagster: str
    embedded: bool

    @property
    def dagster_sqlalchemy(self) -> str:
        """Dagster's URL with an explicit psycopg2 driver.

        SQLAlchemy 2.1 maps a plain ``postgresql://`` URL to psycopg 3, which breaks
        dagster-postgres (``NOTIFY run_events, $1``); psycopg2 ships with dagster-postgres.
        """
        return to_psycopg2_url(self.dagster)


def to_psycopg2_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        scheme = "postgresql+psycopg2"
    return f"{scheme}://{rest}"


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def redact(url: str) -> str:
    """The URL with its password replaced, safe to print or log."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def data_dir() -> Path:
    """The data folder: ``REPORTING_DATA_DIR``, else ``.data/`` in the project home (embedded
    PostgreSQL lives in ``postgres/`` below it)."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else project_home() / ".data"


def resolve_urls() -> DatabaseUrls:
    """The URLs in use: external when ``REPORTING_DATABASE_URL`` is set, else the embedded server."""
    external = os.environ.get(DATABASE_URL_ENV, "").strip()
    if external:
        dagster_url = os.environ.get(DAGSTER_DATABASE_URL_ENV, "").strip() or with_database(
            external, DAGSTER_DATABASE
        )
        return DatabaseUrls(reporting=external, dagster=dagster_url, embedded=False)
    from reporting_assets.db.embedded import ensure_embedded_server

    server_url = ensure_embedded_server(data_dir())
    urls = DatabaseUrls(
        reporting=with_database(server_url, REPORTING_DATABASE),
        dagster=with_database(server_url, DAGSTER_DATABASE),
        embedded=True,
    )
    ensure_databases(server_url, [REPORTING_DATABASE, DAGSTER_DATABASE])
    return urls


def ensure_databases(server_url: str, names: list[str]) -> None:
    """Create the given databases if they do not exist (safe when several processes race)."""
    maintenance = with_database(server_url, "postgres")
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            for name in names:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if exists:
                    continue
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    continue
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(
            f"Cannot reach the embedded PostgreSQL at {redact(maintenance)}: {exc}. "
            f"Delete the stale server state with `reporting-assets db stop` and retry."
        ) from exc
