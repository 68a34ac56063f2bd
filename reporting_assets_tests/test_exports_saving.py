"""What a report or schedule may be saved as: nothing saved can fail every run.

Each case feeds exactly the input a clumsy or hostile user typed through the entry points a
user has (``reporting-assets exports ...`` in a real subprocess, and the engine functions an
HTTP layer calls), then checks the message and that the reports, schedules and exports stored
before are all still there, none duplicated, and that a good change afterwards still works.
Real PostgreSQL, a real moto S3 server; no mocks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from reporting_assets.db.connection import connect
from reporting_assets.exports import engine
from reporting_assets.exports.catalog import TABLES
from reporting_assets.exports.dsl import compile_query
from reporting_assets.exports.errors import (
    QueryValidationError,
    ReportValidationError,
    ScheduleValidationError,
)
from reporting_assets.exports.execute import execute_export
from reporting_assets.exports.models import Actor
from reporting_assets.exports.s3 import S3Settings
from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import PostgresAnalyticsSource
from reporting_assets_tests.helpers import run_cli
from reporting_assets_tests.support.exports import services, truncate_exports
from reporting_assets_tests.support.servers import ACCESS, free_port

ADMIN = Actor("acme", "admin@acme.example", "admin")
AS_ADMIN = ["--tenant", "acme", "--user", "admin@acme.example", "--role", "admin"]
TRAILING_BACKSLASH = {
    "table": "usage_events",
    "fields": ["event_type"],
    "filters": [{"field": "event_type", "op": "like", "value": "%\\"}],  # JSON "%\\": one backslash
}
LIKE_PROBLEM = (
    "filters[0].value: the like pattern '%\\\\' on event_type ends with a single backslash, which "
    "escapes nothing; in a like pattern % matches any run of characters, _ any one character, and a "
    "backslash makes the next character literal"
)
NO_BUCKET = (
    "s3_config.bucket: delivery_method 's3' uploads to S3, but the schedule names no bucket and no "
    "default bucket is configured; give one (s3_config.bucket, or --s3-bucket NAME on the command "
    "line) or set REPORTING_S3_BUCKET"
)
HOSTILE_NAME = "Evil\nCorp\x1b[2J\x1b[31mRED\x07"


# --- real servers and the stored state ---------------------------------------------------------


@pytest.fixture(scope="module")
def analytics(database_url: str) -> str:
    """Sample analytics for acme (idempotent)."""
    with connect(database_url) as conn:
        generate_sample_data(conn, SampleSpec(end=dt.date(2025, 3, 31), tenants=("acme",), days=30))
    return database_url


@pytest.fixture
def db(analytics: str) -> Iterator[psycopg.Connection[Any]]:
    with connect(analytics) as conn:
        truncate_exports(conn)
        conn.commit()
        yield conn


@pytest.fixture
def settings(tmp_path: Path) -> ExportSettings:
    return ExportSettings(storage_dir=tmp_path / "exports")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``reporting-assets exports ...`` as a user runs it; S3 settings only from ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTING_S3_", "REPORTING_SMTP_"))}
    result = run_cli("exports", *args, env={**clean, **(env or {})})
    assert "Traceback" not in result.stderr, result.stderr
    return result


def s3_env(endpoint: str, default_bucket: str | None = None) -> dict[str, str]:
    env = {
        "REPORTING_S3_ENDPOINT_URL": endpoint,
        "REPORTING_S3_ACCESS_KEY_ID": ACCESS["access_key_id"],
        "REPORTING_S3_SECRET_ACCESS_KEY": ACCESS["secret_access_key"],
    }
    if default_bucket:
        env["REPORTING_S3_BUCKET"] = default_bucket
    return env


def stored(db: psycopg.Connection[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every report, schedule and export row as it is now (to compare before/after)."""
    db.commit()
    return {
        table: [tuple(r.values()) for r in db.execute(f"SELECT * FROM reporting.{table} ORDER BY id")]
        for table in ("reports", "schedules", "exports")
    }


