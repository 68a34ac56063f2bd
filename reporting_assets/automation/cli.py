"""``reporting-assets automation-report``: automation reports per source system, printed or as JSON.

Wire into ``reporting_assets/cli.py`` with ``add_cli(sub)`` on the top-level subparsers. The
handler follows the project's convention (returns the exit code; ReportingError subclasses are
printed by ``main()``, exit 2). Nothing heavy is imported until the command runs.

The command reads; it stores nothing and sends no alert (that is the scheduled asset's job).
When the reporting database is away it still answers, with a fallback report from the Dagster
event log marked as such (and a warning on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from reporting_assets.automation.errors import TimeWindowError
from reporting_assets.automation.export import DEFAULT_OUTPUT_DIR
from reporting_assets.automation.window import (
    DEFAULT_TIME_WINDOW_HOURS,
    MAX_TIME_WINDOW_HOURS,
    ReportWindow,
    current_report_time,
    parse_report_time,
    validate_time_window,
)
from reporting_assets.links import base_url_problem, run_link

EPILOG = f"""examples:
  reporting-assets automation-report                       # all sources, last 24 h, printed
  reporting-assets automation-report --time-window 24 --detailed --crm all
  reporting-assets automation-report --crm order           # one source (order_sync)
  reporting-assets automation-report --export-json --output-dir {DEFAULT_OUTPUT_DIR}
  reporting-assets automation-report --report-time 2025-07-10T21:00:00Z --json

Sources are the registered pipelines' source systems (order_sync, shipping_sync, ... hubspot for a
pipeline added with --source-system hubspot; `reporting-assets pipelines list`); --crm takes a
name, 'order' for order_sync, a comma-separated list or 'all'. Exported files are named
automation_report_<source>_<YYYYMMDDTHHMMSSZ>.json and follow
docs/automation_report.schema.json. See docs/automation.md."""


def _hours(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of hours (1-{MAX_TIME_WINDOW_HOURS}), got {text!r}"
        ) from None
    try:
        return validate_time_window(value)
    except TimeWindowError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a rate such as 0.95 or 95%, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a rate in (0, 1], e.g. 0.95; got {text!r}")
    return value


def _report_time(text: str) -> dt.datetime:
    try:
        return parse_report_time(text)
    except TimeWindowError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ui_base_url(text: str) -> str:
    problem = base_url_problem(text, "the Dagster UI's address for run links")
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _cmd_automation_report(args: argparse.Namespace) -> int:
    from reporting_assets.automation.export import check_output_dir, export_reports
    from reporting_assets.automation.render import render_text
    from reporting_assets.automation.report import ReportRequest
    from reporting_assets.automation.rules import RuleSettings

    window = ReportWindow.ending_at(args.report_time or current_report_time(), args.time_window)
    if args.export_json:
        check_output_dir(args.output_dir)  # fail before doing the work
    request = ReportRequest(
        window,
        args.source,
        args.detailed,
        RuleSettings(alert_threshold=args.alert_threshold),
        lambda run_id: run_link(args.ui_base_url, run_id),
    )
    reports, problem = generate_for_cli(request)
    if problem:
        print(f"warning: {problem}; printing fallback reports from the Dagster event log", file=sys.stderr)
    if args.json:
        print(json.dumps([r.document for r in reports], ensure_ascii=False, indent=2))
    else:
        print(render_text(reports, window))
    if args.export_json:
        paths = export_reports(reports, args.output_dir)
        print(
            f"\nExported {len(paths)} file(s) to {Path(args.output_dir)}:",
            file=sys.stderr if args.json else sys.stdout,
        )
        for path in paths:
            print(f"  {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def generate_for_cli(request: Any) -> tuple[list[Any], str | None]:
    """Reports from the repo's instance and reporting database; on a database outage, fallback
    reports from the event log and the problem (else None)."""
    from reporting_assets.automation.fallback import event_log_reader
    from reporting_assets.automation.health import automation_health
    from reporting_assets.automation.report import generate_reports
    from reporting_assets.db.connection import connect
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()
    from reporting_assets.errors import DatabaseUnavailableError
    from reporting_assets.instance import project_instance
    from reporting_assets.pipelines.registry import load_registry

    instance = project_instance()
    # The definitions' own schedules and sensors, not defs.get_repository_def(): resolving the
    # repository rebinds the sensors of op jobs, and Dagster's copy passes ``owners`` on, which
    # prints a BetaWarning on every call. The names and default statuses are the same.
    health = automation_health(instance, defs.schedules or (), defs.sensors or (), request.window)
    try:
        url = resolve_urls().reporting
        migrate(url)
        with connect(url, doing="reading automation metrics") as conn:
            sources = load_registry(conn).sources()
            reader = event_log_reader(instance, sources)
            return generate_reports(
                conn, request, health, defined_sources=sorted(sources), event_log=reader
            ), None
    except DatabaseUnavailableError as exc:
        from reporting_assets.execution_reports.assets import LOCAL_PIPELINE_KEYS

        # the registry is in the database: the sources are this code location's own pipelines
        local = {key.to_user_string(): [key] for key in LOCAL_PIPELINE_KEYS}
        problem = f"the reporting database is unavailable: {exc}"
        return (
            generate_reports(
                None,
                request,
                health,
                defined_sources=sorted(local),
                event_log=event_log_reader(instance, local),
                database_problem=str(exc),
            ),
            problem,
        )


def add_cli(subparsers: Any) -> None:
    """Add the ``automation-report`` command to the top-level subparsers."""
    parser = subparsers.add_parser(
        "automation-report",
        help="automation metrics per source system: print, or export JSON",
        description="Automation metrics per source system over the last --time-window hours: actions,\n"
        "success rate, actions per hour, running vs defined schedules and sensors, and\n"
        "recommendations. The same reports the automation_reports asset stores at 04:00 and\n"
        "21:00 UTC, on demand. Reads only: nothing is stored and no alert is sent.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--time-window",
        type=_hours,
        default=DEFAULT_TIME_WINDOW_HOURS,
        metavar="HOURS",
        help=f"hours before the report time to cover "
        f"(default {DEFAULT_TIME_WINDOW_HOURS}; 1-{MAX_TIME_WINDOW_HOURS})",
    )
    parser.add_argument(
        "--detailed",
        action="store_true",
        help="add per-pipeline and per-customer breakdowns, p50/p95 durations, top errors and the "
        "slowest runs with links",
    )
    parser.add_argument(
        "--crm",
        "--source",
        dest="source",
        default="all",
        metavar="NAME",
        help="source system(s): a pipeline type (order_sync, or just 'order'), a comma-separated list, "
        "or 'all' (default). --source is the same option",
    )
    parser.add_argument(
        "--export-json", action="store_true", help="write one JSON file per source to --output-dir"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help=f"folder for --export-json, created if missing (default {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--report-time",
        type=_report_time,
        metavar="ISO",
        help="end of the window, e.g. 2025-07-10T21:00:00Z (default: now); a past one reproduces a report",
    )
    parser.add_argument(
        "--alert-threshold",
        type=_rate,
        default=0.95,
        metavar="RATE",
        help="success rate below which a source is flagged (default 0.95)",
    )
    parser.add_argument("--json", action="store_true", help="print the reports as JSON instead of text")
    parser.add_argument(
        "--ui-base-url",
        type=_ui_base_url,
        default="http://localhost:3000",
        metavar="URL",
        help="Dagster UI base for run links in --detailed: an http:// or https:// URL "
        "(default http://localhost:3000)",
    )
    parser.set_defaults(handler=_cmd_automation_report)
