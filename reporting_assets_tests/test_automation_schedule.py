"""The twice-daily schedule (04:00 and 21:00 UTC), evaluated against a real instance, and the
run it requests executed there: each report covers the 24 h before its tick, so the two daily
reports overlap by 7 h (docs/automation.md), unlike cron partitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest
from dagster._utils.schedules import cron_string_iterator

from reporting_assets.automation import definitions as automation_definitions
from reporting_assets.automation.assets import (
    AUTOMATION_ALERTS,
    AUTOMATION_REPORTS,
    JOB_NAME,
    automation_reports_schedule,
)
from reporting_assets.automation.window import ReportWindow
from reporting_assets.pipelines.registry import load_registry
from reporting_assets_tests.helpers import QUIET
from reporting_assets_tests.support.automation import (
    assert_valid,
    automation_defs,
    stored_rows,
    truncate_automation,
)

EVENING = dt.datetime(2025, 7, 10, 21, 0, tzinfo=dt.UTC)
MORNING = dt.datetime(2025, 7, 10, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_automation_reports(database_url: str) -> Iterator[None]:
    truncate_automation(database_url)
    yield


def test_schedule_fires_at_04_and_21_utc_and_is_running_by_default() -> None:
    automation = automation_definitions.defs()
    assert automation.schedules == [automation_reports_schedule]
    assert automation_reports_schedule.cron_schedule == "0 4,21 * * *"
    assert automation_reports_schedule.execution_timezone == "UTC"
    assert automation_reports_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    ticks = cron_string_iterator(dt.datetime(2025, 7, 10, tzinfo=dt.UTC).timestamp(), "0 4,21 * * *", "UTC")
    assert [next(ticks) for _ in range(3)] == [
        MORNING,
        EVENING,
        dt.datetime(2025, 7, 11, 4, 0, tzinfo=dt.UTC),
    ]
    repo = automation_defs().get_repository_def()
    assert automation_reports_schedule.name in {s.name for s in repo.schedule_defs}
    job = repo.get_job(JOB_NAME)
    assert [j.name for j in automation.jobs or []] == [JOB_NAME]
    assert set(job.asset_layer.selected_asset_keys) == {AUTOMATION_REPORTS, AUTOMATION_ALERTS}


def _evaluate(instance: dg.DagsterInstance, when: dt.datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    result = automation_reports_schedule.evaluate_tick(context)
    (request,) = result.run_requests or []
    return request


def test_schedule_evaluation_requests_the_24_h_before_each_tick_and_the_run_stores_it(
    instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    evening, morning = _evaluate(instance, EVENING), _evaluate(instance, MORNING)
    assert evening.run_key == "automation:2025-07-10T21:00:00Z"
    assert morning.run_key == "automation:2025-07-10T04:00:00Z"
    config = evening.run_config["ops"]["automation_reports"]["config"]
    assert config == {"report_time": "2025-07-10T21:00:00Z", "time_window_hours": 24}
    windows = [
        ReportWindow.ending_at(EVENING, 24),
        ReportWindow.ending_at(MORNING, 24),
    ]
    overlap = min(w.end for w in windows) - max(w.start for w in windows)
    assert overlap == dt.timedelta(hours=7)  # 04:00's window ends 7 h into 21:00's

    job = automation_defs().resolve_job_def(JOB_NAME)
    result = job.execute_in_process(instance=instance, run_config={**QUIET, **evening.run_config})
    assert result.success
    rows = stored_rows(conn)
    assert {r["source"] for r in rows} == set(load_registry(conn).sources())  # one per registered source
    for row in rows:
        assert row["report_time"] == EVENING and row["window_start"] == dt.datetime(
            2025, 7, 9, 21, tzinfo=dt.UTC
        )
        meta = row["report"]["metadata"]
        assert meta["report_generated_at"] == "2025-07-10T21:00:00Z" and meta["time_window_hours"] == 24
        assert row["total_actions"] == 0 and row["success_rate"] is None
        assert_valid(row["report"], ordered=False)
