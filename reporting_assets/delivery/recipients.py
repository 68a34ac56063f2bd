"""Who receives each customer's daily summary email (``reporting.summary_recipients``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from reporting_assets.customers import get_customer
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.addresses import normalize_email
from reporting_assets.delivery.errors import RecipientError


@dataclass(frozen=True)
class Recipient:
    customer_key: str
    email: str
    display_name: str | None
    active: bool
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_key": self.customer_key,
            "email": self.email,
            "display_name": self.display_name,
            "active": self.active,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def _clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    flat = " ".join(name.split())
    if len(flat) > 255:
        raise RecipientError("Recipient display names are limited to 255 characters.")
    return flat or None


def _recipient(row: dict[str, Any]) -> Recipient:
    return Recipient(
        customer_key=row["customer_key"],
        email=row["email"],
        display_name=row["display_name"],
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def add_recipient(
    conn: Connection, customer_key: str, email: str, display_name: str | None = None
) -> tuple[Recipient, str]:
    """Add (or re-activate / rename) a recipient of ``customer_key``'s daily summary.

    Returns the recipient and what happened: ``added``, ``updated`` or ``unchanged``.
    """
    customer = get_customer(conn, customer_key)  # a CustomerError names close matches
    address = normalize_email(email)
    name = _clean_name(display_name)
    row = conn.execute(
        query("delivery_recipients_upsert"),
        {"customer_key": customer.partition_key, "email": address, "display_name": name},
    ).fetchone()
    conn.commit()
    outcome = "unchanged" if row is None else ("added" if row["inserted"] else "updated")
    stored = next(r for r in list_recipients(conn, customer.partition_key) if r.email == address)
    return stored, outcome


def remove_recipient(conn: Connection, customer_key: str, email: str) -> None:
    """Remove a recipient; past deliveries to it stay in the ledger."""
    customer = get_customer(conn, customer_key)
    address = normalize_email(email)
    row = conn.execute(
        query("delivery_recipients_delete"), {"customer_key": customer.partition_key, "email": address}
    ).fetchone()
    conn.commit()
    if row is None:
        current = [r.email for r in list_recipients(conn, customer.partition_key)]
        known = f" Its recipients: {', '.join(current)}." if current else " It has no recipients."
        raise RecipientError(f"{address} is not a summary recipient of {customer.partition_key!r}.{known}")


def list_recipients(
    conn: Connection, customer_key: str | None = None, *, active_only: bool = False
) -> list[Recipient]:
    rows = conn.execute(
        query("delivery_recipients_list"), {"customer_key": customer_key, "active_only": active_only}
    ).fetchall()
    return [_recipient(r) for r in rows]


def active_recipients(conn: Connection, customer_key: str) -> list[Recipient]:
    return list_recipients(conn, customer_key, active_only=True)
