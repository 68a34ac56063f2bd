"""Bad input and faults: each gets a clear message and loses or duplicates nothing."""

import re
import threading
import time

import dagster as dg
import psycopg
import pytest

from reporting_assets.contract import RUN_REPORT_METADATA_KEY
from reporting_assets.customers import add_customer
from reporting_assets.partitions import customer_day_partitions
from reporting_assets.reporter import PipelineReporter
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets.sources.assets import source_assets
from reporting_assets_tests.helpers import QUIET, render, report_rows, run_sources, table_snapshot

DAY1, DAY2 = "2025-06-16", "2025-06-17"
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/nowhere"


def _order_sync_emitting(metadata: dict) -> dg.AssetsDefinition:
    """A stand-in producer for the order_sync asset key that emits the given metadata."""

    @dg.asset(name="order_sync", partitions_def=customer_day_partitions)
    def order_sync() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=metadata)

    return order_sync


def _failure_text(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every error the failed run logged, with causes: what a user sees in the UI."""
    assert not result.success, "expected the run to fail"
    texts = []
    for entry in instance.all_logs(result.run_id):
        error = getattr(getattr(entry.dagster_event, "event_specific_data", None), "error", None)
        if error is not None:
            texts.append(error.to_string())
    assert texts, "the failed run logged no error"
    return "\n".join(texts)


def test_wrong_types_in_metadata_give_an_error_report_naming_field_and_run(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"PELOTON|{DAY2}"
    contract = (
        PipelineReporter("PELOTON", "order_sync", execution_date=dg_date(DAY2))
        .build()
        .model_dump(mode="json")
    )
    contract["counts"]["new"] = "many"
    del contract["customer"]
    producer = _order_sync_emitting({RUN_REPORT_METADATA_KEY: dg.MetadataValue.json(contract)})
    run = dg.materialize([producer], instance=instance, partition_key=key, run_config=QUIET)
    render(instance, key)
    (row,) = report_rows(conn)
    assert row["status"] == "failed"
    (error,) = row["contract_json"]["errors"]
    assert run.run_id in error
    assert "field 'counts.new'" in error and "field 'customer'" in error
    assert "docs/contract.md" in error


def test_unknown_schema_version_and_non_object_metadata(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    contract = (
        PipelineReporter("GREYSON", "order_sync", execution_date=dg_date(DAY1))
        .build()
        .model_dump(mode="json")
    )
    contract["schema_version"] = 99
    dg.materialize(
        [_order_sync_emitting({RUN_REPORT_METADATA_KEY: dg.MetadataValue.json(contract)})],
        instance=instance,
        partition_key=f"GREYSON|{DAY1}",
        run_config=QUIET,
    )
    dg.materialize(
        [_order_sync_emitting({RUN_REPORT_METADATA_KEY: dg.MetadataValue.json([1, 2])})],
        instance=instance,
        partition_key=f"GREYSON|{DAY2}",
        run_config=QUIET,
    )
    render(instance, f"GREYSON|{DAY1}", f"GREYSON|{DAY2}")
    rows = report_rows(conn)
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert "unknown schema_version 99" in rows[0]["contract_json"]["errors"][0]
    assert "must be a JSON object, got list" in rows[1]["contract_json"]["errors"][0]


def test_markup_in_names_is_rendered_inert(instance: dg.DagsterInstance, conn: psycopg.Connection) -> None:
    add_customer(conn, instance, "<img src=x onerror=alert(1)> **Évil** | Co 🚀", key="EVIL CO")
    run_sources(instance, f"EVIL CO|{DAY2}")
    render(instance, f"EVIL CO|{DAY2}")
    rows = report_rows(conn)
    assert len(rows) == 3
    for row in rows:
        markdown = row["markdown_content"]
        assert not re.search(r"(?<!\\)<img", markdown), "raw HTML tag survived"
        assert not re.search(r"(?<!\\)\*\*Évil", markdown), "raw markdown emphasis survived"
        assert "**Customer**: \\<img src=x onerror=alert(1)\\> \\*\\*Évil\\*\\* \\| Co 🚀  " in markdown
        assert row["customer_name"] == "<img src=x onerror=alert(1)> **Évil** | Co 🚀"


def test_huge_change_list_is_bounded_in_metadata(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"ACTIVELY BLACK|{DAY2}"

    @dg.asset(name="order_sync", partitions_def=customer_day_partitions)
    def order_sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        reporter = PipelineReporter(
            "ACTIVELY BLACK", "order_sync", context.run.run_id, execution_date=dg_date(DAY2)
        )
        for i in range(100_000):
            reporter.log_change("new_order", f"Product {i} (Qty: 1)", key=f"ACT-2025-{i:06d}")
        reporter.log_metric("new", 100_000)
        return reporter.materialize_result()

    dg.materialize([order_sync], instance=instance, partition_key=key, run_config=QUIET)
    record = instance.fetch_materializations(dg.AssetKey("order_sync"), limit=1).records[0]
    contract = record.asset_materialization.metadata[RUN_REPORT_METADATA_KEY].value
    assert len(contract["changes"]) == 1_000
    assert contract["changes_total"] == 100_000
    assert contract["change_counts"] == {"new_order": 100_000}
    render(instance, key)
    (row,) = report_rows(conn)
    assert "### ✅ New Orders Added (100,000)" in row["markdown_content"]
    assert "- ... (99,990 more)" in row["markdown_content"]
    assert row["summary_json"]["changes_by_category"] == {"new_order": 100_000}


def test_run_that_failed_before_emitting_anything_gets_a_failed_report(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"PELOTON|{DAY1}"
    broken = dg.materialize(
        source_assets,
        instance=instance,
        partition_key=key,
        run_config=QUIET,
        raise_on_error=False,
        resources={
            "postgres": PostgresResource(database_url=UNREACHABLE),
            "report_settings": ReportSettingsResource(),
        },
    )
    assert not broken.success
    render(instance, key)
    rows = report_rows(conn)
    assert sorted(r["pipeline_type"] for r in rows) == ["manufacturing_sync", "order_sync", "shipping_sync"]
    for row in rows:
        assert row["status"] == "failed" and row["source_event"] == "run_failure"
        assert row["execution_id"] == broken.run_id
        assert any("is unavailable" in e for e in row["contract_json"]["errors"])
        assert "❌ FAILED" in row["markdown_content"]


def test_database_unreachable_at_start_fails_clearly_and_changes_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    key = f"GREYSON|{DAY2}"
    run_sources(instance, key)
    render(instance, key)
    before = table_snapshot(conn)
    from reporting_assets.execution_reports.assets import render_execution_reports

    result = dg.materialize(
        [render_execution_reports],
        instance=instance,
        partition_key=key,
        run_config=QUIET,
        raise_on_error=False,
        resources={
            "postgres": PostgresResource(database_url=UNREACHABLE),
            "report_settings": ReportSettingsResource(),
        },
    )
    assert not result.success
    text = _failure_text(instance, result)
    assert "PostgreSQL at postgresql://nobody@127.0.0.1:9/nowhere is unavailable" in text
    assert "re-run" in text
    assert table_snapshot(conn) == before


def test_database_going_away_mid_run_loses_and_duplicates_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection, database_url: str, customers: list[str]
) -> None:
    first, second = f"PELOTON|{DAY1}", f"PELOTON|{DAY2}"
    run_sources(instance, first)
    run_sources(instance, second)
    render(instance, first)
    before = table_snapshot(conn)

    killed: list[int] = []
    with psycopg.connect(database_url, autocommit=False) as locker:
        # Readers pass, writers wait: the run renders, then blocks on its upsert...
        locker.execute("LOCK TABLE reporting.pipeline_execution_reports IN EXCLUSIVE MODE")

        def kill_blocked_upsert() -> None:
            # ...and then its connection dies, as when the server restarts mid-run.
            with psycopg.connect(database_url, autocommit=True) as admin:
                pid = _wait_for_blocked_upsert(admin)
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                killed.append(pid)

        killer = threading.Thread(target=kill_blocked_upsert)
        killer.start()
        result = render(instance, first, second, raise_on_error=False)
        killer.join(timeout=60)
        locker.rollback()
    assert killed, "the render run was not interrupted"
    assert not result.success
    assert "is unavailable while rendering 2 partition(s)" in _failure_text(instance, result)
    assert table_snapshot(conn) == before  # nothing lost, nothing half-written

    render(instance, first, second)
    after = table_snapshot(conn)
    assert len(after["reports"]) == 6
    assert [r for r in after["reports"] if r[0] in {x[0] for x in before["reports"]}] == before["reports"]


def _wait_for_blocked_upsert(admin: psycopg.Connection, table: str = "pipeline_execution_reports") -> int:
    """The backend whose INSERT or COPY into ``reporting.<table>`` waits for a lock."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND (query LIKE %s OR query LIKE %s)",
            (f"%INSERT INTO reporting.{table} %", f'%COPY "reporting"."{table}" %'),
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.05)
    activity = admin.execute(
        "SELECT pid, state, wait_event_type, left(query, 120) FROM pg_stat_activity"
    ).fetchall()
    raise AssertionError(f"the render run never reached its upsert: {activity}")