def counts(db: psycopg.Connection[Any]) -> dict[str, int]:
    return {table: len(rows) for table, rows in stored(db).items()}


def good_report(db: psycopg.Connection[Any], settings: ExportSettings, name: str = "Events") -> Any:
    report = engine.create_report(
        db,
        ADMIN,
        {
            "name": name,
            "query_config": {
                "table": "usage_events",
                "fields": ["event_type", {"aggregate": "count", "as": "events"}],
                "group_by": ["event_type"],
                "order_by": [{"field": "event_type"}],
            },
        },
        settings,
    )
    db.commit()
    return report


def existing_state(db: psycopg.Connection[Any], settings: ExportSettings) -> Any:
    """A report with an email schedule and one export: what must survive a refused save."""
    report = good_report(db, settings)
    schedule = engine.create_schedule(
        db,
        ADMIN,
        report.id,
        {
            "name": "Weekly",
            "cron_expression": "0 9 * * 1",
            "format": "csv",
            "delivery_method": "email",
            "recipients": ["ops@acme.example"],
        },
    )
    engine.create_export(db, ADMIN, report.id, "csv")
    db.commit()
    return report, schedule


# --- like patterns ---------------------------------------------------------------------------------


def test_a_like_pattern_ending_in_a_backslash_is_refused_when_saved_or_previewed(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings
) -> None:
    report, _ = existing_state(db, settings)
    before = stored(db)

    saved = cli(
        "create", "report", *AS_ADMIN, "--name", "Bad like", "--query", json.dumps(TRAILING_BACKSLASH)
    )
    assert saved.returncode == 2 and saved.stdout == ""
    assert saved.stderr.startswith(f"error: Invalid query: {LIKE_PROBLEM}")
    assert r"\% matches a percent sign, \_ an underscore, \\ one backslash" in saved.stderr
    as_report_filters = cli(
        "create",
        "report",
        *AS_ADMIN,
        "--name",
        "Bad like",
        "--query",
        '{"table": "usage_events"}',
        "--filters",
        json.dumps(TRAILING_BACKSLASH["filters"]),
    )
    assert as_report_filters.returncode == 2
    assert f"error: Invalid query: report {LIKE_PROBLEM}" in as_report_filters.stderr
    previewed = cli("preview", *AS_ADMIN, "--query", json.dumps(TRAILING_BACKSLASH))
    assert previewed.returncode == 2 and LIKE_PROBLEM in previewed.stderr
    source = PostgresAnalyticsSource(analytics)
    with pytest.raises(QueryValidationError, match=re.escape(LIKE_PROBLEM)):
        engine.create_report(db, ADMIN, {"name": "Bad like", "query_config": TRAILING_BACKSLASH}, settings)
    db.rollback()
    with pytest.raises(QueryValidationError, match=re.escape(LIKE_PROBLEM)):
        engine.update_report(db, ADMIN, report.id, {"query_config": TRAILING_BACKSLASH}, settings)
    db.rollback()
    with pytest.raises(QueryValidationError, match=re.escape(LIKE_PROBLEM)):
        engine.preview_query(ADMIN, TRAILING_BACKSLASH, source, settings)
    assert stored(db) == before  # nothing saved, nothing lost

    # a good update afterwards: an escaped underscore matches only a literal underscore
    literal = {"field": "event_type", "op": "like", "value": "page\\_view"}
    updated = engine.update_report(
        db, ADMIN, report.id, {"query_config": {**report.query_config, "filters": [literal]}}, settings
    )
    db.commit()
    rows = engine.preview_report(db, ADMIN, updated.id, source, settings).rows
    assert [r[0] for r in rows] == ["page_view"] and rows[0][1] > 0
    assert counts(db) == {"reports": 1, "schedules": 1, "exports": 1}


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("a\\\\b", ["a\\b"]),  # \\ is one literal backslash
        ("%\\%", ["50%"]),  # \% a literal percent sign
        ("x\\_y", ["x_y"]),  # \_ a literal underscore
        ("x_y", ["x_y", "xzy"]),  # _ any one character
        ("\\a%", ["a\\b"]),  # a backslash before another character is that character
    ],
)
def test_the_documented_like_escape_rules_hold_in_postgresql(
    db: psycopg.Connection[Any], pattern: str, matches: list[str]
) -> None:
    query = {"table": "usage_events", "filters": [{"field": "feature", "op": "like", "value": pattern}]}
    assert pattern in compile_query(query, tenant_id="acme").params  # accepted as typed
    found = db.execute(
        "SELECT v FROM unnest(%s::text[]) AS v WHERE v LIKE %s ORDER BY v",
        (["a\\b", "50%", "x_y", "xzy", "other"], pattern),
    ).fetchall()
    assert [r["v"] for r in found] == matches


