"""error_patterns on a real instance and database: grouping, flags, idempotent re-runs, and the
SQL masking agreeing with the Python fingerprint."""

import datetime as dt

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from psycopg import sql

from reporting_assets.automation.health import AutomationHealth
from reporting_assets.automation.report import ReportRequest, generate_reports
from reporting_assets.automation.window import ReportWindow
from reporting_assets.db.connection import Connection
from reporting_assets.definitions import loaded_definitions
from reporting_assets.error_patterns.assets import error_patterns
from reporting_assets.error_patterns.fingerprint import fingerprint, sql_fingerprint
from reporting_assets.error_patterns.store import (
    day_patterns,
    flagged_by_source,
    flagged_for_days,
    refresh_day,
)
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets_tests.helpers import QUIET, latest_materialization_metadata, render, run_sources
from reporting_assets_tests.support.automation import assert_valid
from reporting_assets_tests.support.error_reports import ErrorReport, insert_error_reports
from reporting_assets_tests.support.sync import step_error

DAY = dt.date(2025, 6, 17)
RESOURCES = {"postgres": PostgresResource(), "report_settings": ReportSettingsResource()}


def _materialize(instance: dg.DagsterInstance, day: dt.date) -> dict:
    result = dg.materialize(
        [error_patterns],
        instance=instance,
        partition_key=day.isoformat(),
        run_config=QUIET,
        resources=RESOURCES,
    )
    assert result.success
    return latest_materialization_metadata(instance, "error_patterns", day.isoformat())


def _table_counts(conn: Connection) -> tuple[int, int, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM reporting.error_patterns) AS p, "
        "(SELECT count(*) FROM reporting.error_pattern_occurrences) AS o, "
        "(SELECT count(*) FROM reporting.error_pattern_days) AS d"
    ).fetchone()
    conn.commit()
    assert row is not None
    return row["p"], row["o"], row["d"]


def test_ten_thousand_numbers_are_one_pattern_and_rerunning_adds_nothing(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str]
) -> None:
    reports = [
        ErrorReport(
            "PELOTON" if i % 2 else "GREYSON",
            DAY,
            f"run-{i:05d}",
            errors=[f"Order {i} failed: HTTP 5{i % 10:02d} at 2025-06-17T10:{i % 60:02d}:00Z"],
            warnings=[f"Row {i * 3} skipped: 'SKU-{i}' unknown"] if i % 100 == 0 else [],
            pipeline_type="order_sync" if i % 3 else "shipping_sync",
        )
        for i in range(10_000)
    ]
    insert_error_reports(conn, reports)
    metadata = _materialize(instance, DAY)
    assert metadata["pattern_count"].value == 2 and metadata["flagged"].value == 2
    rows = {r["severity"]: r for r in day_patterns(conn, DAY)}
    error = rows["error"]
    assert error["fingerprint"] == "Order <n> failed: HTTP <n> at <time>"
    assert (error["occurrences"], error["reports"], error["flag"]) == (10_000, 10_000, "new")
    assert error["customers"] == ["GREYSON", "PELOTON"]
    assert error["pipelines"] == ["order_sync", "shipping_sync"]
    assert error["first_seen"] == error["last_seen"] == DAY
    assert rows["warning"]["fingerprint"] == "Row <n> skipped: '<value>' unknown"
    assert rows["warning"]["occurrences"] == 100
    markdown = metadata["patterns"].value
    assert "| 🆕 new | error | Order \\<n\\> failed: HTTP \\<n\\> at \\<time\\> | 10,000 |" in markdown
    assert "(http://localhost:3000/runs/run-" in markdown

    before = _table_counts(conn)
    assert before == (2, 3, 2)  # 2 patterns; the error for 2 customers, the warning for GREYSON
    _materialize(instance, DAY)
    assert _table_counts(conn) == before
    assert day_patterns(conn, DAY)[0]["occurrences"] == 10_000  # replaced, not added


