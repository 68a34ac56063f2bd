"""Insert rows plainly when none of them exists yet; upsert otherwise.

Why: ``INSERT ... ON CONFLICT`` inserts speculatively, which cost about a quarter of a large
write in benchmarks/render_store.py even when nothing conflicts; and most writes of a backfill
are first writes. A cheap existence check picks the plain insert, inside a savepoint, so a
concurrent writer that got there first only sends this write down the upsert path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import psycopg

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query


def with_conflict_clause(insert: str, on_conflict: str) -> str:
    """The upsert: the named plain-insert query followed by the named ``ON CONFLICT`` clause
    (one column list serves both)."""
    return query(insert) + query(on_conflict)


def insert_or_upsert(
    conn: Connection,
    *,
    exists: str,
    insert: str,
    upsert: Callable[[], object],
    params: Mapping[str, object] | None = None,
) -> bool:
    """Run ``insert`` when ``exists`` (a query returning one boolean column ``found``) says no
    row of this write is stored yet, else ``upsert()``; both queries take ``params``. True when
    the plain insert was enough."""
    row = conn.execute(exists, params).fetchone()
    if not (row and row["found"]):
        try:
            with conn.transaction():
                conn.execute(insert, params)
        except psycopg.errors.UniqueViolation:
            pass  # a concurrent write stored some of these rows first: upsert below
        else:
            return True
    upsert()
    return False
