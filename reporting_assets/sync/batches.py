"""An executed session's work for one customer on the target: its one group, then per batch
find items by key, create the missing ones, update the others, and upsert their subitems.
Matching by key makes a re-run an upsert, also after a crash between a create on the target and
the database write. The engine logs what these steps return."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.sync import store
from reporting_assets.sync.calls import TargetCalls, group_title, item_payload
from reporting_assets.sync.config import SyncProfile
from reporting_assets.sync.errors import TargetError
from reporting_assets.sync.ledger import commit_step, counters_kept_on_commit, record_failure
from reporting_assets.sync.model import CustomerRun
from reporting_assets.sync.order_list import OrderRecord

Fail = Callable[[Sequence[OrderRecord], str, str], None]
"""Marks records of a batch failed (once each) with a cause and a message."""


@dataclass(frozen=True)
class BatchOutcome:
    synced: int
    errors: int
    operations: int
    """API operations of the batch, every attempt counted."""
    seconds: float


class CustomerSync:
    """Sends one session's records to the target, customer by customer (execute mode)."""

    def __init__(
        self, calls: TargetCalls, profile: SyncProfile, sync_id: str, *, skip_subitems: bool
    ) -> None:
        self.calls = calls
        self.profile = profile
        self.sync_id = sync_id
        self.skip_subitems = skip_subitems

    def ensure_group(
        self, conn: Connection, customer: CustomerRun, sendable: Sequence[OrderRecord]
    ) -> str | None:
        """The customer's one group: known from the order list, found on the target, or created;
        then its id goes to ALL the customer's pending records. ``None`` when the target failed
        (the customer's error and its records' failures are then committed)."""
        line = customer.line
        title = group_title(customer)
        line.group_title = title
        writes = store.PendingWrites()
        known = conn.execute(query("sync_known_group"), {"customer_key": line.customer_key}).fetchone()
        try:
            if known:
                group_id, line.group_action = known["group_id"], "known"
            else:
                request = {"board": self.profile.board, "title": title}
                groups = self.calls.call(writes, customer, None, "get_groups", request, 0)["groups"]
                if groups:
                    group_id, line.group_action = groups[0]["id"], "found"
                else:
                    created = self.calls.call(writes, customer, None, "create_group", request, 0)
                    group_id, line.group_action = created["group"]["id"], "created"
        except TargetError as exc:
            line.error = (
                f"The target failed on the group step after {self.profile.max_retries + 1} attempt(s): {exc}"
            )
            for record in sendable:
                record_failure(customer, writes, record, None, exc.cause, line.error, None, execute=True)
            commit_step(conn, self.sync_id, customer, None, writes)
            return None
        line.group_id = str(group_id)
        applied = conn.execute(
            query("sync_group_apply"), {"group_id": group_id, "customer_key": line.customer_key}
        )
        line.group_applied = max(applied.rowcount or 0, 0)
        commit_step(conn, self.sync_id, customer, None, writes)
        return line.group_id

    def sync_batch(
        self,
        conn: Connection,
        customer: CustomerRun,
        group_id: str,
        number: int,
        batch: Sequence[OrderRecord],
    ) -> BatchOutcome:
        """Batch ``number``: its items and subitems upserted, its rows and counters committed."""
        with counters_kept_on_commit(customer):
            return self._sync_batch(conn, customer, group_id, number, batch)

    def _sync_batch(
        self,
        conn: Connection,
        customer: CustomerRun,
        group_id: str,
        number: int,
        batch: Sequence[OrderRecord],
    ) -> BatchOutcome:
        line = customer.line
        started = time.perf_counter()
        writes = store.PendingWrites()
        done: dict[int, str] = {}  # record id -> item id (item ok so far)
        failed: set[int] = set()
        by_key = {r.order_id: r for r in batch}

        def fail(records: Sequence[OrderRecord], cause: str, message: str) -> None:
            for record in records:
                if record.id not in failed:
                    failed.add(record.id)
                    record_failure(
                        customer, writes, record, number, cause, message, done.get(record.id), execute=True
                    )

        try:
            found = self.calls.call(
                writes,
                customer,
                number,
                "find_items",
                {"group_id": group_id, "column_id": self.profile.key_column, "keys": list(by_key)},
                len(batch),
            )
            existing = {item["key"]: item for item in found["items"]}
            creates = [r for r in batch if r.order_id not in existing]
            updates = [r for r in batch if r.order_id in existing]
            for operation, records in (("create_items", creates), ("update_items", updates)):
                if not records:
                    continue
                entries = []
                for record in records:
                    name, values = item_payload(self.profile, record)
                    entry: dict[str, Any] = {
                        "ref": record.order_id,
                        "name": name,
                        "key": record.order_id,
                        "column_values": values,
                    }
                    if operation == "update_items":
                        entry["item_id"] = existing[record.order_id]["id"]
                    entries.append(entry)
                payload: dict[str, Any] = {"items": entries}
                if operation == "create_items":
                    payload["group_id"] = group_id
                try:
                    response = self.calls.call(writes, customer, number, operation, payload, len(records))
                except TargetError as exc:
                    fail(records, exc.cause, f"{operation} failed: {exc}")
                    continue
                for result in response["results"]:
                    record = by_key[result["ref"]]
                    if "error" in result:
                        fail([record], "item_rejected", f"{operation}: {result['error']}")
                    else:
                        done[record.id] = result["id"]
                        (customer.created if operation == "create_items" else customer.updated).append(record)
                        if operation == "create_items":
                            line.items_created += 1
                        else:
                            line.items_updated += 1
            if not self.skip_subitems:
                self._sync_subitems(customer, writes, number, batch, existing, done, fail)
        except TargetError as exc:
            fail([r for r in batch if r.id not in failed], exc.cause, f"batch {number} failed: {exc}")
        synced = [r for r in batch if r.id in done and r.id not in failed]
        for record in synced:
            writes.synced.append((record.id, done[record.id]))
        line.records_processed += len(synced)
        line.records_synced += len(synced)
        errors = len(batch) - len(synced)
        seconds = time.perf_counter() - started
        batch_ops = len(writes.operations)
        writes.batches.append(
            store.BatchRow(
                line.customer_key,
                number,
                len(batch),
                len(synced),
                errors,
                batch_ops,
                round(seconds, 3),
                "success" if not errors else ("partial" if synced else "failed"),
            )
        )
        commit_step(conn, self.sync_id, customer, group_id, writes)
        return BatchOutcome(len(synced), errors, batch_ops, seconds)

    def _sync_subitems(
        self,
        customer: CustomerRun,
        writes: store.PendingWrites,
        number: int,
        batch: Sequence[OrderRecord],
        existing: Mapping[str, Mapping[str, Any]],
        done: Mapping[int, str],
        fail: Fail,
    ) -> None:
        """Create missing subitems and update changed ones (matched by name: no duplicates)."""
        quantity_column = self.profile.subitems.quantity_column
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        owner: dict[str, OrderRecord] = {}
        for record in batch:
            item_id = done.get(record.id)
            if item_id is None:
                continue
            present = {s["name"]: s for s in existing.get(record.order_id, {}).get("subitems", [])}
            for size, quantity in record.sizes.items():
                ref = f"{record.order_id}:{size}"
                owner[ref] = record
                values = {quantity_column: quantity}
                if size not in present:
                    creates.append(
                        {"ref": ref, "parent_item_id": item_id, "name": size, "column_values": values}
                    )
                elif present[size]["column_values"].get(quantity_column) != quantity:
                    updates.append({"ref": ref, "subitem_id": present[size]["id"], "column_values": values})
        for operation, entries in (("create_subitems", creates), ("update_subitems", updates)):
            if not entries:
                continue
            records = list({owner[e["ref"]].id: owner[e["ref"]] for e in entries}.values())
            try:
                response = self.calls.call(
                    writes, customer, number, operation, {"subitems": entries}, len(records)
                )
            except TargetError as exc:
                fail(
                    records,
                    "subitem_failed" if exc.cause != "timeout" else "timeout",
                    f"{operation} failed after retries: {exc}",
                )
                continue
            for result in response["results"]:
                if "error" in result:
                    fail([owner[result["ref"]]], "subitem_failed", f"{operation}: {result['error']}")
                elif operation == "create_subitems":
                    customer.line.subitems_created += 1
                else:
                    customer.line.subitems_updated += 1