def test_a_report_saved_before_the_rule_fails_its_preview_and_exports_with_the_same_message(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings
) -> None:
    report, _ = existing_state(db, settings)
    db.execute(  # a row stored before like patterns were checked
        "UPDATE reporting.reports SET query_config = %s WHERE id = %s", (Jsonb(TRAILING_BACKSLASH), report.id)
    )
    db.commit()
    heading = f"Report 'Events' ({report.id}) cannot run: its query is invalid: {LIKE_PROBLEM}"

    previewed = cli("preview", report.id, *AS_ADMIN)
    assert previewed.returncode == 2 and previewed.stderr.startswith(f"error: {heading}")
    assert "Change the report's query or filters (update the report), or delete it." in previewed.stderr
    exported = cli("create", "export", "--report", report.id, "--format", "csv", *AS_ADMIN)
    assert exported.returncode == 1
    assert re.match(rf"Export [0-9a-f-]+ of 'Events' failed: {re.escape(heading)}", exported.stdout)
    assert "InvalidEscapeSequence" not in exported.stdout + exported.stderr

    source = PostgresAnalyticsSource(analytics)
    with pytest.raises(QueryValidationError, match=re.escape(heading)):
        engine.preview_report(db, ADMIN, report.id, source, settings)
    export = engine.create_export(db, ADMIN, report.id, "xlsx")
    db.commit()
    outcome = execute_export(db, export.id, services(analytics, settings))
    assert outcome.status == "failed" and heading in outcome.message
    failed = engine.list_exports(db, ADMIN, status="failed")
    assert len(failed) == 2 and all(heading in (e.error_message or "") for e in failed)

    # fixing the stored report makes it run again
    engine.update_report(
        db,
        ADMIN,
        report.id,
        {
            "query_config": {
                **TRAILING_BACKSLASH,
                "filters": [{"field": "event_type", "op": "like", "value": "%"}],
            }
        },
        settings,
    )
    db.commit()
    assert engine.preview_report(db, ADMIN, report.id, source, settings).total > 0
    assert counts(db) == {"reports": 1, "schedules": 1, "exports": 3}


# --- "fields": "*" ---------------------------------------------------------------------------------


def test_fields_star_as_documented_selects_every_whitelisted_field(
    db: psycopg.Connection[Any], settings: ExportSettings
) -> None:
    documented = {"table": "device_metrics", "fields": "*", "order_by": [{"field": "timestamp"}]}
    previewed = cli("preview", *AS_ADMIN, "--query", json.dumps(documented), "--page-size", "2", "--json")
    assert previewed.returncode == 0, previewed.stderr
    page = json.loads(previewed.stdout)
    assert [c["name"] for c in page["columns"]] == list(TABLES["device_metrics"].field_names)
    assert len(page["rows"]) == 2 and page["total"] > 2
    saved = cli(
        "create", "report", *AS_ADMIN, "--name", "All metrics", "--query", json.dumps(documented), "--json"
    )
    assert saved.returncode == 0, saved.stderr
    assert json.loads(saved.stdout)["query_config"]["fields"] == ["*"]

    with pytest.raises(
        QueryValidationError, match=r'fields: must be "\*" \(every whitelisted field\) or a list'
    ):
        engine.create_report(
            db, ADMIN, {"name": "x", "query_config": {"table": "device_metrics", "fields": "os"}}, settings
        )
    assert counts(db)["reports"] == 1


