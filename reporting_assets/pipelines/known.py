"""The registered pipelines and customers as a reporting process last read them, so checking a
run report's pipeline and customer costs no database round trip once the process is warm.

What a report names and the process does not know yet is re-read at once: a pipeline or customer
registered after the process started is found on its first report, and an unknown one still gets
the registry's error (with close names). What it does know is trusted for up to
:data:`REFRESH_SECONDS`: a pipeline removed from the registry may still be accepted for that
long by a process that saw it (the report sensor then skips its runs with a warning naming it,
as for a report that arrived just before the removal). Customers are never unregistered.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from reporting_assets.customers import get_customer, list_customers
from reporting_assets.db.connection import Connection
from reporting_assets.db.urls import DATA_DIR_ENV, DATABASE_URL_ENV
from reporting_assets.home import HOME_ENV
from reporting_assets.pipelines.registry import Pipeline, Registry, load_registry

REFRESH_SECONDS = 10.0
"""How long a process trusts what it read: at 300 reports/s one re-read per 3,000 reports."""

ConnectionSource = Callable[[], AbstractContextManager[Connection]]
"""Opens (or lends) a reporting-database connection; called only when something is re-read."""


@dataclass(frozen=True)
class _Read:
    registry: Registry
    customers: frozenset[str]
    at: float


class KnownNames:
    """Registry and customer keys read together, re-read when stale or when a name is missing."""

    def __init__(self, refresh_seconds: float = REFRESH_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._read: _Read | None = None

    def _reread(self, connection: ConnectionSource) -> _Read:
        with connection() as conn:
            registry = load_registry(conn)
            customers = frozenset(c.partition_key for c in list_customers(conn))
        self._read = _Read(registry, customers, self._clock())
        return self._read

    def _current(self, connection: ConnectionSource) -> tuple[_Read, bool]:
        """What is known, and whether it was read just now."""
        read = self._read
        if read is None or self._clock() - read.at >= self._refresh_seconds:
            return self._reread(connection), True
        return read, False

    def pipeline(self, connection: ConnectionSource, pipeline_type: str) -> Pipeline:
        """The registered pipeline, or the registry's error naming `pipelines add` and close names."""
        read, fresh = self._current(connection)
        if pipeline_type not in read.registry.by_type and not fresh:
            read = self._reread(connection)
        return read.registry.require(pipeline_type)

    def require_customer(self, connection: ConnectionSource, customer_key: str) -> None:
        """Nothing when the customer is registered, else the error suggesting `customers add`."""
        read, fresh = self._current(connection)
        if customer_key in read.customers:
            return
        if not fresh:
            read = self._reread(connection)
            if customer_key in read.customers:
                return
        with connection() as conn:
            get_customer(conn, customer_key)  # raises, naming close keys (or it was added just now)


_by_database: dict[tuple[str, ...], KnownNames] = {}


def known_names() -> KnownNames:
    """This process's :class:`KnownNames` for the reporting database the environment names (the
    variables its URL is resolved from; resolving it costs more than a lookup)."""
    where = tuple(os.environ.get(name, "").strip() for name in (DATABASE_URL_ENV, DATA_DIR_ENV, HOME_ENV))
    where += (os.getcwd(),)
    found = _by_database.get(where)
    return found if found is not None else _by_database.setdefault(where, KnownNames())


def forget_known_names() -> None:
    """Drop what this process read (for a database emptied under it, as between tests)."""
    _by_database.clear()
