"""``reporting-assets exports ...``: saved reports, schedules and exports from the shell.

Wire into ``reporting_assets/cli.py`` with ``add_cli(sub)`` on the top-level subparsers. Every
action takes ``--tenant`` and ``--user`` (and ``--role``, default ``user``): the CLI acts for
someone, with their access, through the report builder's functions (``engine``). ``--json``
prints machine-readable output. Errors are ReportingError subclasses (``main()`` prints them, exit 2);
an export that ran but failed exits 1.

Exports run right away in this process (``--queue`` leaves them pending for
``scheduled_exports_sensor`` to run in Dagster instead). SMTP and S3 settings come from the same
``REPORTING_SMTP_*`` / ``REPORTING_S3_*`` variables as the code location.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reporting_assets.exports.analytics_cli import add_sample_arguments
from reporting_assets.exports.errors import ExportError
from reporting_assets.text_rules import control_character_problem

# the engine's choices, repeated so that building the parser imports neither Dagster nor reportlab
# (``reporting-assets --help`` stays quick); a test checks they match the engine's
FORMATS = ("csv", "pdf", "xlsx")
DELIVERY_METHODS = ("email", "s3", "both")
EXPORT_STATUSES = ("pending", "processing", "completed", "failed")


# --- plumbing ----------------------------------------------------------------------------------


def _url() -> str:
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls

    url = resolve_urls().reporting
    migrate(url)
    return url


@contextmanager
def _conn(doing: str) -> Iterator[Any]:
    from reporting_assets.db.connection import connect

    with connect(_url(), doing=doing) as conn:
        yield conn


def _actor(args: argparse.Namespace) -> Any:
    from reporting_assets.exports.models import Actor

    return Actor(tenant_id=args.tenant, user_id=args.user, role=args.role)


def _settings() -> Any:
    from reporting_assets.exports.settings import export_settings_from_env

    return export_settings_from_env()


def smtp_settings_from_env() -> Any:
    """SmtpSettings from ``REPORTING_SMTP_*``, parsed as the code location's resource is."""
    from reporting_assets.delivery.smtp import smtp_settings_from_env as from_env

    return from_env()


def s3_settings_from_env() -> Any:
    """S3Settings from ``REPORTING_S3_*``, parsed as the code location's resource is."""
    from reporting_assets.exports.s3 import s3_settings_from_env as from_env

    return from_env()


def _source(settings: Any) -> Any:
    from reporting_assets.exports.analytics import analytics_source

    return analytics_source(settings, _url())


def _json_arg(text: str, what: str) -> Any:
    """A JSON value given inline or as ``@path``."""
    raw = text
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"{what}: cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ExportError(f"{what}: not valid JSON ({exc})") from None


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _shown(value: Any) -> str:
    """A cell as terminal text: control characters (in names saved before they were refused)
    appear escaped, never sent to the terminal."""
    if value is None:
        return ""
    text = str(value)
    if control_character_problem(text, "cell") is None:
        return text
    return "".join(repr(c)[1:-1] if control_character_problem(c, "cell") else c for c in text)


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    text_rows = [[_shown(v) for v in row] for row in rows]
    widths = [min(max([len(h)] + [len(r[i]) for r in text_rows]), 48) for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            (c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in text_rows)])


def _when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def _run_export(conn: Any, export_id: str, args: argparse.Namespace, settings: Any) -> int:
    from reporting_assets.exports.execute import ExportServices, execute_export

    services = ExportServices(  # settings first: a bad variable leaves no export behind
        source=_source(settings),
        settings=settings,
        smtp=smtp_settings_from_env(),
        s3=s3_settings_from_env(),
        log=(lambda line: None) if args.json else (lambda line: print(line, file=sys.stderr, flush=True)),
    )
    conn.commit()
    outcome = execute_export(conn, export_id, services)
    if args.json:
        _print_json(outcome.as_json())
    else:
        print(outcome.message)
        for d in outcome.deliveries:
            print(f"  {d.channel:<5} {d.target:<40} {d.status}" + (f"  ({d.error})" if d.error else ""))
        if outcome.export and outcome.export.download_url:
            print(f"  link: {outcome.export.download_url}")
        if outcome.export and outcome.status == "completed":
            print(
                f"  download: reporting-assets exports download {outcome.export.id} --tenant {args.tenant} "
                f"--user {args.user} --output ."
            )
    return 1 if outcome.failed else 0


