"""Report builder and scheduled exports end to end: real PostgreSQL, a real SMTP server (aiosmtpd on
127.0.0.1), a real S3-compatible endpoint (moto's server on 127.0.0.1), real Dagster sensor
evaluations and runs on a PostgreSQL-backed instance. No mocks.

The acceptance test is ``test_weekly_usage_summary_email``: the default schedule, evaluated by
the sensor at Monday 09:00 New York (before and after the 2025 DST change), sends exactly one email
with a PDF whose text shows the row-limited, paginated table; the same tick again sends nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import dagster as dg
import psycopg
import pytest
from dagster._core.storage.dagster_run import RunsFilter
from pypdf import PdfReader

from reporting_assets.db.connection import connect
from reporting_assets.exports import definitions as exports_definitions
from reporting_assets.exports import engine
from reporting_assets.exports.cli import add_cli
from reporting_assets.exports.dagster_defs import build_scheduled_exports_sensor
from reporting_assets.exports.defaults import init_defaults
from reporting_assets.exports.errors import (
    ExportStateError,
    NotFoundError,
    PermissionDeniedError,
    QueryValidationError,
    ReportValidationError,
    ScheduleValidationError,
)
from reporting_assets.exports.execute import claim_occurrence, execute_export
from reporting_assets.exports.maintenance import cleanup_expired
from reporting_assets.exports.models import Actor
from reporting_assets.exports.s3 import S3Resource, S3Settings
from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
from reporting_assets.exports.settings import ExportSettings, ExportSettingsResource
from reporting_assets.exports.source import PostgresAnalyticsSource
from reporting_assets.resources import PostgresResource
from reporting_assets_tests.helpers import QUIET
from reporting_assets_tests.support.exports import EXPORT_SMTP, services, truncate_exports
from reporting_assets_tests.support.servers import ACCESS, SmtpServer, s3_client

ADMIN = Actor("acme", "admin@acme.example", "admin")
ALICE = Actor("acme", "alice@acme.example", "user")
BOB = Actor("acme", "bob@acme.example", "user")
GLOBEX_ADMIN = Actor("globex", "root@globex.example", "admin")
WEIRD = Actor("weird-co", "eve@weird.example", "admin")
LONG_TEXT = "long-" + "x" * 40_000
WEIRD_VALUES = [
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "Ünïcödé ✓ Ελληνικά Кириллица 日本語 🎉",
    LONG_TEXT,
]


# --- data and settings -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def analytics(database_url: str) -> str:
    """Sample analytics for acme and globex (Q1 2025 and the last days), plus hostile cells."""
    today = dt.datetime.now(dt.UTC).date()
    with connect(database_url) as conn:
        generate_sample_data(conn, SampleSpec(end=dt.date(2025, 3, 31), tenants=("acme", "globex"), days=60))
        generate_sample_data(conn, SampleSpec(end=today, tenants=("acme",), days=3, events_per_day=20))
        conn.execute("DELETE FROM analytics.usage_events WHERE tenant_id = 'weird-co'")
        for i, value in enumerate(WEIRD_VALUES):
            conn.execute(
                """INSERT INTO analytics.usage_events
                       (event_id, tenant_id, "timestamp", user_id, device_id, event_type, feature,
                        duration_ms)
                   VALUES (%s, 'weird-co', %s, %s, 'device-1', %s, %s, %s)""",
                (
                    uuid.uuid4(),
                    dt.datetime(2025, 3, 5, 12, i, tzinfo=dt.UTC),
                    value[:100],
                    value[:50],
                    value,
                    5 * i,
                ),
            )
    return database_url


@pytest.fixture(autouse=True)
def clean_exports(database_url: str) -> None:
    """Each test starts without reports, schedules, exports or export deliveries."""
    with connect(database_url) as conn:
        truncate_exports(conn)


@pytest.fixture
def settings(tmp_path: Path) -> ExportSettings:
    return ExportSettings(storage_dir=tmp_path / "exports")


@pytest.fixture
def db(analytics: str) -> Iterator[psycopg.Connection[Any]]:
    with connect(analytics) as conn:
        yield conn


def definitions(
    url: str, smtp: SmtpServer, settings: ExportSettings, s3_endpoint: str, bucket: str
) -> dg.Definitions:
    exports = exports_definitions.defs()
    return dg.Definitions(
        assets=exports.assets,
        asset_checks=exports.asset_checks,
        jobs=exports.jobs,
        sensors=exports.sensors,
        resources={
            "postgres": PostgresResource(database_url=url),
            "smtp": smtp.resource(**EXPORT_SMTP),
            "s3": S3Resource(endpoint_url=s3_endpoint, bucket=bucket, **ACCESS),
            "exports": ExportSettingsResource(storage_dir=str(settings.storage_dir)),
        },
    )


def evaluate(
    instance: dg.DagsterInstance, url: str, at: dt.datetime, cursor: str | None = None
) -> dg.SensorResult:
    sensor = build_scheduled_exports_sensor(clock=lambda: at)
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"postgres": PostgresResource(database_url=url)}
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def launch(
    instance: dg.DagsterInstance, defs: dg.Definitions, result: dg.SensorResult
) -> list[dg.ExecuteInProcessResult]:
    """What the daemon does with a tick's requests: one run each, unless a run with that run key
    already exists."""
    job = defs.resolve_job_def("scheduled_exports_job")
    runs = []
    for request in result.run_requests or []:
        assert isinstance(request, dg.RunRequest) and request.run_key
        if instance.get_runs(filters=RunsFilter(tags={"dagster/run_key": request.run_key})):
            continue
        runs.append(
            job.execute_in_process(
                instance=instance,
                run_config={**request.run_config, **QUIET},
                tags={**request.tags, "dagster/run_key": request.run_key},
                raise_on_error=False,
            )
        )
    return runs


def export_run_config_for(schedule_id: str, due: str) -> dict[str, Any]:
    return {"ops": {"scheduled_exports": {"config": {"schedule_id": schedule_id, "scheduled_for": due}}}}


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    return [
        (part.get_filename() or "", part.get_content_type(), bytes(part.get_payload(decode=True)))
        for part in message.iter_attachments()
    ]


def ledger(db: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    db.commit()
    return db.execute(
        "SELECT channel, recipient, status, attempts, last_error FROM reporting.deliveries "
        "WHERE kind = 'export' ORDER BY recipient"
    ).fetchall()


# --- the acceptance test -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "monday_nine", "next_monday"),
    [
        # 09:00 EST, then 09:00 EDT a week later (clocks change on Sunday 2025-03-09)
        (
            dt.datetime(2025, 3, 2, 12, tzinfo=dt.UTC),
            dt.datetime(2025, 3, 3, 14, tzinfo=dt.UTC),
            (2025, 3, 10, 13),
        ),
        (
            dt.datetime(2025, 3, 9, 12, tzinfo=dt.UTC),
            dt.datetime(2025, 3, 10, 13, tzinfo=dt.UTC),
            (2025, 3, 17, 13),
        ),
    ],
    ids=["before-dst", "after-dst"],
)
def test_weekly_usage_summary_email(
    instance: dg.DagsterInstance,
    analytics: str,
    db: psycopg.Connection[Any],
    smtp_server: SmtpServer,
    settings: ExportSettings,
    s3_endpoint: str,
    created: dt.datetime,
    monday_nine: dt.datetime,
    next_monday: tuple[int, int, int, int],
) -> None:
    defaults = init_defaults(db, ADMIN, ["ops@acme.example"], settings, now=created)
    assert defaults.schedule.next_run_at == monday_nine
    assert (defaults.report.row_limit, defaults.schedule.format, defaults.schedule.delivery_method) == (
        1000,
        "pdf",
        "email",
    )
    # a smaller row limit so that the limit bites on a week of sample data (about 42 rows)
    engine.update_report(db, ADMIN, defaults.report.id, {"row_limit": 30}, settings)
    db.commit()
    defs = definitions(analytics, smtp_server, settings, s3_endpoint, "")

    assert not evaluate(instance, analytics, monday_nine - dt.timedelta(seconds=1)).run_requests
    tick = evaluate(instance, analytics, monday_nine)
    assert [r.run_key for r in tick.run_requests or []] == [
        f"scheduled_export:{defaults.schedule.id}:{monday_nine.isoformat()}"
    ]
    runs = launch(instance, defs, tick)
    assert [r.success for r in runs] == [True]

    messages = smtp_server.handler.to("ops@acme.example")
    assert len(smtp_server.handler.messages) == len(messages) == 1
    message = messages[0]
    assert message["Subject"] == f"Usage Summary – PDF export – {monday_nine:%Y-%m-%d}"
    [(filename, content_type, data)] = attachments(message)
    assert (filename, content_type) == (f"usage-summary-{monday_nine:%Y-%m-%d}.pdf", "application/pdf")
    pages = pdf_text(data)
    assert len(pages) == 2
    assert "Usage Summary" in pages[0] and "09:00 E" in pages[0]  # generated at 09:00 EST/EDT
    assert "30 rows (row limit 30 reached: more rows may match)" in pages[0]
    assert "tenant_id = 'acme' (always applied)" in pages[0]
    assert "Events per day (Total events by Date)" in pages[0]
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of 2" in page
        assert "Total events" in page and "Unique users" in page  # the header row repeats
    assert "Total (30 rows)" in pages[1]
    # 30 rows, plus "Tenant: acme" and "tenant_id = 'acme'" in the header
    assert sum(page.count("acme") for page in pages) == 30 + 2
    newest = (monday_nine - dt.timedelta(minutes=1)).date().isoformat()
    assert newest in pages[0]

    [export] = engine.list_exports(db, ADMIN)
    assert (export.status, export.row_count, export.trigger, export.scheduled_for) == (
        "completed",
        30,
        "schedule",
        monday_nine,
    )
    schedule = engine.get_schedule(db, ADMIN, defaults.schedule.id)
    assert schedule.run_count == 1 and schedule.next_run_at == dt.datetime(*next_monday, tzinfo=dt.UTC)
    assert [d["status"] for d in ledger(db)] == ["sent"]
    materialization = instance.get_latest_materialization_event(dg.AssetKey("scheduled_exports"))
    assert materialization is not None
    meta = materialization.asset_materialization.metadata  # type: ignore[union-attr]
    assert meta["rows"].value == 30 and meta["format"].value == "pdf"

    # the same tick again: with the cursor, with a lost cursor, and the same run re-executed
    assert not evaluate(instance, analytics, monday_nine, cursor=tick.cursor).run_requests
    assert not evaluate(instance, analytics, monday_nine).run_requests
    assert launch(instance, defs, tick) == []
    again = defs.resolve_job_def("scheduled_exports_job").execute_in_process(
        instance=instance, run_config={**(tick.run_requests or [])[0].run_config, **QUIET}
    )
    assert again.success
    assert len(smtp_server.handler.messages) == 1
    assert len(engine.list_exports(db, ADMIN)) == 1


def test_missed_occurrences_run_the_latest_once(
    instance: dg.DagsterInstance, analytics: str, db: psycopg.Connection[Any], settings: ExportSettings
) -> None:
    defaults = init_defaults(
        db, ADMIN, ["ops@acme.example"], settings, now=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    )
    tick = evaluate(instance, analytics, dt.datetime(2025, 3, 12, tzinfo=dt.UTC))  # 6 Mondays later
    [request] = tick.run_requests or []
    assert request.run_key == f"scheduled_export:{defaults.schedule.id}:2025-03-10T13:00:00+00:00"
    assert request.run_config == export_run_config_for(defaults.schedule.id, "2025-03-10T13:00:00+00:00")
    # toggling off stops requests; on again starts at the next occurrence (no catch-up)
    engine.toggle_schedule(db, ADMIN, defaults.schedule.id, now=dt.datetime(2025, 3, 12, tzinfo=dt.UTC))
    db.commit()
    assert not evaluate(instance, analytics, dt.datetime(2025, 3, 12, 1, tzinfo=dt.UTC)).run_requests
    resumed = engine.toggle_schedule(
        db, ADMIN, defaults.schedule.id, now=dt.datetime(2025, 3, 12, tzinfo=dt.UTC)
    )
    db.commit()
    assert resumed.is_active and resumed.next_run_at == dt.datetime(2025, 3, 17, 13, tzinfo=dt.UTC)


# --- defaults, access rules, previews ------------------------------------------------------------


def test_init_defaults_is_idempotent_admin_only_and_needs_recipients(
    db: psycopg.Connection[Any], settings: ExportSettings
) -> None:
    first = init_defaults(db, ADMIN, ["Ops@Acme.Example"], settings)
    again = init_defaults(db, ADMIN, ["someone-else@acme.example"], settings)
    assert (first.created_report, first.created_schedule) == (True, True)
    assert (again.created_report, again.created_schedule) == (False, False)
    assert again.report.id == first.report.id and again.schedule.recipients == ["ops@acme.example"]
    schedule = first.schedule
    assert (schedule.cron_expression, schedule.timezone, schedule.format, schedule.delivery_method) == (
        "0 9 * * 1",
        "America/New_York",
        "pdf",
        "email",
    )
    assert schedule.is_active and first.report.query_config["filters"][0]["op"] == "last"
    with pytest.raises(PermissionDeniedError, match="--role admin"):
        init_defaults(db, ALICE, ["ops@acme.example"], settings)
    with pytest.raises(ScheduleValidationError, match="recipients: delivery_method 'email' sends email"):
        init_defaults(db, GLOBEX_ADMIN, [], settings)


def _report(db: psycopg.Connection[Any], actor: Actor, settings: ExportSettings, **values: Any) -> Any:
    base = {
        "name": "Events by type",
        "query_config": {
            "table": "usage_events",
            "fields": ["event_type", {"aggregate": "count", "as": "events"}],
            "filters": [{"field": "timestamp", "op": "between", "value": ["2025-03-01", "2025-03-08"]}],
            "group_by": ["event_type"],
            "order_by": [{"field": "events", "direction": "desc"}],
        },
        **values,
    }
    return engine.create_report(db, actor, base, settings)


def test_access_rules_and_tenant_isolation(db: psycopg.Connection[Any], settings: ExportSettings) -> None:
    private = _report(db, ALICE, settings, name="Alice private")
    public = _report(db, ALICE, settings, name="Alice public", is_public=True)
    assert {r.name for r in engine.list_reports(db, ALICE)} == {"Alice private", "Alice public"}
    assert {r.name for r in engine.list_reports(db, BOB)} == {"Alice public"}
    assert {r.name for r in engine.list_reports(db, ADMIN)} == {"Alice private", "Alice public"}
    assert engine.list_reports(db, GLOBEX_ADMIN) == []
    with pytest.raises(NotFoundError, match="does not exist in tenant 'acme'"):
        engine.get_report(db, BOB, private.id)
    with pytest.raises(NotFoundError, match="does not exist in tenant 'globex'"):
        engine.get_report(db, GLOBEX_ADMIN, public.id)
    with pytest.raises(PermissionDeniedError, match=r"belongs to 'alice@acme\.example'"):
        engine.update_report(db, BOB, public.id, {"name": "Bob's now"}, settings)
    with pytest.raises(PermissionDeniedError, match=r"belongs to 'alice@acme\.example'"):
        engine.delete_report(db, BOB, public.id)
    assert engine.update_report(db, ADMIN, public.id, {"row_limit": 5}, settings).row_limit == 5
    # public reports are read-only for others: preview and export them, schedule them for yourself
    export = engine.create_export(db, BOB, public.id, "csv")
    assert export.initiated_by == BOB.user_id
    with pytest.raises(NotFoundError, match=f"Export {export.id} does not exist in tenant 'acme'"):
        engine.get_export(db, ALICE, export.id)
    assert engine.get_export(db, ADMIN, export.id).id == export.id
    schedule = engine.create_schedule(
        db,
        BOB,
        public.id,
        {
            "name": "Bob daily",
            "cron_expression": "0 7 * * *",
            "format": "csv",
            "delivery_method": "s3",
            "s3_config": {"bucket": "acme-reports"},
        },
    )
    assert [s.id for s in engine.list_schedules(db, BOB)] == [schedule.id]
    assert engine.list_schedules(db, ALICE) == []
    with pytest.raises(NotFoundError, match=f"Schedule {schedule.id} does not exist in tenant 'acme'"):
        engine.toggle_schedule(db, ALICE, schedule.id)
    with pytest.raises(NotFoundError, match="is not an id"):
        engine.get_report(db, ADMIN, "1; DROP TABLE reporting.reports")


def test_preview_pages_and_validate_query(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings
) -> None:
    report = _report(db, ALICE, settings, row_limit=5)
    source = PostgresAnalyticsSource(analytics)
    first = engine.preview_report(db, ALICE, report.id, source, settings, page=1, page_size=2)
    last = engine.preview_report(db, ALICE, report.id, source, settings, page=3, page_size=2)
    assert (first.total, first.page_count, len(first.rows), len(last.rows)) == (5, 3, 2, 1)
    assert [c["name"] for c in first.columns] == ["event_type", "events"]
    assert first.rows[0][1] >= first.rows[1][1]
    with pytest.raises(ReportValidationError, match=r"page: 4 is past the last page"):
        engine.preview_report(db, ALICE, report.id, source, settings, page=4, page_size=2)
    checked = engine.validate_query(ALICE, report.query_config, settings)
    assert checked["valid"] and checked["filters"][0] == "tenant_id = 'acme' (always applied)"
    assert [t["name"] for t in engine.list_tables()] == ["device_metrics", "usage_events", "user_sessions"]


def test_report_and_schedule_bad_input(db: psycopg.Connection[Any], settings: ExportSettings) -> None:
    with pytest.raises(QueryValidationError, match=r"row_limit: 1,000,000,000 is outside 1\.\.100,000"):
        _report(db, ALICE, settings, row_limit=10**9)
    with pytest.raises(
        ReportValidationError, match=r"visualization_config\.y: 'event_type' is not a numeric column"
    ):
        _report(db, ALICE, settings, visualization_config={"type": "bar", "x": "events", "y": "event_type"})
    with pytest.raises(ReportValidationError, match="unknown report field"):
        _report(db, ALICE, settings, sql="SELECT 1")
    report = _report(db, ALICE, settings)
    good = {
        "name": "x",
        "cron_expression": "0 9 * * 1",
        "format": "pdf",
        "delivery_method": "email",
        "recipients": ["a@acme.example"],
    }
    for change, expected in (
        (
            {"cron_expression": "every monday"},
            "cron_expression: 'every monday' is not a valid cron expression",
        ),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone: unknown time zone 'Mars/Olympus_Mons'"),
        ({"recipients": []}, "recipients: delivery_method 'email' sends email, so at least one recipient"),
        ({"recipients": ["not an address"]}, "recipients[0]: 'not an address' is not a valid email address"),
        ({"format": "docx"}, "format: 'docx' is not one of csv, pdf, xlsx"),
        (
            {"delivery_method": "both", "s3_config": {"bucket": "Bad_Bucket"}},
            "s3_config.bucket: 'Bad_Bucket' is not",
        ),
        ({"email_config": {"subject": "hi\r\nBcc: x@evil.example"}}, "email_config.subject: one line"),
    ):
        with pytest.raises(ScheduleValidationError, match=re.escape(expected)):
            engine.create_schedule(db, ALICE, report.id, {**good, **change})


# --- formats: formula injection, unicode, very long cells -----------------------------------------


def xlsx_cells(path: Path) -> tuple[list[list[str]], str, str]:
    """The Report sheet's cells as text (inline strings and numbers), its XML and the styles XML."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
        styles = zf.read("xl/styles.xml").decode()
    rows = []
    for row in ElementTree.fromstring(sheet).iter(f"{{{ns['m']}}}row"):
        cells = []
        for c in row.iter(f"{{{ns['m']}}}c"):
            text = "".join(t.text or "" for t in c.iter(f"{{{ns['m']}}}t"))
            value = c.find("m:v", ns)
            number = (value.text or "") if value is not None else ""
            cells.append(text if c.get("t") == "inlineStr" else number)
        rows.append(cells)
    return rows, sheet, styles


