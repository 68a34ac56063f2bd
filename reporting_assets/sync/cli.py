"""``reporting-assets sync``: one sync session as a real Dagster run, with progress on the terminal
and the executive summary printed at the end (the same text that is saved).

Wire into ``reporting_assets/cli.py`` with ``add_cli(sub)`` on the top-level subparsers; the
handler follows the project's convention (``args.handler(args)`` returns the exit code; errors
are ReportingError subclasses that ``main()`` prints before exiting 2). Runnable alone too:
``python -m reporting_assets.sync.cli sync --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import IO, Any

from reporting_assets.errors import ReportingError
from reporting_assets.logging_ids import get_logger

log = get_logger("reporting_assets.sync.cli")  # also when run as __main__

EXAMPLES = """examples:
  reporting-assets sync --customer PELOTON --limit 3                 dry run: what would be sent
  reporting-assets sync --environment production --customer PELOTON --limit 3 --skip-subitems \\
      --generate-report --execute                                     apply it, then render reports
  reporting-assets sync --sample-day 2025-06-17 --execute             fill the sample order list first

Exit status: 0 success or partial, 1 the session failed or was terminated, 2 bad input or the
reports folder could not be written (the session's summary is still in reporting.sync_sessions).
"""


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 (got {value}): it caps the pending records synced per customer; "
            f"leave --limit out to sync every pending record"
        )
    return value


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def add_cli(subparsers: Any) -> None:
    """Add the ``sync`` command to the top-level subparsers."""
    sync = subparsers.add_parser(
        "sync",
        help="run a sync session: pending order list records to the sample target (dry run by default)",
        description="Run one sync session as a Dagster run on the repo's instance: the pending records of "
        "the sample order list, per customer and in batches, sent to the sample target (groups, items, "
        "subitems). Without --execute it is a dry run: it computes and reports what it would do and "
        "changes nothing. Every session gets reports/sync/{SYNC-ID}/ with customer_reports/, logs/, "
        "summaries/ and _SYNC_SUMMARY.md, also when it fails; the summary is printed at the end.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument(
        "--environment",
        "-e",
        metavar="NAME",
        help="profile of the sync config, e.g. development, staging, production (default: the "
        "file's default_environment)",
    )
    sync.add_argument(
        "--customer",
        action="append",
        metavar="KEY",
        help="customer partition key to sync, e.g. PELOTON (repeatable; default: every registered customer)",
    )
    sync.add_argument(
        "--limit",
        type=_limit,
        metavar="N",
        help="at most N pending records per customer, N >= 1 (default: all pending records)",
    )
    sync.add_argument("--skip-subitems", action="store_true", help="do not create or update subitems (sizes)")
    sync.add_argument(
        "--generate-report",
        action="store_true",
        help="after an executed session, render the execution reports, lineage and daily summaries of "
        "its customers right away (otherwise source_runs_sensor does it when the daemon runs)",
    )
    sync.add_argument(
        "--execute",
        action="store_true",
        help="apply the changes to the target and the order list; without it: dry run, nothing changes",
    )
    sync.add_argument(
        "--config",
        metavar="PATH",
        help="sync config TOML (default: REPORTING_SYNC_CONFIG, else config/sync.toml)",
    )
    sync.add_argument(
        "--reports-dir",
        metavar="DIR",
        help="reports root; the session folder is DIR/sync/{SYNC-ID} (default: REPORTING_REPORTS_DIR, "
        "else reports/)",
    )
    sync.add_argument(
        "--sample-day",
        type=_day,
        metavar="YYYY-MM-DD",
        help="first fill the sample order list from the synthetic source for this day (stands in for "
        "the upstream ETL; done in a dry run too)",
    )
    sync.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    sync.set_defaults(handler=sync_command)


def sync_command(args: argparse.Namespace, *, instance: Any = None, out: IO[str] | None = None) -> int:
    """Launch the session's Dagster run and print progress, the summary and the folder."""
    import logging

    from reporting_assets.customers import get_customer
    from reporting_assets.db.connection import connect
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls
    from reporting_assets.execution_reports.events import _failure_messages
    from reporting_assets.logging_ids import PROJECT_LOGGER, ContextFilter, IdFormatter, attached
    from reporting_assets.sync import store
    from reporting_assets.sync.assets import SYNC_ID_TAG, SYNC_JOB_NAME, SYNC_OP_NAME
    from reporting_assets.sync.config import load_config
    from reporting_assets.sync.folders import new_sync_id, reports_root

    stream = out or sys.stdout
    config = load_config(args.config)
    profile = config.profile(args.environment)  # a bad profile fails here, before any run
    customers = list(dict.fromkeys(args.customer or []))
    url = resolve_urls().reporting
    migrate(url)
    with connect(url, doing="checking the customers to sync") as conn:
        for key in customers:
            get_customer(conn, key)  # unknown: an error naming close matches
    if instance is None:
        from reporting_assets.instance import project_instance

        instance = project_instance()
    sync_id = new_sync_id(dt.datetime.now(dt.UTC))
    root = reports_root(args.reports_dir)
    mode = "EXECUTE" if args.execute else "DRY RUN (nothing will change; add --execute to apply)"
    print(
        f"Sync session {sync_id}: {mode}, environment {profile.environment}, "
        f"customers {', '.join(customers) or 'all registered'}, limit {args.limit or 'none'}",
        file=stream,
        flush=True,
    )
    run_config: dict[str, Any] = {
        "ops": {
            SYNC_OP_NAME: {
                "config": {
                    "environment": profile.environment,
                    "customers": customers,
                    "limit": args.limit,
                    "skip_subitems": args.skip_subitems,
                    "execute": args.execute,
                    "generate_report": args.generate_report,
                    "sample_day": args.sample_day.isoformat() if args.sample_day else None,
                    "sync_id": sync_id,
                }
            }
        },
        "resources": {
            "reports_output": {"config": {"root": str(root)}},
            "sync_settings": {"config": {"config_path": str(config.path)}},
        },
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    progress = logging.StreamHandler(stream)
    progress.setLevel(logging.INFO)
    progress.setFormatter(IdFormatter())
    progress.addFilter(ContextFilter(sync_id=sync_id))
    job = sync_definitions().resolve_job_def(SYNC_JOB_NAME)
    if args.quiet:
        result = job.execute_in_process(
            instance=instance, run_config=run_config, tags={SYNC_ID_TAG: sync_id}, raise_on_error=False
        )
    else:
        with attached(progress, PROJECT_LOGGER):
            result = job.execute_in_process(
                instance=instance, run_config=run_config, tags={SYNC_ID_TAG: sync_id}, raise_on_error=False
            )
    with connect(url, doing="reading the sync session") as conn:
        session = store.get_session(conn, sync_id=sync_id)
        lines = store.customer_lines(conn, sync_id) if session else []
    if session is None:
        run = instance.get_run_by_id(result.run_id)
        reasons = " | ".join(_failure_messages(instance, result.run_id, run.status)) if run else "unknown"
        raise ReportingError(f"The sync run {result.run_id} failed before its session started: {reasons}")
    print("", file=stream)
    print(session["summary_markdown"] or "(no executive summary was written)", file=stream)
    print(f"Session folder: {session['folder']}", file=stream)
    print(f"Dagster run:    {result.run_id}", file=stream, flush=True)
    if session["reports_error"]:
        print(f"error: {session['reports_error']}", file=sys.stderr, flush=True)
        return 2
    if session["status"] in ("failed", "canceled"):
        outcome = "" if (session["summary_json"] or {}).get("not_started") else f" {session['status']}"
        print(
            f"error: sync session {sync_id}{outcome}: {session['error'] or 'see the summary'}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    if args.generate_report and args.execute:
        partitions = [
            f"{line.customer_key}|{session['started_at'].date().isoformat()}"
            for line in lines
            if line.contract_emitted
        ]
        rendered = render_execution_reports(instance, partitions)
        log.info("cl-001", "Rendered execution reports for %d partition(s)", rendered, sync_id=sync_id)
        print(
            f"Execution reports, lineage and daily summaries rendered for {rendered} partition(s): "
            f"{', '.join(partitions) or 'none'}",
            file=stream,
            flush=True,
        )
    elif args.generate_report:
        print(
            "--generate-report: a dry run changes nothing, so there are no execution reports to render.",
            file=stream,
            flush=True,
        )
    return 0


def sync_definitions() -> Any:
    """The code location's definitions: the command runs the sync job of the one code location."""
    from reporting_assets.definitions import loaded_definitions

    return loaded_definitions()


def render_execution_reports(instance: Any, partition_keys: Sequence[str]) -> int:
    """One ``render_reports`` run per customer partition of the session."""
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()

    job = defs.resolve_job_def("render_reports")
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    done = 0
    for key in partition_keys:
        result = job.execute_in_process(
            instance=instance, partition_key=key, run_config=quiet, raise_on_error=False
        )
        done += int(result.success)
    return done


def build_parser() -> argparse.ArgumentParser:
    """A parser with just the ``sync`` command (for ``python -m`` and tests)."""
    parser = argparse.ArgumentParser(prog="reporting-assets")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reporting_assets.sync.cli sync ...`` (same as ``reporting-assets sync``)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ReportingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