# --- S3 delivery targets ------------------------------------------------------------------------


def test_an_s3_schedule_without_a_bucket_is_refused_when_saved(
    db: psycopg.Connection[Any], settings: ExportSettings, s3_endpoint: str, bucket: str
) -> None:
    report, schedule = existing_state(db, settings)
    before = stored(db)
    base = ["create", "schedule", *AS_ADMIN, "--report", report.id, "--name", "To S3", "--cron", "0 9 * * 1"]

    refused = cli(*base, "--format", "csv", "--delivery", "s3")
    assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", f"error: {NO_BUCKET}\n")
    with_endpoint_only = cli(*base, "--format", "csv", "--delivery", "s3", env=s3_env(s3_endpoint))
    assert with_endpoint_only.returncode == 2 and NO_BUCKET in with_endpoint_only.stderr
    values = {"name": "To S3", "cron_expression": "0 9 * * 1", "format": "csv", "delivery_method": "s3"}
    with pytest.raises(ScheduleValidationError, match=re.escape(NO_BUCKET)):
        engine.create_schedule(db, ADMIN, report.id, values)
    db.rollback()
    with pytest.raises(ScheduleValidationError, match=re.escape(NO_BUCKET.replace("'s3'", "'both'"))):
        engine.update_schedule(db, ADMIN, schedule.id, {"delivery_method": "both"})
    db.rollback()
    assert stored(db) == before

    # the configured default bucket, or the schedule's own, makes it valid
    made = cli(*base, "--format", "csv", "--delivery", "s3", "--json", env=s3_env(s3_endpoint, bucket))
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["warnings"] == [] and made.stderr == ""
    s3 = S3Settings(endpoint_url=s3_endpoint, **ACCESS)
    both = engine.update_schedule(
        db, ADMIN, schedule.id, {"delivery_method": "both", "s3_config": {"bucket": bucket}}, s3=s3
    )
    db.commit()
    assert (both.delivery_method, both.s3_config, both.warnings) == ("both", {"bucket": bucket}, ())
    assert counts(db) == {"reports": 1, "schedules": 2, "exports": 1}


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "it has 2 characters"),
        ("a" * 64, "it has 64 characters"),
        ("Reports_2025", "it holds 'R', '_'"),
        ("-reports", "it starts or ends with '.' or '-'"),
        ("reports.", "it starts or ends with '.' or '-'"),
        ("my..reports", "it holds '..'"),
        ("192.168.5.4", "it is an IP address"),
        ("", "it has 0 characters"),
    ],
)
def test_bucket_names_follow_the_s3_naming_rules(
    db: psycopg.Connection[Any], settings: ExportSettings, name: str, why: str
) -> None:
    report = good_report(db, settings)
    values = {
        "name": "To S3",
        "cron_expression": "0 9 * * 1",
        "format": "csv",
        "delivery_method": "s3",
        "s3_config": {"bucket": name},
    }
    expected = (
        f"s3_config.bucket: {name!r} is not a valid S3 bucket name: {why} (3-63 characters: lowercase "
        "letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', "
        "not an IP address)"
    )
    with pytest.raises(ScheduleValidationError, match=re.escape(expected)):
        engine.create_schedule(db, ADMIN, report.id, values)
    db.rollback()
    assert counts(db) == {"reports": 1, "schedules": 0, "exports": 0}


def test_a_bucket_name_from_the_cli_and_the_default_bucket_are_checked(
    db: psycopg.Connection[Any], settings: ExportSettings, s3_endpoint: str
) -> None:
    report = good_report(db, settings)
    base = ["create", "schedule", *AS_ADMIN, "--report", report.id, "--name", "n", "--cron", "0 9 * * 1"]
    ip = cli(*base, "--format", "pdf", "--delivery", "s3", "--s3-bucket", "192.168.5.4")
    assert ip.returncode == 2
    assert (
        "error: s3_config.bucket: '192.168.5.4' is not a valid S3 bucket name: it is an IP address"
        in ip.stderr
    )
    bad_default = cli(*base, "--format", "pdf", "--delivery", "s3", env=s3_env(s3_endpoint, "Bad_Default"))
    assert bad_default.returncode == 2
    assert "REPORTING_S3_BUCKET (the default bucket): 'Bad_Default' is not a valid S3 bucket name" in (
        bad_default.stderr
    )
    assert counts(db) == {"reports": 1, "schedules": 0, "exports": 0}