def test_formats_neutralize_formulas_and_keep_unicode_and_long_values(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings
) -> None:
    report = engine.create_report(
        db,
        WEIRD,
        {
            "name": "Hostile cells",
            "query_config": {
                "table": "usage_events",
                "fields": ["timestamp", "event_type", "feature", "duration_ms"],
                "order_by": [{"field": "timestamp"}],
            },
        },
        settings,
    )
    outputs = {}
    for fmt in ("csv", "xlsx", "pdf"):
        export = engine.create_export(db, WEIRD, report.id, fmt)
        db.commit()
        outcome = execute_export(db, export.id, services(analytics, settings))
        assert outcome.status == "completed", outcome.message
        outputs[fmt] = engine.download_export(db, WEIRD, export.id).path

    rows = list(csv.reader(io.StringIO(outputs["csv"].read_text(encoding="utf-8"))))
    assert rows[0] == ["timestamp", "event_type", "feature", "duration_ms"]
    features = [r[2] for r in rows[1:]]
    assert features[:4] == ["'" + v for v in WEIRD_VALUES[:4]]
    assert features[4] == WEIRD_VALUES[4] and features[5] == LONG_TEXT  # unicode and 40,000 characters intact
    assert [r[3] for r in rows[1:3]] == ["0", "5"]  # numbers are not text: never prefixed

    cells, sheet, styles = xlsx_cells(outputs["xlsx"])
    assert cells[0] == ["timestamp", "event_type", "feature", "duration_ms"]
    assert [row[2] for row in cells[1:5]] == ["'" + v for v in WEIRD_VALUES[:4]]
    assert cells[5][2] == WEIRD_VALUES[4]
    assert len(cells[6][2]) == 32_767 and cells[6][2].endswith("…")  # Excel's cell limit
    assert "<f>" not in sheet  # no formula anywhere
    assert 'state="frozen"' in sheet and "autoFilter" in sheet
    assert "#,##0" in styles and "yyyy-mm-dd hh:mm:ss" in styles and "<b/>" in styles

    text = "\n".join(pdf_text(outputs["pdf"].read_bytes()))
    assert "Ünïcödé ✓" in text and "Page 1 of 1" in text
    assert "long-xxx" in text and "x" * 2000 not in text  # cut to the column width with "…"
    assert "=HYPERLINK" in text  # a PDF shows text as text


