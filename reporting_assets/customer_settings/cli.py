"""``reporting-assets customers settings show|set|reset`` and ``reports rerender``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from reporting_assets.customer_settings.model import SECTIONS, ReportSettings


def _connect(doing: str) -> Any:
    from reporting_assets.db.connection import connect
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls

    url = resolve_urls().reporting
    migrate(url)
    return connect(url, doing=doing)


def _describe(settings: ReportSettings, templates: list[str]) -> str:
    def value(v: object) -> str:
        return "default" if v is None else str(v)

    lines = [
        f"Report settings of {settings.customer_key!r} "
        f"(version {settings.version or 'none: the default format'})",
        "  sections:       "
        + ", ".join(f"{name} {'on' if settings.shows(name) else 'OFF'}" for name in SECTIONS),
        f"  list length:    {value(settings.list_length)}",
        f"  locale:         {value(settings.locale)} (default: en_US number and date format, ISO dates)",
        f"  time zone:      {value(settings.time_zone)} (default: UTC)",
        f"  subject prefix: {value(settings.subject_prefix)}",
        f"  templates:      {', '.join(templates) if templates else 'none'}",
    ]
    return "\n".join(lines)


def _cmd_settings(args: argparse.Namespace) -> int:
    from reporting_assets.customer_settings.store import (
        SettingsChange,
        get_settings,
        reset_settings,
        set_settings,
    )
    from reporting_assets.customer_settings.templates import BLOCK_FILES, template_folder
    from reporting_assets.home import project_home

    home = project_home()
    with _connect("managing customer report settings") as conn:
        if args.settings_command == "set":
            change = SettingsChange(
                hide=tuple(args.hide or ()),
                show=tuple(args.show or ()),
                list_length=args.list_length,
                locale=args.locale,
                time_zone=args.time_zone,
                subject_prefix=args.subject_prefix,
                clear=tuple(args.clear or ()),
            )
            settings = set_settings(conn, args.customer, change, home)
            print(
                f"Saved. Nothing was re-rendered: run `reporting-assets reports rerender --customer "
                f"{settings.customer_key!r} --since YYYY-MM-DD` for the days that should show it."
            )
        elif args.settings_command == "reset":
            removed = reset_settings(conn, args.customer)
            print("Back to the default format." if removed else "Already the default format.")
            return 0
        else:
            settings = get_settings(conn, args.customer)
    folder = template_folder(home, settings.customer_key)
    templates = [str(folder / name) for name in BLOCK_FILES.values() if (folder / name).is_file()]
    if getattr(args, "json", False):
        print(json.dumps({**settings.as_json(), "templates": templates}, ensure_ascii=False, indent=2))
    else:
        print(_describe(settings, templates))
    return 0


def _cmd_rerender(args: argparse.Namespace) -> int:
    from reporting_assets.customer_settings.rerender import rerender, rerender_range
    from reporting_assets.definitions import loaded_definitions
    from reporting_assets.instance import project_instance

    with _connect("finding the days to re-render") as conn:
        first, last = rerender_range(conn, args.customer, args.since)
    done = rerender(loaded_definitions(), project_instance(), first, last)
    outcome = "done" if done.success else "FAILED (see the run in the UI)"
    print(f"Re-rendered {done.first}...{done.last} ({done.days} day(s)) in run {done.run_id}: {outcome}")
    return 0 if done.success else 1


def add_settings_cli(customer_actions: Any) -> None:
    """``customers settings ...`` under the ``customers`` command's actions."""
    settings = customer_actions.add_parser(
        "settings",
        help="a customer's report settings: sections, list length, locale, time zone, subject prefix",
        description="Per-customer report settings. Unset values use the default format. Extra "
        "markdown blocks come from templates/customers/<key>/header.md.j2 and footer.md.j2 in the "
        "project home (checked by `set`). Changing settings re-renders nothing: use `reports rerender`.",
    )
    s_sub = settings.add_subparsers(dest="settings_command", required=True, metavar="ACTION")
    show = s_sub.add_parser("show", help="print the customer's settings")
    show.add_argument("customer", help="customer partition key, e.g. PELOTON")
    show.add_argument("--json", action="store_true", help="print JSON")
    change = s_sub.add_parser(
        "set",
        help="change settings (validated, templates checked)",
        epilog="example: reporting-assets customers settings set PELOTON --locale de_DE "
        "--time-zone Europe/Berlin --hide manufacturing --list-length 25",
    )
    change.add_argument("customer", help="customer partition key, e.g. PELOTON")
    change.add_argument(
        "--hide", action="append", metavar="SECTION", help=f"switch a section off: {', '.join(SECTIONS)}"
    )
    change.add_argument("--show", action="append", metavar="SECTION", help="switch a section on again")
    change.add_argument("--list-length", type=int, help="entries before '... (N more)' (1-1000)")
    change.add_argument("--locale", help="number and date locale, e.g. de_DE (default en_US format)")
    change.add_argument("--time-zone", help="time zone of displayed times, e.g. Europe/Berlin (default UTC)")
    change.add_argument("--subject-prefix", help="prefix of the daily summary email's subject, e.g. '[ACME]'")
    change.add_argument(
        "--clear",
        action="append",
        choices=("list_length", "locale", "time_zone", "subject_prefix"),
        help="set a value back to the default (repeatable)",
    )
    reset = s_sub.add_parser("reset", help="remove all settings (back to the default format)")
    reset.add_argument("customer", help="customer partition key")
    settings.set_defaults(handler=_cmd_settings)


def add_rerender_cli(report_actions: Any) -> None:
    """``reports rerender`` under the ``reports`` command's actions."""
    again = report_actions.add_parser(
        "rerender",
        help="re-render a customer's reports and summaries since a day (one batched run)",
        description="Re-render the execution reports, lineage and daily summaries of a customer from "
        "--since to its latest report day in one batched render_reports run, e.g. after its report "
        "settings changed. Restated summaries keep their earlier versions.",
    )
    again.add_argument("--customer", required=True, help="customer partition key, e.g. PELOTON")
    again.add_argument("--since", required=True, type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
    again.set_defaults(handler=_cmd_rerender)
