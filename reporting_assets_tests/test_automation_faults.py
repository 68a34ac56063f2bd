"""Fallback reports from the Dagster event log, and the faults: lineage empty, a source missing
from the lineage, the reporting database away (asset and CLI), bad windows and unknown sources
in the asset's run config.

Runs (real, module scope): order_sync + manufacturing_sync for PELOTON and GREYSON on D (later
rendered), shipping_sync alone for them on D-1 (never rendered; PELOTON's fails).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest

from reporting_assets.automation.fallback import event_log_reader
from reporting_assets.automation.health import AutomationHealth
from reporting_assets.automation.report import AutomationReport, ReportRequest, generate_reports
from reporting_assets.automation.window import ReportWindow
from reporting_assets.customers import add_customer
from reporting_assets.db.connection import connect
from reporting_assets.db.urls import DATABASE_URL_ENV
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.resources import PostgresResource
from reporting_assets_tests.helpers import render, run_sources
from reporting_assets_tests.support.automation import (
    assert_valid,
    cli_main,
    failure_text,
    run_automation_job,
    stored_rows,
    truncate_automation,
)
from reporting_assets_tests.support.database import wipe

D = dt.date(2025, 6, 17)
PREVIOUS = D - dt.timedelta(days=1)
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/nowhere"


def _generate(
    instance: dg.DagsterInstance, database_url: str, report_time: dt.datetime
) -> dict[str, AutomationReport]:
    window = ReportWindow.ending_at(report_time, 24)
    with connect(database_url) as conn:
        found = generate_reports(
            conn,
            ReportRequest(window),
            AutomationHealth(),
            defined_sources=sorted(load_registry(conn).sources()),
            event_log=event_log_reader(instance, load_registry(conn).sources()),
        )
    for report in found:
        assert_valid(report.document)
    return {r.source: r for r in found}


@pytest.fixture(scope="module")
def scenario(session_instance: dg.DagsterInstance, database_url: str) -> dict[str, object]:
    wipe(session_instance, database_url)
    with connect(database_url) as conn:
        for name in ("PELOTON", "GREYSON"):
            add_customer(conn, session_instance, name)
    both = {"order_sync", "manufacturing_sync"}
    run_sources(session_instance, f"PELOTON|{D}", only=both)
    run_sources(session_instance, f"GREYSON|{D}", only=both)
    run_sources(
        session_instance,
        f"PELOTON|{PREVIOUS}",
        ops={"shipping_sync": {"simulate": "failure"}},
        only={"shipping_sync"},
    )
    run_sources(session_instance, f"GREYSON|{PREVIOUS}", only={"shipping_sync"})
    report_time = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)
    before_render = _generate(session_instance, database_url, report_time)
    render(session_instance, f"PELOTON|{D}")
    render(session_instance, f"GREYSON|{D}")
    after_render = _generate(session_instance, database_url, report_time)
    return {"report_time": report_time, "empty": before_render, "partial": after_render}


@pytest.fixture(autouse=True)
def _clean_automation_reports(database_url: str) -> Iterator[None]:
    truncate_automation(database_url)
    yield


def _counts(report: AutomationReport) -> tuple[int, int, int, float | None]:
    m = report.document["performance_metrics"]
    return m["total_actions"], m["successful_actions"], m["failed_actions"], m["overall_success_rate"]


def test_fallback_from_the_event_log_when_the_lineage_tables_are_empty(scenario: dict) -> None:
    reports: dict[str, AutomationReport] = scenario["empty"]
    assert _counts(reports["order_sync"]) == (2, 2, 0, 1.0)
    assert _counts(reports["manufacturing_sync"]) == (2, 2, 0, 1.0)
    assert _counts(reports["shipping_sync"]) == (2, 1, 1, 0.5)
    assert reports["sync_order_list"].document["metadata"]["report_type"] == "standard"  # no runs anywhere
    for report in (reports[s] for s in ("order_sync", "manufacturing_sync", "shipping_sync")):
        meta = report.document["metadata"]
        assert meta["report_type"] == "fallback" and meta["data_source"] == "dagster_event_log"
        assert meta["fallback_reason"] == "the lineage tables have no rows in this window"
        (rec,) = [r for r in report.recommendations if r.rule == "event_log_fallback"]
        assert rec.priority == "medium" and rec.category == "data_quality"
        assert "the lineage tables have no rows in this window" in rec.recommendation
    assert reports["shipping_sync"].document["performance_metrics"]["below_alert_threshold"] is True
    assert reports["order_sync"].document["performance_metrics"]["avg_duration_seconds"] is not None


def test_fallback_only_for_the_source_the_lineage_is_missing(scenario: dict) -> None:
    reports: dict[str, AutomationReport] = scenario["partial"]
    for source in ("order_sync", "manufacturing_sync"):
        assert reports[source].document["metadata"]["report_type"] == "standard"
        assert _counts(reports[source]) == (2, 2, 0, 1.0)
        assert "event_log_fallback" not in [r.rule for r in reports[source].recommendations]
    shipping = reports["shipping_sync"]
    assert shipping.document["metadata"]["report_type"] == "fallback"
    assert shipping.document["metadata"]["fallback_reason"] == (
        "no lineage rows for shipping_sync in this window (reports and lineage not rendered yet)"
    )
    assert _counts(shipping) == (2, 1, 1, 0.5)
    assert [r.rule for r in shipping.recommendations] == ["low_success_rate", "event_log_fallback"]


def test_cli_with_the_reporting_database_away_prints_a_marked_fallback(
    scenario: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, UNREACHABLE)
    stamp = scenario["report_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert cli_main(["automation-report", "--json", "--report-time", stamp]) == 0
    captured = capsys.readouterr()
    assert (
        "warning: the reporting database is unavailable: PostgreSQL at postgresql://nobody@127.0.0.1:9/nowhere"
        in captured.err
    )
    documents = json.loads(captured.out)
    assert [d["metadata"]["source"] for d in documents] == [
        "manufacturing_sync",
        "order_sync",
        "shipping_sync",
        "sync_order_list",  # this code location's own pipelines: the registry is in the database
    ]
    for document in documents:
        assert_valid(document)
        assert document["metadata"]["report_type"] == "fallback"
        assert document["metadata"]["fallback_reason"].startswith("the reporting database is unavailable (")
    assert documents[2]["performance_metrics"]["total_actions"] == 2


def test_asset_with_the_database_away_fails_clearly_and_stores_nothing(
    scenario: dict, session_instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    result = run_automation_job(
        session_instance,
        scenario["report_time"],
        raise_on_error=False,
        postgres=PostgresResource(database_url=UNREACHABLE, apply_migrations=False),
    )
    text = failure_text(session_instance, result)
    assert (
        "PostgreSQL at postgresql://nobody@127.0.0.1:9/nowhere is unavailable "
        "while building automation reports" in text
    )
    assert "re-run" in text
    assert stored_rows(conn) == []
    alerts = [e for e in result.all_events if e.step_key == "automation_alerts"]
    assert all(e.event_type_value != "STEP_SUCCESS" for e in alerts)  # skipped: nothing to alert on


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"time_window_hours": 0}, "The time window must be at least 1 hour, got 0"),
        ({"time_window_hours": 10_000}, "longer than the 720 hours"),
        (
            {"sources": ["hubspot"]},
            "Unknown source 'hubspot'. Known sources: manufacturing_sync, order_sync, shipping_sync, "
            "sync_order_list",
        ),
    ],
)
def test_asset_refuses_bad_config_clearly(
    scenario: dict, session_instance: dg.DagsterInstance, conn: psycopg.Connection, config: dict, message: str
) -> None:
    result = run_automation_job(
        session_instance, scenario["report_time"], config=config, raise_on_error=False
    )
    assert message in failure_text(session_instance, result)
    assert stored_rows(conn) == []