# --- delivery: S3, failures, retries ---------------------------------------------------------------


def _schedule(
    db: psycopg.Connection[Any], settings: ExportSettings, s3: S3Settings | None = None, **values: Any
) -> Any:
    report = _report(db, ADMIN, settings, name="Events by type")
    base = {
        "name": "Weekly events",
        "cron_expression": "0 9 * * 1",
        "timezone": "America/New_York",
        "format": "csv",
    }
    return engine.create_schedule(
        db, ADMIN, report.id, {**base, **values}, s3=s3, now=dt.datetime(2025, 3, 9, tzinfo=dt.UTC)
    )


def test_both_uploads_to_s3_emails_a_link_and_cleanup_removes_expired_files(
    db: psycopg.Connection[Any],
    analytics: str,
    settings: ExportSettings,
    smtp_server: SmtpServer,
    s3_endpoint: str,
    bucket: str,
) -> None:
    schedule = _schedule(
        db,
        settings,
        S3Settings(endpoint_url=s3_endpoint, bucket=bucket, **ACCESS),
        delivery_method="both",
        recipients=["ops@acme.example"],
        s3_config={"prefix": "weekly/"},
    )
    assert schedule.warnings == ()  # the default bucket answers
    export = engine.run_schedule(db, ADMIN, schedule.id)
    db.commit()
    outcome = execute_export(db, export.id, services(analytics, settings, smtp_server, s3_endpoint, bucket))
    assert outcome.status == "completed", outcome.message
    done = outcome.export
    assert done is not None and done.download_url and done.expires_at
    key = f"weekly/acme/{done.report_id}/{done.id}/events-by-type-{done.as_of:%Y-%m-%d}.csv"
    assert [d.object_key for d in outcome.deliveries if d.channel == "s3"] == [key]
    with urllib.request.urlopen(done.download_url) as response:  # the presigned link works
        assert response.read() == Path(done.file_path or "").read_bytes()
    [message] = smtp_server.handler.to("ops@acme.example")
    body = message.get_body(("plain",))
    assert body is not None and done.download_url.split("?")[0] in str(body.get_content())
    assert [a[1] for a in attachments(message)] == ["text/csv"]
    assert [(d["channel"], d["status"]) for d in ledger(db)] == [("email", "sent"), ("s3", "sent")]

    s3 = S3Settings(endpoint_url=s3_endpoint, bucket=bucket, **ACCESS)
    assert cleanup_expired(db, now=dt.datetime.now(dt.UTC), settings=settings, s3=s3).removed_local == 0
    later = dt.datetime.now(dt.UTC) + settings.retention + dt.timedelta(hours=1)
    cleaned = cleanup_expired(db, now=later, settings=settings, s3=s3)
    assert (cleaned.removed_local, cleaned.removed_s3, cleaned.errors) == (1, 1, [])
    assert not Path(done.file_path or "").exists()
    assert s3_client(s3_endpoint).list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    with pytest.raises(ExportStateError, match="expired on"):
        engine.download_export(db, ADMIN, done.id, now=later)


