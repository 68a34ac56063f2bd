"""Daily summary email and the delivery ledger, end to end: a real SMTP server (aiosmtpd on
127.0.0.1), real PostgreSQL, real Dagster runs and sensor evaluations. No mocks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import threading
from email.message import EmailMessage
from typing import Any

import dagster as dg
import pytest

from reporting_assets.db.connection import Connection
from reporting_assets.delivery import definitions as delivery_definitions
from reporting_assets.delivery.email_plan import EmailRuns, parse_cursor, plan_summary_emails
from reporting_assets.delivery.errors import DeliveryError
from reporting_assets.delivery.jobs import run_config_for
from reporting_assets.delivery.ledger import (
    DeliveryAttemptError,
    DeliveryKey,
    Sent,
    claim,
    deliver_once,
    record_pending,
    sent_before,
)
from reporting_assets.delivery.recipients import add_recipient
from reporting_assets.delivery.render import markdown_to_html
from reporting_assets.delivery.resources import SummaryEmailSettingsResource, smtp_resource_from_env
from reporting_assets.delivery.sensors import daily_summary_email_sensor
from reporting_assets.delivery.smtp import SmtpResource, SmtpSettings, send_message
from reporting_assets.errors import SettingsError
from reporting_assets.resources import PostgresResource
from reporting_assets_tests.support.delivery import (
    TODAY,
    TWO_DAYS_AGO,
    YESTERDAY,
    insert_summary,
    ledger,
    restate,
    send_run,
)
from reporting_assets_tests.support.servers import SmtpServer, free_port

# --- data -----------------------------------------------------------------------------------


def summary_row(conn: Connection, customer_key: str, day: dt.date) -> dict[str, Any]:
    row = conn.execute(
        "SELECT * FROM reporting.daily_customer_summaries WHERE customer_key = %s AND summary_date = %s",
        (customer_key, day),
    ).fetchone()
    conn.commit()
    assert row is not None
    return dict(row)


# --- running things -------------------------------------------------------------------------


def run_request(
    request: dg.RunRequest, instance: dg.DagsterInstance, database_url: str, smtp: SmtpResource
) -> dg.ExecuteInProcessResult:
    """Run what a sensor requested, with its config and tags (as the daemon would)."""
    return send_run(instance, database_url, smtp, dict(request.run_config), dict(request.tags))


def evaluate(
    instance: dg.DagsterInstance, database_url: str, cursor: str | None = None, **settings: Any
) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "postgres": PostgresResource(database_url=database_url),
            "summary_email": SummaryEmailSettingsResource(**settings),
        },
    )
    result = daily_summary_email_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    failures = result.get_step_failure_events()
    assert len(failures) == 1
    error = failures[0].step_failure_data.error
    assert error is not None
    return error.message


def bodies(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # on the wire lines end in CRLF
    return str(text.get_content()).replace("\r\n", "\n"), str(html.get_content()).replace("\r\n", "\n")


def key_of(customer: str, day: dt.date, content_hash: str) -> str:
    return f"daily_summary:{customer}|{day.isoformat()}:{content_hash}"


def greyson_with_a_refused_mailbox(conn: Connection, smtp_server: SmtpServer) -> str:
    """GREYSON's summary of yesterday for good@ and bad@, whose mailbox the server refuses
    (550, permanent); the summary's content hash."""
    add_recipient(conn, "GREYSON", "good@greyson.example")
    add_recipient(conn, "GREYSON", "bad@greyson.example")
    smtp_server.handler.reject["bad@greyson.example"] = "550 5.1.1 <bad@greyson.example>: mailbox unavailable"
    return insert_summary(conn, "GREYSON", YESTERDAY)


def backdate(conn: Connection, subject: str, status: str, minutes: int) -> dt.datetime:
    """Move the ``status`` delivery of ``subject`` back in time, as if its last change happened
    ``minutes`` ago (a failure, or a claim by a run that died); its new ``updated_at``."""
    row = conn.execute(
        "UPDATE reporting.deliveries SET updated_at = now() - make_interval(mins => %s) "
        "WHERE subject_key = %s AND status = %s RETURNING updated_at",
        (minutes, subject, status),
    ).fetchone()
    conn.commit()
    assert row is not None
    return row["updated_at"]


# --- tests ----------------------------------------------------------------------------------


