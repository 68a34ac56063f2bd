"""Automation reports from real runs: four sample_pipelines runs whose outcomes we control,
rendered into real lineage rows, then reported, stored, shown and exported.

The runs (module scope, once):
  PELOTON|D    shipping fails
  PELOTON|D    again: shipping fails (same message), order is partial
  GREYSON|D    shipping fails
  GREYSON|D-1  shipping fails
so order_sync is 3 successful + 1 partial of 4 (75 %), manufacturing_sync 4 of 4 and
shipping_sync 0 of 4 (every action failed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.automation.batch_log import LOGGER_NAME, log_batch
from reporting_assets.automation.cli import add_cli
from reporting_assets.automation.errors import TimeWindowError, UnknownSourceError
from reporting_assets.automation.fallback import event_log_reader
from reporting_assets.automation.health import repository_health
from reporting_assets.automation.render import render_markdown, render_text
from reporting_assets.automation.report import AutomationReport, ReportRequest, generate_reports
from reporting_assets.automation.rules import RuleSettings
from reporting_assets.automation.sources import resolve_sources
from reporting_assets.automation.window import ReportWindow, validate_time_window
from reporting_assets.customers import add_customer
from reporting_assets.db.connection import connect
from reporting_assets.pipelines.registry import load_registry
from reporting_assets_tests.helpers import render, run_sources
from reporting_assets_tests.support.automation import (
    assert_valid,
    automation_defs,
    cli_main,
    read_json,
    run_automation_job,
    stored_rows,
    truncate_automation,
)
from reporting_assets_tests.support.database import wipe

D = dt.date(2025, 6, 17)
HOURS = 24
SOURCES = ["manufacturing_sync", "order_sync", "shipping_sync", "sync_order_list"]
"""The registered source systems: the sample pipelines and the sync job."""


@pytest.fixture(scope="module")
def scenario(session_instance: dg.DagsterInstance, database_url: str) -> dict[str, object]:
    """The four runs, rendered; the report time is a minute after the last run started."""
    wipe(session_instance, database_url)
    with connect(database_url) as conn:
        for name in ("PELOTON", "GREYSON"):
            add_customer(conn, session_instance, name)
    fail = {"shipping_sync": {"simulate": "failure"}}
    runs = [
        run_sources(session_instance, f"PELOTON|{D}", ops=fail),
        run_sources(session_instance, f"PELOTON|{D}", ops={**fail, "order_sync": {"simulate": "partial"}}),
        run_sources(session_instance, f"GREYSON|{D}", ops=fail),
        run_sources(session_instance, f"GREYSON|{D - dt.timedelta(days=1)}", ops=fail),
    ]
    render(session_instance, f"PELOTON|{D}")
    render(session_instance, f"GREYSON|{D - dt.timedelta(days=1)}", f"GREYSON|{D}")
    report_time = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)
    return {"report_time": report_time, "run_ids": [r.run_id for r in runs], "url": database_url}


@pytest.fixture(autouse=True)
def _clean_automation_reports(database_url: str) -> Iterator[None]:
    truncate_automation(database_url)
    yield


def _generate(
    instance: dg.DagsterInstance,
    database_url: str,
    report_time: dt.datetime,
    *,
    sources: str = "all",
    detailed: bool = False,
    hours: int = HOURS,
) -> list[AutomationReport]:
    window = ReportWindow.ending_at(report_time, hours)
    request = ReportRequest(
        window, sources, detailed, RuleSettings(), lambda rid: f"http://ui.example/runs/{rid}"
    )
    health = repository_health(instance, automation_defs().get_repository_def(), window)
    with connect(database_url) as conn:
        return generate_reports(
            conn,
            request,
            health,
            defined_sources=sorted(load_registry(conn).sources()),
            event_log=event_log_reader(instance, load_registry(conn).sources()),
        )


@pytest.fixture(scope="module")
def reports(scenario: dict, session_instance: dg.DagsterInstance) -> dict[str, AutomationReport]:
    found = _generate(session_instance, str(scenario["url"]), scenario["report_time"])  # type: ignore[arg-type]
    return {r.source: r for r in found}


def _rules(report: AutomationReport) -> list[str]:
    return [r["rule"] for r in report.document["recommendations"]]


def test_rates_match_the_runs_we_made(reports: dict[str, AutomationReport], scenario: dict) -> None:
    assert sorted(reports) == SOURCES
    expected = {
        "order_sync": (4, 3, 0, 1, 0.75),
        "manufacturing_sync": (4, 4, 0, 0, 1.0),
        "shipping_sync": (4, 0, 4, 0, 0.0),
    }
    for source, (total, ok, failed, partial, rate) in expected.items():
        doc = reports[source].document
        metrics = doc["performance_metrics"]
        assert (
            metrics["total_actions"],
            metrics["successful_actions"],
            metrics["failed_actions"],
            metrics["partial_actions"],
            metrics["overall_success_rate"],
        ) == (total, ok, failed, partial, rate)
        assert metrics["actions_per_hour"] == round(total / HOURS, 2)
        assert metrics["below_alert_threshold"] is (rate < 0.95)
        assert doc["metadata"]["source"] == source
        assert doc["metadata"]["report_type"] == "standard" and doc["metadata"]["data_source"] == "lineage"
        assert doc["metadata"]["report_generated_at"] == scenario["report_time"].strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assert doc["metadata"]["time_window_hours"] == HOURS
        assert metrics["previous_window"]["total_actions"] == 0
        assert "details" not in doc
        assert_valid(doc)
    health = reports["order_sync"].document["system_health"]
    repo = automation_defs().get_repository_def()
    assert health["total_rules"] == len(repo.schedule_defs) + len(repo.sensor_defs)
    # nothing stored in the instance: every automation runs as its code default says (all RUNNING)
    assert health["active_rules"] == health["total_rules"] and health["rule_utilization_rate"] == 1.0


def test_rule_all_actions_failed(reports: dict[str, AutomationReport]) -> None:
    shipping = reports["shipping_sync"]
    assert _rules(shipping) == ["all_actions_failed"]
    (rec,) = [r for r in shipping.recommendations if r.rule == "all_actions_failed"]
    assert rec.priority == "high" and rec.category == "reliability"
    assert "4 of 4" in rec.recommendation
    assert "low_success_rate" not in _rules(shipping)  # one verdict, not two


def test_rule_low_success_rate(reports: dict[str, AutomationReport]) -> None:
    (rec,) = [r for r in reports["order_sync"].recommendations if r.rule == "low_success_rate"]
    assert rec.priority == "high" and rec.category == "reliability"  # 75 % < 80 %
    assert "3 of 4 actions (75.0%)" in rec.recommendation
    assert _rules(reports["manufacturing_sync"]) == []


def test_rule_partial_runs(reports: dict[str, AutomationReport]) -> None:
    (rec,) = [r for r in reports["order_sync"].recommendations if r.rule == "partial_runs"]
    assert rec.priority == "medium" and rec.category == "data_quality"
    assert "1 of 4" in rec.recommendation


def test_detailed_breakdowns_percentiles_errors_and_slowest_runs(
    scenario: dict, session_instance: dg.DagsterInstance
) -> None:
    found = _generate(session_instance, str(scenario["url"]), scenario["report_time"], detailed=True)
    by_source = {r.source: r for r in found}
    order = by_source["order_sync"].document["details"]
    assert {c["customer"]: (c["total_actions"], c["partial_actions"]) for c in order["by_customer"]} == {
        "PELOTON": (2, 1),
        "GREYSON": (2, 0),
    }
    assert [(p["pipeline"], p["total_actions"]) for p in order["by_pipeline"]] == [("sample_pipelines", 4)]
    durations = order["durations"]
    assert durations["timed_actions"] == 4
    assert 0 <= durations["p50_seconds"] <= durations["p95_seconds"] <= durations["max_seconds"]
    assert [e["count"] for e in order["top_errors"]] == [1]
    assert "records rejected by the target" in order["top_errors"][0]["message"]

    shipping = by_source["shipping_sync"].document["details"]
    counts = [e["count"] for e in shipping["top_errors"]]
    assert counts == [2, 1, 1]  # PELOTON|D failed twice with the same message
    assert f"PELOTON on {D}" in shipping["top_errors"][0]["message"]
    assert shipping["durations"]["timed_actions"] == 0  # failed actions are not timed

    slowest = order["slowest_runs"]
    assert len(slowest) == 4 and slowest == sorted(slowest, key=lambda s: -s["seconds"])
    for run in slowest:
        assert run["run_id"] in scenario["run_ids"]
        assert run["url"] == f"http://ui.example/runs/{run['run_id']}"
    for report in found:
        assert report.document["metadata"]["detailed"] is True
        assert_valid(report.document)
    text = render_text(found, found[0].window)
    assert "durations: p50" in text and "customer PELOTON" in text


def test_window_with_no_runs(scenario: dict, session_instance: dg.DagsterInstance) -> None:
    long_ago = scenario["report_time"] - dt.timedelta(days=10)
    found = _generate(session_instance, str(scenario["url"]), long_ago, detailed=True)
    assert [r.source for r in found] == SOURCES
    for report in found:
        metrics = report.document["performance_metrics"]
        assert metrics["total_actions"] == 0 and metrics["overall_success_rate"] is None
        assert metrics["below_alert_threshold"] is False
        assert metrics["actions_per_hour"] == 0.0
        assert report.document["metadata"]["report_type"] == "standard"  # the event log has nothing either
        assert _rules(report) == ["stale_source"]
        assert_valid(report.document)
    markdown = render_markdown(found, found[0].window)
    assert "| order\\_sync | 0 | 0 | 0 | 0 | n/a |" in markdown


def test_sources_map_crm_style_names_and_unknown_names_list_the_known_ones() -> None:
    known = ["manufacturing_sync", "order_sync", "shipping_sync"]
    assert resolve_sources("all", known) == known
    assert resolve_sources("order", known) == ["order_sync"]
    assert resolve_sources("Shipping-Sync", known) == ["shipping_sync"]
    assert resolve_sources("shipping, order", known) == ["order_sync", "shipping_sync"]
    assert resolve_sources("manuf", known) == ["manufacturing_sync"]
    with pytest.raises(UnknownSourceError, match=r"^Unknown source 'hubspot'\. Known sources: ") as unknown:
        resolve_sources("hubspot", known)
    assert str(unknown.value).startswith(
        "Unknown source 'hubspot'. Known sources: manufacturing_sync, order_sync, shipping_sync; or 'all'."
    )
    with pytest.raises(UnknownSourceError, match="cannot be combined"):
        resolve_sources("all,order", known)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (0, "at least 1 hour, got 0"),
        (-6, "at least 1 hour, got -6"),
        (100_000, "100,000 hours (4,166.7 days) is longer than the 720 hours"),
        (2.5, "whole number of hours"),
    ],
)
def test_bad_time_windows_are_refused_clearly(hours: object, message: str) -> None:
    with pytest.raises(TimeWindowError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_time_window(hours)


def test_asset_stores_the_seed_structure_shows_markdown_and_warns(
    scenario: dict, session_instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    report_time = scenario["report_time"]
    result = run_automation_job(session_instance, report_time, HOURS)
    assert result.success
    rows = stored_rows(conn)
    assert [r["source"] for r in rows] == SOURCES
    for row in rows:
        assert row["report_time"] == report_time and row["time_window_hours"] == HOURS
        assert row["run_id"] == result.run_id and row["report_type"] == "standard"
        assert_valid(row["report"], ordered=False)
    shipping = next(r for r in rows if r["source"] == "shipping_sync")
    assert (shipping["total_actions"], shipping["failed_actions"], shipping["success_rate"]) == (4, 4, 0.0)
    assert shipping["below_alert_threshold"] is True

    materialization = session_instance.get_latest_materialization_event(dg.AssetKey("automation_reports"))
    assert materialization is not None and materialization.asset_materialization is not None
    metadata = materialization.asset_materialization.metadata
    markdown = metadata["report"].value
    assert "# 🤖 Automation Report" in markdown
    assert "| shipping\\_sync | 4 | 0 | 4 | 0 | 0.0% ⚠️ |" in markdown
    assert "**HIGH** (reliability) · shipping\\_sync: Every shipping\\_sync action failed" in markdown
    table = metadata["sources"].value
    assert [r.data["source"] for r in table.records] == SOURCES
    assert metadata["below_alert_threshold"].value == "order_sync, shipping_sync"

    check = session_instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("automation_reports"), "success_rate_above_threshold")]
    )
    (execution,) = check.values()
    evaluation = execution.event.dagster_event.event_specific_data  # type: ignore[union-attr]
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "order_sync 75.0%" in evaluation.description and "shipping_sync 0.0%" in evaluation.description

    first = {r["source"]: (r["content_hash"], r["updated_at"]) for r in rows}
    again = run_automation_job(session_instance, report_time, HOURS)  # the same window re-run
    assert again.success
    rows = stored_rows(conn)
    assert {r["source"]: (r["content_hash"], r["updated_at"]) for r in rows} == first
    assert {r["run_id"] for r in rows} == {again.run_id}


# --- the CLI -----------------------------------------------------------------------------


def _cli(*args: str) -> int:
    return cli_main(["automation-report", *args])


def test_cli_help_names_every_seed_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^0$") as done:
        _cli("--help")
    assert done.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--time-window", "--detailed", "--crm", "--source", "--export-json", "--output-dir"):
        assert flag in text
    assert "logs/automation_reports" in text and "(default 24" in text
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["automation-report"])
    assert (args.time_window, args.detailed, args.source, args.export_json) == (24, False, "all", False)
    assert args.output_dir == Path("logs/automation_reports")
    assert parser.parse_args(["automation-report", "--source", "order"]).source == "order"


def test_cli_exports_one_schema_valid_file_per_source(
    scenario: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_time = scenario["report_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
    out = tmp_path / "exports" / "nested"
    code = _cli(
        "--time-window", "24", "--detailed", "--crm", "all", "--export-json",
        "--output-dir", str(out), "--report-time", report_time,
    )  # fmt: skip
    assert code == 0
    stamp = scenario["report_time"].strftime("%Y%m%dT%H%M%SZ")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"automation_report_manufacturing_sync_{stamp}.json",
        f"automation_report_order_sync_{stamp}.json",
        f"automation_report_shipping_sync_{stamp}.json",
        f"automation_report_sync_order_list_{stamp}.json",
    ]
    for path in out.iterdir():
        document = read_json(path)
        assert_valid(document)
        assert document["metadata"]["detailed"] is True
    order = read_json(out / f"automation_report_order_sync_{stamp}.json")
    assert order["performance_metrics"]["overall_success_rate"] == 0.75
    printed = capsys.readouterr().out
    assert "[order_sync]" in printed and "success rate 75.0%" in printed and "Exported 4 file(s)" in printed

    assert (
        _cli("--source", "ship", "--export-json", "--output-dir", str(out), "--report-time", report_time) == 0
    )
    assert len(list(out.iterdir())) == 4  # same source and time: the same file, rewritten


def test_cli_unknown_source_lists_the_known_ones(capsys: pytest.CaptureFixture[str], scenario: dict) -> None:
    assert _cli("--crm", "hubspot") == 2
    err = capsys.readouterr().err
    assert (
        "Unknown source 'hubspot'. Known sources: manufacturing_sync, order_sync, shipping_sync, "
        "sync_order_list; or 'all'" in err
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "at least 1 hour, got 0"),
        ("-5", "at least 1 hour, got -5"),
        ("99999", "longer than the 720 hours"),
        ("abc", "whole number of hours"),
    ],
)
def test_cli_bad_time_window(value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match=r"^2$") as done:
        _cli("--time-window", value)
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_output_dir_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    assert _cli("--export-json", "--output-dir", str(a_file)) == 2
    assert f"--output-dir {a_file} exists and is not a directory" in capsys.readouterr().err
    assert _cli("--export-json", "--output-dir", str(a_file / "sub")) == 2
    err = capsys.readouterr().err
    assert f"Cannot write automation reports to {a_file / 'sub'}" in err and "writable --output-dir" in err


def test_markdown_keeps_hostile_names_inert(reports: dict[str, AutomationReport]) -> None:
    report = reports["order_sync"]
    hostile = "<img src=x onerror=alert(1)> **ACME** | x"
    details = {
        "by_pipeline": [],
        "by_customer": [
            {
                "customer": "ACME",
                "customer_name": hostile,
                "total_actions": 1,
                "successful_actions": 1,
                "failed_actions": 0,
                "partial_actions": 0,
                "overall_success_rate": 1.0,
                "avg_duration_seconds": 0.5,
            }
        ],
        "durations": {"timed_actions": 1, "p50_seconds": 0.5, "p95_seconds": 0.5, "max_seconds": 0.5},
        "top_errors": [
            {
                "message": "boom ](javascript:alert(1))",
                "count": 1,
                "latest_run_id": "r1",
                "latest_run_url": "http://x/runs/r1) [a](b",
            }
        ],
        "slowest_runs": [],
    }
    document = {**report.document, "details": details}
    markdown = render_markdown([replace(report, document=document)], report.window)
    assert not re.search(r"(?<!\\)<img", markdown)
    assert "\\<img src=x onerror=alert(1)\\> \\*\\*ACME\\*\\* \\| x" in markdown
    assert "boom \\](javascript:alert(1))" in markdown
    assert "(http://x/runs/r1%29%20%5Ba%5D%28b)" in markdown


def test_per_batch_logging_is_one_line_and_nothing_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        log_batch("hubspot_sync", batch=3, records=100, failed=2, seconds=0.41, run_id="abc")
    assert [r.getMessage() for r in caplog.records] == [
        "batch_complete source=hubspot_sync batch=3 records=100 failed=2 seconds=0.410 run_id=abc"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        log_batch("hubspot_sync", batch=4, records=100)
    assert caplog.records == []