def test_a_bucket_that_does_not_exist_fails_the_export_naming_it(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings, s3_endpoint: str
) -> None:
    schedule = _schedule(db, settings, delivery_method="s3", s3_config={"bucket": "no-such-bucket-here"})
    export = engine.run_schedule(db, ADMIN, schedule.id)
    db.commit()
    outcome = execute_export(
        db, export.id, services(analytics, settings, None, s3_endpoint, "default-bucket")
    )
    assert outcome.status == "failed"
    assert "S3 bucket 'no-such-bucket-here' does not exist at http://127.0.0.1:" in outcome.message
    assert f"reporting-assets exports retry {export.id}" in outcome.message
    failed = engine.get_export(db, ADMIN, export.id)
    assert failed.status == "failed" and failed.file_path and Path(failed.file_path).is_file()
    [row] = ledger(db)
    assert row["status"] == "failed" and "does not exist" in row["last_error"]


def test_smtp_refusing_mid_send_then_retry_sends_only_what_failed(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings, smtp_server: SmtpServer
) -> None:
    recipients = ["a@acme.example", "b@acme.example", "c@acme.example"]
    schedule = _schedule(db, settings, delivery_method="email", recipients=recipients, format="xlsx")
    smtp_server.handler.reject["b@acme.example"] = "550 5.1.1 mailbox unavailable"  # refused mid-send
    export = engine.run_schedule(db, ADMIN, schedule.id)
    db.commit()
    outcome = execute_export(db, export.id, services(analytics, settings, smtp_server))
    assert outcome.status == "failed"
    assert "1 of 3 deliveries failed" in outcome.message
    assert (
        "email b@acme.example: recipient refused by 127.0.0.1" in outcome.message and "550" in outcome.message
    )
    assert {m.rcpt_tos[0] for m in smtp_server.handler.messages} == {"a@acme.example", "c@acme.example"}
    first_hash = engine.get_export(db, ADMIN, export.id).content_hash

    with pytest.raises(ExportStateError, match="only failed exports can be retried"):
        engine.retry_export(db, ADMIN, engine.create_export(db, ADMIN, schedule.report_id, "csv").id)
    del smtp_server.handler.reject["b@acme.example"]
    smtp_server.handler.data_replies.append("554 5.6.0 message refused")  # refused after RCPT, at DATA
    engine.retry_export(db, ADMIN, export.id)
    db.commit()
    second = execute_export(db, export.id, services(analytics, settings, smtp_server))
    assert (
        second.status == "failed" and "message refused by 127.0.0.1" in second.message and second.reused_file
    )
    engine.retry_export(db, ADMIN, export.id)
    db.commit()
    third = execute_export(db, export.id, services(analytics, settings, smtp_server))
    assert third.status == "completed", third.message
    assert [d.status for d in third.deliveries] == ["already_sent", "sent", "already_sent"]
    assert sorted(m.rcpt_tos[0] for m in smtp_server.handler.messages) == recipients  # each exactly once
    assert engine.get_export(db, ADMIN, export.id).content_hash == first_hash
    assert [(d["recipient"], d["status"], d["attempts"]) for d in ledger(db)] == [
        ("a@acme.example", "sent", 1),
        ("b@acme.example", "sent", 3),  # every try counts: 550, then 554, then sent
        ("c@acme.example", "sent", 1),
    ]


