"""Sensors and the nightly schedule evaluated against a real instance: requests and cursors."""

from __future__ import annotations

import datetime as dt
import logging
import warnings

import dagster as dg
import psycopg
import pytest

from reporting_assets.db.urls import DATABASE_URL_ENV
from reporting_assets.definitions import defs, loaded_definitions
from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS
from reporting_assets.execution_reports.sensors import (
    BACKFILL_THRESHOLD,
    failed_source_run_sensor,
    report_requests,
    source_runs_sensor,
    touched_partitions,
)
from reporting_assets.resources import PostgresResource
from reporting_assets.sources.assets import SOURCE_ASSET_KEYS
from reporting_assets.summaries.schedules import SUMMARY_TIME_ENV, build_daily_summaries_schedule
from reporting_assets_tests.helpers import QUIET, render, report_rows, run_sources

TODAY = dt.datetime.now(dt.UTC).date()
REGISTRY = {"postgres": PostgresResource()}
"""What the report sensors read the pipeline registry through (the test database, from the environment)."""


def _evaluate(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=loaded_definitions(), resources=REGISTRY
    )
    result = source_runs_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_first_tick_starts_at_the_present_then_requests_exactly_the_touched_partitions(
    instance: dg.DagsterInstance, customers: list[str]
) -> None:
    run_sources(instance, f"PELOTON|{TODAY}")
    first = _evaluate(instance, None)
    assert not first.run_requests
    start = int(first.cursor or 0)
    assert start == instance.event_log_storage.get_maximum_record_id()

    run_sources(instance, f"GREYSON|{TODAY}")
    run_sources(instance, f"GREYSON|{TODAY - dt.timedelta(days=1)}")
    second = _evaluate(instance, first.cursor)
    requested = sorted(r.partition_key for r in second.run_requests or [])
    assert requested == sorted([f"GREYSON|{TODAY}", f"GREYSON|{TODAY - dt.timedelta(days=1)}"])
    for request in second.run_requests or []:
        assert request.asset_selection == REPORT_ASSET_KEYS
        assert request.run_key and request.run_key.startswith(f"reports:{request.partition_key}@")
    assert int(second.cursor or 0) > start

    again = _evaluate(instance, first.cursor)  # the same tick evaluated twice
    assert [r.run_key for r in again.run_requests or []] == [r.run_key for r in second.run_requests or []]
    assert again.cursor == second.cursor
    idle = _evaluate(instance, second.cursor)
    assert not idle.run_requests and idle.cursor == second.cursor


