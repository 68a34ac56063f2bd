"""Each recommendation rule triggered from real runs (the sample-run rules, low success rate,
all failures and partial runs, are in test_automation_report.py).

Here a pipeline of our own, ``hubspot_sync``, reports through the run-report contract like any
custom pipeline (README: "Reporting from your own pipeline"): three quick runs, then three slow
ones. Its lineage is rendered by the project's own service functions, so it becomes a source
system by name (``--crm hubspot``). The report window is the hour from the split between the
two batches, so the quick runs are the previous window: durations rise. The sample pipelines
do not run at all: they are stale. Health rules run against a real sensor daemon tick.
"""

import datetime as dt
import logging
import time
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.sensor import execute_sensor_iteration
from pydantic import Field

from reporting_assets.automation.fallback import event_log_reader
from reporting_assets.automation.health import AutomationHealth, automation_health
from reporting_assets.automation.report import AutomationReport, ReportRequest, generate_reports
from reporting_assets.automation.rules import RuleSettings
from reporting_assets.automation.sources import known_sources, resolve_sources
from reporting_assets.automation.store import store_reports
from reporting_assets.automation.window import ReportWindow, current_report_time
from reporting_assets.customers import add_customer
from reporting_assets.db.connection import connect
from reporting_assets.execution_reports.events import run_infos
from reporting_assets.execution_reports.service import render_partitions
from reporting_assets.lineage.store import runs_for_partitions, store_lineage
from reporting_assets.partitions import customer_day_partitions, parse_partition_key
from reporting_assets.pipelines.registry import Pipeline, add_pipeline, load_registry
from reporting_assets.reporter import PipelineReporter, report_failures
from reporting_assets_tests.helpers import QUIET, REPO_ROOT
from reporting_assets_tests.support.automation import assert_valid, truncate_automation
from reporting_assets_tests.support.database import wipe

CUSTOMER = "PELOTON"
FAST_DAYS = [dt.date(2025, 6, d) for d in (11, 12, 13)]
SLOW_DAYS = [dt.date(2025, 6, d) for d in (14, 15, 16)]
SLOW_SECONDS = 0.25
SETTINGS = RuleSettings(duration_min_increase_seconds=0.1, min_runs_for_trend=3)
LOCATION = "automation_rules_test"


class HubspotConfig(dg.Config):
    sleep_seconds: float = Field(default=0.0, description="How long the sync takes.")


@dg.asset(name="hubspot_sync", partitions_def=customer_day_partitions)
def hubspot_sync(context: dg.AssetExecutionContext, config: HubspotConfig) -> dg.MaterializeResult:
    partition = parse_partition_key(context.partition_key)
    reporter = PipelineReporter(
        partition.customer_key, "hubspot_sync", context.run.run_id, execution_date=partition.day
    )
    with report_failures(context, reporter):
        time.sleep(config.sleep_seconds)
        reporter.log_metric("records_processed", 100)
    return reporter.materialize_result()


hubspot_job = dg.define_asset_job("hubspot_sync_job", selection=[hubspot_sync])
hubspot_defs = dg.Definitions(assets=[hubspot_sync], jobs=[hubspot_job])


def _run_hubspot(instance: dg.DagsterInstance, day: dt.date, sleep_seconds: float) -> str:
    result = hubspot_defs.resolve_job_def("hubspot_sync_job").execute_in_process(
        instance=instance,
        partition_key=f"{CUSTOMER}|{day}",
        run_config={**QUIET, "ops": {"hubspot_sync": {"config": {"sleep_seconds": sleep_seconds}}}},
    )
    assert result.success
    return result.run_id


def _render_lineage(instance: dg.DagsterInstance, database_url: str, days: list[dt.date]) -> None:
    """What render_execution_reports does, for a pipeline of another code location (registered)."""
    keys = [f"{CUSTOMER}|{day}" for day in days]
    with connect(database_url) as conn:
        render_partitions(instance, conn, keys, load_registry(conn), lambda r: f"http://ui/runs/{r}", 10)
        conn.commit()
        runs = runs_for_partitions(conn, keys)
        store_lineage(conn, keys, runs, run_infos(instance, [r["run_id"] for r in runs]))
        conn.commit()


@pytest.fixture(scope="module")
def scenario(session_instance: dg.DagsterInstance, database_url: str) -> dict[str, dt.datetime]:
    wipe(session_instance, database_url)
    with connect(database_url) as conn:
        add_customer(conn, session_instance, CUSTOMER)
        add_pipeline(conn, Pipeline("hubspot_sync", "HubSpot Sync", "hubspot_sync", "hubspot_sync"))
    for day in FAST_DAYS:
        _run_hubspot(session_instance, day, 0.0)
    time.sleep(0.01)
    split = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(max(0.0, (split - dt.datetime.now(dt.UTC)).total_seconds()) + 0.01)
    for day in SLOW_DAYS:
        _run_hubspot(session_instance, day, SLOW_SECONDS)
    _render_lineage(session_instance, database_url, FAST_DAYS + SLOW_DAYS)
    return {"split": split}