def test_report_deleted_while_a_schedule_points_to_it(
    instance: dg.DagsterInstance,
    db: psycopg.Connection[Any],
    analytics: str,
    settings: ExportSettings,
    smtp_server: SmtpServer,
    s3_endpoint: str,
) -> None:
    schedule = _schedule(db, settings, delivery_method="email", recipients=["ops@acme.example"])
    done = engine.create_export(db, ADMIN, schedule.report_id, "csv")
    db.commit()
    assert execute_export(db, done.id, services(analytics, settings)).status == "completed"
    file_path = Path(engine.get_export(db, ADMIN, done.id).file_path or "")
    db.commit()
    tick = evaluate(instance, analytics, dt.datetime(2025, 3, 10, 13, tzinfo=dt.UTC))
    assert len(tick.run_requests or []) == 1

    engine.delete_report(db, ADMIN, schedule.report_id)  # schedules and exports cascade
    db.commit()
    with pytest.raises(NotFoundError, match="deleting a report deletes its schedules"):
        engine.get_schedule(db, ADMIN, schedule.id)
    with pytest.raises(NotFoundError, match=r"deleting a report deletes its exports"):
        engine.get_export(db, ADMIN, done.id)
    [run] = launch(instance, definitions(analytics, smtp_server, settings, s3_endpoint, ""), tick)
    assert run.success and smtp_server.handler.messages == []
    assert instance.get_latest_materialization_event(dg.AssetKey("scheduled_exports")) is None
    assert not evaluate(instance, analytics, dt.datetime(2025, 3, 10, 13, tzinfo=dt.UTC)).run_requests
    assert file_path.exists()
    assert cleanup_expired(db, now=dt.datetime.now(dt.UTC), settings=settings, s3=None).removed_local == 1
    assert not file_path.exists()  # the orphaned file went at the next cleanup, not at expiry