def test_failure_observations_are_seen_and_a_late_run_is_a_backfill_of_its_partition(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    cursor = _evaluate(instance, None).cursor
    last_week = TODAY - dt.timedelta(days=7)
    run_sources(instance, f"PELOTON|{last_week}", ops={"shipping_sync": {"simulate": "failure"}})
    result = _evaluate(instance, cursor)
    assert [r.partition_key for r in result.run_requests or []] == [f"PELOTON|{last_week}"]
    (request,) = result.run_requests or []
    job = loaded_definitions().resolve_job_def("render_reports")
    job.execute_in_process(
        instance=instance, partition_key=request.partition_key, asset_selection=request.asset_selection
    )
    rows = report_rows(conn, [f"PELOTON|{last_week}"])
    assert {r["pipeline_type"]: r["status"] for r in rows}["shipping_sync"] == "failed"
    summary = conn.execute(
        "SELECT is_complete, missing_pipelines, status_json FROM reporting.daily_customer_summaries"
    ).fetchone()
    assert summary is not None and summary["is_complete"] is False
    assert summary["status_json"]["failed"] == ["shipping_sync"]


def test_many_past_partitions_become_one_backfill(instance: dg.DagsterInstance) -> None:
    days = [TODAY - dt.timedelta(days=30 + i) for i in range(BACKFILL_THRESHOLD + 2)]
    touched = {f"PELOTON|{d}": 100 + i for i, d in enumerate(days)} | {f"PELOTON|{TODAY}": 999}
    instance.add_dynamic_partitions("customers", ["PELOTON"])
    graph = loaded_definitions().get_repository_def().asset_graph
    requests = report_requests(touched, TODAY, graph)
    runs = [r for r in requests if not r.requires_backfill_daemon()]
    backfills = [r for r in requests if r.requires_backfill_daemon()]
    assert [r.partition_key for r in runs] == [f"PELOTON|{TODAY}"]
    (backfill,) = backfills
    subset = backfill.asset_graph_subset
    assert subset is not None and set(subset.asset_keys) == set(REPORT_ASSET_KEYS)
    assert subset.num_partitions_and_non_partitioned_assets == len(days) * len(REPORT_ASSET_KEYS)


def test_cursor_stops_before_an_unread_page(instance: dg.DagsterInstance, customers: list[str]) -> None:
    import reporting_assets.execution_reports.sensors as sensors

    for day in range(3):
        run_sources(instance, f"ACTIVELY BLACK|{TODAY - dt.timedelta(days=day)}")
    original = sensors.PAGE_SIZE
    sensors.PAGE_SIZE = 2
    try:
        seen: set[str] = set()
        cursor, ticks = 0, 0
        while True:
            touched, next_cursor = touched_partitions(instance, cursor, SOURCE_ASSET_KEYS)
            assert next_cursor >= cursor
            if next_cursor == cursor:
                break
            seen |= set(touched)
            cursor, ticks = next_cursor, ticks + 1
        assert ticks > 1  # small pages: several ticks, none skipping an event
        assert seen == {f"ACTIVELY BLACK|{TODAY - dt.timedelta(days=d)}" for d in range(3)}
        assert cursor == instance.event_log_storage.get_maximum_record_id() or cursor > 0
    finally:
        sensors.PAGE_SIZE = original


def _status_sensor_verdict(instance: dg.DagsterInstance, run_id: str) -> dg.RunRequest | dg.SkipReason:
    """What the failure sensor answers for the failed run ``run_id``."""
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    failure_event = next(
        e
        for e in instance.all_logs(run_id)
        if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
    )
    context = dg.build_run_status_sensor_context(
        sensor_name=failed_source_run_sensor.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure_event.dagster_event,
        repository_def=loaded_definitions().get_repository_def(),
        resources=REGISTRY,
    )
    verdict = failed_source_run_sensor(context)
    assert isinstance(verdict, dg.RunRequest | dg.SkipReason)
    return verdict


def test_failed_run_that_emitted_nothing_is_requested_by_the_run_status_sensor(
    instance: dg.DagsterInstance, customers: list[str]
) -> None:
    from reporting_assets.resources import PostgresResource, ReportSettingsResource
    from reporting_assets.sources.assets import source_assets

    failed = dg.materialize(
        source_assets,
        instance=instance,
        partition_key=f"GREYSON|{TODAY}",
        raise_on_error=False,
        resources={
            "postgres": PostgresResource(database_url="postgresql://nobody@127.0.0.1:9/x"),
            "report_settings": ReportSettingsResource(),
        },
    )
    request = _status_sensor_verdict(instance, failed.run_id)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == f"GREYSON|{TODAY}"
    assert request.run_key == f"reports:GREYSON|{TODAY}@failure:{failed.run_id}"
    assert failed_source_run_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_failure_sensor_skips_other_partitioned_jobs_and_removed_customers(
    instance: dg.DagsterInstance, customers: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as env:
        env.setenv(DATABASE_URL_ENV, "postgresql://nobody@127.0.0.1:9/x")
        trends = (
            loaded_definitions()
            .resolve_job_def("customer_trends_job")
            .execute_in_process(
                instance=instance,
                partition_key=str(TODAY - dt.timedelta(days=1)),
                run_config=QUIET,
                raise_on_error=False,
            )
        )
    # a daily-partitioned job of another family: its key is no customer-day key
    verdict = _status_sensor_verdict(instance, trends.run_id)
    assert isinstance(verdict, dg.SkipReason)
    assert "did not plan any source pipeline" in (verdict.skip_message or "")

    source = run_sources(instance, f"GREYSON|{TODAY}", ops={"shipping_sync": {"simulate": "failure"}})
    assert isinstance(_status_sensor_verdict(instance, source.run_id), dg.RunRequest)
    instance.delete_dynamic_partition("customers", "GREYSON")
    removed = _status_sensor_verdict(instance, source.run_id)
    assert isinstance(removed, dg.SkipReason)
    assert "reporting-assets customers add" in (removed.skip_message or "")


def test_source_runs_of_a_removed_customer_are_skipped_and_the_cursor_moves_on(
    instance: dg.DagsterInstance, customers: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    def tick(cursor: str | None) -> dg.SensorResult:
        # evaluate_tick validates the requests' partitions the way the daemon does
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=loaded_definitions(), resources=REGISTRY
        )
        with dg.partition_loading_context(dynamic_partitions_store=instance):
            result = source_runs_sensor.evaluate_tick(context)
        return dg.SensorResult(run_requests=result.run_requests, cursor=result.cursor)

    start = tick(None).cursor
    run_sources(instance, f"GREYSON|{TODAY}")
    instance.delete_dynamic_partition("customers", "GREYSON")
    run_sources(instance, f"PELOTON|{TODAY}")
    with caplog.at_level(logging.WARNING):
        result = tick(start)
    (request,) = result.run_requests or []
    assert request.partition_key == f"PELOTON|{TODAY}"
    # past GREYSON's events too: PELOTON's newest source event (in its run key) is the cursor
    assert request.run_key == f"reports:PELOTON|{TODAY}@{result.cursor}"
    assert f"Not rendering GREYSON|{TODAY}: not a partition" in caplog.text
    assert not tick(result.cursor).run_requests


def test_schedule_requests_yesterday_for_every_customer(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    schedule = build_daily_summaries_schedule()
    assert schedule.cron_schedule == "30 0 * * *" and schedule.execution_timezone == "UTC"
    when = dt.datetime(2025, 6, 18, 0, 30, tzinfo=dt.UTC)
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        repository_def=loaded_definitions().get_repository_def(),
        resources=REGISTRY,
    )
    requests = schedule.evaluate_tick(context).run_requests or []
    assert sorted(r.partition_key for r in requests) == [
        "ACTIVELY BLACK|2025-06-17",
        "GREYSON|2025-06-17",
        "PELOTON|2025-06-17",
    ]
    assert all(r.run_key == f"daily:{r.partition_key}" for r in requests)
    render(instance, "PELOTON|2025-06-17")  # a day with no runs still gets a summary
    summary = conn.execute("SELECT * FROM reporting.daily_customer_summaries").fetchone()
    assert summary is not None
    assert (summary["total_pipelines"], summary["is_complete"]) == (0, False)
    assert summary["missing_pipelines"] == ["manufacturing_sync", "order_sync", "shipping_sync"]
    assert "No pipeline runs reported for this day." in summary["combined_markdown"]
    assert "**Missing runs**: Manufacturing Sync, Order Sync, Shipping Sync" in summary["combined_markdown"]


@pytest.mark.parametrize(
    ("name", "job", "cron"),
    [
        ("customer_trends_schedule", "customer_trends_job", "45 0 * * *"),
        ("error_patterns_schedule", "error_patterns_job", "15 0 * * *"),
    ],
)
def test_the_daily_partitioned_schedules_request_the_day_before_keyed_by_it(
    instance: dg.DagsterInstance, name: str, job: str, cron: str
) -> None:
    schedule = loaded_definitions().resolve_schedule_def(name)
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (cron, "UTC", job)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    def tick(when: dt.datetime) -> dg.ScheduleExecutionData:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            repository_def=loaded_definitions().get_repository_def(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)  # no deprecated Dagster call on the way
            return schedule.evaluate_tick(context)

    (request,) = tick(dt.datetime(2025, 6, 18, 0, 15, tzinfo=dt.UTC)).run_requests or []
    assert (request.partition_key, request.run_key) == ("2025-06-17", "2025-06-17")
    assert request.tags["dagster/partition"] == "2025-06-17"
    assert request.tags["dagster/schedule_name"] == name
    first = tick(dt.datetime(2025, 1, 1, 0, 15, tzinfo=dt.UTC))  # the first day is not over yet
    assert not first.run_requests
    assert first.skip_message == "The job's PartitionsDefinition has no partitions"


def test_sample_pipelines_schedule_runs_today_for_every_customer(
    instance: dg.DagsterInstance, customers: list[str]
) -> None:
    from reporting_assets.sources.schedules import sample_pipelines_schedule

    when = dt.datetime(2025, 6, 17, 14, 5, tzinfo=dt.UTC)
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        repository_def=loaded_definitions().get_repository_def(),
        resources=REGISTRY,
    )
    requests = sample_pipelines_schedule.evaluate_tick(context).run_requests or []
    assert [(r.partition_key, r.run_key) for r in requests] == [
        (f"{c}|2025-06-17", f"sample:{c}|2025-06-17T14:05") for c in sorted(customers)
    ]


def test_the_nightly_summary_time_is_read_when_the_code_location_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert loaded_definitions().resolve_schedule_def("daily_summaries_schedule").cron_schedule == "30 0 * * *"
    monkeypatch.setenv(SUMMARY_TIME_ENV, "01:15")
    assert defs().resolve_schedule_def("daily_summaries_schedule").cron_schedule == "15 1 * * *"
    monkeypatch.setenv(SUMMARY_TIME_ENV, "1:75")
    with pytest.raises(
        ValueError, match=r"REPORTING_SUMMARY_TIME_UTC='1:75' is not a time of day: use HH:MM"
    ):
        defs()