def test_growing_and_new_flags_over_days(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str]
) -> None:
    days = [DAY - dt.timedelta(days=n) for n in range(7, -1, -1)]
    reports = []
    for n, day in enumerate(days[:-1]):  # one occurrence a day for a week
        reports.append(ErrorReport("PELOTON", day, f"run-{n}", errors=[f"Timeout after {n + 30} s"]))
        reports.append(ErrorReport("PELOTON", day, f"run-w{n}", warnings=[f"Slow page {n}"]))
    reports += [
        ErrorReport("PELOTON", DAY, f"run-late-{i}", errors=[f"Timeout after {i} s"]) for i in range(4)
    ]
    reports.append(ErrorReport("PELOTON", DAY, "run-w-today", warnings=["Slow page 99"]))
    reports.append(
        ErrorReport("GREYSON", DAY, "run-new", errors=["Disk 'sda1' full"], pipeline_type="shipping_sync")
    )
    insert_error_reports(conn, reports)
    backfill = dg.materialize(  # the 8 days in one run, in order: each day compares with the ones before
        [error_patterns],
        instance=instance,
        run_config=QUIET,
        resources=RESOURCES,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: days[0].isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: DAY.isoformat(),
        },
    )
    assert backfill.success
    counts = [
        e.materialization.metadata["pattern_count"].value for e in backfill.get_asset_materialization_events()
    ]
    assert counts == [2] * 7 + [3]
    rows = {r["fingerprint"]: r for r in day_patterns(conn, DAY)}
    assert rows["Timeout after <n> s"]["flag"] == "growing"  # 4 > 3 x (7 / 7)
    assert rows["Timeout after <n> s"]["seven_day_average"] == 1.0
    assert rows["Timeout after <n> s"]["first_seen"] == days[0]
    assert rows["Slow page <n>"]["flag"] is None  # 1, as usual
    assert rows["Disk '<value>' full"]["flag"] == "new"
    assert [r["fingerprint"] for r in day_patterns(conn, DAY, flagged=True)] == [
        "Timeout after <n> s",
        "Disk '<value>' full",
    ]
    for_days = flagged_for_days(
        conn, {"customer_keys": ["GREYSON", "PELOTON"], "first_days": [DAY, DAY], "last_days": [DAY, DAY]}
    )
    assert [p.phrase() for p in for_days[("PELOTON", DAY)]] == [
        "growing error (4x, 7-day average 1.0): Timeout after <n> s"
    ]
    assert [p.flag for p in for_days[("GREYSON", DAY)]] == ["new"]
    by_source = flagged_by_source(conn, DAY, DAY, ["order_sync", "shipping_sync"])
    assert {s: [p.fingerprint for p in found] for s, found in by_source.items()} == {
        "order_sync": ["Timeout after <n> s"],
        "shipping_sync": ["Disk '<value>' full"],
    }


def test_the_latest_line_gives_the_message_report_and_run(conn: Connection, customers: list[str]) -> None:
    at = dt.datetime.combine(DAY, dt.time(10), tzinfo=dt.UTC)
    insert_error_reports(
        conn,
        [
            ErrorReport(
                "PELOTON",
                DAY,
                "run-early",
                errors=["Job 1 failed"],
                warnings=["", " \t\u00a0"],
                started_at=at,
            ),
            ErrorReport(
                "PELOTON", DAY, "run-tie-1", errors=["Job 2 failed"], started_at=at + dt.timedelta(hours=1)
            ),
            ErrorReport(
                "PELOTON",
                DAY,
                "run-tie-2",
                errors=["Job 9 failed", "Job 3 failed"],
                started_at=at + dt.timedelta(hours=1),
            ),
            ErrorReport("PELOTON", DAY, "run-unstarted", errors=["Job 7 failed"]),
        ],
    )
    conn.execute(
        "UPDATE reporting.pipeline_execution_reports SET run_started_at = NULL WHERE execution_id = %s",
        ["run-unstarted"],
    )
    conn.commit()
    refresh_day(conn, DAY)
    (row,) = day_patterns(conn, DAY)  # blank warnings make no pattern
    tie_2 = conn.execute(
        "SELECT id FROM reporting.pipeline_execution_reports WHERE execution_id = 'run-tie-2'"
    ).fetchone()
    assert tie_2 is not None
    # a run without a start comes last; among runs started together the newest report wins; in
    # one report, its first message
    assert (row["example_message"], row["latest_run_id"], row["latest_report_id"]) == (
        "Job 3 failed",
        "run-tie-2",
        tie_2["id"],
    )
    assert (row["occurrences"], row["reports"]) == (5, 4)


def test_rerunning_days_writes_nothing(conn: Connection, customers: list[str]) -> None:
    days = [DAY - dt.timedelta(days=1), DAY]
    insert_error_reports(
        conn,
        [
            ErrorReport(
                customer,
                day,
                f"run-{customer}-{day}-{i}",
                errors=[f"Order {i} failed", f"Order {i + 1} failed"],
                warnings=[f"Row {i} skipped"],
                pipeline_type="order_sync" if i % 2 else "shipping_sync",
            )
            for day in days
            for customer in ("PELOTON", "GREYSON")
            for i in range(3)
        ],
    )
    for day in days:
        refresh_day(conn, day)
    versions = """SELECT concat_ws('/', id) AS row, xmin::text AS version FROM reporting.error_patterns
                  UNION ALL
                  SELECT concat_ws('/', pattern_id, day, customer_key), xmin::text
                  FROM reporting.error_pattern_occurrences
                  UNION ALL
                  SELECT concat_ws('/', pattern_id, day), xmin::text FROM reporting.error_pattern_days
                  ORDER BY 1"""
    before = conn.execute(versions).fetchall()
    conn.commit()
    assert len(before) == 2 + 4 * 2 + 2 * 2
    for day in days:
        refresh_day(conn, day)
    assert conn.execute(versions).fetchall() == before  # no row rewritten, none added or removed


