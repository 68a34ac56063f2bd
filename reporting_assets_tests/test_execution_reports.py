"""execution_reports and workflow_lineage: real runs on a real PostgreSQL-backed instance."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from reporting_assets.lineage.verify import verify
from reporting_assets_tests.helpers import (
    QUIET,
    latest_materialization_metadata,
    render,
    report_rows,
    run_sources,
    table_snapshot,
)

DAY1, DAY2, DAY3 = "2025-06-15", "2025-06-16", "2025-06-17"


def test_report_compares_with_yesterday_and_links_every_figure(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, f"PELOTON|{DAY1}")
    today = run_sources(
        instance, f"PELOTON|{DAY2}", ops={"order_sync": {"external_execution_id": "kestra_exec_1"}}
    )
    render(instance, f"PELOTON|{DAY2}")

    rows = report_rows(conn, [f"PELOTON|{DAY2}"])
    assert [r["pipeline_type"] for r in rows] == ["manufacturing_sync", "order_sync", "shipping_sync"]
    assert {r["execution_id"] for r in rows} == {today.run_id}
    order = next(r for r in rows if r["pipeline_type"] == "order_sync")
    assert order["status"] == "success"
    assert order["external_execution_id"] == "kestra_exec_1"
    markdown = order["markdown_content"]
    assert markdown.startswith("# 📋 Pipeline Execution Report\n")
    assert "**Customer**: PELOTON" in markdown
    assert "from yesterday" in markdown and "first run" not in markdown
    assert f"/runs/{today.run_id})" in markdown
    assert order["summary_json"]["counts"]["new"] == order["contract_json"]["counts"]["new"]

    metadata = latest_materialization_metadata(instance, "execution_reports", f"PELOTON|{DAY2}")
    assert metadata["report"].value.startswith("# 📋 Pipeline Execution Report")
    assert metadata["reports"].value == 3
    assert len(metadata["runs"].value.records) == 3

    result = verify(conn)
    assert result.ok, result.problems
    lineage = conn.execute(
        "SELECT count(*) AS n, count(DISTINCT run_id) AS runs, count(*) FILTER (WHERE external_execution_id "
        "= 'kestra_exec_1') AS with_external FROM reporting.report_lineage"
    ).fetchone()
    assert lineage is not None and lineage["runs"] == 1 and lineage["n"] > 30 and lineage["with_external"] > 5
    execution = conn.execute("SELECT * FROM reporting.workflow_executions").fetchall()
    assert [(e["run_id"], e["job_name"], e["status"]) for e in execution] == [
        (today.run_id, "sample_pipelines", "success")
    ]


def test_first_day_says_first_run(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, f"GREYSON|{DAY1}")
    render(instance, f"GREYSON|{DAY1}")
    for row in report_rows(conn):
        assert "| first run |" in row["markdown_content"]


def test_rematerializing_changes_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    for day in (DAY1, DAY2):
        run_sources(instance, f"ACTIVELY BLACK|{day}")
    render(instance, f"ACTIVELY BLACK|{DAY1}", f"ACTIVELY BLACK|{DAY2}")
    before = table_snapshot(conn)
    render(instance, f"ACTIVELY BLACK|{DAY1}", f"ACTIVELY BLACK|{DAY2}")
    render(instance, f"ACTIVELY BLACK|{DAY2}")
    after = table_snapshot(conn)
    assert len(before["reports"]) == 6
    assert after == before  # same rows, byte-identical markdown, untouched updated_at


def test_batched_range_run_materializes_each_partition(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    keys = [f"GREYSON|{d}" for d in (DAY1, DAY2, DAY3)]
    for key in keys:
        run_sources(instance, key)
    result = render(instance, keys[0], keys[-1])
    materialized = sorted(
        (e.asset_key.to_user_string(), e.partition)
        for e in (m.event_specific_data.materialization for m in result.get_asset_materialization_events())
    )
    assert materialized == sorted(
        (asset, k)
        for asset in ("execution_reports", "workflow_lineage", "daily_customer_summaries")
        for k in keys
    )
    assert len(report_rows(conn)) == 9
    for key in keys:
        metadata = latest_materialization_metadata(instance, "execution_reports", key)
        assert f"**Date**: {key.split('|')[1]}" in metadata["report"].value
        lineage = latest_materialization_metadata(instance, "workflow_lineage", key)
        assert lineage["runs"].value == 1 and lineage["figures"].value > 0


def test_failed_and_partial_runs_still_get_reports(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"PELOTON|{DAY3}"
    result = run_sources(
        instance, key, ops={"shipping_sync": {"simulate": "failure"}, "order_sync": {"simulate": "partial"}}
    )
    assert not result.success
    render(instance, key)
    rows = {r["pipeline_type"]: r for r in report_rows(conn)}
    assert rows["shipping_sync"]["status"] == "failed"
    assert rows["shipping_sync"]["source_event"] == "observation"
    assert "simulated failure of shipping_sync" in rows["shipping_sync"]["contract_json"]["errors"][0]
    assert "simulated failure of shipping\\_sync" in rows["shipping_sync"]["markdown_content"]
    assert "❌ FAILED" in rows["shipping_sync"]["markdown_content"]
    assert rows["order_sync"]["status"] == "partial"
    assert "⚠️ PARTIAL" in rows["order_sync"]["markdown_content"]
    assert rows["manufacturing_sync"]["status"] == "success"
    assert verify(conn).ok
    status = conn.execute("SELECT status FROM reporting.workflow_executions").fetchone()
    assert status is not None and status["status"] == "failed"


def test_lineage_integrity_holds_without_row_level_foreign_keys(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    """Migration 008 replaced report_lineage's foreign keys with set-based triggers: an orphan
    row is refused with the foreign-key error code, and deleting or truncating a parent removes
    its lineage rows as the cascade did."""
    for day in (DAY1, DAY2):
        run_sources(instance, f"PELOTON|{day}")
        render(instance, f"PELOTON|{day}")
    lineage = "SELECT count(*) AS n FROM reporting.report_lineage"
    total = conn.execute(lineage).fetchone()["n"]  # type: ignore[index]
    assert total > 60
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="does not exist"):
        conn.execute(
            "INSERT INTO reporting.report_lineage (report_id, figure_path, figure_value, run_id, "
            "execution_partition_id) SELECT -1, 'counts.new', '1', run_id, id "
            "FROM reporting.workflow_execution_partitions LIMIT 1"
        )
    conn.rollback()
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="does not exist"):
        conn.execute(
            "UPDATE reporting.report_lineage SET execution_partition_id = -5 "
            "WHERE report_id = (SELECT min(report_id) FROM reporting.report_lineage)"
        )
    conn.rollback()
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="cannot change"):
        conn.execute("UPDATE reporting.pipeline_execution_reports SET id = -id")
    conn.rollback()

    day1 = conn.execute(
        "SELECT count(*) AS n FROM reporting.report_lineage l JOIN reporting.pipeline_execution_reports r "
        "ON r.id = l.report_id WHERE r.execution_date = %s",
        (DAY1,),
    ).fetchone()["n"]  # type: ignore[index]
    conn.execute("DELETE FROM reporting.pipeline_execution_reports WHERE execution_date = %s", (DAY1,))
    assert conn.execute(lineage).fetchone()["n"] == total - day1  # type: ignore[index]
    one = conn.execute(
        "SELECT execution_partition_id AS id, count(*) AS n FROM reporting.report_lineage "
        "GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert one is not None
    conn.execute("DELETE FROM reporting.workflow_execution_partitions WHERE id = %s", (one["id"],))
    assert conn.execute(lineage).fetchone()["n"] == total - day1 - one["n"]  # type: ignore[index]
    conn.execute("TRUNCATE reporting.pipeline_execution_reports")
    assert conn.execute(lineage).fetchone()["n"] == 0  # type: ignore[index]
    conn.commit()


def test_a_first_write_that_meets_stored_rows_falls_back_to_the_upsert(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    """The plain-insert fast path runs in a savepoint: when rows turn out to be stored already
    (a concurrent write), it is rolled back and the upsert runs; nothing is lost or doubled."""
    from reporting_assets.db.first_write import insert_or_upsert, with_conflict_clause
    from reporting_assets.db.queries import query

    run_sources(instance, f"PELOTON|{DAY1}")
    render(instance, f"PELOTON|{DAY1}")
    before = table_snapshot(conn)
    conn.execute(query("reports_stage"))
    conn.execute(
        "INSERT INTO reports_stage SELECT customer_name, customer_key, execution_date, pipeline_type, "
        "execution_id, external_execution_id, partition_key, status, source_event, event_storage_id, "
        "run_started_at, markdown_content, summary_json, metrics_json, contract_json, content_hash, "
        "generated_at FROM reporting.pipeline_execution_reports"
    )
    upserts: list[int] = []
    fast = insert_or_upsert(
        conn,
        exists="SELECT false AS found",  # as if another run stored them after the check
        insert=query("reports_insert_new"),
        upsert=lambda: upserts.append(
            conn.execute(with_conflict_clause("reports_insert_new", "reports_on_conflict")).rowcount
        ),
    )
    conn.commit()
    assert fast is False and upserts == [0]  # the same content: nothing to update
    assert table_snapshot(conn) == before


def test_a_copied_first_write_that_meets_a_stored_report_is_upserted_instead(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    """A first write COPYs straight into the table, in a savepoint: when a report turns out to be
    stored already (a concurrent run got there first), the batch goes through the staging table
    and the upsert instead; the missing report is written and none is doubled or changed."""
    from reporting_assets.execution_reports.store import REPORT_COLUMNS, store_staged

    run_sources(instance, f"PELOTON|{DAY1}")
    render(instance, f"PELOTON|{DAY1}")
    content = (
        "SELECT execution_id, pipeline_type, customer_key, execution_date, markdown_content, "
        "summary_json::text, contract_json::text, content_hash, generated_at "
        "FROM reporting.pipeline_execution_reports ORDER BY 1, 2, 3, 4"
    )
    before = conn.execute(content).fetchall()
    values = ", ".join(f"{c}::text" if c.endswith("_json") else c for c in REPORT_COLUMNS)
    rows = [
        tuple(r.values())
        for r in conn.execute(f"SELECT {values} FROM reporting.pipeline_execution_reports ORDER BY id")
    ]
    conn.execute(
        "DELETE FROM reporting.pipeline_execution_reports "
        "WHERE id = (SELECT max(id) FROM reporting.pipeline_execution_reports)"
    )
    conn.commit()
    assert len(before) == 3 and len(conn.execute(content).fetchall()) == 2

    store_staged(conn, [rows], first_write=True)
    conn.commit()
    assert conn.execute(content).fetchall() == before


def test_lineage_written_over_several_connections_equals_one_connection(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], database_url: str
) -> None:
    """Large batches write figure rows in parallel, a slice of partitions per connection; the
    rows and the per-report summary are the same as a single-connection write."""
    from reporting_assets.db.connection import connect
    from reporting_assets.execution_reports.events import run_infos
    from reporting_assets.lineage.store import lineage_connections, runs_for_partitions, store_lineage

    keys = [f"{c}|{d}" for c in ("PELOTON", "GREYSON") for d in (DAY1, DAY2)]
    for key in keys:
        run_sources(instance, key)
    render(instance, keys[0], keys[1])
    render(instance, keys[2], keys[3])
    one = table_snapshot(conn)["lineage"]
    runs = runs_for_partitions(conn, keys)
    infos = run_infos(instance, [r["run_id"] for r in runs])
    single = store_lineage(conn, keys, runs, infos).runs
    conn.execute("DELETE FROM reporting.report_lineage")
    conn.commit()
    with connect(database_url) as second, connect(database_url) as third:
        parallel = store_lineage(conn, keys, runs, infos, [second, third])
    conn.commit()
    assert [dict(r) for r in parallel.runs] == [dict(r) for r in single]
    again = table_snapshot(conn)["lineage"]
    assert [r[:-1] for r in again] == [r[:-1] for r in one]  # all but updated_at
    assert lineage_connections(99, 0) == 1 and lineage_connections(100, 3) == 3


def test_a_lineage_rewrite_drops_figures_a_report_no_longer_has_and_keeps_the_rest(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    """A first lineage write inserts straight from the reports; a rewrite after a report lost a
    figure goes through the upsert: that figure's row goes, the others stay untouched, and a
    report whose figures were all lost (deleted by hand) gets them back."""
    from reporting_assets.execution_reports.events import run_infos
    from reporting_assets.lineage.store import runs_for_partitions, store_lineage

    key = f"PELOTON|{DAY1}"
    run_sources(instance, key)
    render(instance, key)
    before = table_snapshot(conn)["lineage"]
    ids = [r["id"] for r in conn.execute("SELECT id FROM reporting.pipeline_execution_reports ORDER BY id")]
    conn.execute(
        "UPDATE reporting.pipeline_execution_reports SET summary_json = summary_json - 'warning_count' "
        "WHERE id = %s",
        (ids[0],),
    )
    conn.execute("DELETE FROM reporting.report_lineage WHERE report_id = %s", (ids[1],))
    conn.commit()

    runs = runs_for_partitions(conn, [key])
    outcome = store_lineage(conn, [key], runs, run_infos(instance, [r["run_id"] for r in runs]))
    conn.commit()

    after = table_snapshot(conn)["lineage"]
    pipeline_of = {
        r["id"]: r["pipeline_type"]
        for r in conn.execute("SELECT id, pipeline_type FROM reporting.pipeline_execution_reports")
    }
    lost, restored = (pipeline_of[ids[0]], "warning_count"), pipeline_of[ids[1]]
    kept = [r for r in before if (r[1], r[3]) != lost]
    assert len(after) == len(before) - 1
    # untouched rows keep their updated_at; the restored report's rows are written anew
    assert [r if r[1] != restored else r[:-1] for r in kept] == [
        r if r[1] != restored else r[:-1] for r in after
    ]
    figures = {r["pipeline_type"]: r["figures"] for r in outcome.runs}
    counted = conn.execute(
        "SELECT r.pipeline_type, count(*) AS n FROM reporting.report_lineage l "
        "JOIN reporting.pipeline_execution_reports r ON r.id = l.report_id GROUP BY 1"
    ).fetchall()
    assert figures == {r["pipeline_type"]: r["n"] for r in counted}
    assert verify(conn).ok


def test_forked_rendering_stores_exactly_what_one_process_stores(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A range run rendering in forked workers (here forced for a small batch) produces the same
    bytes as in the run's own process: the re-render changes no row (same content hashes)."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from reporting_assets import parallel
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()

    days = ("2025-06-14", DAY1, DAY2, DAY3)
    for day in days:
        run_sources(instance, f"GREYSON|{day}")
    job = defs.resolve_job_def("render_reports")

    def render_range(processes: int) -> None:
        run_config = {**QUIET, "resources": {"report_settings": {"config": {"render_processes": processes}}}}
        job.execute_in_process(
            instance=instance,
            run_config=run_config,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: f"GREYSON|{days[0]}",
                ASSET_PARTITION_RANGE_END_TAG: f"GREYSON|{days[-1]}",
            },
        )

    render_range(1)
    before = table_snapshot(conn)
    assert len(before["reports"]) == 12
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ITEMS", 1)
    assert parallel.worker_count(12, 2) == 2
    render_range(2)
    assert table_snapshot(conn) == before
