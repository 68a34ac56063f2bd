"""The report step and the automation reports' event-log fallback read the events of every
registered pipeline at once: the same queries for a registry of three pipelines or of thirty,
each event found for its own pipeline, and nothing from before an asset was wiped."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg
import pytest

from reporting_assets.automation.fallback import event_log_actions
from reporting_assets.automation.window import ReportWindow
from reporting_assets.execution_reports.events import fetch_source_events
from reporting_assets.pipelines.registry import Pipeline, add_pipeline, load_registry
from reporting_assets.reporter import PipelineReporter
from reporting_assets_tests.support.statements import counted_statements

DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
EXTRA = [Pipeline(f"extra_{i:02d}", f"Extra {i}", f"extra/p{i:02d}", "extra") for i in range(27)]


def send(instance: dg.DagsterInstance, pipeline: str, customer: str, external_id: str) -> None:
    reporter = PipelineReporter(customer, pipeline, execution_date=DAY, external_execution_id=external_id)
    reporter.log_metric("new", 3)
    reporter.save(instance=instance)


def sources(conn: psycopg.Connection) -> dict[dg.AssetKey, str]:
    return {p.key: p.pipeline_type for p in load_registry(conn).pipelines}


def test_the_events_of_a_render_cost_the_same_queries_however_many_pipelines_are_registered(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partitions = [f"{c}|{DAY}" for c in customers]
    send(instance, "order_sync", "PELOTON", "o-1")
    send(instance, "shipping_sync", "GREYSON", "s-1")
    few = sources(conn)
    with counted_statements(monkeypatch) as seen:
        events = fetch_source_events(instance, few, partitions)
    with_few = sum(seen.dagster.values())
    assert [(e.pipeline_type, e.partition_key, e.external_id) for e in events] == [
        ("shipping_sync", f"GREYSON|{DAY}", "s-1"),
        ("order_sync", f"PELOTON|{DAY}", "o-1"),
    ]

    for pipeline in EXTRA:
        add_pipeline(conn, pipeline)
    send(instance, "extra_26", "ACTIVELY BLACK", "x-1")
    many = sources(conn)
    assert len(many) == len(few) + 27
    with counted_statements(monkeypatch) as seen:
        events = fetch_source_events(instance, many, partitions)
    assert sum(seen.dagster.values()) == with_few
    assert [(e.pipeline_type, e.asset_key, e.kind) for e in events] == [
        ("extra_26", "extra/p26", "external"),
        ("shipping_sync", "shipping_sync", "external"),
        ("order_sync", "order_sync", "external"),
    ]

    instance.wipe_assets([dg.AssetKey(["extra", "p26"])])
    assert [e.pipeline_type for e in fetch_source_events(instance, many, partitions)] == [
        "shipping_sync",
        "order_sync",
    ]


def test_the_automation_fallback_costs_the_same_queries_however_many_pipelines_are_registered(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = ReportWindow.ending_at(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), 24)
    send(instance, "order_sync", "PELOTON", "o-1")
    send(instance, "shipping_sync", "GREYSON", "s-1")

    def actions(window: ReportWindow) -> dict[str, list[tuple[str, str | None, str]]]:
        registered = load_registry(conn).sources()
        found = event_log_actions(instance, sorted(registered), window, registered)
        return {s: [(a.run_id, a.partition_key, a.status) for a in found[s]] for s in found if found[s]}

    few = len(load_registry(conn).pipelines)
    with counted_statements(monkeypatch) as seen:
        with_few = actions(window)
    few_queries = sum(seen.dagster.values())
    assert few_queries == 2  # the assets' wipe times, then their events
    assert with_few == {
        "order_sync": [("o-1", f"PELOTON|{DAY}", "success")],
        "shipping_sync": [("s-1", f"GREYSON|{DAY}", "success")],
    }

    for pipeline in EXTRA:
        add_pipeline(conn, pipeline)
    send(instance, "extra_26", "ACTIVELY BLACK", "x-1")
    assert len(load_registry(conn).pipelines) == few + 27
    with counted_statements(monkeypatch) as seen:
        with_many = actions(window)
    assert sum(seen.dagster.values()) == few_queries
    assert with_many == {**with_few, "extra": [("x-1", f"ACTIVELY BLACK|{DAY}", "success")]}

    before = ReportWindow.ending_at(window.previous_start, 24)  # the two days before: nothing stored then
    assert actions(before) == {}
