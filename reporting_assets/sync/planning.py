"""What a session may send and what a dry run would send: the preflight check of dropdown values
before any API call, and the planned operations (with their request payloads) of a dry run,
which calls nothing and changes neither the target nor the order list. The engine logs what
these return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.sync import store
from reporting_assets.sync.calls import group_title, item_payload
from reporting_assets.sync.config import SyncProfile
from reporting_assets.sync.errors import SyncPreflightError
from reporting_assets.sync.ledger import commit_step
from reporting_assets.sync.model import CustomerRun
from reporting_assets.sync.order_list import OrderRecord


@dataclass
class Preflight:
    """Pending records the target would refuse (a dropdown value it lacks), with their fixes."""

    mismatched: dict[str, dict[int, str]] = field(default_factory=dict)
    """customer -> record id -> the config fix that would make it sendable."""
    counts: dict[str, int] = field(default_factory=dict)
    """fix -> records it concerns."""
    columns: dict[str, str] = field(default_factory=dict)
    """fix -> the dropdown column."""

    def enforce(self, on_dropdown_mismatch: str) -> None:
        """With ``on_dropdown_mismatch = "abort"`` any mismatch stops the session before any call."""
        if self.mismatched and on_dropdown_mismatch == "abort":
            raise SyncPreflightError(
                f"{sum(self.counts.values())} pending record(s) have dropdown values the target does not "
                f'accept; nothing was sent (on_dropdown_mismatch = "abort"). '
                + " | ".join(f"{n} record(s): {fix}" for fix, n in self.counts.items())
            )


def preflight(customers: Sequence[CustomerRun], profile: SyncProfile, config_source: str) -> Preflight:
    """Why pending records cannot be sent, found before any API call."""
    found = Preflight()
    for customer in customers:
        for record in customer.records:
            for column in profile.dropdowns:
                value = str(getattr(record, column))
                if profile.dropdown_label(column, value) is None:
                    fix = profile.dropdown_fix(column, value, config_source)
                    found.mismatched.setdefault(record.customer_key, {})[record.id] = fix
                    found.counts[fix] = found.counts.get(fix, 0) + 1
                    found.columns[fix] = column
    return found


def plan_customer(
    conn: Connection,
    sync_id: str,
    customer: CustomerRun,
    sendable: Sequence[OrderRecord],
    profile: SyncProfile,
    *,
    skip_subitems: bool,
) -> store.PendingWrites:
    """Dry run: what the session would send, recorded as planned operations; nothing is called.
    Returns the planned batches and operations (committed already)."""
    line = customer.line
    writes = store.PendingWrites()
    title = group_title(customer)
    known = conn.execute(query("sync_known_group"), {"customer_key": line.customer_key}).fetchone()
    line.group_title = title
    if known:
        line.group_id, line.group_action = known["group_id"], "known"
    else:
        line.group_action = "planned"
        for operation in ("get_groups", "create_group"):
            writes.operations.append(
                planned(line.customer_key, None, operation, {"board": profile.board, "title": title}, 0)
            )
    line.group_applied = line.pending_before
    size = profile.batch_size
    for number, start in enumerate(range(0, len(sendable), size), start=1):
        batch = sendable[start : start + size]
        ops = [
            planned(
                line.customer_key,
                number,
                "find_items",
                {"group_id": line.group_id, "keys": [r.order_id for r in batch]},
                len(batch),
            )
        ]
        creates = [r for r in batch if not r.item_id]
        updates = [r for r in batch if r.item_id]
        for operation, records in (("create_items", creates), ("update_items", updates)):
            if records:
                entries = []
                for r in records:
                    name, values = item_payload(profile, r)
                    entry = {"ref": r.order_id, "name": name, "key": r.order_id, "column_values": values}
                    if r.item_id:
                        entry["item_id"] = r.item_id
                    entries.append(entry)
                ops.append(planned(line.customer_key, number, operation, {"items": entries}, len(records)))
        if creates and not skip_subitems:
            entries = [
                {
                    "ref": f"{r.order_id}:{s}",
                    "name": s,
                    "column_values": {profile.subitems.quantity_column: q},
                }
                for r in creates
                for s, q in r.sizes.items()
            ]
            ops.append(
                planned(line.customer_key, number, "create_subitems", {"subitems": entries}, len(creates))
            )
            line.subitems_created += len(entries)
        line.items_created += len(creates)
        line.items_updated += len(updates)
        line.records_processed += len(batch)
        line.records_synced += len(batch)
        writes.operations += ops
        writes.batches.append(
            store.BatchRow(line.customer_key, number, len(batch), len(batch), 0, len(ops), 0.0, "planned")
        )
    commit_step(conn, sync_id, customer, None, writes)
    return writes


def planned(
    customer_key: str, batch_no: int | None, operation: str, request: dict[str, Any], records: int
) -> store.OperationRow:
    """An API operation a dry run would make, recorded with status ``planned``."""
    return store.OperationRow(
        customer_key, batch_no, operation, 1, "planned", records, 0, 0.0, request, None, None
    )