@pytest.fixture(autouse=True)
def _clean_automation_reports(database_url: str) -> Iterator[None]:
    truncate_automation(database_url)
    yield


def _reports(
    instance: dg.DagsterInstance,
    database_url: str,
    report_time: dt.datetime,
    health: AutomationHealth | None = None,
    sources: str = "all",
) -> dict[str, AutomationReport]:
    window = ReportWindow.ending_at(report_time, 1)
    with connect(database_url) as conn:
        found = generate_reports(
            conn,
            ReportRequest(window, sources, settings=SETTINGS),
            health or AutomationHealth(),
            defined_sources=sorted(load_registry(conn).sources()),
            event_log=event_log_reader(instance, load_registry(conn).sources()),
        )
    for report in found:
        assert_valid(report.document)
    return {r.source: r for r in found}


def _rules(report: AutomationReport) -> list[str]:
    return [r.rule for r in report.recommendations]


def test_any_pipeline_that_reports_is_a_source_selected_crm_style(
    scenario: dict, session_instance: dg.DagsterInstance, database_url: str
) -> None:
    with connect(database_url) as conn:
        known = known_sources(conn, sorted(load_registry(conn).sources()))
    assert known == ["hubspot_sync", "manufacturing_sync", "order_sync", "shipping_sync", "sync_order_list"]
    assert resolve_sources("hubspot", known) == ["hubspot_sync"]
    only = _reports(
        session_instance, database_url, scenario["split"] + dt.timedelta(hours=1), sources="HubSpot"
    )
    assert list(only) == ["hubspot_sync"]
    metrics = only["hubspot_sync"].document["performance_metrics"]
    assert (metrics["total_actions"], metrics["successful_actions"], metrics["overall_success_rate"]) == (
        3,
        3,
        1.0,
    )
    assert metrics["actions_per_hour"] == 3.0
    assert metrics["previous_window"]["total_actions"] == 3


def test_rule_rising_duration(
    scenario: dict, session_instance: dg.DagsterInstance, database_url: str
) -> None:
    report = _reports(session_instance, database_url, scenario["split"] + dt.timedelta(hours=1))[
        "hubspot_sync"
    ]
    metrics = report.document["performance_metrics"]
    assert metrics["avg_duration_seconds"] >= SLOW_SECONDS
    assert metrics["previous_window"]["avg_duration_seconds"] < 0.1
    assert _rules(report) == ["rising_duration"]
    (rec,) = report.recommendations
    assert rec.priority == "medium" and rec.category == "performance"
    assert "hubspot_sync runs take longer" in rec.recommendation

    # one window later the slow runs are the baseline: nothing rises, and nothing ran
    later = _reports(session_instance, database_url, scenario["split"] + dt.timedelta(hours=2))[
        "hubspot_sync"
    ]
    assert "rising_duration" not in _rules(later)


def test_rule_stale_source(
    scenario: dict, session_instance: dg.DagsterInstance, database_url: str, conn: psycopg.Connection
) -> None:
    first_time = scenario["split"] + dt.timedelta(hours=1)
    found = _reports(session_instance, database_url, first_time)
    for source in ("manufacturing_sync", "order_sync", "shipping_sync"):  # defined, never ran
        (rec,) = found[source].recommendations
        assert (rec.rule, rec.priority, rec.category) == ("stale_source", "medium", "freshness")
        assert f"No {source} runs in the last 1 h (none in the 1 h before either)" in rec.recommendation
    store_reports(conn, list(found.values()), run_id=None)
    conn.commit()

    # two hours on: hubspot_sync is quiet in both windows; the stored report remembers its last run
    quiet = _reports(session_instance, database_url, first_time + dt.timedelta(hours=2))["hubspot_sync"]
    assert _rules(quiet) == ["stale_source"]
    last = found["hubspot_sync"].document["performance_metrics"]["last_action_at"]
    assert last is not None and f"(last action {last})" in quiet.recommendations[0].recommendation
    assert quiet.document["performance_metrics"]["last_action_at"] == last


# --- system health: a real sensor daemon tick ----------------------------------------------


@dg.sensor(
    name="broken_crm_webhook_sensor", target=[hubspot_sync], default_status=dg.DefaultSensorStatus.RUNNING
)
def broken_crm_webhook_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    raise ConnectionError("HubSpot webhook endpoint returned 503 Service Unavailable")


@dg.sensor(name="quiet_crm_sensor", target=[hubspot_sync], default_status=dg.DefaultSensorStatus.RUNNING)
def quiet_crm_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    return dg.SkipReason("nothing new")


