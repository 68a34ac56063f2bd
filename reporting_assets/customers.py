"""The customer registry: display names, validated partition keys, Dagster partitions in sync."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import dagster as dg

from reporting_assets.db.connection import Connection
from reporting_assets.errors import CustomerError
from reporting_assets.partitions import CUSTOMERS_PARTITIONS_NAME

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 &'._-]{0,99}$")
KEY_RULES = (
    "1-100 characters: letters, digits, spaces and & ' . _ -, starting with a letter or digit, "
    "no '..', no leading or trailing spaces (so no '|', ',', '/', '\\' or path tricks)"
)


@dataclass(frozen=True)
class Customer:
    partition_key: str
    display_name: str


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a partition key, or None when it can."""
    if not _KEY_PATTERN.match(key) or ".." in key or key != key.strip():
        return f"{key!r} is not a valid customer partition key: {KEY_RULES}"
    return None


def suggest_key(display_name: str) -> str:
    """A valid partition key close to ``display_name`` (used in error messages and defaults)."""
    key = re.sub(r"[^A-Za-z0-9 &'._-]+", "-", display_name)
    key = re.sub(r"\.{2,}", ".", key)
    key = re.sub(r"-{2,}", "-", key).strip(" -._&'")[:100].strip(" -._&'")
    return key or "CUSTOMER"


def validate_key(key: str) -> str:
    problem = key_problem(key)
    if problem:
        raise CustomerError(f"{problem}. Try --key {suggest_key(key)!r}.")
    return key


def add_customer(
    conn: Connection,
    instance: dg.DagsterInstance | None,
    display_name: str,
    key: str | None = None,
) -> Customer:
    """Register (or rename) a customer and add its Dagster partition. Idempotent."""
    display_name = display_name.strip()
    if not display_name:
        raise CustomerError("A customer needs a non-empty display name.")
    if len(display_name) > 255:
        raise CustomerError("Customer display names are limited to 255 characters.")
    if key is None:
        problem = key_problem(display_name)
        if problem:
            raise CustomerError(
                f"{problem}. Register it with an explicit key, e.g. "
                f"`reporting-assets customers add {display_name!r} --key {suggest_key(display_name)!r}`."
            )
        key = display_name
    validate_key(key)
    conn.execute(
        """INSERT INTO reporting.customers (partition_key, display_name) VALUES (%s, %s)
           ON CONFLICT (partition_key) DO UPDATE SET display_name = EXCLUDED.display_name,
               updated_at = now()
           WHERE reporting.customers.display_name IS DISTINCT FROM EXCLUDED.display_name""",
        (key, display_name),
    )
    conn.commit()
    if instance is not None:
        sync_partitions(conn, instance)
    return Customer(key, display_name)


def list_customers(conn: Connection) -> list[Customer]:
    rows = conn.execute(
        "SELECT partition_key, display_name FROM reporting.customers ORDER BY partition_key"
    ).fetchall()
    return [Customer(r["partition_key"], r["display_name"]) for r in rows]


def sync_partitions(conn: Connection, instance: dg.DagsterInstance) -> list[str]:
    """Add registered customers missing from the ``customers`` dynamic partitions."""
    keys = [c.partition_key for c in list_customers(conn)]
    known = set(instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME))
    missing = [k for k in keys if k not in known]
    if missing:
        instance.add_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME, missing)
    return missing


def get_customer(conn: Connection, key: str) -> Customer:
    """The registered customer for ``key``, or an error naming close matches."""
    row = conn.execute(
        "SELECT partition_key, display_name FROM reporting.customers WHERE partition_key = %s",
        (key,),
    ).fetchone()
    if row:
        return Customer(row["partition_key"], row["display_name"])
    known = [c.partition_key for c in list_customers(conn)]
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise CustomerError(
        f"Customer {key!r} is not registered.{hint} Register it with "
        f"`reporting-assets customers add {key!r}` before running pipelines for it."
    )


def display_names(conn: Connection, keys: list[str]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT partition_key, display_name FROM reporting.customers WHERE partition_key = ANY(%s)",
        (keys,),
    ).fetchall()
    return {r["partition_key"]: r["display_name"] for r in rows}
