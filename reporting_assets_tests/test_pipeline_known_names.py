"""What a reporting process knows of the registry and customers: a warm ``save()`` costs the
event write and nothing else, a pipeline or customer registered later is found on its first
report, a removed pipeline is refused once the process re-reads, and unknown names still get
the registry's errors."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager, nullcontext

import dagster as dg
import psycopg
import pytest

from reporting_assets.customers import add_customer
from reporting_assets.db.connection import Connection
from reporting_assets.errors import CustomerError, PipelineError
from reporting_assets.pipelines.ingest import external_metadata
from reporting_assets.pipelines.known import KnownNames
from reporting_assets.pipelines.registry import Pipeline, add_pipeline, remove_pipeline
from reporting_assets.reporter import PipelineReporter
from reporting_assets_tests.support.statements import counted_statements

TODAY = dt.datetime.now(dt.UTC).date()
CRM = Pipeline("crm_sync", "CRM Sync", "crm/sync", "hubspot", "https://kestra.example.com/e/{id}")
TICKETS = Pipeline("ticket_sync", "Ticket Sync", "support/tickets", "zendesk")


def run(pipeline: str, customer: str = "PELOTON", external_id: str = "ext-1") -> PipelineReporter:
    reporter = PipelineReporter(customer, pipeline, execution_date=TODAY, external_execution_id=external_id)
    reporter.log_metric("records_processed", 10)
    return reporter


def materializations(instance: dg.DagsterInstance, pipeline: Pipeline) -> int:
    return len(instance.fetch_materializations(pipeline.key, limit=100).records)


def test_a_warm_save_sends_only_the_event_write(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_pipeline(conn, CRM)
    direct = dg.AssetMaterialization(
        asset_key=CRM.key, partition=f"PELOTON|{TODAY}", metadata=external_metadata(run("crm_sync").build())
    )
    instance.report_runless_asset_event(direct)  # the storage's one-off checks happen here
    with counted_statements(monkeypatch) as seen:
        instance.report_runless_asset_event(direct)
        floor = dict(seen.dagster)
        assert floor  # the event write itself
        seen.clear()
        run("crm_sync", external_id="first").save(instance=instance)
        reads = {s: c for s, c in seen.reporting.items() if not s.startswith("SET ")}  # not connecting
        assert sorted(reads.values()) == [1, 1]  # the registry and the customers, read once
        assert dict(seen.dagster) == floor
        seen.clear()
        for index, customer in enumerate(customers * 5):
            run("crm_sync", customer, f"warm-{index}").save(instance=instance)
        assert not seen.reporting
        assert seen.dagster == {statement: count * 15 for statement, count in floor.items()}
    assert materializations(instance, CRM) == 18


def test_a_pipeline_and_customer_registered_after_the_first_report_are_found_at_once(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    add_pipeline(conn, CRM)
    run("crm_sync").save(instance=instance)
    add_pipeline(conn, TICKETS)
    add_customer(conn, instance, "HALCYON")
    recorded = run("ticket_sync", "HALCYON").save(instance=instance)
    assert recorded.partition_key == f"HALCYON|{TODAY}" and recorded.asset_key == "support/tickets"
    assert materializations(instance, TICKETS) == 1


def test_unknown_names_get_the_registry_errors_however_warm_the_process(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    add_pipeline(conn, CRM)
    run("crm_sync").save(instance=instance)
    with pytest.raises(
        PipelineError, match=r"'crm_synk' is not registered\. Did you mean 'crm_sync'.*pipelines add"
    ):
        run("crm_synk").save(instance=instance)
    with pytest.raises(
        CustomerError, match=r"'PELETON' is not registered\. Did you mean 'PELOTON'.*customers add"
    ):
        run("crm_sync", "PELETON").save(instance=instance)
    assert materializations(instance, CRM) == 1


def test_a_removed_pipeline_is_refused_once_the_process_rereads_the_registry(
    conn: psycopg.Connection, customers: list[str]
) -> None:
    add_pipeline(conn, CRM)
    now = [0.0]
    names = KnownNames(refresh_seconds=10.0, clock=lambda: now[0])
    reads = []

    def lend() -> AbstractContextManager[Connection]:
        reads.append(now[0])
        return nullcontext(conn)

    assert names.pipeline(lend, "crm_sync") == CRM
    remove_pipeline(conn, "crm_sync")
    now[0] = 9.0
    assert names.pipeline(lend, "crm_sync") == CRM  # trusted for up to refresh_seconds
    names.require_customer(lend, "PELOTON")
    assert reads == [0.0]
    now[0] = 10.0
    with pytest.raises(PipelineError, match=r"'crm_sync' is not registered.*pipelines add crm_sync"):
        names.pipeline(lend, "crm_sync")
    assert reads == [0.0, 10.0]
