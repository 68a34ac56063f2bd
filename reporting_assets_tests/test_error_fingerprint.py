"""The error fingerprint: what is masked, what is kept, and messages nobody planned for."""

import pytest

from reporting_assets.error_patterns.fingerprint import MASKS, MAX_FINGERPRINT_LENGTH, fingerprint


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Order 1041 failed", "Order <n> failed"),
        ("Order -3 has 1,234.50 units", "Order <n> has <n> units"),
        ("ORD-20415 rejected", "ORD-<n> rejected"),
        ("Customer 'ACME Corp' not found", "Customer '<value>' not found"),
        ('Field "ship_date" is empty', 'Field "<value>" is empty'),
        ("can't reach `db-7`", "can't reach `<value>`"),
        ("Timeout at 2025-06-17T10:04:05.123Z after 30s", "Timeout at <time> after <n>s"),
        ("Started 2025-06-17 10:04:05+02:00, retried 10:05:00", "Started <time>, retried <time>"),
        ("Run 4f1c2a9e-8b7d-4c3e-9f0a-1b2c3d4e5f60 lost", "Run <id> lost"),
        ("Object 5f3a9c2e1b7d at 0x7ffd3a2b", "Object <id> at <id>"),
        ("Kestra execution 4Nc2Ua7d8ZpQxR5t9 failed", "Kestra execution <id> failed"),
        ("decade deadbeef facade", "decade deadbeef facade"),  # hex letters alone are words
        ("utf8 and s3", "utf<n> and s<n>"),
        ("  spaced\tout\n\nmessage  ", "spaced out message"),
    ],
)
def test_what_is_masked(message: str, expected: str) -> None:
    assert fingerprint(message) == expected


def test_ten_thousand_distinct_numbers_make_one_pattern() -> None:
    messages = [f"Order {n} failed: {n * 7} of {n * 13 + 1} lines at row {n % 97}" for n in range(10_000)]
    assert {fingerprint(m) for m in messages} == {"Order <n> failed: <n> of <n> lines at row <n>"}


def test_numbers_of_any_size_and_format_are_one_pattern() -> None:
    found = {fingerprint(f"retry {n} of 5") for n in ("7", "12345678901234567890", "1,000,000", "3.5", "-2")}
    assert found == {"retry <n> of <n>"}


def test_control_characters_unicode_and_emoji() -> None:
    assert fingerprint("Bad\x00\x07 row\x1b[31m 12\u2028next\x85 🚚 Zürich") == (
        "Bad\x00 row [<n>m <n> next 🚚 Zürich"
    )
    assert fingerprint("Lieferung für „Müller“ ✅ 42 Stück") == "Lieferung für „Müller“ ✅ <n> Stück"
    assert fingerprint("٣ Arabic-Indic digits stay") == "٣ Arabic-Indic digits stay"  # only ASCII digits


def test_empty_blank_and_very_long_messages() -> None:
    assert fingerprint("") == ""
    assert fingerprint(" \t\n") == ""
    long = fingerprint("x" * 10_000 + " 5")
    assert len(long) == MAX_FINGERPRINT_LENGTH and set(long) == {"x"}


def test_an_unmatched_quote_masks_nothing() -> None:
    assert fingerprint('value "open 12') == 'value "open <n>'


def test_every_mask_is_named_once() -> None:
    names = [m.name for m in MASKS]
    assert len(names) == len(set(names)) and names[0] == "space"