def test_complete_summary_is_emailed_once_per_recipient_as_html_and_text(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "Ops@Peloton.example", "Peloton Ops")
    add_recipient(conn, "PELOTON", "cfo@peloton.example")
    content_hash = insert_summary(conn, "PELOTON", YESTERDAY, customer_name="<b>PELOTON</b> & Co")
    before = summary_row(conn, "PELOTON", YESTERDAY)

    result = evaluate(instance, database_url)
    assert [r.run_key for r in result.run_requests or []] == [key_of("PELOTON", YESTERDAY, content_hash)]
    request = (result.run_requests or [])[0]
    assert request.run_config == run_config_for("PELOTON", YESTERDAY, content_hash)
    assert request.tags["reporting/customer"] == "PELOTON"

    run = send_run(instance, database_url, smtp_server.resource(), dict(request.run_config))
    assert run.success

    received = smtp_server.handler.messages
    assert sorted(m.rcpt_tos[0] for m in received) == ["cfo@peloton.example", "ops@peloton.example"]
    assert all(len(m.rcpt_tos) == 1 and m.mail_from == "reports@reporting.example" for m in received)
    message = smtp_server.handler.to("ops@peloton.example")[0]
    assert message["Subject"] == f"Daily summary – <b>PELOTON</b> & Co – {YESTERDAY.isoformat()}"
    assert message["To"] == "Peloton Ops <ops@peloton.example>"
    text, html = bodies(message)
    assert text == before["combined_markdown"]
    assert "<table>" in html and "<th>Metric</th>" in html and "<td><strong>New Orders</strong></td>" in html
    assert "&lt;script&gt;alert" in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "&lt;b&gt;PELOTON&lt;/b&gt; &amp; Co" in html and "<b>PELOTON</b>" not in html
    assert "Incomplete" not in html

    rows = ledger(conn, f"daily_summary:PELOTON|{YESTERDAY.isoformat()}")
    assert set(rows) == {("daily_summary", "ops@peloton.example"), ("daily_summary", "cfo@peloton.example")}
    ops = rows[("daily_summary", "ops@peloton.example")]
    assert (ops.status, ops.attempts, ops.key.content_hash) == ("sent", 1, content_hash)
    assert ops.message_id == message["Message-ID"] and ops.sent_at is not None
    assert ops.metadata["subject"] == message["Subject"]

    again = send_run(instance, database_url, smtp_server.resource(), dict(request.run_config))
    assert again.success
    assert len(smtp_server.handler.messages) == 2
    assert (
        ledger(conn, f"daily_summary:PELOTON|{YESTERDAY.isoformat()}")[
            ("daily_summary", "ops@peloton.example")
        ].attempts
        == 1
    )
    assert summary_row(conn, "PELOTON", YESTERDAY) == before