def test_an_unreachable_bucket_is_a_warning_and_the_schedule_is_saved(
    db: psycopg.Connection[Any], settings: ExportSettings, s3_endpoint: str
) -> None:
    report = good_report(db, settings)
    base = ["create", "schedule", *AS_ADMIN, "--report", report.id, "--name", "n", "--cron", "0 9 * * 1"]
    missing = cli(
        *base, "--format", "csv", "--delivery", "s3", "--s3-bucket", "no-such-bucket", env=s3_env(s3_endpoint)
    )
    assert missing.returncode == 0 and missing.stdout.startswith("Created schedule 'n': ")
    assert missing.stderr == (
        f"warning: s3_config.bucket: S3 bucket 'no-such-bucket' does not exist at {s3_endpoint} "
        "(checking the bucket); create it or fix the bucket (schedule s3_config.bucket or "
        "REPORTING_S3_BUCKET). The schedule is saved, but its S3 deliveries will fail until this is fixed.\n"
    )

    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    down = cli(
        *base, "--format", "csv", "--delivery", "s3", "--s3-bucket", "reports", "--json", env=s3_env(closed)
    )
    assert down.returncode == 0, down.stderr
    [warning] = json.loads(down.stdout)["warnings"]
    assert warning.startswith(f"s3_config.bucket: cannot reach S3 endpoint {closed} (checking the bucket)")
    assert counts(db) == {"reports": 1, "schedules": 2, "exports": 0}

    # not configured at all: nothing to check against, the bucket name alone is checked
    plain = engine.create_schedule(
        db,
        ADMIN,
        report.id,
        {
            "name": "plain",
            "cron_expression": "0 9 * * 1",
            "format": "csv",
            "delivery_method": "s3",
            "s3_config": {"bucket": "reports"},
        },
        s3=S3Settings(),
    )
    assert plain.warnings == ()


def test_email_recipients_are_checked_when_saved(
    db: psycopg.Connection[Any], settings: ExportSettings
) -> None:
    report, _ = existing_state(db, settings)
    before = stored(db)
    base = ["create", "schedule", *AS_ADMIN, "--report", report.id, "--name", "n", "--cron", "0 9 * * 1"]
    injected = cli(
        *base, "--format", "csv", "--delivery", "email", "--recipient", "a@acme.example\nBcc: x@evil.example"
    )
    assert injected.returncode == 2
    expected = "error: recipients[0]: 'a@acme.example\\nBcc: x@evil.example' is not a valid email address"
    assert expected in injected.stderr
    none = cli(*base, "--format", "csv", "--delivery", "both", "--s3-bucket", "reports")
    assert none.returncode == 2
    assert (
        "recipients: delivery_method 'both' sends email, so at least one recipient is needed" in none.stderr
    )
    assert stored(db) == before


# --- names -----------------------------------------------------------------------------------------


