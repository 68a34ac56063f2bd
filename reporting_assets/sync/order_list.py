"""The sample order list the sync reads (``reporting.sync_order_list``, standing in for the
upstream order list an ETL would fill), filled from the synthetic source: each customer's board
on a day becomes pending records, with sizes for subitems and a few cancelled orders (written
'Cancelled', which the target only knows as 'CANCELLED').
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.logging_ids import get_logger
from reporting_assets.sources import synthetic

log = get_logger(__name__)

SIZES = (("S", 20), ("M", 35), ("L", 30), ("XL", 15))
CANCELLED_PERCENT = 4
RECENT_SHIPPED_DAYS = 14
"""Shipped orders stay on the list this many days (older ones left the upstream table)."""


@dataclass(frozen=True)
class OrderRecord:
    """One pending record as the session sees it."""

    id: int
    customer_key: str
    order_id: str
    product: str
    quantity: int
    delivery_date: dt.date | None
    status: str
    sizes: dict[str, int]
    group_id: str | None
    item_id: str | None
    sync_attempts: int


@dataclass
class PendingScope:
    """The records a session will handle, per customer, and how many were pending in all."""

    records: dict[str, list[OrderRecord]] = field(default_factory=dict)
    pending_total: dict[str, int] = field(default_factory=dict)


def split_sizes(quantity: int) -> dict[str, int]:
    """A deterministic size breakdown (the subitems of an order)."""
    sizes: dict[str, int] = {}
    left = quantity
    for name, percent in SIZES[:-1]:
        sizes[name] = quantity * percent // 100
        left -= sizes[name]
    sizes[SIZES[-1][0]] = left
    return {name: qty for name, qty in sizes.items() if qty > 0}


def _cancelled(order_id: str) -> bool:
    return int(hashlib.sha256(order_id.encode()).hexdigest()[:4], 16) % 100 < CANCELLED_PERCENT


def sample_orders(customer_key: str, day: dt.date) -> list[dict[str, Any]]:
    """The customer's order list on ``day``: open orders and recently shipped ones."""
    orders = []
    for order in synthetic.board(customer_key, day).values():
        if (
            order.status == "Shipped"
            and order.shipped_on
            and (day - order.shipped_on).days > RECENT_SHIPPED_DAYS
        ):
            continue
        status = "Cancelled" if order.status != "Shipped" and _cancelled(order.order_id) else order.status
        orders.append(
            {
                "customer_key": customer_key,
                "order_id": order.order_id,
                "product": order.product,
                "quantity": order.quantity,
                "delivery_date": order.delivery_date,
                "status": status,
                "sizes": split_sizes(order.quantity),
            }
        )
    return sorted(orders, key=lambda o: o["order_id"])


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    changed: int


def store_orders(conn: Connection, orders: Sequence[dict[str, Any]]) -> LoadResult:
    """Upsert order rows (new: pending; changed: pending again; unchanged: untouched)."""
    if not orders:
        return LoadResult(0, 0)
    rows = conn.execute(
        query("sync_order_list_upsert"),
        {
            "customer_keys": [o["customer_key"] for o in orders],
            "order_ids": [o["order_id"] for o in orders],
            "products": [o["product"] for o in orders],
            "quantities": [o["quantity"] for o in orders],
            "delivery_dates": [o["delivery_date"] for o in orders],
            "statuses": [o["status"] for o in orders],
            "sizes": [Jsonb(o["sizes"]) for o in orders],
        },
    ).fetchall()
    inserted = sum(1 for r in rows if r["inserted"])
    return LoadResult(inserted, len(rows) - inserted)


def load_sample_orders(conn: Connection, customer_keys: Sequence[str], day: dt.date) -> LoadResult:
    """Fill the order list from the synthetic source for these customers and day."""
    orders = [o for key in customer_keys for o in sample_orders(key, day)]
    result = store_orders(conn, orders)
    conn.commit()
    log.info(
        "so-001",
        "Sample order list for %s: %d new, %d changed record(s) from the synthetic source",
        day.isoformat(),
        result.inserted,
        result.changed,
        customers=len(customer_keys),
    )
    return result


def pending_scope(conn: Connection, customer_keys: Sequence[str], limit: int | None) -> PendingScope:
    """The pending records of each customer, at most ``limit`` each, least-tried first."""
    scope = PendingScope(
        records={k: [] for k in customer_keys}, pending_total=dict.fromkeys(customer_keys, 0)
    )
    for row in conn.execute(
        query("sync_pending_records"), {"customer_keys": list(customer_keys), "limit": limit}
    ):
        scope.pending_total[row["customer_key"]] = int(row["pending_total"])
        scope.records[row["customer_key"]].append(
            OrderRecord(
                id=row["id"],
                customer_key=row["customer_key"],
                order_id=row["order_id"],
                product=row["product"],
                quantity=row["quantity"],
                delivery_date=row["delivery_date"],
                status=row["status"],
                sizes={str(k): int(v) for k, v in (row["sizes"] or {}).items()},
                group_id=row["group_id"],
                item_id=row["item_id"],
                sync_attempts=row["sync_attempts"],
            )
        )
    log.debug("so-002", "Read pending records of %d customer(s)", len(customer_keys))
    return scope