def _queue_or_run(conn: Any, export: Any, args: argparse.Namespace, settings: Any, queued: str) -> int:
    """With ``--queue``: the pending export committed and ``queued`` said (the sensor runs it);
    otherwise the export made and delivered now."""
    if not args.queue:
        return _run_export(conn, export.id, args, settings)
    conn.commit()
    if args.json:
        _print_json(export.as_json())
    else:
        print(queued)
    return 0


# --- actions -----------------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    what = args.what
    if what == "tables":
        tables = engine.list_tables()
        if args.json:
            _print_json(tables)
        else:
            for t in tables:
                fields = ", ".join(f"{f['name']} ({f['type']})" for f in t["fields"])  # type: ignore[attr-defined]
                print(f"{t['name']}: {t['description']}\n  {fields}")
        return 0
    actor = _actor(args)
    with _conn("listing reports") as conn:
        reports = engine.list_reports(conn, actor) if what in ("reports", "all") else []
        schedules = engine.list_schedules(conn, actor) if what in ("schedules", "all") else []
    if args.json:
        out: dict[str, Any] = {}
        if what in ("reports", "all"):
            out["reports"] = [r.as_json() for r in reports]
        if what in ("schedules", "all"):
            out["schedules"] = [s.as_json() for s in schedules]
        _print_json(out)
        return 0
    if what in ("reports", "all"):
        print(f"Reports ({len(reports)}):")
        rows = [
            [r.id, r.name, r.created_by, "public" if r.is_public else "private", r.row_limit] for r in reports
        ]
        print(_table(rows, ["id", "name", "owner", "visibility", "row_limit"]) if rows else "  none")
    if what in ("schedules", "all"):
        print(f"\nSchedules ({len(schedules)}):" if what == "all" else f"Schedules ({len(schedules)}):")
        rows = [
            [
                s.id,
                s.name,
                f"{s.cron_expression} {s.timezone}",
                s.format,
                s.delivery_method,
                "active" if s.is_active else "paused",
                _when(s.next_run_at),
            ]
            for s in schedules
        ]
        print(
            _table(rows, ["id", "name", "when", "format", "delivery", "state", "next run (UTC)"])
            if rows
            else "  none"
        )
    return 0


