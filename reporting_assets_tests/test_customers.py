"""Customer partition keys and the customer registry against the real database."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from reporting_assets.customers import (
    Customer,
    Registration,
    add_customer,
    get_customer,
    key_problem,
    list_customers,
    suggest_key,
    validate_key,
)
from reporting_assets.errors import CustomerError
from reporting_assets.partitions import CUSTOMERS_PARTITIONS_NAME

VALID_KEYS = ["ACTIVELY BLACK", "AT&T", "O'NEILL", "PELOTON", "A", "acme_2.0-eu", "X" * 100, "7 FOR ALL"]
INVALID_KEYS = [
    "../etc/passwd",
    "..",
    "A..B",
    "ACME|2025-06-17",
    "ACME, INC",
    "ACME/EU",
    "ACME\\EU",
    " ACME",
    "ACME ",
    "ACME\n",
    "",
    "-ACME",
    ".hidden",
    "X" * 101,
    "Café",
    "ACME\tEU",
]


@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_keys(key: str) -> None:
    assert key_problem(key) is None
    assert validate_key(key) == key


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys(key: str) -> None:
    problem = key_problem(key)
    assert problem is not None
    assert repr(key) in problem
    with pytest.raises(CustomerError, match="Try --key ") as info:
        validate_key(key)
    suggestion = suggest_key(key)
    assert f"Try --key {suggestion!r}" in str(info.value)
    assert key_problem(suggestion) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../etc/passwd", "etc-passwd"),
        ("ACME|2025-06-17", "ACME-2025-06-17"),
        ("ACME, INC", "ACME- INC"),
        ("ACME/EU", "ACME-EU"),
        ("  ACME  ", "ACME"),
        ("A..B", "A.B"),
        ("ACTIVELY BLACK", "ACTIVELY BLACK"),
        ("AT&T", "AT&T"),
        ("O'NEILL", "O'NEILL"),
        ("|||", "CUSTOMER"),
        ("", "CUSTOMER"),
    ],
)
def test_suggest_key(name: str, expected: str) -> None:
    assert suggest_key(name) == expected
    assert key_problem(suggest_key(name)) is None


@pytest.mark.parametrize(
    "name",
    [
        "X" * 101,
        "a" * 99 + "/" + "b" * 200,
        "Café ☕ 東京",
        "..." * 50,
        "-" * 10 + "A",
        "<script>alert(1)</script>",
        "A" + ". " * 80 + "B",
        "'&'",
        "A" * 99 + "..B",
    ],
)
def test_suggest_key_is_always_valid(name: str) -> None:
    suggestion = suggest_key(name)
    assert key_problem(suggestion) is None, suggestion
    assert 1 <= len(suggestion) <= 100


def test_key_length_limit_is_100() -> None:
    assert key_problem("X" * 100) is None
    assert key_problem("X" * 101) is not None
    assert len(suggest_key("X" * 101)) == 100


# --- registry against PostgreSQL ----------------------------------------------------------------


def _rows(conn: psycopg.Connection) -> list[dict]:
    return conn.execute(
        "SELECT partition_key, display_name FROM reporting.customers ORDER BY partition_key"
    ).fetchall()


def test_add_customer_is_idempotent(conn: psycopg.Connection, instance: dg.DagsterInstance) -> None:
    first = add_customer(conn, instance, "ACTIVELY BLACK")
    second = add_customer(conn, instance, "ACTIVELY BLACK")
    assert (first.outcome, second.outcome) == ("registered", "unchanged")
    assert first.customer == second.customer == Customer("ACTIVELY BLACK", "ACTIVELY BLACK")
    assert _rows(conn) == [{"partition_key": "ACTIVELY BLACK", "display_name": "ACTIVELY BLACK"}]
    assert instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME) == ["ACTIVELY BLACK"]


def test_add_customer_strips_display_name(conn: psycopg.Connection, instance: dg.DagsterInstance) -> None:
    customer = add_customer(conn, instance, "  PELOTON  ").customer
    assert customer.partition_key == "PELOTON" and customer.display_name == "PELOTON"
    assert instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME) == ["PELOTON"]


def test_rename_via_same_key_updates_display_name(
    conn: psycopg.Connection, instance: dg.DagsterInstance
) -> None:
    add_customer(conn, instance, "PELOTON")
    created = conn.execute(
        "SELECT created_at, updated_at FROM reporting.customers WHERE partition_key = 'PELOTON'"
    ).fetchone()
    renamed = add_customer(conn, instance, "Peloton Interactive, Inc.", key="PELOTON", rename=True)
    assert renamed == Registration(
        Customer("PELOTON", "Peloton Interactive, Inc."), "renamed", previous_name="PELOTON"
    )
    assert _rows(conn) == [{"partition_key": "PELOTON", "display_name": "Peloton Interactive, Inc."}]
    after = conn.execute(
        "SELECT created_at, updated_at FROM reporting.customers WHERE partition_key = 'PELOTON'"
    ).fetchone()
    assert after["created_at"] == created["created_at"]
    assert after["updated_at"] >= created["updated_at"]
    assert get_customer(conn, "PELOTON").display_name == "Peloton Interactive, Inc."
    assert instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME) == ["PELOTON"]


def test_bad_display_name_without_key_suggests_one(
    conn: psycopg.Connection, instance: dg.DagsterInstance
) -> None:
    with pytest.raises(
        CustomerError, match=r"'ACME/EU \| Retail' is not a valid customer partition key"
    ) as info:
        add_customer(conn, instance, "ACME/EU | Retail")
    message = str(info.value)
    assert "'ACME/EU | Retail' is not a valid customer partition key" in message
    assert "--key 'ACME-EU - Retail'" in message
    assert _rows(conn) == []
    assert instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME) == []
    # the suggested key works
    customer = add_customer(conn, instance, "ACME/EU | Retail", key=suggest_key("ACME/EU | Retail")).customer
    assert customer == get_customer(conn, "ACME-EU - Retail")
    assert customer.display_name == "ACME/EU | Retail"


def test_bad_explicit_key_is_rejected(conn: psycopg.Connection, instance: dg.DagsterInstance) -> None:
    with pytest.raises(CustomerError, match=r"Try --key 'etc'"):
        add_customer(conn, instance, "Etc Corp", key="../etc")
    assert _rows(conn) == []


@pytest.mark.parametrize("name", ["", "   ", "X" * 256])
def test_empty_or_long_display_names(
    conn: psycopg.Connection, instance: dg.DagsterInstance, name: str
) -> None:
    with pytest.raises(CustomerError, match=r"non-empty display name|limited to 255 characters"):
        add_customer(conn, instance, name, key="OK")
    assert _rows(conn) == []


def test_unicode_display_name_with_explicit_key(
    conn: psycopg.Connection, instance: dg.DagsterInstance
) -> None:
    add_customer(conn, instance, "Café ☕ 東京", key="CAFE TOKYO")
    assert get_customer(conn, "CAFE TOKYO").display_name == "Café ☕ 東京"


def test_get_customer_unknown_key_names_close_matches(conn: psycopg.Connection, customers: list[str]) -> None:
    assert get_customer(conn, "PELOTON").display_name == "PELOTON"
    with pytest.raises(CustomerError, match="'PELOTN' is not registered") as info:
        get_customer(conn, "PELOTN")
    message = str(info.value)
    assert "'PELOTN' is not registered" in message
    assert "Did you mean 'PELOTON'?" in message
    assert "customers add 'PELOTN'" in message


def test_get_customer_unknown_key_without_close_match(conn: psycopg.Connection, customers: list[str]) -> None:
    with pytest.raises(CustomerError, match="'ZZZZZZZZZZ' is not registered") as info:
        get_customer(conn, "ZZZZZZZZZZ")
    assert "Did you mean" not in str(info.value)
    assert "'ZZZZZZZZZZ' is not registered" in str(info.value)


def test_sample_customers_fixture(
    conn: psycopg.Connection, instance: dg.DagsterInstance, customers: list[str]
) -> None:
    assert [c.partition_key for c in list_customers(conn)] == sorted(customers)
    assert sorted(instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME)) == sorted(customers)


def test_database_rejects_invalid_keys_too(conn: psycopg.Connection, instance: dg.DagsterInstance) -> None:
    with pytest.raises(
        psycopg.errors.CheckViolation, match='violates check constraint "customers_partition_key_check"'
    ):
        conn.execute(
            "INSERT INTO reporting.customers (partition_key, display_name) VALUES (%s, %s)",
            ("../etc", "bad"),
        )
    conn.rollback()
    assert _rows(conn) == []


# --- hostile and clumsy input -------------------------------------------------------------------

EVIL_NAME = "Evil\nCorp\x1b[2J\x1b[31mRED\x07"


def _partitions(instance: dg.DagsterInstance) -> list[str]:
    return sorted(instance.get_dynamic_partitions(CUSTOMERS_PARTITIONS_NAME))


def test_control_characters_in_a_display_name_are_refused(
    conn: psycopg.Connection, instance: dg.DagsterInstance, customers: list[str]
) -> None:
    before = _rows(conn)
    with pytest.raises(
        CustomerError,
        match=r"^The customer display name holds the control character U\+000A \(LINE FEED\) at position 5;",
    ):
        add_customer(conn, instance, EVIL_NAME, key="EVIL")
    with pytest.raises(CustomerError, match=r"U\+001B \(ESCAPE\) at position 5"):
        add_customer(conn, instance, "Evil\x1b[2J", key="EVIL")
    with pytest.raises(CustomerError, match=r"U\+2028 \(LINE SEPARATOR\) at position 2"):
        add_customer(conn, instance, "E\u2028vil", key="EVIL")
    with pytest.raises(CustomerError, match=r"U\+000A \(LINE FEED\) at position 8"):
        add_customer(conn, instance, "PELOTON\n")  # not silently stripped either
    assert _rows(conn) == before
    assert _partitions(instance) == sorted(customers)


def test_the_database_refuses_control_characters_in_display_names_too(
    conn: psycopg.Connection, instance: dg.DagsterInstance
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="customers_display_name_no_control_characters"):
        conn.execute(
            "INSERT INTO reporting.customers (partition_key, display_name) VALUES (%s, %s)",
            ("EVIL", EVIL_NAME),
        )
    conn.rollback()
    assert _rows(conn) == []


@pytest.mark.parametrize("name", ["peloton", "Peloton", "pELOTON"])
def test_a_key_that_differs_only_by_case_is_refused_naming_the_customer(
    conn: psycopg.Connection, instance: dg.DagsterInstance, customers: list[str], name: str
) -> None:
    before = _rows(conn)
    with pytest.raises(
        CustomerError,
        match=rf"^Partition key '{name}' differs only by case from the registered customer 'PELOTON' "
        r"\(partition key 'PELOTON'\); partition keys are compared without case",
    ):
        add_customer(conn, instance, name)
    assert _rows(conn) == before
    assert get_customer(conn, "PELOTON").display_name == "PELOTON"
    assert _partitions(instance) == sorted(customers)


def test_a_display_name_that_differs_only_by_case_is_refused(
    conn: psycopg.Connection, instance: dg.DagsterInstance, customers: list[str]
) -> None:
    before = _rows(conn)
    with pytest.raises(
        CustomerError,
        match=r"^Display name 'Greyson' differs only by case from \(or equals\) the name of the registered "
        r"customer 'GREYSON' \(partition key 'GREYSON'\)",
    ):
        add_customer(conn, instance, "Greyson", key="GREYSON-EU")
    # nor may a rename take another customer's name
    with pytest.raises(CustomerError, match=r"'greyson' differs only by case .* 'GREYSON'"):
        add_customer(conn, instance, "greyson", key="PELOTON", rename=True)
    assert _rows(conn) == before
    assert _partitions(instance) == sorted(customers)


def test_the_database_refuses_case_clashes_too(
    conn: psycopg.Connection, instance: dg.DagsterInstance, customers: list[str]
) -> None:
    for key, name in (("peloton", "Peloton Two"), ("PELOTON-2", "Peloton")):
        with pytest.raises(psycopg.errors.UniqueViolation, match="_lower_key"):
            conn.execute(
                "INSERT INTO reporting.customers (partition_key, display_name) VALUES (%s, %s)", (key, name)
            )
        conn.rollback()
    assert [r["partition_key"] for r in _rows(conn)] == sorted(customers)


def test_an_existing_key_with_another_name_is_not_silently_renamed(
    conn: psycopg.Connection, instance: dg.DagsterInstance, customers: list[str]
) -> None:
    before = _rows(conn)
    with pytest.raises(
        CustomerError,
        match=r"^Partition key 'PELOTON' is already registered as 'PELOTON'; nothing was changed\. To "
        r"rename it to 'Evil Rename', run `reporting-assets customers add 'Evil Rename' --key "
        r"'PELOTON' --rename`\.$",
    ):
        add_customer(conn, instance, "Evil Rename", key="PELOTON")
    assert _rows(conn) == before
    renamed = add_customer(conn, instance, "Evil Rename", key="PELOTON", rename=True)
    assert renamed == Registration(Customer("PELOTON", "Evil Rename"), "renamed", previous_name="PELOTON")
    again = add_customer(conn, instance, "Evil Rename", key="PELOTON")
    assert again == Registration(Customer("PELOTON", "Evil Rename"), "unchanged")
    assert _rows(conn) == [
        {"partition_key": "ACTIVELY BLACK", "display_name": "ACTIVELY BLACK"},
        {"partition_key": "GREYSON", "display_name": "GREYSON"},
        {"partition_key": "PELOTON", "display_name": "Evil Rename"},
    ]
    assert _partitions(instance) == sorted(customers)


def test_did_you_mean_ignores_case(conn: psycopg.Connection, customers: list[str]) -> None:
    with pytest.raises(
        CustomerError,
        match=r"^Customer 'greyson' is not registered; partition keys are case-sensitive\. "
        r"Did you mean 'GREYSON'\?$",
    ):
        get_customer(conn, "greyson")
    with pytest.raises(CustomerError, match=r"'pelotn' is not registered\. Did you mean 'PELOTON'\?"):
        get_customer(conn, "pelotn")
