"""daily_customer_summaries and customer_trends on real runs: completeness, restatements, edges."""

import dagster as dg
import psycopg

from reporting_assets.partition_keys import CustomerDay
from reporting_assets.summaries.aggregate import summarize_day
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
    import datetime as dt

    before_midnight = dt.datetime(2025, 6, 16, 23, 59, tzinfo=dt.UTC)
    after_midnight = dt.datetime(2025, 6, 17, 0, 1, tzinfo=dt.UTC)
    rows = [
        {
            "pipeline_type": "order_sync",
            "status": "success",
            "new": 5,
            "updated": 1,
            "seconds": 2.0,
            "execution_id": "run-a",
            "run_started_at": before_midnight,
            "warnings": [],
            "errors": [],
        },
        {
            "pipeline_type": "shipping_sync",
            "status": "success",
            "new": 1,
            "updated": 2,
            "seconds": 1.0,
            "execution_id": "run-b",
            "run_started_at": after_midnight,
            "warnings": [],
            "errors": [],
        },
    ]
    summary = summarize_day(
        CustomerDay("PELOTON", dt.date(2025, 6, 16)), "PELOTON", rows, ["order_sync", "shipping_sync"]
    )
    assert summary.is_complete and summary.total_pipelines == 2
    assert [e.started_at for e in summary.timeline] == [before_midnight, after_midnight]
    assert summary.totals == {
        "new_orders": 5,
        "updated_orders": 1,
        "manufacturing_updates": 0,
        "shipping_updates": 3,
    }


def test_customer_trends_table_matches_the_reports(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    for key in (f"PELOTON|{DAY}", f"PELOTON|{NEXT}", f"GREYSON|{NEXT}"):
        run_sources(instance, key)
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
    assert set(records) == {"PELOTON", "GREYSON"}
    assert records["PELOTON"]["runs"] == 6 and records["GREYSON"]["runs"] == 3
    assert records["PELOTON"]["success_rate"] == 100.0 and records["PELOTON"]["active_days"] == 2
    expected_new = conn.execute(
        "SELECT sum((summary_json #>> '{counts,new}')::int) AS n FROM reporting.pipeline_execution_reports "
        "WHERE customer_key = 'PELOTON' AND pipeline_type = 'order_sync'"
    ).fetchone()
    assert expected_new is not None and records["PELOTON"]["new_orders"] == expected_new["n"]
    assert metadata["runs"].value == 9 and metadata["customers"].value == 2