def test_a_day_that_lost_its_errors_keeps_nothing_of_them(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str]
) -> None:
    insert_error_reports(conn, [ErrorReport("PELOTON", DAY, "run-1", errors=["Broken 1"])])
    _materialize(instance, DAY)
    assert _table_counts(conn) == (1, 1, 1)
    conn.execute("DELETE FROM reporting.pipeline_execution_reports")
    conn.commit()
    metadata = _materialize(instance, DAY)
    assert _table_counts(conn) == (0, 0, 0)
    assert metadata["pattern_count"].value == 0
    assert metadata["patterns"].value == "No errors or warnings in the reports of 2025-06-17."


def test_an_empty_day(instance: dg.DagsterInstance, conn: Connection, customers: list[str]) -> None:
    metadata = _materialize(instance, DAY)
    assert (metadata["pattern_count"].value, metadata["flagged"].value) == (0, 0)
    assert _table_counts(conn) == (0, 0, 0)


def test_hostile_messages_are_stored_and_shown_inert(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str]
) -> None:
    messages = [
        "Zeile 12 für „Müller“ 🚚 fehlt",
        "bell\x07 and escape\x1b[31m red 5",
        "| table | break\nnew line 7",
        "<script>alert(1)</script> [x](javascript:alert(2))",
    ]
    insert_error_reports(conn, [ErrorReport("PELOTON", DAY, "run-x", errors=messages)])
    metadata = _materialize(instance, DAY)
    stored = {r["fingerprint"] for r in day_patterns(conn, DAY)}
    assert stored == {fingerprint(m) for m in messages}
    markdown = metadata["patterns"].value
    assert "<script>" not in markdown
    assert "\\<script\\>" in markdown and "\\[x\\](javascript" in markdown  # no tag, no link
    assert "\x07" not in markdown and "\x1b" not in markdown
    assert "Zeile \\<n\\> für „Müller“ 🚚 fehlt" in markdown


PARITY_MESSAGES = [
    "Order 1041 failed",
    "Order -3 has 1,234.50 units at 2025-06-17T10:04:05.123+02:00",
    "Customer 'ACME's best' not found; can't retry `job 7`",
    'Field "ship_date" empty at 10:04:05,5',
    "Run 4f1c2a9e-8b7d-4c3e-9f0a-1b2c3d4e5f60 / 5f3a9c2e1b7d / 0x7ffd3a2b / 4Nc2Ua7d8ZpQxR5t9",
    "decade deadbeef facade abcdef12ghij",
    "utf8 s3 v2.1.0 ORD-20415",
    "  spaced\tout\r\n\x0bmessage\x1f\x7f\x85\u2028end\u00a0 ",
    "Zürich 🚚 „Müller“ ٣ ✅",
    "x" * 400 + " 12",
    "",
]


def test_the_sql_masking_agrees_with_the_python_fingerprint(conn: Connection) -> None:
    expression, params = sql_fingerprint(sql.Identifier("m"))
    statement = sql.SQL(
        "SELECT {} AS fp FROM unnest(%(messages)s::text[]) WITH ORDINALITY AS t (m, i) ORDER BY i"
    ).format(expression)
    found = [r["fp"] for r in conn.execute(statement, {**params, "messages": PARITY_MESSAGES})]
    assert found == [fingerprint(m) for m in PARITY_MESSAGES]


@pytest.mark.parametrize("day", [dt.date(2025, 1, 1)])
def test_the_first_partition_day_has_no_history_to_compare(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str], day: dt.date
) -> None:
    insert_error_reports(conn, [ErrorReport("GREYSON", day, "run-1", errors=["E 1", "E 2"])])
    _materialize(instance, day)
    (row,) = day_patterns(conn, day)
    assert (row["flag"], row["occurrences"], row["reports"], row["seven_day_average"]) == ("new", 2, 1, 0.0)


