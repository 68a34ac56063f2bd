"""``recipients`` and ``deliveries`` commands, through argparse exactly as ``reporting-assets``
wires them (``add_cli`` on the top-level subparsers, ReportingError -> exit 2)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import dagster as dg
import psycopg
import pytest

from reporting_assets.db.connection import Connection
from reporting_assets.delivery.addresses import normalize_email
from reporting_assets.delivery.cli import add_cli
from reporting_assets.delivery.errors import DeliveryAttemptError
from reporting_assets.delivery.ledger import DeliveryKey, Sent, deliver_once
from reporting_assets.errors import ReportingError


def cli(*argv: str) -> int:
    """What ``reporting_assets.cli.main`` does once ``add_cli(sub)`` is wired."""
    parser = argparse.ArgumentParser(prog="reporting-assets")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_cli(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ReportingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


@pytest.mark.parametrize(
    "args",
    [
        ["recipients"],
        ["recipients", "add"],
        ["recipients", "remove"],
        ["recipients", "list"],
        ["deliveries", "list"],
    ],
)
def test_every_command_has_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$") as exit_info:
        cli(*args, "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: reporting-assets")
    assert len(out.splitlines()) > 3


def test_recipients_add_list_remove(
    customers: list[str], conn: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("recipients", "add", "PELOTON", " Ops@Peloton.Example ", "--name", "Peloton  Ops") == 0
    assert capsys.readouterr().out == (
        "Added ops@peloton.example (Peloton Ops) as a daily summary recipient of 'PELOTON'\n"
    )
    assert cli("recipients", "add", "PELOTON", "ops@peloton.example") == 0
    assert capsys.readouterr().out.startswith("Already a recipient: ops@peloton.example (Peloton Ops)")
    assert cli("recipients", "add", "ACTIVELY BLACK", "team+daily@activelyblack.example") == 0
    capsys.readouterr()

    assert cli("recipients", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["customer_key"], r["email"], r["display_name"], r["active"]) for r in listed] == [
        ("ACTIVELY BLACK", "team+daily@activelyblack.example", None, True),
        ("PELOTON", "ops@peloton.example", "Peloton Ops", True),
    ]
    assert cli("recipients", "list", "PELOTON") == 0
    assert capsys.readouterr().out.split() == ["PELOTON", "ops@peloton.example", "Peloton", "Ops"]

    assert cli("recipients", "remove", "PELOTON", "OPS@peloton.example") == 0
    assert "Removed ops@peloton.example" in capsys.readouterr().out
    assert cli("recipients", "list", "PELOTON", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []

    # removing a customer removes its recipients (ON DELETE CASCADE)
    conn.execute("DELETE FROM reporting.customers WHERE partition_key = 'ACTIVELY BLACK'")
    conn.commit()
    assert cli("recipients", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["recipients", "add", "PELOTON", "not-an-address"], "'not-an-address' is not a valid email address"),
        (["recipients", "add", "PELOTON", "a@b"], "'a@b' is not a valid email address"),
        (["recipients", "add", "PELOTON", "ops@peloton.example\nBcc: x@evil.example"], "not a valid email"),
        (["recipients", "add", "PELOTON", "jörg@peloton.example"], "SMTPUTF8"),
        (["recipients", "add", "PELOTN", "ops@peloton.example"], "Did you mean 'PELOTON'?"),
        (["recipients", "remove", "PELOTON", "nobody@peloton.example"], "is not a summary recipient"),
        (["recipients", "list", "NOPE"], "Customer 'NOPE' is not registered"),
    ],
)
def test_errors_are_explained_and_exit_2(
    customers: list[str], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_database_rejects_what_the_cli_would(customers: list[str], conn: Connection) -> None:
    assert normalize_email("A.B-c+d@Sub.Example.COM") == "a.b-c+d@sub.example.com"
    with pytest.raises(
        psycopg.errors.CheckViolation, match='violates check constraint "summary_recipients_email_check"'
    ):
        conn.execute(
            "INSERT INTO reporting.summary_recipients (customer_key, email) VALUES ('PELOTON', 'Not Valid')"
        )
    conn.rollback()
    with pytest.raises(
        psycopg.errors.ForeignKeyViolation,
        match='violates foreign key constraint "summary_recipients_customer_key_fkey"',
    ):
        conn.execute(
            "INSERT INTO reporting.summary_recipients (customer_key, email) VALUES ('NOPE', 'a@b.example')"
        )
    conn.rollback()


def test_deliveries_list_shows_failures_with_their_error(
    instance: dg.DagsterInstance, conn: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    content = hashlib.sha256(b"x").hexdigest()

    def refused() -> Sent:
        raise DeliveryAttemptError(
            "recipient refused by smtp:25: bad@x.example: 550 no such user", attempts=1
        )

    deliver_once(
        conn,
        DeliveryKey("daily_summary", "daily_summary:PELOTON|2025-06-17", "email", "bad@x.example", content),
        refused,
    )
    deliver_once(
        conn,
        DeliveryKey("daily_summary", "daily_summary:PELOTON|2025-06-17", "email", "ok@x.example", content),
        lambda: Sent(message_id="<1@x>"),
    )

    assert cli("deliveries", "list", "--status", "failed") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "failed" in out[0] and "daily_summary:PELOTON|2025-06-17  -> bad@x.example  (attempts 1)" in out[0]
    assert out[1].strip() == "error: recipient refused by smtp:25: bad@x.example: 550 no such user"

    assert cli("deliveries", "list", "--subject", "daily_summary:PELOTON|", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["recipient"], r["status"]) for r in rows) == [
        ("bad@x.example", "failed"),
        ("ok@x.example", "sent"),
    ]
