"""Reading and writing a session's rows (SQL in ``sql/queries/sync_*.sql``).

The session's tables are the source of truth: the executive summary and the customer reports
are computed from them, so what the files say is what the database says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query

NOT_STARTED = "pending"
"""The status of a customer line that never started: not reached yet, or (with its ``error``
saying so) blocked because another session held the customer's sync lock."""


@dataclass
class CustomerLine:
    """A customer's line of a session (``reporting.sync_session_customers``)."""

    customer_key: str
    customer_name: str
    position: int
    status: str = NOT_STARTED
    records_in_scope: int = 0
    records_processed: int = 0
    records_synced: int = 0
    items_created: int = 0
    items_updated: int = 0
    subitems_created: int = 0
    subitems_updated: int = 0
    errors: int = 0
    pending_before: int = 0
    group_id: str | None = None
    group_title: str | None = None
    group_action: str | None = None
    group_applied: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    seconds: float = 0.0
    error: str | None = None
    report_file: str | None = None
    contract_emitted: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CustomerLine:
        names = cls.__dataclass_fields__
        values = {k: v for k, v in row.items() if k in names}
        values["seconds"] = float(values.get("seconds") or 0)
        return cls(**values)


@dataclass
class OperationRow:
    customer_key: str
    batch_no: int | None
    operation: str
    attempt: int
    status: str
    record_count: int
    error_count: int
    duration_ms: float
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: str | None


@dataclass
class RecordError:
    order_id: str
    batch_no: int | None
    cause: str
    message: str


@dataclass
class BatchRow:
    customer_key: str
    batch_no: int
    records: int
    synced: int
    errors: int
    api_operations: int
    seconds: float
    status: str


@dataclass
class PendingWrites:
    """What one batch (or group step) changes, written in one transaction."""

    operations: list[OperationRow] = field(default_factory=list)
    synced: list[tuple[int, str]] = field(default_factory=list)  # (record id, item id)
    failed: list[tuple[int, str | None, str, str]] = field(default_factory=list)  # id, item, cause, msg
    errors: list[RecordError] = field(default_factory=list)
    batches: list[BatchRow] = field(default_factory=list)


def insert_session(conn: Connection, values: Mapping[str, Any]) -> bool:
    """Insert the session row; False when the sync id is already taken."""
    row = conn.execute(
        query("sync_session_insert"),
        {**values, "filters": Jsonb(values["filters"]), "customers": Jsonb(values["customers"])},
    ).fetchone()
    return row is not None


def upsert_customer(conn: Connection, sync_id: str, line: CustomerLine) -> None:
    conn.execute(query("sync_customer_upsert"), {"sync_id": sync_id, **asdict(line)})


def set_report_files(conn: Connection, sync_id: str, files: Mapping[str, str]) -> None:
    if files:
        conn.execute(
            query("sync_customer_report_file"),
            {"sync_id": sync_id, "customer_keys": list(files), "report_files": list(files.values())},
        )


def write_batch(
    conn: Connection, sync_id: str, customer_key: str, group_id: str | None, writes: PendingWrites
) -> None:
    """Operations, record outcomes, errors and batch rows of one step (caller commits)."""
    if writes.operations:
        with conn.cursor() as cur:
            cur.executemany(
                query("sync_operation_insert"),
                [  # fields by hand: asdict() would deep-copy every payload
                    {
                        "sync_id": sync_id,
                        "customer_key": op.customer_key,
                        "batch_no": op.batch_no,
                        "operation": op.operation,
                        "attempt": op.attempt,
                        "status": op.status,
                        "record_count": op.record_count,
                        "error_count": op.error_count,
                        "duration_ms": op.duration_ms,
                        "error": op.error,
                        "request": Jsonb(op.request),
                        "response": None if op.response is None else Jsonb(op.response),
                    }
                    for op in writes.operations
                ],
            )
    if writes.synced:
        conn.execute(
            query("sync_records_synced"),
            {
                "sync_id": sync_id,
                "group_id": group_id,
                "ids": [i for i, _ in writes.synced],
                "item_ids": [item for _, item in writes.synced],
            },
        )
    if writes.failed:
        conn.execute(
            query("sync_records_failed"),
            {
                "sync_id": sync_id,
                "ids": [f[0] for f in writes.failed],
                "item_ids": [f[1] for f in writes.failed],
                "causes": [f[2] for f in writes.failed],
                "messages": [f[3] for f in writes.failed],
            },
        )
    if writes.errors:
        conn.execute(
            query("sync_errors_insert"),
            {
                "sync_id": sync_id,
                "customer_key": customer_key,
                "order_ids": [e.order_id for e in writes.errors],
                "batch_nos": [e.batch_no for e in writes.errors],
                "causes": [e.cause for e in writes.errors],
                "messages": [e.message for e in writes.errors],
            },
        )
    for batch in writes.batches:
        conn.execute(query("sync_batch_insert"), {"sync_id": sync_id, **asdict(batch)})


def finish_session(
    conn: Connection,
    sync_id: str,
    *,
    status: str,
    error: str | None,
    reports_error: str | None,
    finalized_by: str,
    summary_json: Mapping[str, Any] | None,
    summary_markdown: str | None,
) -> None:
    conn.execute(
        query("sync_session_finish"),
        {
            "sync_id": sync_id,
            "status": status,
            "finished_at": dt.datetime.now(dt.UTC),
            "error": error,
            "reports_error": reports_error,
            "finalized_by": finalized_by,
            "summary_json": None if summary_json is None else Jsonb(summary_json),
            "summary_markdown": summary_markdown,
        },
    )


def get_session(
    conn: Connection, *, sync_id: str | None = None, run_id: str | None = None
) -> dict[str, Any] | None:
    return conn.execute(query("sync_session_get"), {"sync_id": sync_id, "run_id": run_id}).fetchone()


def running_sessions(conn: Connection) -> list[dict[str, Any]]:
    """(sync_id, run_id) of the sessions still marked running."""
    return conn.execute(query("sync_sessions_running")).fetchall()


def customer_lines(conn: Connection, sync_id: str) -> list[CustomerLine]:
    return [
        CustomerLine.from_row(r) for r in conn.execute(query("sync_summary_customers"), {"sync_id": sync_id})
    ]


def operation_stats(conn: Connection, sync_id: str) -> dict[str, dict[str, Any]]:
    return {
        r["customer_key"]: r for r in conn.execute(query("sync_summary_operations"), {"sync_id": sync_id})
    }


def batches(conn: Connection, sync_id: str) -> list[dict[str, Any]]:
    return conn.execute(query("sync_summary_batches"), {"sync_id": sync_id}).fetchall()


def errors_by_cause(conn: Connection, sync_id: str) -> list[dict[str, Any]]:
    return conn.execute(query("sync_summary_errors"), {"sync_id": sync_id}).fetchall()


def order_errors(
    conn: Connection, customer_keys: Sequence[str], per_customer: int
) -> dict[str, list[dict[str, Any]]]:
    """The order list's failed records per customer (reports read nothing else from it but
    :func:`pending_summary`)."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in customer_keys}
    for row in conn.execute(
        query("sync_report_order_errors"),
        {"customer_keys": list(customer_keys), "per_customer": per_customer},
    ):
        out[row["customer_key"]].append(row)
    return out


def pending_summary(
    conn: Connection, customer_keys: Sequence[str], per_customer: int
) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        query("sync_report_pending"), {"customer_keys": list(customer_keys), "per_customer": per_customer}
    ).fetchall()
    return {r["customer_key"]: r for r in rows}