def test_health_checks_warn_on_failures_and_backlog(
    instance: dg.DagsterInstance,
    db: psycopg.Connection[Any],
    analytics: str,
    settings: ExportSettings,
    smtp_server: SmtpServer,
    s3_endpoint: str,
) -> None:
    report = _report(db, ADMIN, settings)
    for _ in range(3):
        engine.create_export(db, ADMIN, report.id, "csv")
    db.execute("UPDATE reporting.exports SET status = 'failed', error_message = 'boom' WHERE true")
    engine.create_export(db, ADMIN, report.id, "csv")
    db.commit()
    defs = definitions(analytics, smtp_server, settings, s3_endpoint, "")
    result = defs.resolve_job_def("export_health_checks").execute_in_process(
        instance=instance, run_config=QUIET
    )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["export_failure_rate"].passed  # 3 of 3 finished exports failed
    assert checks["export_backlog"].passed  # 1 pending
    assert checks["export_failure_rate"].severity == dg.AssetCheckSeverity.WARN


def test_the_sensor_runs_pending_manual_exports_once_per_attempt(
    instance: dg.DagsterInstance,
    db: psycopg.Connection[Any],
    analytics: str,
    settings: ExportSettings,
    smtp_server: SmtpServer,
    s3_endpoint: str,
) -> None:
    report = _report(db, ALICE, settings)
    export = engine.create_export(db, ALICE, report.id, "xlsx")
    db.commit()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    tick = evaluate(instance, analytics, later)
    assert [r.run_key for r in tick.run_requests or []] == [f"export:{export.id}:attempt:0"]
    assert not evaluate(instance, analytics, later, cursor=tick.cursor).run_requests
    [run] = launch(instance, definitions(analytics, smtp_server, settings, s3_endpoint, ""), tick)
    assert run.success
    assert engine.get_export(db, ALICE, export.id).status == "completed"
    assert not evaluate(instance, analytics, later).run_requests