def test_incomplete_summary_waits_for_the_deadline_then_goes_out_marked_incomplete(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    today_hash = insert_summary(conn, "PELOTON", TODAY, missing=("shipping_sync",))
    old_hash = insert_summary(conn, "PELOTON", TWO_DAYS_AGO, missing=("shipping_sync",))

    # today's deadline (06:00 UTC tomorrow) is ahead; the day before yesterday's has passed
    result = evaluate(instance, database_url)
    assert [r.run_key for r in result.run_requests or []] == [key_of("PELOTON", TWO_DAYS_AGO, old_hash)]
    assert json.loads(result.cursor or "")["requested"] == {f"PELOTON|{TWO_DAYS_AGO.isoformat()}": old_hash}

    run = send_run(
        instance, database_url, smtp_server.resource(), dict((result.run_requests or [])[0].run_config)
    )
    assert run.success
    [message] = smtp_server.handler.to("ops@peloton.example")
    assert message["Subject"] == (
        f"Daily summary – PELOTON – {TWO_DAYS_AGO.isoformat()} (incomplete: missing shipping_sync)"
    )
    _, html = bodies(message)
    assert "<strong>Incomplete:</strong> missing shipping_sync" in html

    # nothing more until today's deadline ...
    assert not evaluate(instance, database_url, result.cursor).run_requests
    # ... which is configurable: a deadline at the start of the day itself has passed
    early = evaluate(instance, database_url, result.cursor, deadline_days_after=0, deadline_time_utc="00:00")
    assert [r.run_key for r in early.run_requests or []] == [key_of("PELOTON", TODAY, today_hash)]


def test_a_complete_summary_of_today_waits_for_the_day_to_end(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
) -> None:
    """Runs later in the day would restate it, each sending a correction (the samples run hourly)."""
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    today_hash = insert_summary(conn, "PELOTON", TODAY)
    yesterday_hash = insert_summary(conn, "PELOTON", YESTERDAY)

    waiting = evaluate(instance, database_url)
    assert [r.run_key for r in waiting.run_requests or []] == [key_of("PELOTON", YESTERDAY, yesterday_hash)]
    assert f"PELOTON|{TODAY.isoformat()}" not in json.loads(waiting.cursor or "")["requested"]

    at_once = evaluate(instance, database_url, waiting.cursor, wait_for_day_end=False)
    assert [r.run_key for r in at_once.run_requests or []] == [key_of("PELOTON", TODAY, today_hash)]


def test_restated_summary_sends_one_short_correction_naming_what_changed(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    add_recipient(conn, "PELOTON", "cfo@peloton.example")
    v1 = insert_summary(conn, "PELOTON", TWO_DAYS_AGO, missing=("shipping_sync",), shipping_updates=0)
    first = evaluate(instance, database_url)
    assert send_run(
        instance, database_url, smtp_server.resource(), dict((first.run_requests or [])[0].run_config)
    ).success
    assert len(smtp_server.handler.messages) == 2

    v2 = restate(conn, "PELOTON", TWO_DAYS_AGO, new_orders=15, shipping_updates=7)
    second = evaluate(instance, database_url, first.cursor)
    assert [r.run_key for r in second.run_requests or []] == [key_of("PELOTON", TWO_DAYS_AGO, v2)]
    assert json.loads(second.cursor or "")["requested"] == {f"PELOTON|{TWO_DAYS_AGO.isoformat()}": v2}

    # the run requested for v1 is outdated now: it sends nothing and succeeds
    stale = send_run(
        instance, database_url, smtp_server.resource(), run_config_for("PELOTON", TWO_DAYS_AGO, v1)
    )
    assert stale.success and len(smtp_server.handler.messages) == 2

    run = send_run(
        instance, database_url, smtp_server.resource(), dict((second.run_requests or [])[0].run_config)
    )
    assert run.success
    for address in ("ops@peloton.example", "cfo@peloton.example"):
        _first, correction = smtp_server.handler.to(address)
        assert correction["Subject"] == f"Correction: Daily summary – PELOTON – {TWO_DAYS_AGO.isoformat()}"
        text, html = bodies(correction)
        assert "you received (version 1) has been restated; it is now version 2" in text
        assert "- Status: incomplete (missing shipping_sync) -> complete" in text
        assert "- New orders: 12 -> 15 (+3)" in text
        assert "- Shipping updates: 0 -> 7 (+7)" in text
        assert "Updated orders" not in text  # unchanged totals are not listed
        assert "<td>New orders</td><td>12</td><td>15 (+3)</td>" in html
        assert len(text) < 600  # short: not the whole summary again

    rows = ledger(conn, f"daily_summary:PELOTON|{TWO_DAYS_AGO.isoformat()}")
    correction_row = rows[("summary_correction", "ops@peloton.example")]
    assert (correction_row.status, correction_row.key.content_hash) == ("sent", v2)
    assert correction_row.metadata["based_on_version"] == 1
    assert "New orders: 12 → 15 (+3)" in correction_row.metadata["changes"]

    # exactly one correction: a re-run, a retried tick, a fresh cursor all send nothing more
    assert send_run(
        instance, database_url, smtp_server.resource(), dict((second.run_requests or [])[0].run_config)
    ).success
    assert not evaluate(instance, database_url, second.cursor).run_requests
    assert not evaluate(instance, database_url, None).run_requests
    assert len(smtp_server.handler.messages) == 4


def test_rejected_recipient_fails_alone_and_a_retry_sends_only_to_it(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    content_hash = greyson_with_a_refused_mailbox(conn, smtp_server)
    before = summary_row(conn, "GREYSON", YESTERDAY)
    config = run_config_for("GREYSON", YESTERDAY, content_hash)

    run = send_run(instance, database_url, smtp_server.resource(), config)
    message = failure_message(run)
    assert "1 of 2 recipient(s) failed" in message
    assert "bad@greyson.example (daily_summary): recipient refused by 127.0.0.1" in message
    assert "550 5.1.1 <bad@greyson.example>: mailbox unavailable (permanent failure, not retried)" in message
    assert "good@greyson.example" not in message
    assert "Re-execute" in message and "only the failed ones are sent" in message
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["good@greyson.example"]]

    subject = f"daily_summary:GREYSON|{YESTERDAY.isoformat()}"
    rows = ledger(conn, subject)
    bad = rows[("daily_summary", "bad@greyson.example")]
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert bad.last_error is not None and "550 5.1.1" in bad.last_error
    assert rows[("daily_summary", "good@greyson.example")].status == "sent"
    assert summary_row(conn, "GREYSON", YESTERDAY) == before

    smtp_server.handler.reject.clear()  # the mailbox was fixed
    retry = send_run(instance, database_url, smtp_server.resource(), config)
    assert retry.success
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [
        ["good@greyson.example"],
        ["bad@greyson.example"],
    ]
    bad = ledger(conn, subject)[("daily_summary", "bad@greyson.example")]
    assert (bad.status, bad.attempts, bad.last_error) == ("sent", 2, None)


def test_sensor_retries_failed_recipients_in_a_new_run_after_the_delay_a_bounded_number_of_times(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    content_hash = greyson_with_a_refused_mailbox(conn, smtp_server)
    subject = f"daily_summary:GREYSON|{YESTERDAY.isoformat()}"
    smtp = smtp_server.resource()

    first = evaluate(instance, database_url, retry_runs=1)
    (request,) = first.run_requests or []
    assert request.run_key == key_of("GREYSON", YESTERDAY, content_hash)
    assert not run_request(request, instance, database_url, smtp).success  # bad@ is refused

    # before the delay: nothing to run, the tick says when the retry comes
    waiting = evaluate(instance, database_url, first.cursor, retry_runs=1)
    assert not waiting.run_requests
    assert waiting.cursor == first.cursor

    failed_at = backdate(conn, subject, "failed", 31)
    retry = evaluate(instance, database_url, first.cursor, retry_runs=1)
    (retry_request,) = retry.run_requests or []
    assert (
        retry_request.run_key
        == f"{key_of('GREYSON', YESTERDAY, content_hash)}:retry@{failed_at.timestamp():.6f}"
    )
    assert retry_request.tags["reporting/email_retry_of"] == f"GREYSON|{YESTERDAY.isoformat()}@v1"
    again = evaluate(instance, database_url, first.cursor, retry_runs=1)  # same failure: same key
    assert [r.run_key for r in again.run_requests or []] == [retry_request.run_key]

    assert not run_request(retry_request, instance, database_url, smtp).success  # still refused
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["good@greyson.example"]]  # good@ once
    backdate(conn, subject, "failed", 31)
    used_up = evaluate(instance, database_url, first.cursor, retry_runs=1)
    assert not used_up.run_requests  # its one retry run is spent: a person re-executes

    smtp_server.handler.reject.clear()  # the mailbox was fixed; allow one more automatic retry
    last = evaluate(instance, database_url, first.cursor, retry_runs=2)
    (last_request,) = last.run_requests or []
    assert run_request(last_request, instance, database_url, smtp).success
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [
        ["good@greyson.example"],
        ["bad@greyson.example"],
    ]
    bad = ledger(conn, subject)[("daily_summary", "bad@greyson.example")]
    assert (bad.status, bad.attempts) == ("sent", 3)
    assert not evaluate(instance, database_url, first.cursor, retry_runs=2).run_requests


def test_transient_smtp_failures_are_retried_with_backoff_within_the_run(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    add_recipient(conn, "PELOTON", "busy@peloton.example")
    content_hash = insert_summary(conn, "PELOTON", YESTERDAY)
    # busy@ (first in address order): RCPT refused with 450, then DATA with 421, then accepted
    smtp_server.handler.rcpt_replies["busy@peloton.example"] = ["450 4.2.1 mailbox busy"]
    smtp_server.handler.data_replies.append("421 4.3.0 try again later")

    run = send_run(
        instance, database_url, smtp_server.resource(), run_config_for("PELOTON", YESTERDAY, content_hash)
    )
    assert run.success
    assert sorted(m.rcpt_tos[0] for m in smtp_server.handler.messages) == [
        "busy@peloton.example",
        "ops@peloton.example",
    ]
    rows = ledger(conn, f"daily_summary:PELOTON|{YESTERDAY.isoformat()}")
    assert {k[1]: d.attempts for k, d in rows.items()} == {
        "busy@peloton.example": 3,
        "ops@peloton.example": 1,
    }
    assert {d.status for d in rows.values()} == {"sent"}


def test_smtp_server_down_fails_the_run_with_a_clear_message_and_a_retry_sends(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "ACTIVELY BLACK", "ops@activelyblack.example")
    content_hash = insert_summary(conn, "ACTIVELY BLACK", YESTERDAY)
    before = summary_row(conn, "ACTIVELY BLACK", YESTERDAY)
    config = run_config_for("ACTIVELY BLACK", YESTERDAY, content_hash)
    down = free_port()

    run = send_run(instance, database_url, smtp_server.resource(port=down, max_attempts=2), config)
    message = failure_message(run)
    assert f"cannot connect to SMTP server 127.0.0.1:{down}: connection refused" in message
    assert "(gave up after 2 attempts)" in message
    assert "ops@activelyblack.example" in message and "Re-execute" in message
    row = ledger(conn, f"daily_summary:ACTIVELY BLACK|{YESTERDAY.isoformat()}")[
        ("daily_summary", "ops@activelyblack.example")
    ]
    assert (row.status, row.attempts, row.message_id) == ("failed", 2, None)
    assert summary_row(conn, "ACTIVELY BLACK", YESTERDAY) == before

    retry = send_run(instance, database_url, smtp_server.resource(), config)
    assert retry.success
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["ops@activelyblack.example"]]


def test_a_delivery_left_sending_by_a_dead_run_is_reported_not_resent_too_early(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    add_recipient(conn, "PELOTON", "cfo@peloton.example")
    content_hash = insert_summary(conn, "PELOTON", YESTERDAY)
    subject = f"daily_summary:PELOTON|{YESTERDAY.isoformat()}"
    # a run claimed cfo@ and died before the ledger heard back from the SMTP server
    assert claim(conn, DeliveryKey("daily_summary", subject, "email", "cfo@peloton.example", content_hash))
    conn.commit()

    run = send_run(
        instance, database_url, smtp_server.resource(), run_config_for("PELOTON", YESTERDAY, content_hash)
    )
    message = failure_message(run)
    assert "cfo@peloton.example (daily_summary): left 'sending' at" in message
    assert "it may have gone out" in message
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["ops@peloton.example"]]
    assert ledger(conn, subject)[("daily_summary", "cfo@peloton.example")].status == "sending"


def test_sensor_retries_a_delivery_abandoned_by_a_dead_run_once_it_is_stale(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    add_recipient(conn, "PELOTON", "cfo@peloton.example")
    content_hash = insert_summary(conn, "PELOTON", YESTERDAY)
    subject = f"daily_summary:PELOTON|{YESTERDAY.isoformat()}"
    smtp = smtp_server.resource()

    first = evaluate(instance, database_url)
    (request,) = first.run_requests or []
    # another run claimed cfo@ and died before the ledger heard back from the SMTP server
    assert claim(conn, DeliveryKey("daily_summary", subject, "email", "cfo@peloton.example", content_hash))
    conn.commit()
    assert "cfo@peloton.example (daily_summary): left 'sending'" in failure_message(
        run_request(request, instance, database_url, smtp)
    )

    assert not evaluate(instance, database_url, first.cursor).run_requests  # maybe still sending
    backdate(
        conn, subject, "sending", 16
    )  # stale: counts as failed, retried retry_after_minutes after the claim
    assert not evaluate(instance, database_url, first.cursor).run_requests
    abandoned_at = backdate(conn, subject, "sending", 31)
    retry = evaluate(instance, database_url, first.cursor)
    (retry_request,) = retry.run_requests or []
    assert (
        retry_request.run_key
        == f"{key_of('PELOTON', YESTERDAY, content_hash)}:retry@{abandoned_at.timestamp():.6f}"
    )

    assert run_request(retry_request, instance, database_url, smtp).success
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [
        ["ops@peloton.example"],
        ["cfo@peloton.example"],
    ]
    assert {k[1]: d.status for k, d in ledger(conn, subject).items()} == {
        "ops@peloton.example": "sent",
        "cfo@peloton.example": "sent",
    }
    assert not evaluate(instance, database_url, first.cursor).run_requests


def test_sensor_retries_an_email_run_that_stopped_before_the_ledger_or_left_recipients_pending(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "a@peloton.example")
    add_recipient(conn, "PELOTON", "b@peloton.example")
    add_recipient(conn, "GREYSON", "c@greyson.example")
    peloton = insert_summary(conn, "PELOTON", YESTERDAY)
    greyson = insert_summary(conn, "GREYSON", YESTERDAY)
    smtp = smtp_server.resource()
    first = evaluate(instance, database_url)
    requests = {r.tags["reporting/customer"]: r for r in first.run_requests or []}
    assert sorted(requests) == ["GREYSON", "PELOTON"]

    # GREYSON's run fails before it reaches the ledger (the database is unreachable)
    stopped = send_run(
        instance,
        "postgresql://nobody@127.0.0.1:9/x",
        smtp,
        dict(requests["GREYSON"].run_config),
        dict(requests["GREYSON"].tags),
    )
    assert not stopped.success
    # PELOTON's run recorded both recipients, sent a@ and died: b@ stays 'pending'
    subject = f"daily_summary:PELOTON|{YESTERDAY.isoformat()}"
    keys = [DeliveryKey("daily_summary", subject, "email", f"{r}@peloton.example", peloton) for r in "ab"]
    record_pending(conn, keys)
    conn.commit()
    deliver_once(conn, keys[0], lambda: Sent(message_id="<a@peloton.example>"))
    conn.commit()

    def plan_at(now: dt.datetime) -> tuple[list[str], list[str]]:
        plan = plan_summary_emails(
            conn,
            now=now,
            settings=SummaryEmailSettingsResource(),
            requested=parse_cursor(first.cursor),
            runs=EmailRuns(instance),
        )
        conn.commit()
        return [r.run_key for r in plan.runs], plan.notes

    now = dt.datetime.now(dt.UTC)
    runs, notes = plan_at(now)
    assert runs == []  # the pending row is fresh (a run may still be on it); GREYSON waits the delay
    assert [n.split(";")[0] for n in notes] == [
        f"GREYSON|{YESTERDAY.isoformat()}: the email run stopped before 1 recipient(s) got it"
    ]
    backdate(conn, subject, "pending", 31)  # b@ only: the one pending delivery
    record = instance.get_run_record_by_id(stopped.run_id)
    assert record is not None and record.end_time is not None
    runs, notes = plan_at(now + dt.timedelta(minutes=31))
    assert sorted(k.split(":retry@")[0] for k in runs) == [
        f"daily_summary:GREYSON|{YESTERDAY.isoformat()}:{greyson}",
        f"daily_summary:PELOTON|{YESTERDAY.isoformat()}:{peloton}",
    ]
    assert f"retry@{record.end_time:.6f}" in next(k for k in runs if "GREYSON" in k)

    retried = evaluate(instance, database_url, first.cursor)  # the sensor itself: b@ is due now
    (pending_retry,) = retried.run_requests or []
    assert pending_retry.tags["reporting/customer"] == "PELOTON"
    assert run_request(pending_retry, instance, database_url, smtp).success
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["b@peloton.example"]]  # not a@ again
    assert {k[1]: d.status for k, d in ledger(conn, subject).items()} == {
        "a@peloton.example": "sent",
        "b@peloton.example": "sent",
    }


@pytest.mark.integration
def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=0.3)
        message = EmailMessage()
        message["To"] = "ops@peloton.example"
        message.set_content("hello")
        with pytest.raises(DeliveryAttemptError, match=rf"no answer from 127.0.0.1:{port} within 0.3s"):
            send_message(settings, message)


def test_login_uses_the_password_and_never_reveals_it(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    content_hash = insert_summary(conn, "PELOTON", YESTERDAY)
    config = run_config_for("PELOTON", YESTERDAY, content_hash)

    wrong = send_run(
        instance, database_url, smtp_server.resource(username="reporter", password="wr0ng-s3cret"), config
    )
    message = failure_message(wrong)
    assert "login as 'reporter' refused by 127.0.0.1" in message and "535" in message
    logged = " ".join(
        str(e.dagster_event.message if e.dagster_event else e.user_message)
        for e in instance.all_logs(wrong.run_id)
    )
    assert "wr0ng-s3cret" not in message + logged
    settings = smtp_server.resource(username="reporter", password="wr0ng-s3cret").settings()
    assert "wr0ng" not in repr(settings) + settings.describe()

    right = send_run(
        instance, database_url, smtp_server.resource(username="reporter", password="right-s3cret"), config
    )
    assert right.success and len(smtp_server.handler.messages) == 1


def test_sensor_evaluated_twice_requests_nothing_twice_and_ignores_old_history(
    customers: list[str],
    conn: Connection,
    instance: dg.DagsterInstance,
    database_url: str,
    smtp_server: SmtpServer,
) -> None:
    add_recipient(conn, "PELOTON", "ops@peloton.example")
    add_recipient(conn, "GREYSON", "ops@greyson.example")
    peloton = insert_summary(conn, "PELOTON", YESTERDAY)
    greyson = insert_summary(conn, "GREYSON", YESTERDAY)
    insert_summary(conn, "ACTIVELY BLACK", YESTERDAY)  # no recipients: nothing to send
    old_day = dt.date(2024, 1, 15)
    insert_summary(conn, "PELOTON", old_day)  # long past the window (a backfill): never emailed

    first = evaluate(instance, database_url)
    keys = [str(r.run_key) for r in first.run_requests or []]
    assert sorted(keys) == sorted(
        [key_of("PELOTON", YESTERDAY, peloton), key_of("GREYSON", YESTERDAY, greyson)]
    )
    assert len(set(keys)) == len(keys)
    requested = json.loads(first.cursor or "")["requested"]
    assert requested == {
        f"ACTIVELY BLACK|{YESTERDAY.isoformat()}": requested[f"ACTIVELY BLACK|{YESTERDAY.isoformat()}"],
        f"GREYSON|{YESTERDAY.isoformat()}": greyson,
        f"PELOTON|{YESTERDAY.isoformat()}": peloton,
    }

    second = evaluate(instance, database_url, first.cursor)
    assert not second.run_requests
    assert second.cursor == first.cursor

    # after the runs, even a lost cursor requests nothing: the ledger says it was delivered
    for request in first.run_requests or []:
        assert send_run(instance, database_url, smtp_server.resource(), dict(request.run_config)).success
    assert not evaluate(instance, database_url, None).run_requests
    assert len(smtp_server.handler.messages) == 2

    # an old day that was emailed back then and is restated now gets its correction
    old_subject = f"daily_summary:PELOTON|{old_day.isoformat()}"
    old_hash = summary_row(conn, "PELOTON", old_day)["content_hash"]
    deliver_once(
        conn,
        DeliveryKey("daily_summary", old_subject, "email", "ops@peloton.example", old_hash),
        lambda: Sent(message_id="<old@reporting.example>"),
    )
    restated = restate(conn, "PELOTON", old_day, new_orders=13, shipping_updates=4)
    third = evaluate(instance, database_url, second.cursor)
    assert [r.run_key for r in third.run_requests or []] == [key_of("PELOTON", old_day, restated)]


def test_ledger_is_generic_s3_exports_deliver_once_and_retry_only_failures(
    instance: dg.DagsterInstance, conn: Connection
) -> None:
    content = hashlib.sha256(b"report.csv").hexdigest()
    key = DeliveryKey("export", "export:42", "s3", "s3://reports/acme/", content)
    calls: list[str] = []

    def failing() -> Sent:
        calls.append("fail")
        raise DeliveryAttemptError("S3 PutObject: 503 SlowDown", attempts=3)

    def working() -> Sent:
        calls.append("ok")
        return Sent(object_key="acme/2025-06-17/report.csv", attempts=1)

    failed = deliver_once(conn, key, failing)
    assert failed.status == "failed" and failed.delivery is not None
    assert (failed.delivery.status, failed.delivery.attempts, failed.delivery.last_error) == (
        "failed",
        3,
        "S3 PutObject: 503 SlowDown",
    )
    done = deliver_once(conn, key, working, metadata={"bytes": 1234})
    assert done.status == "sent" and done.delivery is not None
    assert (done.delivery.object_key, done.delivery.attempts, done.delivery.metadata) == (
        "acme/2025-06-17/report.csv",
        4,
        {"bytes": 1234},
    )
    assert deliver_once(conn, key, working).status == "already_sent"
    assert calls == ["fail", "ok"]
    assert [d.key for d in sent_before(conn, "export:42", channel="s3")] == [key]

    # a claimed key is not claimable again while in progress, unless abandoned (stale)
    other = DeliveryKey("alert", "alert:success_rate|2025-06-17", "email", "oncall@example.com", content)
    assert claim(conn, other) is not None
    conn.commit()
    assert claim(conn, other) is None
    assert deliver_once(conn, other, working).status == "in_progress"
    assert claim(conn, other, stale_after=dt.timedelta(0)) is not None
    conn.rollback()

    with pytest.raises(DeliveryError, match="not a lowercase hex SHA-256"):
        DeliveryKey("export", "export:42", "s3", "s3://x/", "abc")
    with pytest.raises(DeliveryError, match="Unknown channel"):
        DeliveryKey("export", "export:42", "ftp", "x", content)  # type: ignore[arg-type]


def test_concurrent_claims_never_both_win(instance: dg.DagsterInstance, database_url: str) -> None:
    from reporting_assets.db.connection import connect

    key = DeliveryKey("alert", "alert:race", "email", "oncall@example.com", "0" * 64)
    winners: list[bool] = []
    barrier = threading.Barrier(4)

    def race() -> None:
        with connect(database_url) as own:
            barrier.wait()
            winners.append(claim(own, key) is not None)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(winners) == [False, False, False, True]


def test_markdown_html_is_escaped_and_tables_render() -> None:
    html = markdown_to_html("| a | b |\n|---|---|\n| <i>x</i> | [y](javascript:alert(1)) |\n")
    assert "<table>" in html and "<td>&lt;i&gt;x&lt;/i&gt;</td>" in html
    assert "href" not in html  # markdown-it refuses javascript: links


def test_resources_for_the_code_location() -> None:
    delivery = delivery_definitions.defs()
    assert [j.name for j in delivery.jobs or []] == ["send_daily_summary_emails"]
    sensors = list(delivery.sensors or [])
    assert [s.name for s in sensors] == ["daily_summary_email_sensor"]
    assert sensors[0].default_status == dg.DefaultSensorStatus.RUNNING
    assert set(delivery.resources or {}) == {"smtp", "summary_email"}

    defaults = smtp_resource_from_env({}).settings()
    assert (defaults.host, defaults.port, defaults.starttls, defaults.password) == (
        "localhost",
        1025,
        False,
        None,
    )

    env = {
        "REPORTING_SMTP_HOST": "smtp.example.com",
        "REPORTING_SMTP_PORT": "587",
        "REPORTING_SMTP_USERNAME": "reporter",
        "REPORTING_SMTP_PASSWORD": "env-s3cret",
        "REPORTING_SMTP_STARTTLS": "true",
        "REPORTING_SMTP_TIMEOUT_SECONDS": "2.5",
    }
    resource = smtp_resource_from_env(env)
    assert isinstance(resource.host, dg.EnvVar) and isinstance(resource.password, dg.EnvVar)
    assert "env-s3cret" not in repr(resource)
    defs = dg.Definitions(jobs=delivery.jobs, resources={"smtp": resource, "postgres": PostgresResource()})
    assert defs.resolve_job_def("send_daily_summary_emails") is not None

    with pytest.raises(SettingsError, match="REPORTING_SMTP_STARTTLS='maybe' is not a yes/no value"):
        smtp_resource_from_env({"REPORTING_SMTP_STARTTLS": "maybe"})
    with pytest.raises(ValueError, match="HH:MM"):
        SummaryEmailSettingsResource(deadline_time_utc="6am")
    deadline = SummaryEmailSettingsResource().deadline_for(dt.date(2025, 6, 17))
    assert deadline == dt.datetime(2025, 6, 18, 6, 0, tzinfo=dt.UTC)


def test_a_deadline_beyond_the_sensor_window_is_refused_with_what_to_change() -> None:
    with pytest.raises(
        ValueError, match=r"lookback_days \(3\) must be greater than deadline_days_after \(4\)"
    ):
        SummaryEmailSettingsResource(deadline_days_after=4)
    assert SummaryEmailSettingsResource(deadline_days_after=4, lookback_days=5).lookback_days == 5


@pytest.mark.parametrize("value", ["6:00", "24:00", "06:60", "06:00 UTC", ""])
def test_a_deadline_that_is_not_hh_mm_is_refused_with_an_example(value: str) -> None:
    with pytest.raises(ValueError, match=r"deadline_time_utc must be HH:MM in 24-hour UTC, e\.g\. '06:00'"):
        SummaryEmailSettingsResource(deadline_time_utc=value)
    deadline = SummaryEmailSettingsResource(deadline_time_utc="23:59").deadline_for(dt.date(2025, 6, 17))
    assert deadline == dt.datetime(2025, 6, 18, 23, 59, tzinfo=dt.UTC)
