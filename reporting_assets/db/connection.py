"""Connections to the reporting database with errors that say what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from reporting_assets.db.urls import DATABASE_URL_ENV, check_conninfo, redact
from reporting_assets.errors import DatabaseUnavailableError

CONNECT_TIMEOUT_SECONDS = 10
Connection = psycopg.Connection[dict[str, Any]]
"""A connection whose rows are dicts (the only kind this project opens)."""


def unavailable(url: str, exc: BaseException, doing: str) -> DatabaseUnavailableError:
    """The error raised when PostgreSQL cannot be reached or drops the connection."""
    reason = " ".join(str(exc).split())
    end = "" if reason.endswith((".", "?", "!")) else "."
    return DatabaseUnavailableError(
        f"PostgreSQL at {redact(url)} is unavailable while {doing}: {reason}{end} "
        f"Nothing written in the failed transaction was kept; start the server (or fix "
        f"{DATABASE_URL_ENV}) and re-run: every step is idempotent."
    )


_OUTAGE_STATES = {"57P01", "57P02", "57P03"}  # admin/crash shutdown, cannot connect now


def is_outage(exc: psycopg.OperationalError) -> bool:
    """The server went away (or was never reached), as opposed to an operational error of one
    statement such as a lock timeout or an object in use, which keeps its own message."""
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _OUTAGE_STATES


def open_connection(url: str, *, doing: str = "connecting") -> Connection:
    """A new connection (UTC, dict rows), or the error that explains why there is none."""
    try:
        conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        raise unavailable(url, exc, doing) from exc
    except psycopg.ProgrammingError:
        check_conninfo(url, "the database URL")  # raises the error naming the accepted forms
        raise
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    return conn


@contextmanager
def connect(url: str, *, doing: str = "connecting") -> Iterator[Connection]:
    """A connection that commits on success, rolls back on error, and explains outages."""
    conn = open_connection(url, doing=doing)
    try:
        with conn:
            yield conn
    except psycopg.OperationalError as exc:
        if is_outage(exc):
            raise unavailable(url, exc, doing) from exc
        raise
    finally:
        conn.close()