def test_flagged_patterns_reach_the_daily_summary_of_the_affected_customer_only(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str]
) -> None:
    day = DAY.isoformat()
    failing = {name: {"simulate": "failure"} for name in ("order_sync", "shipping_sync")}
    run_sources(instance, f"ACTIVELY BLACK|{day}", ops=failing)
    run_sources(instance, f"GREYSON|{day}", only={"order_sync", "manufacturing_sync"})
    for key in (f"ACTIVELY BLACK|{day}", f"GREYSON|{day}"):
        render(instance, key)
    plain = {r["customer_key"]: r["combined_markdown"] for r in _summaries(conn)}
    assert "Error Patterns" not in plain["ACTIVELY BLACK"]
    assert "Warnings and Errors" not in plain["GREYSON"]  # GREYSON's runs reported no problem

    _materialize(instance, DAY)
    for key in (f"ACTIVELY BLACK|{day}", f"GREYSON|{day}"):
        render(instance, key)
    after = {r["customer_key"]: r for r in _summaries(conn)}
    flagged = after["ACTIVELY BLACK"]["combined_markdown"]
    assert "\n## 🔁 Error Patterns\n" in flagged
    assert (
        "- 🆕 **new** error, 1x today: Pipeline failed: SimulatedPipelineFailure: simulated failure of "
        "order\\_sync for ACTIVELY BLACK on \\<time\\> (run config simulate='\\<value\\>')\n"
    ) in flagged
    assert (
        "- 🆕 **new** warning, 1x today: \\<n\\> ready orders missed their estimated ship date\n" in flagged
    )
    assert after["ACTIVELY BLACK"]["version"] == 2  # the flags restate the summary
    assert after["GREYSON"]["combined_markdown"] == plain["GREYSON"]  # no flags: unchanged
    assert after["GREYSON"]["version"] == 1


def _summaries(conn: Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT customer_key, combined_markdown, version FROM reporting.daily_customer_summaries"
    ).fetchall()
    conn.commit()
    return rows


def test_flagged_patterns_become_an_automation_recommendation_of_their_source(
    instance: dg.DagsterInstance, conn: Connection, customers: list[str]
) -> None:
    day = DAY.isoformat()
    run_sources(instance, f"PELOTON|{day}", ops={"order_sync": {"simulate": "failure"}})
    render(instance, f"PELOTON|{day}")
    window = ReportWindow.ending_at(dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), dt.UTC), 24)
    sources = ["order_sync", "manufacturing_sync", "shipping_sync"]

    def recommendations() -> dict[str, list[dict]]:
        reports = generate_reports(conn, ReportRequest(window), AutomationHealth(), defined_sources=sources)
        for report in reports:
            assert_valid(report.document)
        return {r.source: [x.as_json() for x in r.recommendations] for r in reports}

    assert not any(
        r["rule"] == "flagged_error_patterns" for found in recommendations().values() for r in found
    )
    _materialize(instance, DAY)
    found = recommendations()
    (order,) = [r for r in found["order_sync"] if r["rule"] == "flagged_error_patterns"]
    assert order["priority"] == "medium" and order["category"] == "reliability"
    assert order["recommendation"].startswith(
        "1 error pattern(s) of order_sync are new or above 3x their 7-day average: new error (1x): "
        "Pipeline failed: SimulatedPipelineFailure: simulated failure of order_sync for PELOTON on <time>"
    )
    (shipping,) = [r for r in found["shipping_sync"] if r["rule"] == "flagged_error_patterns"]
    assert (
        shipping["priority"] == "low" and "new warning (1x): <n> ready orders" in shipping["recommendation"]
    )
    assert not any(r["rule"] == "flagged_error_patterns" for r in found["manufacturing_sync"])


def test_a_reversed_range_of_days_is_refused_naming_the_wrong_end(
    instance: dg.DagsterInstance, customers: list[str]
) -> None:
    result = dg.materialize(
        [error_patterns],
        instance=instance,
        run_config=QUIET,
        resources=RESOURCES,
        tags={ASSET_PARTITION_RANGE_START_TAG: "2025-06-17", ASSET_PARTITION_RANGE_END_TAG: "2025-06-11"},
        raise_on_error=False,
    )
    assert not result.success
    assert "its start (2025-06-17) is after its end (2025-06-11)" in step_error(result)


def test_the_schedule_asks_for_the_day_before_ahead_of_the_nightly_summaries() -> None:
    error_patterns_schedule = loaded_definitions().resolve_schedule_def("error_patterns_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2025, 6, 18, 0, 15, tzinfo=dt.UTC),
        repository_def=loaded_definitions().get_repository_def(),
    )
    (request,) = error_patterns_schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2025-06-17"
    assert error_patterns_schedule.cron_schedule == "15 0 * * *"  # the summaries run at 00:30
