"""Alerts below the success threshold: a WARN check and one email per source and window,
through a real SMTP server (aiosmtpd on 127.0.0.1), the shared SmtpResource and the delivery
ledger. Real runs: PELOTON's shipping_sync fails, GREYSON's succeeds (shipping 1 of 2 = 50 %).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest

from reporting_assets.automation.errors import AutomationReportError
from reporting_assets.automation.resources import AutomationSettingsResource, automation_settings_from_env
from reporting_assets.automation.rules import RuleSettings
from reporting_assets.customers import add_customer
from reporting_assets.db.connection import connect
from reporting_assets.delivery.errors import RecipientError
from reporting_assets.pipelines.registry import load_registry
from reporting_assets_tests.helpers import render, run_sources
from reporting_assets_tests.support.automation import (
    failure_text,
    run_automation_job,
    stored_rows,
    truncate_automation,
)
from reporting_assets_tests.support.database import wipe
from reporting_assets_tests.support.servers import SmtpServer

D = dt.date(2025, 6, 17)
RECIPIENTS = ["ops@reporting.example", "lead@reporting.example"]
CHECK_KEY = dg.AssetCheckKey(dg.AssetKey("automation_reports"), "success_rate_above_threshold")


@pytest.fixture(scope="module")
def report_time(session_instance: dg.DagsterInstance, database_url: str) -> dt.datetime:
    wipe(session_instance, database_url)
    with connect(database_url) as conn:
        for name in ("PELOTON", "GREYSON"):
            add_customer(conn, session_instance, name)
    run_sources(session_instance, f"PELOTON|{D}", ops={"shipping_sync": {"simulate": "failure"}})
    run_sources(session_instance, f"GREYSON|{D}")
    render(session_instance, f"PELOTON|{D}")
    render(session_instance, f"GREYSON|{D}")
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clean(database_url: str) -> Iterator[None]:
    truncate_automation(database_url)
    with connect(database_url) as conn:
        conn.execute("TRUNCATE reporting.deliveries RESTART IDENTITY")
    yield


def _run(
    instance: dg.DagsterInstance, when: dt.datetime, smtp_server: SmtpServer, **settings: object
) -> dg.ExecuteInProcessResult:
    automation = AutomationSettingsResource(**{"alert_recipients": RECIPIENTS, **settings})  # type: ignore[arg-type]
    return run_automation_job(
        instance, when, raise_on_error=False, smtp=smtp_server.resource(), automation=automation
    )


def _alerts_metadata(instance: dg.DagsterInstance) -> dict[str, object]:
    event = instance.get_latest_materialization_event(dg.AssetKey("automation_alerts"))
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _check(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    (execution,) = instance.event_log_storage.get_latest_asset_check_execution_by_key([CHECK_KEY]).values()
    assert execution.event is not None and execution.event.dagster_event is not None
    return execution.event.dagster_event.event_specific_data  # type: ignore[return-value]


def _ledger(conn: psycopg.Connection) -> list[tuple[str, str, str, str]]:
    rows = conn.execute(
        "SELECT kind, subject_key, recipient, status FROM reporting.deliveries "
        "ORDER BY subject_key, recipient"
    ).fetchall()
    conn.commit()
    return [(r["kind"], r["subject_key"], r["recipient"], r["status"]) for r in rows]


def test_alert_is_emailed_once_per_source_and_window(
    report_time: dt.datetime,
    session_instance: dg.DagsterInstance,
    smtp_server: SmtpServer,
    conn: psycopg.Connection,
) -> None:
    result = _run(session_instance, report_time, smtp_server)
    assert result.success
    check = _check(session_instance)
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == "Below the 95% success target: shipping_sync 50.0%"

    window = f"{report_time:%Y-%m-%dT%H:%M:%SZ}/24h"
    subject = f"automation_alert:shipping_sync:{window}"
    assert _ledger(conn) == [("alert", subject, r, "sent") for r in sorted(RECIPIENTS)]
    assert sorted(m.rcpt_tos[0] for m in smtp_server.handler.messages) == sorted(RECIPIENTS)
    message = smtp_server.handler.to("ops@reporting.example")[0]
    assert message["Subject"] == (
        "Automation alert – shipping_sync success rate 50.0% < 95% "
        f"(24 h to {report_time:%Y-%m-%d %H:%M} UTC)"
    )
    assert message["X-Reporting-Subject"] == subject
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "**Success rate**: 50.0% (target 95.0%)" in text
    assert "| Failed | 1 |" in text
    assert "Every shipping" not in text and "shipping\\_sync succeeded in 1 of 2 actions (50.0%)" in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<table>" in html and "<td>Failed</td>" in html
    assert _alerts_metadata(session_instance)["sent"] == 2

    again = _run(session_instance, report_time, smtp_server)  # the same window, re-run
    assert again.success
    assert len(smtp_server.handler.messages) == 2
    assert _alerts_metadata(session_instance)["already_sent"] == 2

    later = _run(session_instance, report_time + dt.timedelta(hours=1), smtp_server)  # the next window
    assert later.success
    assert len(smtp_server.handler.messages) == 4  # still failing: alerted again for the new window


def test_threshold_is_configurable(
    report_time: dt.datetime,
    session_instance: dg.DagsterInstance,
    smtp_server: SmtpServer,
    conn: psycopg.Connection,
) -> None:
    result = _run(session_instance, report_time, smtp_server, alert_threshold=0.5)
    assert result.success
    check = _check(session_instance)
    assert check.passed is True
    assert smtp_server.handler.messages == [] and _ledger(conn) == []
    rows = stored_rows(conn)
    assert not any(r["below_alert_threshold"] for r in rows)
    assert {r["report"]["metadata"]["alert_threshold"] for r in rows} == {0.5}


def test_a_refused_alert_fails_the_step_and_a_rerun_sends_only_what_is_missing(
    report_time: dt.datetime,
    session_instance: dg.DagsterInstance,
    smtp_server: SmtpServer,
    conn: psycopg.Connection,
) -> None:
    smtp_server.handler.reject["lead@reporting.example"] = "550 5.1.1 mailbox unavailable"
    failed = _run(session_instance, report_time, smtp_server)
    assert not failed.success
    text = failure_text(session_instance, failed)
    assert "1 automation alert email(s) were not sent" in text
    assert "shipping_sync -> lead@reporting.example: recipient refused" in text
    assert "550 5.1.1 mailbox unavailable" in text and "re-execute this run" in text
    assert [r[2:] for r in _ledger(conn)] == [
        ("lead@reporting.example", "failed"),
        ("ops@reporting.example", "sent"),
    ]
    # the reports (one per registered source) are stored whatever happens to the email
    assert {r["source"] for r in stored_rows(conn)} == set(load_registry(conn).sources())

    del smtp_server.handler.reject["lead@reporting.example"]
    retried = _run(session_instance, report_time, smtp_server)
    assert retried.success
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [
        ["ops@reporting.example"],
        ["lead@reporting.example"],
    ]
    assert {r[3] for r in _ledger(conn)} == {"sent"}


def test_settings_from_the_environment() -> None:
    settings = automation_settings_from_env(
        {
            "REPORTING_AUTOMATION_ALERT_THRESHOLD": "90%",
            "REPORTING_AUTOMATION_ALERT_RECIPIENTS": " Ops@Example.com, lead@example.com ,",
        }
    )
    assert settings.alert_threshold == 0.9
    assert settings.alert_recipients == ["ops@example.com", "lead@example.com"]
    assert automation_settings_from_env({}).alert_threshold == 0.95
    with pytest.raises(AutomationReportError, match="is not a number"):
        automation_settings_from_env({"REPORTING_AUTOMATION_ALERT_THRESHOLD": "high"})
    with pytest.raises(AutomationReportError, match=r"must be a rate in \(0, 1\]"):
        automation_settings_from_env({"REPORTING_AUTOMATION_ALERT_THRESHOLD": "1.5"})
    with pytest.raises(RecipientError, match="not a valid email address"):
        automation_settings_from_env({"REPORTING_AUTOMATION_ALERT_RECIPIENTS": "ops at example"})


def test_the_resource_defaults_are_the_rules_defaults() -> None:
    assert AutomationSettingsResource().rule_settings() == RuleSettings()
