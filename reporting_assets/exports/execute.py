"""Making and delivering one export (plain functions; the Dagster asset and the CLI wrap them).

:func:`claim_occurrence` turns a schedule occurrence into its export row, once.
:func:`execute_export` then, under an advisory lock on the export:

1. marks it ``processing`` (attempt n);
2. makes the file, or reuses the one an earlier attempt made (same SHA-256), so a retry
   delivers the very bytes the first attempt delivered to others;
3. delivers it: to S3 (tenant-scoped key, presigned link) and/or by email to each recipient,
   each delivery a row of the shared ledger (kind ``export``, subject ``export:{id}``). A
   recipient or target that already has this export (any earlier attempt) is skipped;
4. marks it ``completed``, or ``failed`` with a message naming each failed delivery.

Relative date filters are evaluated as of the export's ``as_of`` (the occurrence's due time),
so every attempt of an export reads the same window.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.daily_summary import subject_lock
from reporting_assets.delivery.errors import DeliveryAttemptError
from reporting_assets.delivery.ledger import DeliveryKey, Sent, deliver_once, sent_before
from reporting_assets.delivery.smtp import SmtpSettings, send_with_retries
from reporting_assets.errors import DatabaseUnavailableError, ReportingError
from reporting_assets.exports.export_runs import download_filename
from reporting_assets.exports.formats import (
    MEDIA_TYPES,
    ChartData,
    DocumentInfo,
    ExportFile,
    file_sha256,
    render_export,
)
from reporting_assets.exports.models import Export, Report
from reporting_assets.exports.reports import compile_report
from reporting_assets.exports.s3 import (
    S3Settings,
    check_bucket_name,
    check_prefix,
    object_key,
    presign,
    upload_file,
)
from reporting_assets.exports.scheduling import next_occurrence
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import AnalyticsSource
from reporting_assets.exports.visualization import parse_visualization


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ExportServices:
    """Everything a run needs besides the database connection."""

    source: AnalyticsSource
    settings: ExportSettings
    smtp: SmtpSettings | None = None
    s3: S3Settings | None = None
    log: Callable[[str], None] = lambda _line: None
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], dt.datetime] = _utcnow

    @cached_property
    def s3_client(self) -> Any:
        assert self.s3 is not None
        return self.s3.client()


DeliveryStatus = Literal["sent", "already_sent", "failed", "in_progress"]


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    target: str
    status: DeliveryStatus
    attempts: int = 0
    error: str | None = None
    message_id: str | None = None
    object_key: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "target": self.target,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "message_id": self.message_id,
            "object_key": self.object_key,
        }


OutcomeKind = Literal["completed", "failed", "already_completed", "gone"]


@dataclass(frozen=True)
class ExportOutcome:
    status: OutcomeKind
    export: Export | None
    message: str
    deliveries: list[DeliveryResult] = field(default_factory=list)
    reused_file: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "export": self.export.as_json() if self.export else None,
            "deliveries": [d.as_json() for d in self.deliveries],
            "reused_file": self.reused_file,
        }


# --- occurrences -----------------------------------------------------------------------------


def claim_occurrence(conn: Connection, schedule_id: str, scheduled_for: dt.datetime) -> Export | None:
    """The export of (schedule, due time): created now (and the schedule's ``run_count``,
    ``last_run_at``, ``next_run_at`` updated), or the one an earlier run created. None when the
    schedule is gone (its report was deleted) or inactive. Commits."""
    row = conn.execute(query("exports_schedule_get_any"), {"id": schedule_id}).fetchone()
    if row is None:
        conn.commit()
        return None
    delivery = {
        "recipients": list(row["recipients"] or []) if row["delivery_method"] in ("email", "both") else [],
        "s3": dict(row["s3_config"] or {}) if row["delivery_method"] in ("s3", "both") else None,
        "email": dict(row["email_config"] or {}),
        "timezone": row["timezone"],
        "schedule_name": row["name"],
    }
    claimed = conn.execute(
        query("exports_occurrence_claim"),
        {"schedule_id": schedule_id, "scheduled_for": scheduled_for, "delivery_config": Jsonb(delivery)},
    ).fetchone()
    if claimed is not None:
        upcoming = next_occurrence(row["cron_expression"], row["timezone"], scheduled_for)
        conn.execute(query("exports_schedule_mark_run"), {"id": schedule_id, "next_run_at": upcoming})
        conn.commit()
        return Export.from_row(claimed)
    existing = conn.execute(
        query("exports_occurrence_get"), {"schedule_id": schedule_id, "scheduled_for": scheduled_for}
    ).fetchone()
    conn.commit()
    return Export.from_row(existing) if existing else None


# --- the file ---------------------------------------------------------------------------------


def export_path(settings: ExportSettings, export: Export) -> Path:
    """``{storage_dir}/{tenant}/{export id}.{format}`` (tenant ids are validated path-safe)."""
    return settings.storage_dir / export.tenant_id / f"{export.id}.{export.format}"


def _reusable(export: Export) -> bool:
    if not (export.file_path and export.content_hash):
        return False
    path = Path(export.file_path)
    return path.is_file() and file_sha256(path) == export.content_hash


def _make_file(conn: Connection, export: Export, report: Report, services: ExportServices) -> ExportFile:
    settings = services.settings
    compiled = compile_report(report, settings, as_of=export.as_of)
    info = DocumentInfo(
        title=report.name,
        description=report.description,
        tenant_id=export.tenant_id,
        generated_at=export.as_of,
        timezone=str(export.delivery_config.get("timezone") or "UTC"),
        filters=compiled.filters_text,
        row_limit=compiled.limit,
    )
    chart = None
    viz = parse_visualization(report.visualization_config, compiled) if export.format == "pdf" else None
    if viz is not None and viz.type in ("bar", "line") and viz.x and viz.y:
        points = services.source.chart(compiled, viz.x, viz.y, viz.max_points)
        x_col, y_col = compiled.column(viz.x), compiled.column(viz.y)
        assert x_col is not None and y_col is not None
        chart = ChartData(
            kind=viz.type,
            title=viz.title or report.name,
            x_label=x_col.label,
            y_label=y_col.label,
            points=[(_label(x), y) for x, y in points],
        )
    started = time.monotonic()
    made = render_export(
        export.format,
        services.source,
        compiled,
        export_path(settings, export),
        info,
        chart=chart,
        batch_rows=settings.batch_rows,
    )
    services.log(
        f"export {export.id}: wrote {made.rows:,} rows as {export.format} ({made.size:,} bytes) in "
        f"{time.monotonic() - started:.1f}s"
    )
    return made


def _label(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _record_file(
    conn: Connection,
    export: Export,
    *,
    storage: str,
    location: str,
    size: int,
    expires_at: dt.datetime,
    bucket: str | None = None,
    endpoint_url: str | None = None,
) -> None:
    conn.execute(
        query("exports_file_record"),
        {
            "export_id": export.id,
            "tenant_id": export.tenant_id,
            "storage": storage,
            "location": location,
            "bucket": bucket,
            "endpoint_url": endpoint_url,
            "size": size,
            "expires_at": expires_at,
        },
    )


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    export: Export
    report: Report
    file: ExportFile
    filename: str
    services: ExportServices


def _from_outcome(channel: str, target: str, outcome: Any) -> DeliveryResult:
    row = outcome.delivery
    error = outcome.error
    if outcome.status == "in_progress":
        error = (
            f"left 'sending' by a run that stopped mid-send at {row.updated_at:%Y-%m-%d %H:%M} UTC; it may "
            f"have gone out. It is retried automatically after 15 minutes"
            if row is not None
            else "being sent by another run"
        )
    return DeliveryResult(
        channel=channel,
        target=target,
        status=outcome.status,
        attempts=row.attempts if row is not None else 0,
        error=error,
        message_id=row.message_id if row is not None else None,
        object_key=row.object_key if row is not None else None,
    )


def _deliver_s3(conn: Connection, ctx: _Context) -> tuple[DeliveryResult, str | None, dt.datetime | None]:
    export, services = ctx.export, ctx.services
    s3 = services.s3
    config = export.delivery_config.get("s3") or {}
    if s3 is None:
        return (
            DeliveryResult("s3", "s3://(not configured)/", "failed", error="S3 is not configured"),
            None,
            None,
        )
    bucket = str(config.get("bucket") or s3.bucket)
    try:
        if not bucket:
            raise DeliveryAttemptError(
                "no S3 bucket: set REPORTING_S3_BUCKET (resource s3.bucket) "
                "or the schedule's s3_config.bucket",
                permanent=True,
            )
        check_bucket_name(bucket)
        prefix = check_prefix(str(config.get("prefix") if config.get("prefix") is not None else s3.prefix))
    except (DeliveryAttemptError, ReportingError) as exc:
        return DeliveryResult("s3", f"s3://{bucket or '(none)'}/", "failed", error=str(exc)), None, None
    target = f"s3://{bucket}/{prefix}"
    previous = sent_before(conn, export.subject_key, channel="s3", recipient=target)
    conn.commit()
    if previous:
        key = previous[-1].object_key or ""
        result = DeliveryResult("s3", target, "already_sent", previous[-1].attempts, object_key=key)
    else:
        key = object_key(prefix, export.tenant_id, export.report_id, export.id, ctx.filename)

        def send() -> Sent:
            upload_file(
                services.s3_client,
                s3,
                ctx.file.path,
                bucket,
                key,
                content_type=MEDIA_TYPES[export.format],
                metadata={"export-id": export.id, "tenant-id": export.tenant_id, "sha256": ctx.file.sha256},
            )
            return Sent(object_key=key)

        delivery_key = DeliveryKey("export", export.subject_key, "s3", target, ctx.file.sha256)
        outcome = deliver_once(
            conn, delivery_key, send, metadata={"bucket": bucket, "key": key, "format": export.format}
        )
        result = _from_outcome("s3", target, outcome)
        if result.status == "sent":
            services.log(f"export {export.id}: uploaded to {target}{key[len(prefix) :]}")
    if result.status not in ("sent", "already_sent"):
        return result, None, None
    now = services.now()
    lifetime = min(s3.presign_expiry_seconds, int(services.settings.retention.total_seconds()))
    url = presign(services.s3_client, bucket, key, lifetime, ctx.filename)
    _record_file(
        conn,
        export,
        storage="s3",
        location=key,
        bucket=bucket,
        endpoint_url=s3.endpoint_url or "",
        size=ctx.file.size,
        expires_at=now + services.settings.retention,
    )
    conn.commit()
    return result, url, now + dt.timedelta(seconds=lifetime)


def _message(
    ctx: _Context, recipient: str, link: str | None, link_expires: dt.datetime | None
) -> tuple[EmailMessage, bool]:
    export, report = ctx.export, ctx.report
    cfg = export.delivery_config
    email_cfg = cfg.get("email") or {}
    zone_name = str(cfg.get("timezone") or "UTC")
    from zoneinfo import ZoneInfo

    local = (export.scheduled_for or export.as_of).astimezone(ZoneInfo(zone_name))
    subject = str(
        email_cfg.get("subject") or f"{report.name} – {export.format.upper()} export – {local:%Y-%m-%d}"
    )
    attach = (
        bool(email_cfg.get("attach", True)) and ctx.file.size <= ctx.services.settings.max_attachment_bytes
    )
    lines = []
    if email_cfg.get("body"):
        lines += [str(email_cfg["body"]), ""]
    lines += [
        f"Report: {report.name}",
        f"Generated: {local:%Y-%m-%d %H:%M %Z}",
        f"Rows: {ctx.file.rows:,} (row limit {report.row_limit:,})",
        f"Format: {export.format.upper()}, {ctx.file.size:,} bytes",
    ]
    if attach:
        lines.append(f"The file is attached: {ctx.filename}")
    if link:
        expiry = f" (valid until {link_expires:%Y-%m-%d %H:%M} UTC)" if link_expires else ""
        lines += ["", f"Download{expiry}:", link]
    lines += [
        "",
        f"Export {export.id}"
        + (f", schedule {cfg.get('schedule_name')!r}" if cfg.get("schedule_name") else ""),
    ]
    message = EmailMessage()
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content("\n".join(lines) + "\n")
    if attach:
        maintype, subtype = MEDIA_TYPES[export.format].split("/", 1)
        message.add_attachment(
            ctx.file.path.read_bytes(), maintype=maintype, subtype=subtype, filename=ctx.filename
        )
    return message, attach


def _deliver_email(
    conn: Connection, ctx: _Context, recipient: str, link: str | None, link_expires: dt.datetime | None
) -> DeliveryResult:
    export, services = ctx.export, ctx.services
    previous = sent_before(conn, export.subject_key, channel="email", recipient=recipient)
    conn.commit()
    if previous:
        return DeliveryResult(
            "email", recipient, "already_sent", previous[-1].attempts, message_id=previous[-1].message_id
        )
    smtp = services.smtp
    message, attached = _message(ctx, recipient, link, link_expires)
    limit_mb = services.settings.max_attachment_bytes / 1024 / 1024

    def send() -> Sent:
        if smtp is None:
            raise DeliveryAttemptError("SMTP is not configured for this run", permanent=True)
        if not attached and not link:
            raise DeliveryAttemptError(
                f"the file ({ctx.file.size / 1024 / 1024:.1f} MB) is above the {limit_mb:g} MB attachment "
                "limit and there is no S3 link to send instead; use delivery_method 'both' or raise "
                "max_attachment_mb",
                permanent=True,
            )

        def retrying(attempt: int, exc: DeliveryAttemptError, delay: float) -> None:
            services.log(
                f"export {export.id}: {recipient}: attempt {attempt} failed ({exc}); retrying in {delay:g}s"
            )

        result = send_with_retries(smtp, message, sleep=services.sleep, on_retry=retrying)
        return Sent(message_id=result.message_id, attempts=result.attempts)

    key = DeliveryKey("export", export.subject_key, "email", recipient, ctx.file.sha256)
    outcome = deliver_once(
        conn,
        key,
        send,
        metadata={"subject": str(message["Subject"]), "attached": attached, "format": export.format},
    )
    result = _from_outcome("email", recipient, outcome)
    if result.status == "sent":
        services.log(f"export {export.id}: emailed {recipient}")
    return result


# --- the run ----------------------------------------------------------------------------------


def _failure_text(
    export: Export, report_name: str, failed: list[DeliveryResult], total: int, made: ExportFile
) -> str:
    lines = "\n".join(f"  - {d.channel} {d.target}: {d.error}" for d in failed)
    return (
        f"Export {export.id} of {report_name!r}: {len(failed)} of {total} deliveries failed:\n{lines}\n"
        f"The file was made ({made.rows:,} rows, {made.size:,} bytes) and is kept. Fix the cause, then "
        f"`reporting-assets exports retry {export.id}` (or re-execute the Dagster run): deliveries that "
        f"already went out are not repeated."
    )


def execute_export(conn: Connection, export_id: str, services: ExportServices) -> ExportOutcome:
    """Make and deliver export ``export_id`` (see the module docstring). Never raises for
    export or delivery failures: they end as a ``failed`` outcome and row. Commits."""
    subject = f"export:{export_id}"
    with subject_lock(conn, subject):
        row = conn.execute(query("exports_export_get_any"), {"id": export_id}).fetchone()
        if row is None:
            conn.commit()
            return ExportOutcome(
                "gone", None, f"Export {export_id} no longer exists (its report was deleted?)."
            )
        export = Export.from_row(row)
        if export.status == "completed":
            conn.commit()
            return ExportOutcome(
                "already_completed", export, f"Export {export.id} was already completed; nothing sent."
            )
        report_row = conn.execute(
            query("exports_report_get"), {"id": export.report_id, "tenant_id": export.tenant_id}
        ).fetchone()
        if report_row is None:  # cannot happen with the cascade, kept for clarity
            conn.commit()
            return ExportOutcome("gone", export, f"The report of export {export.id} no longer exists.")
        report = Report.from_row(report_row)
        started_row = conn.execute(query("exports_export_start"), {"id": export.id}).fetchone()
        conn.commit()
        assert started_row is not None
        export = Export.from_row(started_row)
        clock = time.monotonic()
        reused = False
        try:
            if _reusable(export):
                assert export.file_path and export.content_hash
                path = Path(export.file_path)
                made = ExportFile(path, export.row_count or 0, path.stat().st_size, export.content_hash)
                reused = True
                services.log(f"export {export.id}: reusing the file of an earlier attempt ({path})")
            else:
                made = _make_file(conn, export, report, services)
                expires = services.now() + services.settings.retention
                updated = conn.execute(
                    query("exports_export_file"),
                    {
                        "id": export.id,
                        "file_path": str(made.path),
                        "file_size": made.size,
                        "row_count": made.rows,
                        "content_hash": made.sha256,
                        "expires_at": expires,
                    },
                ).fetchone()
                assert updated is not None
                export = Export.from_row(updated)
                _record_file(
                    conn, export, storage="local", location=str(made.path), size=made.size, expires_at=expires
                )
                conn.commit()
            ctx = _Context(export, report, made, download_filename(report.name, export), services)
            results: list[DeliveryResult] = []
            link, link_expires = None, None
            method = export.delivery_method
            if method in ("s3", "both"):
                s3_result, link, link_expires = _deliver_s3(conn, ctx)
                results.append(s3_result)
            if method in ("email", "both"):
                for recipient in export.delivery_config.get("recipients") or []:
                    results.append(_deliver_email(conn, ctx, str(recipient), link, link_expires))
        except Exception as exc:
            message = str(exc) if isinstance(exc, ReportingError) else f"{type(exc).__name__}: {exc}"
            error = f"Export {export.id} of {report.name!r} failed: {message}"
            failed = None
            with contextlib.suppress(Exception):  # keep the original error if the database is gone too
                conn.rollback()
                failed = conn.execute(
                    query("exports_export_fail"),
                    {"id": export.id, "error": error, "download_url": None, "execution_time_ms": _ms(clock)},
                ).fetchone()
                conn.commit()
            if isinstance(exc, DatabaseUnavailableError) or not (
                isinstance(exc, ReportingError | OSError) or _is_query_error(exc)
            ):
                raise
            return ExportOutcome("failed", Export.from_row(failed) if failed else export, error, [], reused)
        failed_results = [r for r in results if r.status in ("failed", "in_progress")]
        if failed_results:
            text = _failure_text(export, report.name, failed_results, len(results), made)
            row = conn.execute(
                query("exports_export_fail"),
                {"id": export.id, "error": text, "download_url": link, "execution_time_ms": _ms(clock)},
            ).fetchone()
            conn.commit()
            return ExportOutcome("failed", Export.from_row(row) if row else export, text, results, reused)
        row = conn.execute(
            query("exports_export_complete"),
            {
                "id": export.id,
                "download_url": link,
                "expires_at": link_expires,
                "execution_time_ms": _ms(clock),
            },
        ).fetchone()
        conn.commit()
        done = Export.from_row(row) if row else replace(export, status="completed")
        sent = sum(1 for r in results if r.status == "sent")
        text = (
            f"Export {export.id} of {report.name!r} completed: {made.rows:,} rows, {made.size:,} bytes "
            f"({export.format}); {sent} delivery(ies) sent, {len(results) - sent} already done."
        )
        return ExportOutcome("completed", done, text, results, reused)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _is_query_error(exc: BaseException) -> bool:
    """An error of the analytics query itself (timeout, a bad value at run time): the export
    fails with its message instead of crashing the run."""
    import psycopg

    return isinstance(exc, psycopg.Error) and not isinstance(exc, psycopg.OperationalError)
