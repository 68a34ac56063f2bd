"""Per-customer sync locks (PostgreSQL advisory locks): two sessions never sync one customer at
once. A session's connection carries ``application_name = 'reporting-assets sync SYNC-ID'``, so
a blocked session names the holder it found in ``pg_locks``. The engine logs what these return."""

from __future__ import annotations

from reporting_assets.db.connection import Connection
from reporting_assets.sync.model import CustomerRun

ADVISORY_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('reporting.sync:' || %(key)s)) AS locked"
ADVISORY_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('reporting.sync:' || %(key)s))"
LOCK_HOLDER_SQL = """
SELECT a.pid, a.application_name
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((hashtext('reporting.sync:' || %(key)s)::bigint >> 32) & 4294967295)::oid
  AND l.objid = (hashtext('reporting.sync:' || %(key)s)::bigint & 4294967295)::oid
"""
"""Who holds a customer's sync lock: the lock's bigint key is split into classid (high 32 bits)
and objid (low 32 bits) in ``pg_locks``."""
APPLICATION_NAME = "reporting-assets sync {sync_id}"
"""The ``application_name`` of a session's connection, so a blocked session can name the holder."""


def name_connection(conn: Connection, sync_id: str) -> None:
    """Label the session's connection, so another session it blocks can name it."""
    conn.execute(
        "SELECT set_config('application_name', %(name)s, false)",
        {"name": APPLICATION_NAME.format(sync_id=sync_id)},
    )
    conn.commit()


def take_lock(conn: Connection, customer: CustomerRun) -> bool:
    """Take the customer's sync lock; when another session holds it (``False``), this customer
    does not start: nothing is attempted, its records are left untouched, and its error names the
    holder."""
    line = customer.line
    locked = conn.execute(ADVISORY_LOCK_SQL, {"key": line.customer_key}).fetchone()
    conn.commit()
    if locked and locked["locked"]:
        return True
    customer.blocked_by = lock_holder(conn, line.customer_key)
    conn.commit()
    line.error = (
        f"Not started: {customer.blocked_by} is syncing {line.customer_name} and holds its sync lock, so "
        f"this session attempted none of its {len(customer.records)} record(s); they stay pending. "
        f"Re-run when that session has finished."
    )
    return False


def release_lock(conn: Connection, customer_key: str) -> None:
    """Give the customer's sync lock back (closing the connection releases it too)."""
    conn.execute(ADVISORY_UNLOCK_SQL, {"key": customer_key})
    conn.commit()


def lock_holder(conn: Connection, customer_key: str) -> str:
    """The session (or other connection) holding ``customer_key``'s sync lock, for the message."""
    holder = conn.execute(LOCK_HOLDER_SQL, {"key": customer_key}).fetchone()
    if holder is None:
        return "another sync session (it has finished since)"
    prefix = APPLICATION_NAME.format(sync_id="")
    name = holder["application_name"] or ""
    if name.startswith(prefix):
        return f"sync session {name.removeprefix(prefix)}"
    return f"another database connection (backend pid {holder['pid']}, not a sync session)"
