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
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reporting_assets.errors import DatabaseUnavailableError, DatabaseUrlError
from reporting_assets.home import project_home
from reporting_assets.redaction import redact as redact

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


ACCEPTED_FORMS = (
    "a URL such as postgresql://report_user@db.example.com:5432/reporting (with a password: "
    "report_user:PASSWORD@db.example.com), or key=value settings such as 'host=db.example.com "
    "port=5432 dbname=reporting user=report_user' (with a password setting, or PGPASSWORD)"
)


def is_url(conninfo: str) -> bool:
    """A URL (``postgresql://...``) rather than key=value conninfo."""
    return "://" in conninfo


def check_conninfo(conninfo: str, what: str) -> str:
    """``conninfo`` if psycopg can use it, else a DatabaseUrlError naming ``what`` (the variable
    or setting it came from) and the accepted forms, instead of psycopg's ProgrammingError."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        problem = str(exc).strip()
    else:
        ports = str(params.get("port", "")).split(",")
        if all(p.strip().isdigit() or not p.strip() for p in ports):
            return conninfo
        problem = f"port {params['port']!r} is not a number"
    raise DatabaseUrlError(
        f"{what}={conninfo!r} is not a PostgreSQL connection string ({problem}). Set it to {ACCEPTED_FORMS}."
    )


def to_psycopg2_url(url: str) -> str:
    """The connection as a SQLAlchemy URL with the psycopg2 driver (key=value conninfo too)."""
    if not is_url(url):
        return _conninfo_to_sqlalchemy(url)
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        scheme = "postgresql+psycopg2"
    return f"{scheme}://{rest}"


def _conninfo_to_sqlalchemy(conninfo: str) -> str:
    from sqlalchemy.engine import URL

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    host = params.pop("host", None)
    port = params.pop("port", None)
    simple_host = host is not None and "," not in host and not host.startswith("/")
    if host is not None and not simple_host:
        params["host"] = host
        if port is not None:
            params["port"] = port
    return URL.create(
        "postgresql+psycopg2",
        username=params.pop("user", None),
        password=params.pop("password", None),
        host=host if simple_host else None,
        port=int(port) if simple_host and port else None,
        database=params.pop("dbname", None),
        query=params,
    ).render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """The same server (URL or key=value conninfo) pointing at another database."""
    if not is_url(url):
        return make_conninfo(url, dbname=database)
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def data_dir() -> Path:
    """The data folder: ``REPORTING_DATA_DIR``, else ``.data/`` in the project home (embedded
    PostgreSQL lives in ``postgres/`` below it)."""
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else project_home() / ".data"


def resolve_urls() -> DatabaseUrls:
    """The URLs in use: external when ``REPORTING_DATABASE_URL`` is set, else the embedded server."""
    external = os.environ.get(DATABASE_URL_ENV, "").strip()
    if external:
        check_conninfo(external, DATABASE_URL_ENV)
        dagster_url = os.environ.get(DAGSTER_DATABASE_URL_ENV, "").strip()
        if dagster_url:
            check_conninfo(dagster_url, DAGSTER_DATABASE_URL_ENV)
        else:
            dagster_url = with_database(external, DAGSTER_DATABASE)
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
