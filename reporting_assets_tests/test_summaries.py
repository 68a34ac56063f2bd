"""daily_customer_summaries and customer_trends on real runs: completeness, restatements, edges."""

import datetime as dt
import json

import dagster as dg
import psycopg
import pytest

from reporting_assets.customer_settings.formatting import LocalizedFormat
from reporting_assets.error_patterns.flagged import FlaggedPattern
from reporting_assets.partition_keys import CustomerDay
from reporting_assets.resources import ReportSettingsResource
from reporting_assets.summaries.aggregate import DaySummary, ReportRow, summarize_day
from reporting_assets.summaries.render import SummaryView, render_summary
from reporting_assets.summaries.service import summarize_partitions
from reporting_assets.trends.assets import customer_trends
from reporting_assets_tests.helpers import QUIET, latest_materialization_metadata, render, run_sources

DAY, NEXT = "2025-06-16", "2025-06-17"


def _summary(conn: psycopg.Connection, key: str) -> dict:
    row = conn.execute(
        "SELECT * FROM reporting.daily_customer_summaries WHERE partition_key = %s", (key,)
    ).fetchone()
    conn.commit()
    assert row is not None, f"no summary for {key}"
    return row


def _run_some_sources(instance: dg.DagsterInstance, key: str, names: set[str]) -> None:
    assert run_sources(instance, key, only=names).success


