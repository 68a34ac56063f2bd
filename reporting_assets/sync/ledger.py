"""A customer's counters in memory and its rows in the database, kept telling the same story:
each step's rows and counters are committed together, and a step interrupted before its commit
leaves no counts behind."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from reporting_assets.db.connection import Connection
from reporting_assets.sync import store
from reporting_assets.sync.model import CustomerRun
from reporting_assets.sync.order_list import OrderRecord


@contextmanager
def counters_kept_on_commit(customer: CustomerRun) -> Iterator[None]:
    """If a step is interrupted before its commit, forget the counts it added in memory, so the
    summary written afterwards matches the rows in the database."""
    saved = copy.copy(customer.line)
    created, updated = len(customer.created), len(customer.updated)
    causes = {cause: len(messages) for cause, messages in customer.causes.items()}
    try:
        yield
    except BaseException:
        vars(customer.line).update(vars(saved))
        del customer.created[created:]
        del customer.updated[updated:]
        for cause in list(customer.causes):
            del customer.causes[cause][causes.get(cause, 0) :]
            if not customer.causes[cause]:
                del customer.causes[cause]
        raise


def record_failure(
    customer: CustomerRun,
    writes: store.PendingWrites,
    record: OrderRecord,
    batch_no: int | None,
    cause: str,
    message: str,
    item_id: str | None,
    *,
    execute: bool,
) -> None:
    """Count a failed record and queue its error row (and, when executing, its order list update)."""
    customer.line.records_processed += 1
    customer.line.errors += 1
    customer.causes.setdefault(cause, []).append(message)
    writes.errors.append(store.RecordError(record.order_id, batch_no, cause, message))
    if execute:
        writes.failed.append((record.id, item_id, cause, message))


def commit_step(
    conn: Connection, sync_id: str, customer: CustomerRun, group_id: str | None, writes: store.PendingWrites
) -> None:
    """One step's rows and the customer's counters so far, in one transaction: at every commit
    the database tells the same story the summary will (also for a run killed right after)."""
    line = customer.line
    store.write_batch(conn, sync_id, line.customer_key, group_id, writes)
    store.upsert_customer(conn, sync_id, line)
    conn.commit()
    if customer.reporter is not None:
        reporter = customer.reporter
        reporter.count_database_operations(
            "inserts", len(writes.operations) + len(writes.errors) + len(writes.batches)
        )
        reporter.count_database_operations("updates", len(writes.synced) + len(writes.failed) + 1)