def test_control_characters_in_report_and_schedule_names_are_refused(
    db: psycopg.Connection[Any], settings: ExportSettings
) -> None:
    report, schedule = existing_state(db, settings)
    before = stored(db)

    made = cli("create", "report", *AS_ADMIN, "--name", HOSTILE_NAME, "--query", '{"table": "usage_events"}')
    assert made.returncode == 2 and made.stdout == ""
    assert made.stderr == (
        "error: The report name holds the control character U+000A (LINE FEED) at position 5; control "
        "characters (line breaks, tabs, escape sequences) are not allowed in names. Remove it and try "
        "again.\n"
    )
    sched = cli(
        "create",
        "schedule",
        *AS_ADMIN,
        "--report",
        report.id,
        "--name",
        "\x1b[2JWeekly",
        "--cron",
        "0 9 * * 1",
        "--format",
        "csv",
        "--delivery",
        "email",
        "--recipient",
        "ops@acme.example",
    )
    assert sched.returncode == 2
    assert (
        "error: The schedule name holds the control character U+001B (ESCAPE) at position 1;" in sched.stderr
    )
    with pytest.raises(ReportValidationError, match=r"U\+2028 \(LINE SEPARATOR\) at position 3"):
        engine.update_report(db, ADMIN, report.id, {"name": "Q1\u2028Q2"}, settings)
    db.rollback()
    with pytest.raises(ScheduleValidationError, match=r"U\+0009 \(TAB\) at position 7"):
        engine.update_schedule(db, ADMIN, schedule.id, {"name": "Weekly\treport"})
    db.rollback()
    with pytest.raises(
        ReportValidationError, match=r"name: a report needs a name of 1-255 characters \(got 0\)"
    ):
        engine.update_report(db, ADMIN, report.id, {"name": "   "}, settings)
    db.rollback()
    with pytest.raises(ReportValidationError, match=r"1-255 characters \(got 256\)"):
        engine.update_report(db, ADMIN, report.id, {"name": "x" * 256}, settings)
    db.rollback()
    with pytest.raises(ScheduleValidationError, match="name: a schedule name must be text, got int"):
        engine.update_schedule(db, ADMIN, schedule.id, {"name": 42})
    db.rollback()
    assert stored(db) == before

    renamed = engine.update_schedule(db, ADMIN, schedule.id, {"name": "Weekly report"})
    db.commit()
    assert renamed.name == "Weekly report" and counts(db) == {"reports": 1, "schedules": 1, "exports": 1}


def test_html_paths_pipes_and_emoji_in_names_are_stored_as_typed_and_files_stay_safe(
    db: psycopg.Connection[Any], analytics: str, settings: ExportSettings, tmp_path: Path
) -> None:
    name = "<script>alert(1)</script> ../../etc/passwd | Q1 🎉"
    made = cli(
        "create", "report", *AS_ADMIN, "--name", name, "--query", '{"table": "usage_events"}', "--json"
    )
    assert made.returncode == 0, made.stderr
    report_id = json.loads(made.stdout)["id"]
    assert engine.get_report(db, ADMIN, report_id).name == name
    listed = cli("list", "reports", *AS_ADMIN, "--json")
    assert [r["name"] for r in json.loads(listed.stdout)["reports"]] == [name]

    export = engine.create_export(db, ADMIN, report_id, "csv")
    db.commit()
    assert execute_export(db, export.id, services(analytics, settings)).status == "completed"
    out = tmp_path / "out"
    out.mkdir()
    downloaded = cli("download", export.id, *AS_ADMIN, "--output", str(out), "--json")
    assert downloaded.returncode == 0, downloaded.stderr
    path = Path(json.loads(downloaded.stdout)["path"])
    assert path.parent == out and re.fullmatch(
        r"script-alert-1-script-etc-passwd-q1-\d{4}-\d{2}-\d{2}\.csv", path.name
    )
    assert [p.name for p in out.iterdir()] == [path.name]

    emoji = engine.update_report(db, ADMIN, report_id, {"name": "🎉" * 255}, settings)
    assert emoji.name == "🎉" * 255  # 255 characters, whatever their bytes


def test_names_stored_before_the_rule_are_listed_escaped(
    db: psycopg.Connection[Any], settings: ExportSettings
) -> None:
    report = good_report(db, settings)
    db.execute("UPDATE reporting.reports SET name = %s WHERE id = %s", (HOSTILE_NAME, report.id))
    db.commit()
    listed = cli("list", "reports", *AS_ADMIN)
    assert listed.returncode == 0
    assert "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    assert "Evil\\nCorp\\x1b[2J\\x1b[31mRED\\x07" in listed.stdout
