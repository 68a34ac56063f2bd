"""Sync sessions end to end: real Dagster runs of ``sync_order_list`` on the PostgreSQL-backed
test instance, the sample target's state in PostgreSQL, files checked on disk, and every number
of the executive summary checked against the database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest

from reporting_assets.execution_reports.events import run_infos
from reporting_assets.execution_reports.service import render_partitions
from reporting_assets.lineage.store import runs_for_partitions, store_lineage
from reporting_assets.logging_ids import LOG_ID, REGISTRY
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.sync.assets import SYNC_ID_TAG, SYNC_SESSIONS
from reporting_assets.sync.folders import SUMMARY_FILE, SYNC_ID, customer_slug
from reporting_assets.sync.order_list import split_sizes
from reporting_assets_tests.support.sync import (
    add_orders,
    check_summary_against_database,
    contract_events,
    load_orders,
    one,
    rows,
    run_sync,
    session_of,
    step_error,
    write_config,
)

pytestmark = pytest.mark.usefixtures("clean_sync_tables")
TODAY = dt.datetime.now(dt.UTC).date()


def folder_of(session: dict[str, Any]) -> Path:
    return Path(session["folder"])


def test_executed_session_syncs_groups_items_subitems_and_reports_match_the_database(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    load_orders(conn, customers)
    config = write_config(tmp_path)
    result = run_sync(instance, config, tmp_path / "reports", execute=True, limit=6)
    assert result.success
    session = session_of(conn, result.run_id)
    sync_id = session["sync_id"]
    assert SYNC_ID.match(sync_id) and sync_id.startswith(f"{session['started_at']:%Y%m%d%H%M}-SYNC-")
    assert instance.get_run_by_id(result.run_id).tags[SYNC_ID_TAG] == sync_id  # type: ignore[union-attr]
    assert session["status"] == "success" and not session["dry_run"]

    # the target: one group per customer, its id on ALL the customer's pending records
    groups = rows(
        conn, "SELECT title, count(*) AS n, min(group_id) AS group_id FROM sample_target.groups GROUP BY 1"
    )
    assert sorted(g["title"] for g in groups) == sorted(customers) and {g["n"] for g in groups} == {1}
    for group in groups:
        assert (
            one(
                conn,
                "SELECT count(*) FROM reporting.sync_order_list WHERE customer_key = %s "
                "AND group_id IS DISTINCT FROM %s",
                group["title"],
                group["group_id"],
            )
            == 0
        )
    assert one(conn, "SELECT count(*) FROM sample_target.items") == 18
    synced = rows(
        conn,
        "SELECT o.item_id, o.sizes, i.external_key, i.column_values FROM reporting.sync_order_list o "
        "JOIN sample_target.items i ON i.item_id = o.item_id WHERE o.sync_state = 'SYNCED'",
    )
    assert len(synced) == 18 and all(r["column_values"]["text_order_id"] == r["external_key"] for r in synced)
    assert one(conn, "SELECT count(*) FROM sample_target.subitems") == sum(len(r["sizes"]) for r in synced)
    assert (
        one(conn, "SELECT count(*) FROM reporting.sync_api_operations WHERE api_response_payload IS NULL")
        == 0
    )

    totals = check_summary_against_database(conn, session)
    assert (
        totals["records_processed"] == 18 and totals["errors"] == 0 and totals["batch_success_rate"] == 100.0
    )

    # the folder: summary, one report per customer (slug + hash), summaries, JSON-lines log with ids
    folder = folder_of(session)
    assert folder == tmp_path / "reports" / "sync" / sync_id
    assert (folder / SUMMARY_FILE).read_text(encoding="utf-8") == session["summary_markdown"]
    reports = sorted(p.name for p in (folder / "customer_reports").iterdir())
    stamp = f"{session['started_at']:%Y%m%d_%H%M%S}"
    assert reports == sorted(f"{customer_slug(c)}_{stamp}.md" for c in customers)
    peloton = (folder / "customer_reports" / f"{customer_slug('PELOTON')}_{stamp}.md").read_text(
        encoding="utf-8"
    )
    assert peloton.index("## 📊 Session Statistics") < peloton.index("## ⏳ Pending Records")
    assert f"**Sync ID**: `{sync_id}`" in peloton and "| **Records Processed** | 6 |" in peloton
    for name in ("groups.md", "groups.json", "batches.md", "batches.json", "session.json"):
        assert (folder / "summaries" / name).stat().st_size > 0
    groups_json = json.loads((folder / "summaries" / "groups.json").read_text())
    assert {g["group_action"] for g in groups_json} == {"created"}
    lines = [json.loads(x) for x in (folder / "logs" / "sync_session.jsonl").read_text().splitlines()]
    assert lines and all(line["sync_id"] == sync_id for line in lines)
    assert all(LOG_ID.match(line["log_id"]) for line in lines)
    assert {line["log_id"][:2] for line in lines} <= set(REGISTRY.values())

    # Dagster: the session's markdown, and one contract per customer with the sync id as external id
    sessions = instance.fetch_materializations(SYNC_SESSIONS, limit=5).records
    assert len(sessions) == 1 and sessions[0].run_id == result.run_id
    assert sessions[0].asset_materialization.metadata["summary"].value == session["summary_markdown"]  # type: ignore[union-attr]
    events = contract_events(instance, result.run_id)
    assert set(events) == {f"{c}|{TODAY.isoformat()}" for c in customers}
    for kind, contract in events.values():
        assert kind == "materialization" and contract["status"] == "success"
        assert contract["external_execution_id"] == sync_id and contract["run_id"] == result.run_id
        assert contract["counts"]["records_processed"] == 6 and contract["counts"]["new"] == 6

    # the report layer reads them like any source pipeline: execution reports and lineage
    keys = sorted(events)
    render_partitions(instance, conn, keys, load_registry(conn), lambda r: f"http://ui/runs/{r}", 10)
    conn.commit()
    stored = rows(
        conn,
        "SELECT partition_key, status, external_execution_id FROM reporting.pipeline_execution_reports "
        "WHERE pipeline_type = 'sync_order_list' ORDER BY 1",
    )
    assert [r["partition_key"] for r in stored] == keys
    assert {(r["status"], r["external_execution_id"]) for r in stored} == {("success", sync_id)}
    runs = runs_for_partitions(conn, keys)
    store_lineage(conn, keys, runs, run_infos(instance, [r["run_id"] for r in runs]))
    conn.commit()
    assert rows(
        conn, "SELECT run_id, job_name, external_execution_id FROM reporting.workflow_executions"
    ) == [{"run_id": result.run_id, "job_name": "sync_order_list", "external_execution_id": sync_id}]


def test_dry_run_changes_nothing_and_reports_what_it_would_do(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received", "In Production", "Cancelled"])
    before = rows(conn, "SELECT * FROM reporting.sync_order_list ORDER BY id")
    result = run_sync(instance, write_config(tmp_path), tmp_path / "reports", customers=["PELOTON"])
    assert result.success
    assert rows(conn, "SELECT * FROM reporting.sync_order_list ORDER BY id") == before
    assert one(conn, "SELECT count(*) FROM sample_target.groups") == 0
    assert one(conn, "SELECT count(*) FROM sample_target.items") == 0
    session = session_of(conn, result.run_id)
    assert session["dry_run"] and session["status"] == "success"
    statuses = rows(conn, "SELECT DISTINCT status FROM reporting.sync_api_operations")
    assert statuses == [{"status": "planned"}]
    # get_groups + create_group, then find_items + create_items + create_subitems for one batch of 3
    assert one(conn, "SELECT count(*) FROM reporting.sync_api_operations") == 5
    totals = check_summary_against_database(conn, session)
    assert totals["records_synced"] == 3 and totals["items_created"] == 3
    assert "🧪 DRY RUN" in session["summary_markdown"]
    assert "5 planned, none sent" in session["summary_markdown"]
    assert contract_events(instance, result.run_id) == {}  # a dry run claims no partition
    assert (folder_of(session) / SUMMARY_FILE).is_file()


def test_rerun_upserts_and_never_duplicates_groups_items_or_subitems(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    orders = add_orders(conn, "PELOTON", ["Received", "Received", "In Production"], quantity=100)
    first = run_sync(instance, config, tmp_path / "reports", execute=True, customers=["PELOTON"])
    assert first.success
    counts = [one(conn, f"SELECT count(*) FROM sample_target.{t}") for t in ("groups", "items", "subitems")]
    assert counts == [1, 3, 3 * len(split_sizes(100))]
    # upstream changes: a new quantity (record pending again), and a record whose item exists on
    # the target but whose id the order list lost (a crash between the create and the write)
    add_orders(conn, "PELOTON", ["Received", "Received", "In Production"], quantity=200)
    conn.execute("UPDATE reporting.sync_order_list SET item_id = NULL WHERE order_id = %s", (orders[0],))
    conn.commit()
    second = run_sync(instance, config, tmp_path / "reports", execute=True, customers=["PELOTON"])
    assert second.success
    assert [
        one(conn, f"SELECT count(*) FROM sample_target.{t}") for t in ("groups", "items", "subitems")
    ] == counts
    quantities = rows(
        conn, "SELECT DISTINCT (column_values->>'numbers_quantity')::int AS q FROM sample_target.subitems"
    )
    assert sorted(r["q"] for r in quantities) == sorted(set(split_sizes(200).values()))
    session = session_of(conn, second.run_id)
    line = session["summary_json"]["customers"][0]
    assert (line["items_created"], line["items_updated"], line["group_action"]) == (0, 3, "known")
    assert line["subitems_updated"] == counts[2]
    check_summary_against_database(conn, session)


def test_target_failing_every_call_for_one_customer_fails_only_that_customer(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    for customer in customers:
        add_orders(conn, customer, ["Received"] * 5)
    config = write_config(tmp_path, fail_customers=["GREYSON"])
    result = run_sync(instance, config, tmp_path / "reports", execute=True)
    assert result.success  # the session is partial, not failed: two customers synced
    session = session_of(conn, result.run_id)
    assert session["status"] == "partial"
    by_customer = {c["customer_key"]: c for c in session["summary_json"]["customers"]}
    assert by_customer["GREYSON"]["status"] == "failed" and by_customer["GREYSON"]["errors"] == 5
    assert {by_customer[c]["status"] for c in ("PELOTON", "ACTIVELY BLACK")} == {"success"}
    # every call for GREYSON failed: get_groups, tried 1 + max_retries (2) times, nothing else
    greyson_ops = rows(
        conn,
        "SELECT operation, status, attempt FROM reporting.sync_api_operations WHERE customer_key = 'GREYSON' "
        "ORDER BY id",
    )
    assert greyson_ops == [{"operation": "get_groups", "status": "error", "attempt": n} for n in (1, 2, 3)]
    assert "| GREYSON | ❌ FAILED | 5 | 5 |" in session["summary_markdown"]
    assert "| PELOTON | ✅ SUCCESS | 5 | 0 |" in session["summary_markdown"]
    causes = session["summary_json"]["errors_by_cause"]
    assert [(c["cause"], c["errors"], c["customer_names"]) for c in causes] == [
        ("target_unavailable", 5, ["GREYSON"])
    ]
    check_summary_against_database(conn, session)
    folder = folder_of(session)
    greyson = next((folder / "customer_reports").glob(f"{customer_slug('GREYSON')}_*.md")).read_text()
    assert "**Status**: ❌ FAILED" in greyson and "503 Service Unavailable" in greyson
    assert greyson.count("| target\\_unavailable |") == 5  # the order list's failed records, listed
    events = contract_events(instance, result.run_id)
    kind, contract = events[f"GREYSON|{TODAY.isoformat()}"]
    assert kind == "observation" and contract["status"] == "failed" and contract["counts"]["failed"] == 5
    assert events[f"PELOTON|{TODAY.isoformat()}"][0] == "materialization"
    # failed records stay pending with their error; a later session retries them
    assert (
        one(
            conn,
            "SELECT count(*) FROM reporting.sync_order_list "
            "WHERE customer_key = 'GREYSON' AND sync_state = 'PENDING' "
            "AND last_error_cause = 'target_unavailable'",
        )
        == 5
    )


def test_partial_batches_timeouts_and_retries_are_counted_as_the_database_has_them(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received"] * 16)
    config = write_config(tmp_path, item_failure_rate=0.25, timeout_rate=0.15, seed=2)
    result = run_sync(instance, config, tmp_path / "reports", execute=True, customers=["PELOTON"])
    assert result.success
    session = session_of(conn, result.run_id)
    totals = check_summary_against_database(conn, session)
    assert 0 < totals["errors"] < 16, "the seed should give a partial session"
    assert totals["api_failed"] > 0 and totals["api_retries"] > 0
    assert 0 < totals["batch_success_rate"] < 100
    assert session["status"] == "partial"
    rejected = rows(conn, "SELECT message FROM reporting.sync_record_errors WHERE cause = 'item_rejected'")
    assert rejected and all("ITEM_SAVE_FAILED" in r["message"] for r in rejected)


def _config_without_cancelled_mapping(tmp_path: Path, extra: str = "") -> Path:
    path = write_config(tmp_path, extra=extra)
    text = path.read_text().replace('"Cancelled" = "CANCELLED"\n', "")
    path.write_text(text)
    return path


def test_dropdown_mismatch_is_reported_before_any_call_with_the_fix(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    orders = add_orders(conn, "PELOTON", ["Received", "Cancelled", "Shipped", "Cancelled"])
    result = run_sync(
        instance,
        _config_without_cancelled_mapping(tmp_path),
        tmp_path / "reports",
        execute=True,
        customers=["PELOTON"],
    )
    assert result.success
    session = session_of(conn, result.run_id)
    (cause,) = session["summary_json"]["errors_by_cause"]
    assert cause["cause"] == "dropdown_mismatch" and cause["errors"] == 2
    assert "value 'Cancelled' of column 'status' is not a label" in cause["example"]
    assert 'Fix: add "Cancelled" = "CANCELLED" under [defaults.dropdowns.status.values]' in cause["example"]
    sent = json.dumps(
        [r["p"] for r in rows(conn, "SELECT api_request_payload AS p FROM reporting.sync_api_operations")]
    )
    assert orders[1] not in sent and orders[3] not in sent and orders[0] in sent  # never sent
    assert "CANCELLED" not in sent
    log = [
        json.loads(x) for x in (folder_of(session) / "logs" / "sync_session.jsonl").read_text().splitlines()
    ]
    ids = [line["log_id"] for line in log]
    assert ids.index("se-005") < ids.index("se-010"), "the mismatch is logged before the first API call"
    check_summary_against_database(conn, session)

    # with on_dropdown_mismatch = "abort" nothing at all is sent and the session fails
    config = _config_without_cancelled_mapping(tmp_path, extra='on_dropdown_mismatch = "abort"')
    aborted = run_sync(instance, config, tmp_path / "reports", execute=True, customers=["PELOTON"])
    assert not aborted.success
    stopped = session_of(conn, aborted.run_id)
    assert stopped["status"] == "failed" and "nothing was sent" in stopped["error"]
    assert (
        one(conn, "SELECT count(*) FROM reporting.sync_api_operations WHERE sync_id = %s", stopped["sync_id"])
        == 0
    )
    assert (folder_of(stopped) / SUMMARY_FILE).is_file()
    assert len(list((folder_of(stopped) / "customer_reports").iterdir())) == 1


def test_customer_with_no_pending_records_still_gets_its_report(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    add_orders(conn, "PELOTON", ["Received", "Received"])
    result = run_sync(
        instance, write_config(tmp_path), tmp_path / "reports", execute=True, customers=["PELOTON", "GREYSON"]
    )
    assert result.success
    session = session_of(conn, result.run_id)
    assert "| GREYSON | ✅ SUCCESS | 0 | 0 |" in session["summary_markdown"]
    assert one(conn, "SELECT count(*) FROM reporting.sync_api_operations WHERE customer_key = 'GREYSON'") == 0
    greyson = next(
        (folder_of(session) / "customer_reports").glob(f"{customer_slug('GREYSON')}_*.md")
    ).read_text()
    assert "Nothing is pending for this customer." in greyson and "No batch was sent." in greyson
    kind, contract = contract_events(instance, result.run_id)[f"GREYSON|{TODAY.isoformat()}"]
    assert kind == "materialization" and contract["counts"]["records_processed"] == 0


def test_unknown_customer_and_bad_limits_are_refused_before_a_session_starts(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str], tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    unknown = run_sync(instance, config, tmp_path / "reports", customers=["PELOTN"])
    assert "Customer 'PELOTN' is not registered. Did you mean 'PELOTON'?" in step_error(unknown)
    for bad in (0, -3):
        refused = run_sync(instance, config, tmp_path / "reports", limit=bad)
        assert f"--limit must be at least 1 (got {bad})" in step_error(refused)
    assert one(conn, "SELECT count(*) FROM reporting.sync_sessions") == 0
    assert not (tmp_path / "reports").exists()