def test_summary_is_incomplete_until_the_late_run_and_keeps_the_old_version(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"PELOTON|{DAY}"
    _run_some_sources(instance, key, {"order_sync", "manufacturing_sync"})
    render(instance, key)
    first = _summary(conn, key)
    assert (first["is_complete"], first["version"], first["missing_pipelines"]) == (
        False,
        1,
        ["shipping_sync"],
    )
    assert "**Status**: ⚠️ INCOMPLETE" in first["combined_markdown"]
    assert "**Missing runs**: Shipping Sync" in first["combined_markdown"]
    metadata = latest_materialization_metadata(instance, "daily_customer_summaries", key)
    assert metadata["complete"].value is False and metadata["missing"].value == "shipping_sync"

    render(instance, key)  # nothing changed: no new version
    assert _summary(conn, key)["version"] == 1
    assert conn.execute("SELECT count(*) AS n FROM reporting.daily_customer_summary_history").fetchone() == {
        "n": 0
    }

    _run_some_sources(instance, key, {"shipping_sync"})  # the late run arrives
    render(instance, key)
    second = _summary(conn, key)
    assert (second["is_complete"], second["version"], second["missing_pipelines"]) == (True, 2, [])
    assert second["total_pipelines"] == 3 and second["shipping_updates"] > 0
    history = conn.execute("SELECT * FROM reporting.daily_customer_summary_history").fetchall()
    assert [(h["version"], h["replaced_by_version"], h["is_complete"]) for h in history] == [(1, 2, False)]
    assert history[0]["combined_markdown"] == first["combined_markdown"]
    assert latest_materialization_metadata(instance, "daily_customer_summaries", key)["version"].value == 2


def test_totals_change_against_the_previous_day_and_rerun_counts_once(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, f"GREYSON|{DAY}")
    run_sources(instance, f"GREYSON|{NEXT}")
    run_sources(instance, f"GREYSON|{NEXT}")  # a re-run of the same day replaces, it does not add
    render(instance, f"GREYSON|{DAY}", f"GREYSON|{NEXT}")
    day, nxt = _summary(conn, f"GREYSON|{DAY}"), _summary(conn, f"GREYSON|{NEXT}")
    latest_new = conn.execute(
        "SELECT (summary_json #>> '{counts,new}')::int AS n FROM reporting.latest_pipeline_execution_reports "
        "WHERE partition_key = %s AND pipeline_type = 'order_sync'",
        (f"GREYSON|{NEXT}",),
    ).fetchone()
    assert latest_new is not None and nxt["new_orders"] == latest_new["n"]
    assert nxt["total_pipelines"] == 6 and nxt["successful_pipelines"] == 6
    diff = nxt["new_orders"] - day["new_orders"]
    expected = "no change from yesterday" if diff == 0 else f"{diff:+,} from yesterday"
    assert f"| **New Orders** | {nxt['new_orders']:,} | {expected} |" in nxt["combined_markdown"]
    assert nxt["combined_markdown"].count("| ✅ SUCCESS |") == 6


def test_only_failed_runs_and_error_reports(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"ACTIVELY BLACK|{DAY}"
    failing = {
        name: {"simulate": "failure"} for name in ("order_sync", "manufacturing_sync", "shipping_sync")
    }
    run_sources(instance, key, ops=failing)
    render(instance, key)
    summary = _summary(conn, key)
    assert (summary["total_pipelines"], summary["successful_pipelines"], summary["is_complete"]) == (
        3,
        0,
        False,
    )
    assert summary["status_json"]["failed"] == ["manufacturing_sync", "order_sync", "shipping_sync"]
    assert summary["combined_markdown"].count("| ❌ FAILED |") == 3
    assert "❌ **Order Sync**: Pipeline failed: SimulatedPipelineFailure" in summary["combined_markdown"]


def test_removed_customer_and_expected_pipelines_per_customer(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"PELOTON|{NEXT}"
    _run_some_sources(instance, key, {"order_sync"})
    conn.execute("INSERT INTO reporting.customer_expected_pipelines VALUES ('PELOTON', 'order_sync')")
    conn.commit()
    render(instance, key)
    assert _summary(conn, key)["is_complete"] is True  # PELOTON only expects order_sync
    conn.execute("DELETE FROM reporting.customers WHERE partition_key = 'PELOTON'")
    conn.commit()
    render(instance, key)  # still summarized, under the name its reports carry
    summary = _summary(conn, key)
    assert summary["customer_name"] == "PELOTON"
    assert summary["missing_pipelines"] == ["manufacturing_sync", "shipping_sync"]


def test_clock_edges_use_the_partition_day_not_the_wall_clock() -> None:
    before_midnight = dt.datetime(2025, 6, 16, 23, 59, tzinfo=dt.UTC)
    after_midnight = dt.datetime(2025, 6, 17, 0, 1, tzinfo=dt.UTC)
    day = dt.date(2025, 6, 16)
    rows = [
        ReportRow(
            "PELOTON",
            day,
            "PELOTON",
            "order_sync",
            "run-a",
            "success",
            before_midnight,
            5,
            1,
            2.0,
            None,
            None,
        ),
        ReportRow(
            "PELOTON",
            day,
            "PELOTON",
            "shipping_sync",
            "run-b",
            "success",
            after_midnight,
            1,
            2,
            1.0,
            None,
            None,
        ),
    ]
    summary = summarize_day(CustomerDay("PELOTON", day), "PELOTON", rows, ["order_sync", "shipping_sync"])
    assert summary.is_complete and summary.total_pipelines == 2
    assert [r.run_started_at for r in summary.timeline] == [before_midnight, after_midnight]
    assert summary.totals == {
        "new_orders": 5,
        "updated_orders": 1,
        "manufacturing_updates": 0,
        "shipping_updates": 3,
    }
    markdown = render_summary(summary, None, ReportSettingsResource().run_url)
    # the run after midnight carries its date: it is not the start of the summary's day
    assert "| 23:59 | Order Sync |" in markdown
    assert "| 06-17 00:01 | Shipping Sync |" in markdown


def test_customer_trends_table_matches_the_reports(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    for key in (f"PELOTON|{DAY}", f"PELOTON|{NEXT}", f"GREYSON|{NEXT}", f"PELOTON|{NEXT}"):
        run_sources(instance, key)  # PELOTON's second day ran twice: the re-run replaces
    render(instance, f"PELOTON|{DAY}", f"PELOTON|{NEXT}")
    render(instance, f"GREYSON|{NEXT}")
    from reporting_assets.resources import PostgresResource

    dg.materialize(
        [customer_trends],
        instance=instance,
        partition_key=NEXT,
        run_config=QUIET,
        resources={"postgres": PostgresResource()},
    )
    metadata = latest_materialization_metadata(instance, "customer_trends", NEXT)
    records = {r.data["customer"]: r.data for r in metadata["trends"].value.records}
    assert set(records) == {"ACTIVELY BLACK", "PELOTON", "GREYSON"}
    assert records["PELOTON"]["runs"] == 9 and records["GREYSON"]["runs"] == 3
    assert records["PELOTON"]["success_rate"] == 100.0 and records["PELOTON"]["active_days"] == 2
    # no run in the window: listed, with nothing to average
    assert records["ACTIVELY BLACK"] == {
        "customer": "ACTIVELY BLACK",
        "runs": 0,
        "success_rate": None,
        "new_orders": 0,
        "avg_seconds": None,
        "active_days": 0,
    }
    summaries = conn.execute(
        "SELECT sum(new_orders) AS n FROM reporting.daily_customer_summaries WHERE customer_key = 'PELOTON'"
    ).fetchone()
    assert summaries is not None and records["PELOTON"]["new_orders"] == summaries["n"] > 0
    seconds = conn.execute(
        "SELECT avg((metrics_json ->> 'execution_time_seconds')::float) AS s "
        "FROM reporting.pipeline_execution_reports"
    ).fetchone()
    assert seconds is not None
    assert metadata["avg_processing_seconds"].value == pytest.approx(seconds["s"], abs=0.001)
    assert metadata["runs"].value == 12 and metadata["customers"].value == 3


def _run(started: dt.datetime | None, pipeline: str, status: str, seconds: float, run_id: str) -> ReportRow:
    """A report of ACME's hostile day, with what its timeline row shows."""
    day = dt.date(2025, 6, 17)
    return ReportRow("ACME", day, "ACME", pipeline, run_id, status, started, None, None, seconds, None, None)


def _hostile_day() -> tuple[DaySummary, DaySummary]:
    """A day whose names and messages are full of markdown syntax, and the day before it."""
    day = dt.date(2025, 6, 17)
    summary = DaySummary(
        partition=CustomerDay("ACME", day),
        customer_name="**ACME** <script>|",
        total_pipelines=1234,
        successful_pipelines=1000,
        totals={"new_orders": 1500, "updated_orders": 0, "manufacturing_updates": 7, "shipping_updates": 12},
        expected=["manufacturing_sync", "order_sync", "shipping_sync", "x_custom"],
        missing=["x_custom"],
        failed=["shipping_sync"],
        timeline=[
            _run(
                dt.datetime(2025, 6, 17, 6, 5, tzinfo=dt.UTC),
                "order_sync",
                "success",
                0.4567,
                "0123456789abcdef",
            ),
            _run(None, "shipping_sync", "failed", 75.25, "run|with]brackets"),
            _run(dt.datetime(2025, 6, 17, 23, 59, tzinfo=dt.UTC), "x_custom", "partial", 12.0, "r3"),
        ],
        warnings=[("order_sync", "3 orders *late*\nsee `list`"), ("x_custom", "# not a heading")],
        errors=[("shipping_sync", "Pipeline failed: [boom](http://x) | 100% ~done~")],
    )
    before = {"new_orders": 1000, "updated_orders": 5, "manufacturing_updates": 7, "shipping_updates": 20}
    previous = DaySummary(
        CustomerDay("ACME", day - dt.timedelta(days=1)), "ACME", 3, 3, before, [], [], [], []
    )
    return summary, previous


# What the template rendered with every value escaped by the environment's finalize, before
# values were escaped once in Python and the template became a macro: it must not change.
EXPECTED_MARKDOWN = (
    "# 📅 Daily Summary - \\*\\*ACME\\*\\* \\<script\\>\\|\n"
    "\n"
    "**Date**: 2025-06-17  \n"
    "**Status**: ⚠️ INCOMPLETE  \n"
    "**Missing runs**: X Custom  \n"
    "**Failed runs**: Shipping Sync  \n"
    "\n"
    "---\n"
    "\n"
    "## 🏃 Pipeline Executions\n"
    "\n"
    "1,234 total pipeline runs, 1,000 successful\n"
    "\n"
    "## 📈 Daily Totals\n"
    "\n"
    "| Metric | Today | Change |\n"
    "|--------|-------|---------|\n"
    "| **New Orders** | 1,500 | +500 from yesterday |\n"
    "| **Updated Orders** | 0 | -5 from yesterday |\n"
    "| **Manufacturing Updates** | 7 | no change from yesterday |\n"
    "| **Shipping Updates** | 12 | -8 from yesterday |\n"
    "\n"
    "## 🕒 Timeline\n"
    "\n"
    "| Time (UTC) | Pipeline | Status | Duration | Run |\n"
    "|------------|----------|--------|----------|-----|\n"
    "| 06:05 | Order Sync | ✅ SUCCESS | 457 ms | [01234567](http://localhost:3000/runs/0123456789abcdef) |\n"
    "| — | Shipping Sync | ❌ FAILED | 1.3 minutes | "
    "[run\\|with](http://localhost:3000/runs/run%7Cwith%5Dbrackets) |\n"
    "| 23:59 | X Custom | ⚠️ PARTIAL | 12.0 seconds | [r3](http://localhost:3000/runs/r3) |\n"
    "\n"
    "## ⚠️ Warnings and Errors\n"
    "\n"
    "- ❌ **Shipping Sync**: Pipeline failed: \\[boom\\](http://x) \\| 100% \\~done\\~\n"
    "- ⚠️ **Order Sync**: 3 orders \\*late\\* see \\`list\\`\n"
    "- ⚠️ **X Custom**: \\# not a heading\n"
)


def test_markdown_escapes_names_and_messages_and_is_unchanged() -> None:
    summary, previous = _hostile_day()
    url = ReportSettingsResource().run_url
    assert render_summary(summary, previous, url) == EXPECTED_MARKDOWN
    first_run = EXPECTED_MARKDOWN
    for change in (
        "+500 from yesterday",
        "-5 from yesterday",
        "no change from yesterday",
        "-8 from yesterday",
    ):
        first_run = first_run.replace(change, "first run")
    assert render_summary(summary, None, url) == first_run


def test_a_customers_format_and_flagged_patterns_change_only_their_parts() -> None:
    summary, previous = _hostile_day()
    url = ReportSettingsResource().run_url
    flagged = [
        FlaggedPattern("new", "error", "Order <n> failed: *HTTP* <n>", 1234, 1234, 0.0),
        FlaggedPattern("growing", "warning", "Row <n> | skipped", 40, 4000, 3.25),
        FlaggedPattern("new", "warning", "third", 1, 1, 0.0),
    ]
    view = SummaryView(LocalizedFormat("de_DE", "Europe/Berlin"), list_length=2, flagged=flagged)
    markdown = render_summary(summary, previous, url, view=view)
    assert "**Date**: 17.06.2025  \n" in markdown
    assert "1.234 total pipeline runs, 1.000 successful\n" in markdown
    assert "| **New Orders** | 1.500 | +500 from yesterday |\n" in markdown
    assert "| Time (Europe/Berlin) | Pipeline |" in markdown
    assert "| 08:05 | Order Sync | ✅ SUCCESS | 457 ms |" in markdown  # CEST
    assert "| 06-18 01:59 | X Custom | ⚠️ PARTIAL | 12,0 seconds |" in markdown  # the next day in Berlin
    assert markdown.endswith(
        "\n## 🔁 Error Patterns\n\n"
        "Errors and warnings new today, or above 3x their 7-day average (numbers, ids, quoted values and\n"
        "times masked):\n\n"
        "- 🆕 **new** error, 1.234x today: Order \\<n\\> failed: \\*HTTP\\* \\<n\\>\n"
        "- 📈 **growing** warning, 40x today (all customers: 4.000x, 7-day average 3,2): "
        "Row \\<n\\> \\| skipped\n"
        "- ... (1 more)\n"
    )
    # the default format with flags: the summary above plus the section, nothing else changes
    plain = render_summary(summary, previous, url, view=SummaryView(flagged=flagged[:1]))
    assert plain == EXPECTED_MARKDOWN + (
        "\n## 🔁 Error Patterns\n\n"
        "Errors and warnings new today, or above 3x their 7-day average (numbers, ids, quoted values and\n"
        "times masked):\n\n"
        "- 🆕 **new** error, 1,234x today: Order \\<n\\> failed: \\*HTTP\\* \\<n\\>\n"
    )
    assert render_summary(summary, previous, url, view=SummaryView()) == EXPECTED_MARKDOWN


def test_status_text_is_the_sorted_json_of_status_json() -> None:
    summary, previous = _hostile_day()
    for day in (summary, previous):
        assert day.status_text() == json.dumps(day.status_json(), sort_keys=True)


def test_one_call_writes_new_days_restates_changed_ones_and_skips_the_rest(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    keys = [f"PELOTON|2025-06-1{d}" for d in (5, 6, 7)]
    for key in keys:
        run_sources(instance, key)
    render(instance, keys[0], keys[-1])
    before = {k: _summary(conn, k) for k in keys}
    conn.execute("DELETE FROM reporting.daily_customer_summaries WHERE partition_key = %s", (keys[2],))
    conn.execute(
        "UPDATE reporting.pipeline_execution_reports SET status = 'failed' "
        "WHERE partition_key = %s AND pipeline_type = 'shipping_sync'",
        (keys[1],),
    )
    conn.commit()
    settings = ReportSettingsResource()

    stored = summarize_partitions(conn, keys, settings.run_url, settings.expected_pipelines)
    conn.commit()
    after = {k: _summary(conn, k) for k in keys}
    assert [s.version for s in stored] == [after[k]["version"] for k in keys] == [1, 2, 1]
    assert [(s.markdown, s.content_hash) for s in stored] == [
        (after[k]["combined_markdown"], after[k]["content_hash"]) for k in keys
    ]
    assert after[keys[0]]["updated_at"] == before[keys[0]]["updated_at"]  # unchanged: not written
    assert after[keys[1]]["status_json"]["failed"] == ["shipping_sync"]
    assert after[keys[2]]["id"] != before[keys[2]]["id"]  # a new day: a new row
    history = conn.execute("SELECT * FROM reporting.daily_customer_summary_history").fetchall()
    conn.commit()
    assert [(h["summary_date"], h["version"], h["replaced_by_version"]) for h in history] == [
        (dt.date(2025, 6, 16), 1, 2)
    ]
    assert history[0]["combined_markdown"] == before[keys[1]]["combined_markdown"]

    again = summarize_partitions(conn, keys, settings.run_url, settings.expected_pipelines)
    conn.commit()
    assert [s.version for s in again] == [1, 2, 1]
    assert {k: _summary(conn, k)["updated_at"] for k in keys} == {k: after[k]["updated_at"] for k in keys}
    count = conn.execute("SELECT count(*) AS n FROM reporting.daily_customer_summary_history").fetchone()
    assert count == {"n": 1}


def test_a_report_summary_that_is_no_json_object_is_refused_when_written(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, f"PELOTON|{DAY}")
    render(instance, f"PELOTON|{DAY}")
    # summaries unpack summary_json as an object; anything else is stopped at the write
    with pytest.raises(psycopg.errors.CheckViolation, match="pipeline_execution_reports_summary_is_object"):
        conn.execute("UPDATE reporting.pipeline_execution_reports SET summary_json = '[1]'")
    conn.rollback()