def _cmd_create(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    actor = _actor(args)
    settings = _settings()
    with _conn("creating a report object") as conn:
        if args.kind == "report":
            values: dict[str, Any] = {
                "name": args.name,
                "query_config": _json_arg(args.query, "--query"),
                "row_limit": args.row_limit,
                "is_public": args.public,
                "tags": args.tag or [],
            }
            if args.description is not None:
                values["description"] = args.description
            if args.filters is not None:
                values["filters"] = _json_arg(args.filters, "--filters")
            if args.visualization is not None:
                values["visualization_config"] = _json_arg(args.visualization, "--visualization")
            report = engine.create_report(conn, actor, values, settings)
            if args.json:
                _print_json(report.as_json())
            else:
                print(f"Created report {report.name!r}: {report.id}")
            return 0
        if args.kind == "schedule":
            s3_config = {
                k: v for k, v in (("bucket", args.s3_bucket), ("prefix", args.s3_prefix)) if v is not None
            }
            email_config = {"subject": args.subject} if args.subject else None
            schedule = engine.create_schedule(
                conn,
                actor,
                args.report,
                {
                    "name": args.name,
                    "cron_expression": args.cron,
                    "timezone": args.timezone,
                    "format": args.format,
                    "delivery_method": args.delivery,
                    "recipients": args.recipient or [],
                    "s3_config": s3_config or None,
                    "email_config": email_config,
                    "is_active": not args.inactive,
                },
                s3=s3_settings_from_env(),
            )
            if args.json:
                _print_json(schedule.as_json())
            else:
                print(
                    f"Created schedule {schedule.name!r}: {schedule.id}; "
                    f"next run {_when(schedule.next_run_at)} UTC"
                )
                for warning in schedule.warnings:
                    print(f"warning: {warning}", file=sys.stderr)
            return 0
        export = engine.create_export(conn, actor, args.report, args.format)
        queued = f"Queued export {export.id} (pending; scheduled_exports_sensor runs it)"
        return _queue_or_run(conn, export, args, settings, queued)


def _cmd_preview(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    actor = _actor(args)
    settings = _settings()
    source = _source(settings)
    if args.query is not None:
        preview = engine.preview_query(
            actor,
            _json_arg(args.query, "--query"),
            source,
            settings,
            page=args.page,
            page_size=args.page_size,
            row_limit=args.row_limit,
        )
    else:
        if not args.report:
            raise ExportError("preview: give a REPORT id or --query JSON")
        with _conn("previewing a report") as conn:
            preview = engine.preview_report(
                conn, actor, args.report, source, settings, page=args.page, page_size=args.page_size
            )
    if args.json:
        _print_json(preview.as_json())
        return 0
    from reporting_assets.exports.formats.cells import display

    print(_table([[display(v) for v in row] for row in preview.rows], [c["name"] for c in preview.columns]))
    print(
        f"\nPage {preview.page} of {preview.page_count} "
        f"({preview.total:,} rows, row limit {preview.row_limit:,})"
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    actor = _actor(args)
    settings = _settings()
    with _conn("running a schedule") as conn:
        export = engine.run_schedule(conn, actor, args.schedule)
        queued = (
            f"Queued export {export.id} of schedule {args.schedule} "
            "(pending; scheduled_exports_sensor runs it)"
        )
        return _queue_or_run(conn, export, args, settings, queued)


def _cmd_history(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    actor = _actor(args)
    with _conn("reading export history") as conn:
        exports = engine.list_exports(
            conn,
            actor,
            report_id=args.report,
            schedule_id=args.schedule,
            status=args.status,
            limit=args.limit,
        )
    if args.json:
        _print_json([e.as_json() for e in exports])
        return 0
    if not exports:
        print("No exports match.")
        return 0
    rows = [
        [
            e.id,
            _when(e.created_at),
            e.format,
            e.status,
            e.trigger,
            e.row_count,
            e.file_size,
            e.delivery_method or "download",
        ]
        for e in exports
    ]
    print(_table(rows, ["id", "created (UTC)", "format", "status", "trigger", "rows", "bytes", "delivery"]))
    for e in exports:
        if e.status == "failed" and e.error_message:
            print(f"\n{e.id}: {e.error_message}")
    return 0


def _cmd_retry(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    actor = _actor(args)
    settings = _settings()
    with _conn("retrying an export") as conn:
        export = engine.retry_export(conn, actor, args.export)
        queued = f"Export {export.id} is pending again (scheduled_exports_sensor runs it)"
        return _queue_or_run(conn, export, args, settings, queued)


def _cmd_download(args: argparse.Namespace) -> int:
    from reporting_assets.exports import engine

    actor = _actor(args)
    with _conn("downloading an export") as conn:
        download = engine.download_export(conn, actor, args.export)
    target = Path(args.output)
    if target.is_dir():
        target = target / download.filename
    if target.exists() and not args.force:
        raise ExportError(f"{target} exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(download.path, target)
    if args.json:
        _print_json(
            {
                "path": str(target),
                "size": download.size,
                "media_type": download.media_type,
                "url": download.url,
            }
        )
    else:
        print(f"Wrote {target} ({download.size:,} bytes, {download.media_type})")
    return 0


def _cmd_init_defaults(args: argparse.Namespace) -> int:
    from reporting_assets.exports.defaults import init_defaults

    actor = _actor(args)
    with _conn("creating the default report and schedule") as conn:
        result = init_defaults(conn, actor, args.recipient or [], _settings())
    if args.json:
        _print_json(result.as_json())
        return 0
    verb = {True: "Created", False: "Already there:"}
    print(f"{verb[result.created_report]} report {result.report.name!r} ({result.report.id})")
    print(
        f"{verb[result.created_schedule]} schedule {result.schedule.name!r} ({result.schedule.id}), "
        f"next run {_when(result.schedule.next_run_at)} UTC, to {', '.join(result.schedule.recipients)}"
    )
    return 0


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from reporting_assets.exports.analytics_cli import run_init

    return run_init(args, sample=True)


def _cmd_cleanup(args: argparse.Namespace) -> int:
    from reporting_assets.exports.maintenance import cleanup_expired

    if args.role != "admin":
        raise ExportError("cleanup removes files of every tenant: run it with --role admin")
    with _conn("cleaning up export files") as conn:
        report = cleanup_expired(
            conn, now=dt.datetime.now(dt.UTC), settings=_settings(), s3=s3_settings_from_env()
        )
    if args.json:
        _print_json(report.as_json())
    else:
        print(f"Removed {report.removed_local} local file(s) and {report.removed_s3} S3 object(s).")
        for e in report.errors:
            print(f"  could not remove {e}")
    return 1 if report.errors else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _common(parser: argparse.ArgumentParser, *, actor: bool = True) -> None:
    if actor:
        parser.add_argument("--tenant", required=True, help="tenant to act in, e.g. acme")
        parser.add_argument("--user", required=True, help="user acting, e.g. alice@acme.example")
        parser.add_argument(
            "--role",
            choices=("user", "admin"),
            default="user",
            help="admin: everything of the tenant; user (default): own reports/schedules/exports "
            "and public reports",
        )
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_cli(subparsers: Any) -> None:
    """Add the ``exports`` command to the top-level subparsers."""
    exports = subparsers.add_parser(
        "exports",
        help="report builder: saved reports, schedules, CSV/XLSX/PDF exports",
        description="Saved reports over the analytics tables, cron schedules that email or upload them, "
        "and the export history. Every action acts for --tenant/--user (--role).",
    )
    sub = exports.add_subparsers(dest="exports_command", required=True, metavar="ACTION")

    lst = sub.add_parser("list", help="list reports and schedules (or tables and fields)")
    lst.add_argument("what", nargs="?", choices=("all", "reports", "schedules", "tables"), default="all")
    _common(lst)
    lst.set_defaults(handler=_cmd_list)

    create = sub.add_parser("create", help="create a report, a schedule or an export")
    c_sub = create.add_subparsers(dest="kind", required=True, metavar="KIND")
    rep = c_sub.add_parser("report", help="save a report (query DSL as JSON, see docs/exports.md)")
    rep.add_argument("--name", required=True, help="report name")
    rep.add_argument("--query", required=True, help="query JSON, inline or @file.json")
    rep.add_argument("--description", help="description shown in documents")
    rep.add_argument("--filters", help="extra filters, JSON list (inline or @file)")
    rep.add_argument(
        "--visualization", help='chart, e.g. \'{"type": "bar", "x": "date", "y": "total_events"}\''
    )
    rep.add_argument("--row-limit", type=_positive, default=10_000, help="maximum rows (default 10000)")
    rep.add_argument("--public", action="store_true", help="visible (read-only) to every user of the tenant")
    rep.add_argument("--tag", action="append", help="tag (repeatable)")
    _common(rep)
    sch = c_sub.add_parser("schedule", help="schedule a report (cron in a time zone, email and/or S3)")
    sch.add_argument("--report", required=True, help="report id")
    sch.add_argument("--name", required=True, help="schedule name")
    sch.add_argument("--cron", required=True, help="cron expression, e.g. '0 9 * * 1' (Mondays 09:00)")
    sch.add_argument("--timezone", default="UTC", help="IANA time zone of the cron, e.g. America/New_York")
    sch.add_argument("--format", choices=FORMATS, required=True, help="file format")
    sch.add_argument("--delivery", choices=DELIVERY_METHODS, required=True, help="email, s3 or both")
    sch.add_argument(
        "--recipient", action="append", help="email recipient (repeatable; needed for email/both)"
    )
    sch.add_argument("--s3-bucket", help="bucket (default: REPORTING_S3_BUCKET)")
    sch.add_argument("--s3-prefix", help="key prefix (default: REPORTING_S3_PREFIX or exports/)")
    sch.add_argument("--subject", help="email subject")
    sch.add_argument("--inactive", action="store_true", help="create it paused")
    _common(sch)
    exp = c_sub.add_parser("export", help="export a report now (download; --queue: leave it to Dagster)")
    exp.add_argument("--report", required=True, help="report id")
    exp.add_argument("--format", choices=FORMATS, required=True, help="file format")
    exp.add_argument("--queue", action="store_true", help="only create it pending; the sensor runs it")
    _common(exp)
    for parser in (rep, sch, exp):
        parser.set_defaults(handler=_cmd_create)

    prev = sub.add_parser("preview", help="one page of a report's rows (or of an unsaved --query)")
    prev.add_argument("report", nargs="?", help="report id")
    prev.add_argument("--query", help="preview this query JSON instead (inline or @file)")
    prev.add_argument(
        "--row-limit", type=_positive, default=10_000, help="row limit for --query (default 10000)"
    )
    prev.add_argument("--page", type=_positive, default=1, help="page number (default 1)")
    prev.add_argument("--page-size", type=_positive, default=20, help="rows per page (default 20)")
    _common(prev)
    prev.set_defaults(handler=_cmd_preview)

    run = sub.add_parser("run", help="run a schedule now (its format and delivery)")
    run.add_argument("schedule", help="schedule id")
    run.add_argument(
        "--queue", action="store_true", help="only create the export pending; the sensor runs it"
    )
    _common(run)
    run.set_defaults(handler=_cmd_run)

    hist = sub.add_parser("history", help="export history, newest first")
    hist.add_argument("--report", help="only exports of this report")
    hist.add_argument("--schedule", help="only exports of this schedule")
    hist.add_argument("--status", choices=EXPORT_STATUSES, help="only exports in this state")
    hist.add_argument("--limit", type=_positive, default=50, help="rows (default 50)")
    _common(hist)
    hist.set_defaults(handler=_cmd_history)

    retry = sub.add_parser("retry", help="retry a failed export (only failed deliveries are sent again)")
    retry.add_argument("export", help="export id")
    retry.add_argument("--queue", action="store_true", help="only mark it pending; the sensor runs it")
    _common(retry)
    retry.set_defaults(handler=_cmd_retry)

    down = sub.add_parser("download", help="write a completed export's file to a path")
    down.add_argument("export", help="export id")
    down.add_argument("--output", required=True, help="file path, or a folder (keeps the export's file name)")
    down.add_argument("--force", action="store_true", help="overwrite an existing file")
    _common(down)
    down.set_defaults(handler=_cmd_download)

    init = sub.add_parser(
        "init-defaults", help='create the "Usage Summary" report and its weekly email (admin)'
    )
    init.add_argument(
        "--recipient", action="append", help="who gets the weekly email (repeatable, required once)"
    )
    _common(init)
    init.set_defaults(handler=_cmd_init_defaults)

    sample = sub.add_parser(
        "sample-data",
        help="fill the analytics tables with deterministic sample data (same as analytics init --sample)",
    )
    add_sample_arguments(sample)
    sample.set_defaults(handler=_cmd_sample_data)

    clean = sub.add_parser("cleanup", help="remove expired export files now (admin; Dagster does it hourly)")
    _common(clean)
    clean.set_defaults(handler=_cmd_cleanup)