@dg.schedule(
    name="nightly_crm_schedule",
    cron_schedule="0 2 * * *",
    target=[hubspot_sync],
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_crm_schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason:
    return dg.SkipReason("test schedule")


health_defs = dg.Definitions(
    assets=[hubspot_sync],
    sensors=[broken_crm_webhook_sensor, quiet_crm_sensor],
    schedules=[nightly_crm_schedule],
)


@pytest.fixture(scope="module")
def daemon_health(session_instance: dg.DagsterInstance) -> Iterator[AutomationHealth]:
    """Stop the schedule through the instance, run one real sensor daemon iteration (the broken
    sensor's tick fails), then read health for the window around it."""
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name=__name__, attribute="health_defs", working_directory=str(REPO_ROOT)),
        location_name=LOCATION,
    )
    instance = session_instance
    with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget([origin]), instance) as workspace:
        entry = next(iter(workspace.create_request_context().get_code_location_entries().values()))
        assert entry.code_location is not None, entry.load_error
        repo = entry.code_location.get_repository("__repository__")
        schedule = repo.get_schedule("nightly_crm_schedule")
        instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)
        started = time.time()
        list(execute_sensor_iteration(workspace, logging.getLogger(__name__), None, None) or [])
        window = ReportWindow.ending_at(
            dt.datetime.fromtimestamp(started, dt.UTC) + dt.timedelta(minutes=5), 1
        )
        yield automation_health(
            instance,
            health_defs.get_repository_def().schedule_defs,
            health_defs.get_repository_def().sensor_defs,
            window,
            location_name=LOCATION,
        )
    for state in instance.all_instigator_state():
        if state.repository_selector.location_name == LOCATION:
            instance.purge_ticks(state.instigator_origin_id, state.selector_id, before=time.time() + 60)
            instance.delete_instigator_state(state.instigator_origin_id, state.selector_id)


def test_health_counts_running_vs_defined_from_the_instance(daemon_health: AutomationHealth) -> None:
    health = daemon_health.as_json()
    assert (health["active_rules"], health["total_rules"], health["rule_utilization_rate"]) == (2, 3, 0.667)
    assert (health["schedules_running"], health["schedules_total"]) == (0, 1)
    assert (health["sensors_running"], health["sensors_total"]) == (2, 2)
    statuses = {a["name"]: (a["status"], a["failed_ticks"]) for a in health["automations"]}
    assert statuses == {
        "nightly_crm_schedule": ("stopped", 0),
        "broken_crm_webhook_sensor": ("running", 1),
        "quiet_crm_sensor": ("running", 0),
    }


def test_rule_failing_automation(
    scenario: dict, session_instance: dg.DagsterInstance, database_url: str, daemon_health: AutomationHealth
) -> None:
    report = _reports(
        session_instance, database_url, scenario["split"] + dt.timedelta(hours=1), daemon_health
    )
    (rec,) = [r for r in report["hubspot_sync"].recommendations if r.rule == "failing_automation"]
    assert rec.priority == "high" and rec.category == "automation"
    assert "sensor broken_crm_webhook_sensor (1 failed tick" in rec.recommendation
    assert "ConnectionError: HubSpot webhook endpoint returned 503 Service Unavailable" in rec.recommendation
    failing = report["hubspot_sync"].document["system_health"]["automations"]
    assert any(a["last_error"] and "503" in a["last_error"] for a in failing)


def test_rule_stopped_automations(
    scenario: dict, session_instance: dg.DagsterInstance, database_url: str, daemon_health: AutomationHealth
) -> None:
    report = _reports(
        session_instance, database_url, scenario["split"] + dt.timedelta(hours=1), daemon_health
    )
    (rec,) = [r for r in report["order_sync"].recommendations if r.rule == "stopped_automations"]
    assert rec.priority == "low" and rec.category == "automation"
    assert rec.recommendation.startswith(
        "2 of 3 automations are running; stopped: schedule nightly_crm_schedule."
    )


def test_a_report_made_now_ends_at_the_next_whole_second() -> None:
    """A run that started earlier in the same second as the report is inside its window."""
    started = dt.datetime(2026, 12, 2, 21, 9, 35, 68041, tzinfo=dt.UTC)
    report_time = current_report_time(dt.datetime(2026, 12, 2, 21, 9, 35, 533469, tzinfo=dt.UTC))
    assert report_time == dt.datetime(2026, 12, 2, 21, 9, 36, tzinfo=dt.UTC)
    window = ReportWindow.ending_at(report_time)
    assert window.start <= started < window.end
    on_the_second = dt.datetime(2026, 12, 2, 21, 0, tzinfo=dt.UTC)
    assert current_report_time(on_the_second) == on_the_second