def test_a_queued_retry_of_a_failed_schedule_occurrence_is_run_by_the_sensor(
    instance: dg.DagsterInstance,
    db: psycopg.Connection[Any],
    analytics: str,
    settings: ExportSettings,
    smtp_server: SmtpServer,
    s3_endpoint: str,
) -> None:
    schedule = _schedule(db, settings, delivery_method="email", recipients=["a@acme.example"])
    db.commit()
    export = claim_occurrence(db, schedule.id, dt.datetime(2025, 3, 10, 13, tzinfo=dt.UTC))
    assert export.trigger == "schedule"
    smtp_server.handler.reject["a@acme.example"] = "550 5.1.1 mailbox unavailable"
    assert execute_export(db, export.id, services(analytics, settings, smtp_server)).status == "failed"
    smtp_server.handler.reject.clear()
    engine.retry_export(db, ADMIN, export.id)  # what `exports retry --queue` does
    db.commit()

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    tick = evaluate(instance, analytics, later)
    key = f"export:{export.id}:attempt:{engine.get_export(db, ADMIN, export.id).attempts}"
    retry = [r for r in tick.run_requests or [] if r.run_key == key]  # (beside the latest occurrence)
    assert len(retry) == 1
    defs = definitions(analytics, smtp_server, settings, s3_endpoint, "")
    [run] = launch(instance, defs, dg.SensorResult(run_requests=retry, cursor=tick.cursor))
    assert run.success
    assert engine.get_export(db, ADMIN, export.id).status == "completed"
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["a@acme.example"]]


