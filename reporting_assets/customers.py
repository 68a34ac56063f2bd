"""The customer registry: display names, validated partition keys, Dagster partitions in sync."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Literal, LiteralString

import dagster as dg
import psycopg

from reporting_assets.db.connection import Connection
from reporting_assets.errors import CustomerError
from reporting_assets.partitions import CUSTOMERS_PARTITIONS_NAME
from reporting_assets.text_rules import refuse_control_characters

_TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
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


@dataclass(frozen=True)
class Registration:
    """What ``add_customer`` did, so the CLI can say it: registered, unchanged or renamed."""

    customer: Customer
    outcome: Literal["registered", "unchanged", "renamed"]
    previous_name: str | None = None
    tenant_set: str | None = None
    """The tenant given to an already registered customer that had none."""


def add_customer(
    conn: Connection,
    instance: dg.DagsterInstance | None,
    display_name: str,
    key: str | None = None,
    *,
    rename: bool = False,
    tenant: str | None = None,
) -> Registration:
    """Register a customer and add its Dagster partition; re-adding the same one is a no-op.

    Keys and display names are unique without regard to case, so ``peloton`` next to
    ``PELOTON`` is refused rather than becoming a second customer. An existing key with another
    display name is only renamed when ``rename`` is given, never silently. ``tenant`` (the API
    tenant whose users see this customer's reports) is set on a new customer or on one without a
    tenant; moving a customer to another tenant is refused.
    """
    if tenant is not None:
        _check_tenant(tenant)
    refuse_control_characters(display_name, "customer display name", CustomerError)
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
    rows = conn.execute(
        """SELECT partition_key, display_name, tenant_id,
                  lower(partition_key) = lower(%(key)s) AS key_clash
           FROM reporting.customers
           WHERE lower(partition_key) = lower(%(key)s) OR lower(display_name) = lower(%(name)s)
           ORDER BY partition_key = %(key)s DESC, partition_key""",
        {"key": key, "name": display_name},
    ).fetchall()
    conn.commit()  # end the read; the unique indexes catch a clash registered meanwhile
    existing = rows[0] if rows and rows[0]["partition_key"] == key else None
    for row in rows:
        if row is not existing:
            raise CustomerError(_clash_message(key, display_name, row))
    customer = Customer(key, display_name)
    tenant_set = None
    if existing is not None and tenant is not None and existing["tenant_id"] != tenant:
        if existing["tenant_id"] is not None:
            raise CustomerError(
                f"Customer {key!r} belongs to tenant {existing['tenant_id']!r}; nothing was changed. "
                f"Moving a customer to another tenant would show its reports to other people: change "
                f"reporting.customers.tenant_id deliberately if that is meant."
            )
        _write(conn, "UPDATE reporting.customers SET tenant_id = %s WHERE partition_key = %s", (tenant, key))
        tenant_set = tenant
    if existing is not None and existing["display_name"] == display_name:
        registration = Registration(customer, "unchanged", tenant_set=tenant_set)
    elif existing is not None:
        if not rename:
            raise CustomerError(
                f"Partition key {key!r} is already registered as {existing['display_name']!r}; "
                f"nothing was changed. To rename it to {display_name!r}, run "
                f"`reporting-assets customers add {display_name!r} --key {key!r} --rename`."
            )
        _write(
            conn,
            "UPDATE reporting.customers SET display_name = %s, updated_at = now() WHERE partition_key = %s",
            (display_name, key),
        )
        registration = Registration(customer, "renamed", existing["display_name"], tenant_set=tenant_set)
    else:
        _write(
            conn,
            "INSERT INTO reporting.customers (partition_key, display_name, tenant_id) VALUES (%s, %s, %s)",
            (key, display_name, tenant),
        )
        registration = Registration(customer, "registered")
    if instance is not None:
        sync_partitions(conn, instance)
    return registration


def _clash_message(key: str, display_name: str, row: dict[str, Any]) -> str:
    """Why a customer clashes with ``row`` (a key or display name equal to it but for case)."""
    other = f"the registered customer {row['display_name']!r} (partition key {row['partition_key']!r})"
    if row["key_clash"]:
        return (
            f"Partition key {key!r} differs only by case from {other}; partition keys are compared "
            f"without case, so this would be a second customer under almost the same key. Use "
            f"{row['partition_key']!r} to refer to that customer, or choose a different --key."
        )
    return (
        f"Display name {display_name!r} differs only by case from (or equals) the name of {other}; "
        f"display names are compared without case. Choose a different display name."
    )


def _check_tenant(tenant: str) -> None:
    if not _TENANT_PATTERN.match(tenant):
        raise CustomerError(
            f"Tenant {tenant!r} is not a valid tenant id: 1-100 letters, digits, '.', '_' or '-', starting "
            f"with a letter or digit (the tenant claim of the API's tokens)."
        )


def _write(conn: Connection, statement: LiteralString, params: tuple[str | None, ...]) -> None:
    """Run one change and commit it; a concurrent clash caught by the unique indexes is explained."""
    try:
        conn.execute(statement, params)
    except psycopg.errors.UniqueViolation as exc:
        conn.rollback()
        raise CustomerError(
            f"Another customer with the same partition key or display name (compared without case) "
            f"was registered at the same time ({exc.diag.message_detail or exc}). Run "
            f"`reporting-assets customers list` and try again with a different name or key."
        ) from exc
    conn.commit()


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
    # hints ignore case: 'greyson' suggests GREYSON (keys themselves are exact)
    known = {c.partition_key.lower(): c.partition_key for c in list_customers(conn)}
    if key.lower() in known:
        raise CustomerError(
            f"Customer {key!r} is not registered; partition keys are case-sensitive. Did you mean "
            f"{known[key.lower()]!r}?"
        )
    close = difflib.get_close_matches(key.lower(), list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(known[c]) for c in close)}?" if close else ""
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
