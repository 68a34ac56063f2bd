"""``reporting-assets recipients ...`` and ``reporting-assets deliveries list``.

Wire into ``reporting_assets/cli.py`` with ``add_cli(sub)`` on the top-level subparsers; the
handlers follow the project's convention (``args.handler(args)`` returns the exit code, errors
are ReportingError subclasses that ``main()`` prints before exiting 2).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from reporting_assets.delivery.states import STATUSES


def _database_url() -> str:
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls

    url = resolve_urls().reporting
    migrate(url)
    return url


def _cmd_recipients(args: argparse.Namespace) -> int:
    from reporting_assets.db.connection import connect
    from reporting_assets.delivery.recipients import add_recipient, list_recipients, remove_recipient

    with connect(_database_url(), doing="managing summary recipients") as conn:
        if args.recipients_command == "add":
            recipient, outcome = add_recipient(conn, args.customer, args.email, args.name)
            name = f" ({recipient.display_name})" if recipient.display_name else ""
            verb = {"added": "Added", "updated": "Updated", "unchanged": "Already a recipient:"}[outcome]
            print(
                f"{verb} {recipient.email}{name} as a daily summary recipient of {recipient.customer_key!r}"
            )
        elif args.recipients_command == "remove":
            remove_recipient(conn, args.customer, args.email)
            print(
                f"Removed {args.email.strip().lower()} from the daily summary recipients of {args.customer!r}"
            )
        else:
            if args.customer is not None:
                from reporting_assets.customers import get_customer

                get_customer(conn, args.customer)  # unknown customer: an error, not an empty list
            recipients = list_recipients(conn, args.customer)
            if args.json:
                print(json.dumps([r.as_json() for r in recipients], ensure_ascii=False, indent=2))
            elif not recipients:
                print("No summary recipients. Add one: reporting-assets recipients add CUSTOMER EMAIL")
            else:
                for r in recipients:
                    state = "" if r.active else "  (inactive)"
                    print(f"{r.customer_key:<24} {r.email:<40} {r.display_name or ''}{state}".rstrip())
    return 0


def _cmd_deliveries(args: argparse.Namespace) -> int:
    from reporting_assets.db.connection import connect
    from reporting_assets.delivery.ledger import recent

    with connect(_database_url(), doing="reading the delivery ledger") as conn:
        rows = recent(conn, status=args.status, subject_prefix=args.subject, limit=args.limit)
    if args.json:
        print(json.dumps([d.as_json() for d in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("No deliveries match.")
        return 0
    for d in rows:
        when = f"{d.updated_at:%Y-%m-%d %H:%M}"
        line = (
            f"{when}  {d.status:<7} {d.key.kind:<18} {d.key.subject_key}  -> {d.key.recipient}"
            f"  (attempts {d.attempts})"
        )
        print(line)
        if d.last_error and d.status != "sent":
            print(f"      error: {d.last_error}")
    return 0


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 10000, got {value}")
    return value


def add_cli(subparsers: Any) -> None:
    """Add the ``recipients`` and ``deliveries`` commands to the top-level subparsers."""
    recipients = subparsers.add_parser(
        "recipients",
        help="who receives each customer's daily summary email",
        description="Manage the recipients of each customer's daily summary email. Every active "
        "recipient gets one email per customer and day (and one short correction if the summary is "
        "restated after it was sent).",
    )
    r_sub = recipients.add_subparsers(dest="recipients_command", required=True, metavar="ACTION")
    add = r_sub.add_parser("add", help="add (or re-activate / rename) a recipient")
    add.add_argument("customer", help="customer partition key, e.g. 'PELOTON'")
    add.add_argument("email", help="email address, e.g. ops@peloton.example")
    add.add_argument("--name", help="display name shown in the To: header, e.g. 'Peloton Ops'")
    remove = r_sub.add_parser("remove", help="stop emailing a recipient (past deliveries stay in the ledger)")
    remove.add_argument("customer", help="customer partition key")
    remove.add_argument("email", help="email address to remove")
    lst = r_sub.add_parser("list", help="list recipients (all customers, or one)")
    lst.add_argument("customer", nargs="?", help="only this customer's recipients")
    lst.add_argument("--json", action="store_true", help="print JSON")
    recipients.set_defaults(handler=_cmd_recipients)

    deliveries = subparsers.add_parser(
        "deliveries",
        help="the delivery ledger: what was sent, what failed",
        description="Read reporting.deliveries, the one ledger of everything sent (emails, exports).",
    )
    d_sub = deliveries.add_subparsers(dest="deliveries_command", required=True, metavar="ACTION")
    dl = d_sub.add_parser("list", help="most recently changed deliveries first")
    dl.add_argument("--status", choices=STATUSES, help="only deliveries in this state, e.g. failed")
    dl.add_argument("--subject", help="only subjects starting with this, e.g. 'daily_summary:PELOTON|'")
    dl.add_argument("--limit", type=_limit, default=50, help="rows to show (default 50)")
    dl.add_argument("--json", action="store_true", help="print JSON")
    deliveries.set_defaults(handler=_cmd_deliveries)