@pytest.mark.parametrize("separator", ["\n", "\r", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029"])
def test_an_email_subject_that_is_not_one_line_is_refused_when_saved(
    db: psycopg.Connection[Any], settings: ExportSettings, separator: str
) -> None:
    with pytest.raises(ScheduleValidationError, match=r"email_config\.subject: one line"):
        _schedule(
            db,
            settings,
            delivery_method="email",
            recipients=["a@acme.example"],
            email_config={"subject": f"Weekly{separator}report"},
        )


# --- the CLI and the wiring ------------------------------------------------------------------------


def cli(*argv: str) -> int:
    """What ``reporting_assets.cli.main`` does once ``add_cli(sub)`` is wired."""
    from reporting_assets.errors import ReportingError

    parser = argparse.ArgumentParser(prog="reporting-assets")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_cli(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (ReportingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


ACTIONS = [
    ["list"],
    ["create", "report"],
    ["create", "schedule"],
    ["create", "export"],
    ["preview"],
    ["run"],
    ["history"],
    ["retry"],
    ["download"],
    ["init-defaults"],
    ["sample-data"],
    ["cleanup"],
]


@pytest.mark.parametrize("action", ACTIONS, ids=["-".join(a) for a in ACTIONS])
def test_every_exports_action_has_help(action: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$") as exit_info:
        cli("exports", *action, "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: reporting-assets exports")
    assert "--json" in out
    if action[0] not in ("sample-data",):
        assert "--tenant" in out and "--user" in out


def test_cli_defaults_preview_run_history_download_retry(
    analytics: str,
    smtp_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REPORTING_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REPORTING_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("REPORTING_EXPORTS_DIR", str(tmp_path / "files"))
    admin = ["--tenant", "acme", "--user", "admin@acme.example", "--role", "admin"]

    def run_json(*argv: str) -> Any:
        assert cli("exports", *argv, "--json") == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    made = run_json("init-defaults", *admin, "--recipient", "ops@acme.example")
    assert made["created_report"] and made["schedule"]["timezone"] == "America/New_York"
    assert run_json("init-defaults", *admin, "--recipient", "x@acme.example")["created_schedule"] is False
    listed = run_json("list", "--tenant", "acme", "--user", "carol@acme.example")
    assert [r["name"] for r in listed["reports"]] == ["Usage Summary"] and listed["schedules"] == []

    query_file = tmp_path / "q.json"
    query_file.write_text(
        json.dumps(
            {
                "table": "user_sessions",
                "fields": ["platform", {"aggregate": "count"}],
                "group_by": ["platform"],
                "order_by": [{"field": "platform"}],
            }
        )
    )
    report = run_json(
        "create", "report", *admin, "--name", "Sessions by platform", "--query", f"@{query_file}"
    )
    preview = run_json("preview", report["id"], *admin, "--page-size", "2")
    assert (preview["page"], preview["page_count"], preview["total"]) == (1, 2, 4)  # 4 platforms
    assert preview["rows"][0][0] == "android"

    schedule_id = made["schedule"]["id"]
    ran = run_json("run", schedule_id, *admin)
    assert ran["status"] == "completed" and ran["deliveries"][0]["status"] == "sent"
    [message] = smtp_server.handler.to("ops@acme.example")
    assert [a[1] for a in attachments(message)] == ["application/pdf"]
    history = run_json("history", *admin)
    assert [(e["status"], e["trigger"], e["format"]) for e in history] == [("completed", "manual", "pdf")]
    downloaded = run_json("download", history[0]["id"], *admin, "--output", str(tmp_path))
    assert Path(downloaded["path"]).read_bytes().startswith(b"%PDF")

    assert cli("exports", "retry", history[0]["id"], *admin) == 2
    assert "only failed exports can be retried" in capsys.readouterr().err
    assert (
        cli("exports", "preview", *admin, "--query", '{"table": "usage_events", "fields": ["x; DROP"]}') == 2
    )
    assert "fields[0]: unknown field 'x; DROP'" in capsys.readouterr().err
    bad_cron = ["create", "schedule", *admin, "--report", report["id"], "--name", "n", "--cron", "61 * * * *"]
    assert cli("exports", *bad_cron, "--format", "csv", "--delivery", "s3") == 2
    assert "cron_expression:" in capsys.readouterr().err
    assert cli("exports", "list", "--tenant", "../etc", "--user", "x") == 2
    assert "Tenant id '../etc' is not valid" in capsys.readouterr().err

    queued = run_json("run", schedule_id, *admin, "--queue")  # left for the sensor: nothing sent
    assert (queued["status"], queued["trigger"]) == ("pending", "manual")
    assert cli("exports", "run", schedule_id, *admin, "--queue") == 0
    assert f"of schedule {schedule_id} (pending; scheduled_exports_sensor runs it)" in capsys.readouterr().out
    assert len(smtp_server.handler.to("ops@acme.example")) == 1


def test_the_cli_parser_is_light_and_its_choices_match_the_engine() -> None:
    from reporting_assets.exports import cli as exports_cli
    from reporting_assets.exports.formats import FORMATS

    assert exports_cli.FORMATS == FORMATS
    assert exports_cli.DELIVERY_METHODS == engine.DELIVERY_METHODS
    assert exports_cli.EXPORT_STATUSES == engine.EXPORT_STATUSES


def test_the_code_location_loads_with_exports_wired_in() -> None:
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()

    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert set(exports_definitions.defs().resources or {}) <= set(repo.get_top_level_resources())
    assert {"scheduled_exports_job", "export_maintenance", "export_health_checks"} <= set(repo.job_names)
    assert {"scheduled_exports_sensor", "export_maintenance_sensor"} <= {s.name for s in repo.sensor_defs}
