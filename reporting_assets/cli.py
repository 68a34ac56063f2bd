"""``reporting-assets``: the demo, database, customer and lineage commands."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from reporting_assets.errors import ReportingError
from reporting_assets.redaction import redact

UI_HINT = (
    "Open the UI:  dagster dev -m reporting_assets.definitions   (from the project home, then "
    "http://localhost:3000/assets/execution_reports)"
)


def _cmd_demo(args: argparse.Namespace) -> int:
    from reporting_assets.db.urls import data_dir, redact, resolve_urls
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()
    from reporting_assets.demo import DEMO_CUSTOMERS, run_demo
    from reporting_assets.home import ensure_dagster_yaml, project_home
    from reporting_assets.instance import project_instance, write_dotenv
    from reporting_assets.partition_keys import CustomerDay

    home = project_home()
    print(f"Project home: {home} (REPORTING_HOME, default: the current folder)", flush=True)
    urls = resolve_urls()
    where = f"embedded server in {data_dir() / 'postgres'}" if urls.embedded else "REPORTING_DATABASE_URL"
    print(f"PostgreSQL: {redact(urls.reporting)} ({where})", flush=True)
    dagster_yaml, written = ensure_dagster_yaml(home)
    if written:
        print(f"Wrote {dagster_yaml} (the shipped default Dagster instance settings)", flush=True)
    dotenv = write_dotenv(home)
    print(f"Wrote {dotenv} (DAGSTER_HOME) so `dagster dev` and `dg` use this instance", flush=True)
    instance = project_instance(home)
    result = run_demo(
        defs,
        instance,
        urls.reporting,
        customers=tuple(args.customer) if args.customer else DEMO_CUSTOMERS,
        end=args.end_date,
        days=args.days,
        progress=lambda line: print(line, flush=True),
    )
    last = result.partitions[-1] if result.partitions else None
    print("\nDone. Rows per table:")
    for table, count in result.table_counts.items():
        print(f"  reporting.{table:<32} {count:>8,}")
    print(
        f"\nSource runs launched: {result.runs_launched}, skipped (already ran): {result.runs_skipped}, "
        f"failed on purpose: {len(result.failed_runs)}"
    )
    if last:
        first_customer = result.partitions[0].customer_key
        key = CustomerDay(first_customer, last.day).partition_key
        print(f"\nA report to read: partition '{key}' of asset execution_reports")
        print("  reporting-assets reports show " + repr(key))
        print(
            "  dagster asset materialize -m reporting_assets.definitions "
            f"--select execution_reports --partition '{key}'"
        )
    print(f"\n{UI_HINT}")
    print("Check lineage:  reporting-assets lineage verify")
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    from reporting_assets.db import embedded
    from reporting_assets.db.urls import DATABASE_URL_ENV, data_dir, redact, resolve_urls

    root = data_dir()
    if args.db_command == "url":
        was_running = embedded.is_running(root)
        urls = resolve_urls()
        print(urls.reporting if args.show_password else redact(urls.reporting))
        if args.dagster:
            print(urls.dagster_sqlalchemy if args.show_password else redact(urls.dagster_sqlalchemy))
        if urls.embedded and not embedded.is_kept_running(root):
            why = (
                "it runs only while another process uses it (e.g. `dagster dev`)"
                if was_running
                else "it was not running, so this command started it and stops it on exit"
            )
            print(
                f"note: this URL is of the embedded PostgreSQL, and {why}. Run `reporting-assets db start` "
                f"to keep it up until `reporting-assets db stop`.",
                file=sys.stderr,
            )
        return 0
    if args.db_command == "start":
        if DATABASE_URL_ENV in os.environ and os.environ[DATABASE_URL_ENV].strip():
            print(
                f"{DATABASE_URL_ENV} is set: the project uses that server, so no embedded server was "
                f"started. Unset it to use the embedded one."
            )
            return 0
        embedded.start_embedded_server(root)
        urls = resolve_urls()
        print(f"Embedded PostgreSQL is running in {root / 'postgres'} until `reporting-assets db stop`.")
        print(f"URL: {urls.reporting}")
        return 0
    if args.db_command == "shell":
        from reporting_assets.db.shell import run_psql

        urls = resolve_urls()
        psql_args = args.psql_args[1:] if args.psql_args[:1] == ["--"] else args.psql_args
        return run_psql(urls.dagster if args.dagster else urls.reporting, psql_args)
    if args.db_command == "migrate":
        from reporting_assets.db.migrations import migrate

        applied = migrate(resolve_urls().reporting)
        print(f"Applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "Up to date.")
        return 0
    if args.db_command == "stop":
        stopped = embedded.stop_embedded_server(root)
        print("Embedded PostgreSQL stopped." if stopped else "Embedded PostgreSQL was not running.")
        return 0
    raise AssertionError(args.db_command)


def _cmd_customers(args: argparse.Namespace) -> int:
    from reporting_assets.customers import add_customer, list_customers, sync_partitions
    from reporting_assets.db.connection import connect
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls
    from reporting_assets.instance import project_instance

    url = resolve_urls().reporting
    migrate(url)
    with connect(url, doing="managing customers") as conn:
        if args.customers_command == "add":
            done = add_customer(
                conn, project_instance(), args.name, args.key, rename=args.rename, tenant=args.tenant
            )
            name, key = done.customer.display_name, done.customer.partition_key
            if done.tenant_set:
                print(f"Partition key {key!r} now belongs to tenant {done.tenant_set!r}")
            if done.outcome == "renamed":
                print(f"Partition key {key!r} renamed from {done.previous_name!r} to {name!r}")
            elif done.outcome == "unchanged":
                print(f"{name!r} is already registered as partition key {key!r}; nothing changed")
            else:
                print(f"Registered {name!r} as partition key {key!r}")
        elif args.customers_command == "sync":
            added = sync_partitions(conn, project_instance())
            print(f"Added {len(added)} partition(s): {', '.join(added)}" if added else "In sync.")
        else:
            customers = list_customers(conn)
            if args.json:
                print(json.dumps([c.__dict__ for c in customers], ensure_ascii=False, indent=2))
            else:
                for c in customers:
                    print(f"{c.partition_key:<32} {c.display_name}")
    return 0


def _cmd_reports(args: argparse.Namespace) -> int:
    from reporting_assets.db.connection import connect
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls
    from reporting_assets.execution_reports.stored import partition_reports
    from reporting_assets.partition_keys import parse_partition_key

    partition = parse_partition_key(args.partition)  # a malformed key needs no database
    url = resolve_urls().reporting
    migrate(url)
    with connect(url, doing="reading reports") as conn:
        reports = partition_reports(conn, partition, args.pipeline)
    print("\n\n".join(r.markdown for r in reports))
    return 0


def _cmd_lineage(args: argparse.Namespace) -> int:
    from reporting_assets.db.connection import connect
    from reporting_assets.db.urls import resolve_urls
    from reporting_assets.lineage.verify import format_result, verify

    with connect(resolve_urls().reporting, doing="verifying lineage") as conn:
        result = verify(conn, sample_rows=args.samples)
    print(format_result(result))
    return 0 if result.ok else 1


def _cmd_api(args: argparse.Namespace) -> int:
    from reporting_assets.api.server import print_token, serve

    if args.api_command == "token":
        return print_token(args.tenant, args.user, args.role, args.ttl)
    return serve(args.host, args.port, dev=args.dev)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="reporting-assets",
        description="Reports people read, from Dagster pipeline runs. The database is "
        "REPORTING_DATABASE_URL when set, else an embedded PostgreSQL in .data/postgres of the "
        "project home (REPORTING_HOME, default: the current folder).",
        epilog="examples:\n"
        "  reporting-assets demo\n"
        "  reporting-assets customers add 'ACTIVELY BLACK'\n"
        "  reporting-assets reports show 'ACTIVELY BLACK|2025-06-17' --pipeline order_sync\n"
        "  reporting-assets lineage verify\n"
        "run `reporting-assets COMMAND --help` for a command's options",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the sample pipelines and render reports and lineage")
    demo.add_argument("--days", type=_positive_int, default=7, help="days per customer (default 7)")
    demo.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=dt.date(2025, 6, 17),
        help="last day, YYYY-MM-DD (default 2025-06-17)",
    )
    demo.add_argument(
        "--customer",
        action="append",
        help="customer to include (repeatable; default ACTIVELY BLACK, PELOTON, GREYSON)",
    )
    demo.set_defaults(handler=_cmd_demo)

    db = sub.add_parser("db", help="database URL, migrations, embedded server")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    url = db_sub.add_parser("url", help="print the reporting database URL in use (password hidden)")
    url.add_argument("--show-password", action="store_true", help="print the password too")
    url.add_argument("--dagster", action="store_true", help="also print Dagster's storage URL")
    db_sub.add_parser("migrate", help="apply pending sql/ migrations (idempotent)")
    db_sub.add_parser("start", help="start the embedded PostgreSQL server and keep it up until `db stop`")
    db_sub.add_parser("stop", help="stop the embedded PostgreSQL server (and stop keeping it up)")
    shell = db_sub.add_parser(
        "shell",
        help="open psql on the database in use",
        description="Open psql (shipped with the embedded server) on the reporting database in use: "
        "REPORTING_DATABASE_URL when set, else the embedded server. The password reaches psql "
        "through the environment, not its command line.",
        epilog="example: reporting-assets db shell -- -c 'SELECT count(*) FROM reporting.customers'",
    )
    shell.add_argument("--dagster", action="store_true", help="open Dagster's storage database instead")
    shell.add_argument(
        "psql_args",
        nargs=argparse.REMAINDER,
        metavar="-- PSQL_ARGS",
        help="arguments passed to psql after --",
    )
    db.set_defaults(handler=_cmd_db)

    customers = sub.add_parser("customers", help="register and list customers")
    c_sub = customers.add_subparsers(dest="customers_command", required=True, metavar="ACTION")
    add = c_sub.add_parser("add", help="register a customer (and its Dagster partition)")
    add.add_argument("name", help="display name, e.g. 'ACTIVELY BLACK'")
    add.add_argument("--key", help="partition key when the name cannot be one (no | , / \\ ..)")
    add.add_argument(
        "--rename",
        action="store_true",
        help="give an already registered --key this new display name (refused without it)",
    )
    add.add_argument("--tenant", help="API tenant whose users see this customer's reports, e.g. acme")
    lst = c_sub.add_parser("list", help="list registered customers")
    lst.add_argument("--json", action="store_true", help="print JSON")
    c_sub.add_parser("sync", help="add registered customers missing from Dagster's partitions")
    customers.set_defaults(handler=_cmd_customers)
    from reporting_assets.customer_settings.cli import add_rerender_cli, add_settings_cli

    add_settings_cli(c_sub)

    reports = sub.add_parser("reports", help="read stored execution reports")
    r_sub = reports.add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    show = r_sub.add_parser("show", help="print the markdown reports of a partition")
    show.add_argument("partition", help="partition key 'CUSTOMER|YYYY-MM-DD', e.g. 'PELOTON|2025-06-17'")
    show.add_argument("--pipeline", help="only this pipeline type, e.g. order_sync")
    reports.set_defaults(handler=_cmd_reports)
    add_rerender_cli(r_sub)

    lineage = sub.add_parser("lineage", help="workflow lineage checks")
    l_sub = lineage.add_subparsers(dest="lineage_command", required=True, metavar="ACTION")
    ver = l_sub.add_parser("verify", help="population rates, broken references, samples; exit 1 on problems")
    ver.add_argument("--samples", type=_positive_int, default=5, help="sample rows to print (default 5)")
    lineage.set_defaults(handler=_cmd_lineage)

    from reporting_assets.delivery.cli import add_cli

    add_cli(sub)

    from reporting_assets.automation.cli import add_cli as add_automation_cli

    add_automation_cli(sub)

    from reporting_assets.exports.cli import add_cli as add_exports_cli

    add_exports_cli(sub)

    from reporting_assets.exports.analytics_cli import add_cli as add_analytics_cli

    add_analytics_cli(sub)

    api = sub.add_parser(
        "api",
        help="serve the reports HTTP API (see docs/api.md), or issue a token",
        description="Serve the reports HTTP API and the web pages (at /) with uvicorn. Tokens are checked "
        "with REPORTING_JWT_SECRET "
        "(HS256) or REPORTING_JWT_PUBLIC_KEY_FILE (RS256); without either it refuses to start unless --dev.",
    )
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=_positive_int, default=8004, help="port (default 8004)")
    api.add_argument(
        "--dev",
        action="store_true",
        help="127.0.0.1 only, a throw-away key, print an admin token; the web pages offer a one-click "
        "sign-in as that admin",
    )
    api_sub = api.add_subparsers(dest="api_command", metavar="{token}")
    token = api_sub.add_parser("token", help="print a token signed with REPORTING_JWT_SECRET (local use)")
    token.add_argument("--tenant", required=True, help="tenant, e.g. acme")
    token.add_argument("--user", required=True, help="the token's subject, e.g. alice@acme.example")
    token.add_argument(
        "--role",
        choices=("user", "admin", "pipeline"),
        default="user",
        help="user (default), admin, or pipeline (only POST /api/pipeline-runs, for its tenant's customers)",
    )
    token.add_argument("--ttl", default="1h", help="lifetime: 90s, 15m, 1h, 7d (default 1h, at most 30d)")
    api.set_defaults(handler=_cmd_api)

    from reporting_assets.pipelines.cli import add_cli as add_pipelines_cli

    add_pipelines_cli(sub)

    from reporting_assets.sync.cli import add_cli as add_sync_cli

    add_sync_cli(sub)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error of the CLI:
    ``error: <what is wrong> (see `reporting-assets COMMAND --help`)``, exit status 2.
    Subcommand parsers are of the same class (argparse makes them with the parent's)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen handler: a ReportingError (or ValueError) is one
    ``error: ...`` line on stderr and exit status 2, Ctrl-C is exit status 130, and a reader
    that stops reading (``| head -1``) ends the command quietly with status 141, as a command
    killed by SIGPIPE does, never with a traceback."""
    try:
        args = parser.parse_args(argv)
        code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not when the interpreter exits
        return code
    except BrokenPipeError:
        # Nothing more can reach the reader; point stdout at devnull so the flush at exit
        # cannot fail again and print "Exception ignored ..." on stderr.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except (ReportingError, ValueError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
