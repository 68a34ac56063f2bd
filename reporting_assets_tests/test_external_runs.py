"""Runs reported from outside Dagster (``PipelineReporter.save()``, ``reporting-assets report-run``):
a runless materialization on a real instance, picked up by the report sensor (requests and
cursor), rendered like any run, with the external id and link in the report and lineage; and
every way such a report can be wrong."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.db.urls import DATABASE_URL_ENV
from reporting_assets.definitions import loaded_definitions
from reporting_assets.errors import ContractError, CustomerError, InstanceUnavailableError, PipelineError
from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS
from reporting_assets.execution_reports.sensors import source_runs_sensor
from reporting_assets.home import HOME_ENV
from reporting_assets.lineage.verify import format_result, verify
from reporting_assets.pipelines.registry import Pipeline, add_pipeline, remove_pipeline
from reporting_assets.pipelines.spool import send_spooled
from reporting_assets.reporter import PipelineReporter
from reporting_assets.resources import PostgresResource
from reporting_assets_tests.helpers import render, report_rows, run_cli

TODAY = dt.datetime.now(dt.UTC).date()
KESTRA = "https://kestra.example.com/executions/{id}"
CRM = Pipeline("crm_sync", "CRM Sync", "crm/sync", "hubspot", KESTRA, new_label="New Contacts")
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/nowhere"


def crm_run(
    customer: str = "PELOTON", day: dt.date = TODAY, external_id: str = "kestra-42"
) -> PipelineReporter:
    reporter = PipelineReporter(customer, "crm_sync", execution_date=day, external_execution_id=external_id)
    reporter.log_change("new_order", "Spring Collection Hoodie (Qty: 500)", key="ACT-2025-001")
    reporter.log_metric("records_processed", 1247)
    reporter.log_metric("new", 1)
    reporter.count_api_calls("hubspot", 12)
    return reporter


def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=loaded_definitions(),
        resources={"postgres": PostgresResource()},
    )
    result = source_runs_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


@pytest.fixture
def crm(instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]) -> Pipeline:
    add_pipeline(conn, CRM)
    return CRM


def test_a_saved_run_is_requested_by_the_sensor_and_reported_with_its_external_id_and_links(
    instance: dg.DagsterInstance, conn: psycopg.Connection, crm: Pipeline
) -> None:
    start = tick(instance, None).cursor
    recorded = crm_run().save(instance=instance)
    key = f"PELOTON|{TODAY}"
    assert recorded.partition_key == key and recorded.asset_key == "crm/sync"
    assert recorded.show_command == f"reporting-assets reports show '{key}' --pipeline crm_sync"

    result = tick(instance, start)
    (request,) = result.run_requests or []
    assert request.partition_key == key and request.asset_selection == REPORT_ASSET_KEYS
    assert int(result.cursor or 0) > int(start or 0)
    assert not tick(instance, result.cursor).run_requests

    render(instance, key)
    (row,) = [r for r in report_rows(conn, [key]) if r["pipeline_type"] == "crm_sync"]
    assert row["execution_id"] == "ext:crm_sync:kestra-42" and row["external_execution_id"] == "kestra-42"
    assert row["source_event"] == "external" and row["status"] == "success"
    markdown = row["markdown_content"]
    assert "**Pipeline**: CRM Sync" in markdown and "| **New Contacts** | 1 |" in markdown
    assert "**Execution ID**: kestra-42" in markdown
    assert "*External Run: [View Details](https://kestra.example.com/executions/kestra-42)*" in markdown
    assert (
        "*Dagster Event: [View Details](http://localhost:3000/assets/crm/sync?view=events&partition="
        in markdown
    )

    execution = conn.execute(
        "SELECT job_name, status, source, external_execution_id, started_at, completed_at "
        "FROM reporting.workflow_executions WHERE run_id = 'ext:crm_sync:kestra-42'"
    ).fetchone()
    contract = row["contract_json"]
    assert execution == {
        "job_name": "crm_sync",
        "status": "success",
        "source": "external",
        "external_execution_id": "kestra-42",
        # an external run's times are the ones it reported
        "started_at": dt.datetime.fromisoformat(contract["started_at"]),
        "completed_at": dt.datetime.fromisoformat(contract["finished_at"]),
    }
    checked = verify(conn)
    assert checked.ok and checked.runs_by_source == {"dagster": 0, "external": 1}
    assert "0 Dagster runs, 1 external runs" in format_result(checked)
    summary = conn.execute(
        "SELECT combined_markdown FROM reporting.daily_customer_summaries WHERE partition_key = %s", (key,)
    ).fetchone()
    conn.commit()
    assert (
        summary is not None
        and "(https://kestra.example.com/executions/kestra-42)" in summary["combined_markdown"]
    )


def test_the_same_run_sent_twice_even_at_once_is_one_report(
    instance: dg.DagsterInstance, conn: psycopg.Connection, crm: Pipeline
) -> None:
    report = crm_run()
    threads = [threading.Thread(target=report.save, kwargs={"instance": instance}) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.save_to_database(instance=instance)
    events = instance.fetch_materializations(dg.AssetKey(["crm", "sync"]), limit=10).records
    assert len(events) == 3
    key = f"PELOTON|{TODAY}"
    render(instance, key)
    rows = [r for r in report_rows(conn, [key]) if r["pipeline_type"] == "crm_sync"]
    assert [r["execution_id"] for r in rows] == ["ext:crm_sync:kestra-42"]
    assert conn.execute("SELECT count(*) AS n FROM reporting.workflow_executions").fetchone() == {"n": 1}


def test_a_late_report_for_an_old_day_remakes_that_days_summary(
    instance: dg.DagsterInstance, conn: psycopg.Connection, crm: Pipeline
) -> None:
    old = TODAY - dt.timedelta(days=5)
    key = f"PELOTON|{old}"
    render(instance, key)
    first = conn.execute(
        "SELECT version, missing_pipelines FROM reporting.daily_customer_summaries WHERE partition_key = %s",
        (key,),
    ).fetchone()
    assert first is not None and first["version"] == 1 and "crm_sync" in first["missing_pipelines"]
    start = tick(instance, None).cursor
    crm_run(day=old, external_id="late-1").save(instance=instance)
    (request,) = tick(instance, start).run_requests or []
    assert request.partition_key == key
    render(instance, key)
    again = conn.execute(
        "SELECT version, missing_pipelines FROM reporting.daily_customer_summaries WHERE partition_key = %s",
        (key,),
    ).fetchone()
    conn.commit()
    assert again is not None and again["version"] == 2 and "crm_sync" not in again["missing_pipelines"]


def test_bad_reports_are_refused_saying_what_to_do(
    instance: dg.DagsterInstance, conn: psycopg.Connection, crm: Pipeline
) -> None:
    unregistered = PipelineReporter("PELOTON", "erp_sync", execution_date=TODAY, external_execution_id="1")
    with pytest.raises(
        PipelineError, match=r"'erp_sync' is not registered.*`reporting-assets pipelines add erp_sync"
    ):
        unregistered.save(instance=instance)
    with pytest.raises(
        CustomerError, match=r"'PELOTN' is not registered\. Did you mean 'PELOTON'\?.*customers add"
    ):
        crm_run(customer="PELOTN").save(instance=instance)
    with pytest.raises(ContractError, match=r"does not match the partition 'GREYSON\|"):
        crm_run().save(instance=instance, partition_key=f"GREYSON|{TODAY}")
    with pytest.raises(ContractError, match=r"the day is in the future \(today is"):
        crm_run(day=TODAY + dt.timedelta(days=2)).save(instance=instance)
    no_id = PipelineReporter("PELOTON", "crm_sync", execution_date=TODAY)
    with pytest.raises(ContractError, match="has no external_execution_id"):
        no_id.save(instance=instance)
    assert not instance.fetch_materializations(dg.AssetKey(["crm", "sync"]), limit=1).records


def test_an_unreachable_instance_spools_the_report_and_report_run_spool_sends_it(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    crm: Pipeline,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    with monkeypatch.context() as away:
        away.setenv(DATABASE_URL_ENV, UNREACHABLE)
        with pytest.raises(InstanceUnavailableError, match=r"could not be recorded.*report-run --spool"):
            crm_run().save(instance=instance)
    (spooled,) = (tmp_path / "spool" / "pipeline-runs").glob("*.json")
    assert json.loads(spooled.read_text())["run_report"]["external_execution_id"] == "kestra-42"
    outcome = send_spooled(instance)
    assert [r.external_execution_id for r in outcome.sent] == ["kestra-42"] and not outcome.failed
    assert not spooled.exists()
    assert len(instance.fetch_materializations(dg.AssetKey(["crm", "sync"]), limit=10).records) == 1


def test_runs_of_a_pipeline_removed_from_the_registry_are_skipped_with_a_warning(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    crm: Pipeline,
    caplog: pytest.LogCaptureFixture,
) -> None:
    start = tick(instance, None).cursor
    crm_run().save(instance=instance)
    remove_pipeline(conn, "crm_sync")
    with caplog.at_level(logging.WARNING):
        result = tick(instance, start)
    assert not result.run_requests and int(result.cursor or 0) > int(start or 0)
    assert "Skipping run reports of crm/sync: no registered pipeline has this asset" in caplog.text


@pytest.mark.integration
def test_report_run_records_a_contract_file_and_refuses_bad_json(
    instance: dg.DagsterInstance, crm: Pipeline, tmp_path: Path
) -> None:
    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps(crm_run(external_id="cron-7").build().model_dump(mode="json")))
    sent = run_cli("report-run", "--file", str(contract), "--json")
    assert sent.returncode == 0, sent.stderr
    assert (
        json.loads(sent.stdout)["report"]
        == f"reporting-assets reports show 'PELOTON|{TODAY}' --pipeline crm_sync"
    )
    (event,) = instance.fetch_materializations(dg.AssetKey(["crm", "sync"]), limit=10).records
    assert event.asset_materialization is not None
    assert event.asset_materialization.metadata["external_execution_id"].value == "cron-7"

    broken = run_cli("report-run", stdin='{"customer": ')
    assert broken.returncode == 2 and broken.stderr.startswith("error: The contract in stdin is not JSON")
    wrong = crm_run().build().model_dump(mode="json") | {"counts": {"new": "many"}}
    typed = run_cli("report-run", stdin=json.dumps(wrong))
    assert typed.returncode == 2 and "field 'counts.new'" in typed.stderr