def dg_date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_database_going_away_during_the_summary_keeps_reports_and_a_retry_makes_it_whole(
    instance: dg.DagsterInstance, conn: psycopg.Connection, database_url: str, customers: list[str]
) -> None:
    key = f"GREYSON|{DAY2}"
    run_sources(instance, key)
    killed: list[int] = []
    with psycopg.connect(database_url, autocommit=False) as locker:
        locker.execute("LOCK TABLE reporting.daily_customer_summaries IN EXCLUSIVE MODE")

        def kill_blocked_summary() -> None:
            with psycopg.connect(database_url, autocommit=True) as admin:
                pid = _wait_for_blocked_upsert(admin, "daily_customer_summaries")
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                killed.append(pid)

        killer = threading.Thread(target=kill_blocked_summary)
        killer.start()
        result = render(instance, key, raise_on_error=False)
        killer.join(timeout=60)
        locker.rollback()
    assert killed
    assert "is unavailable while rendering 1 partition(s)" in _failure_text(instance, result)
    after_failure = table_snapshot(conn)
    assert len(after_failure["reports"]) == 3  # reports committed before the summary step died
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM reporting.daily_customer_summaries) AS summaries, "
        "(SELECT count(*) FROM reporting.daily_customer_summary_history) AS history"
    ).fetchone()
    assert counts == {"summaries": 0, "history": 0}
    conn.commit()

    render(instance, key)
    render(instance, key)
    summary = conn.execute(
        "SELECT version, total_pipelines, is_complete FROM reporting.daily_customer_summaries"
    ).fetchall()
    assert summary == [{"version": 1, "total_pipelines": 3, "is_complete": True}]
    assert table_snapshot(conn)["reports"] == after_failure["reports"]


def test_a_statement_level_operational_error_is_not_called_an_outage(database_url: str) -> None:
    """A lock that cannot be taken is the statement's own problem: it keeps its message rather
    than being reported as 'PostgreSQL is unavailable, start the server'."""
    from reporting_assets.db.connection import connect
    from reporting_assets.errors import DatabaseUnavailableError

    with connect(database_url, doing="holding a lock") as holder:
        holder.execute("LOCK TABLE reporting.customers IN ACCESS EXCLUSIVE MODE")
        with (
            pytest.raises(psycopg.errors.LockNotAvailable, match="could not obtain lock") as caught,
            connect(database_url, doing="taking the lock") as waiter,
        ):
            waiter.execute("LOCK TABLE reporting.customers IN ACCESS EXCLUSIVE MODE NOWAIT")
        assert not isinstance(caught.value, DatabaseUnavailableError)
        holder.rollback()
