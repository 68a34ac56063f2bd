"""``POST /api/pipeline-runs`` over a real uvicorn: a pipeline token reports a run of its tenant's
customer (202, where the report will appear), the run lands on the instance as a runless event
and renders like any run; wrong bodies are 422 naming the field; other roles and tenants are
refused; the same run posted twice at once is one report."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dagster as dg
import httpx
import psycopg

from reporting_assets.customers import add_customer
from reporting_assets.pipelines.registry import Pipeline, add_pipeline
from reporting_assets.reporter import PipelineReporter
from reporting_assets_tests.api.support import OPERATIONS, Served, auth
from reporting_assets_tests.helpers import REPO_ROOT, render, report_rows

DAY = dt.date(2025, 6, 17)
KEY = f"PELOTON|{DAY}"
PIPELINE = auth("acme", "kestra@acme.example", "pipeline")
OPS_PIPELINE = auth(OPERATIONS, "cron@ops.example", "pipeline")
USER = auth("acme", "alice@acme.example", "user")


def contract(customer: str = "PELOTON", external_id: str = "kestra-9") -> dict[str, Any]:
    reporter = PipelineReporter(customer, "crm_sync", execution_date=DAY, external_execution_id=external_id)
    reporter.log_metric("records_processed", 40)
    reporter.log_metric("new", 3)
    return reporter.build().model_dump(mode="json")


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def setup(conn: psycopg.Connection, instance: dg.DagsterInstance) -> None:
    add_customer(conn, instance, "PELOTON", tenant="acme")
    add_customer(conn, instance, "GREYSON", tenant="globex")
    add_pipeline(
        conn, Pipeline("crm_sync", "CRM Sync", "crm_sync", "hubspot", "https://kestra.example.com/e/{id}")
    )


def test_a_pipeline_token_reports_a_run_that_renders_like_any_other(
    api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    setup(conn, instance)
    with api.client() as client:
        answer = client.post("/api/pipeline-runs", json=contract(), headers=PIPELINE)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "accepted" and body["partition_key"] == KEY
        assert body["report"] == f"reporting-assets reports show '{KEY}' --pipeline crm_sync"
        assert body["reports_url"] == f"/api/pipeline-reports?customer=PELOTON&date={DAY}&pipeline=crm_sync"
        with ThreadPoolExecutor(2) as pool:  # the same run, twice at once
            again = list(
                pool.map(
                    lambda _: client.post("/api/pipeline-runs", json=contract(), headers=PIPELINE), range(2)
                )
            )
        assert [r.status_code for r in again] == [202, 202]

        render(instance, KEY)
        (row,) = [r for r in report_rows(conn, [KEY]) if r["pipeline_type"] == "crm_sync"]
        assert row["external_execution_id"] == "kestra-9" and row["source_event"] == "external"
        assert (
            "*External Run: [View Details](https://kestra.example.com/e/kestra-9)*" in row["markdown_content"]
        )
        listed = client.get(body["reports_url"], headers=USER).json()
        assert [r["external_execution_id"] for r in listed["items"]] == ["kestra-9"]

        # a pipeline token may do nothing else
        other = client.get("/api/customers", headers=PIPELINE)
        assert other.status_code == 403 and "may only report runs" in error_of(other)["message"]


def test_wrong_bodies_roles_and_tenants_are_refused(
    api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    setup(conn, instance)
    with api.client() as client:
        typed = client.post(
            "/api/pipeline-runs", json={**contract(), "counts": {"new": "many"}}, headers=PIPELINE
        )
        assert typed.status_code == 422 and error_of(typed)["field"] == "counts.new"
        missing = {k: v for k, v in contract().items() if k != "execution_date"}
        absent = client.post("/api/pipeline-runs", json=missing, headers=PIPELINE)
        assert absent.status_code == 422 and error_of(absent)["field"] == "execution_date"
        hostile = client.post(
            "/api/pipeline-runs", json={**contract(), "customer_key": "PEL\x1b[2J"}, headers=PIPELINE
        )
        assert hostile.status_code == 422 and error_of(hostile)["field"] == "customer_key"
        assert error_of(hostile)["message"] == (
            "Invalid request: customer_key: Value error, The name holds the control character U+001B "
            "(ESCAPE) at position 4; control characters (line breaks, tabs, escape sequences) are not "
            "allowed in names. Remove it and try again."
        )
        broken = client.post(
            "/api/pipeline-runs",
            content=b'{"customer": ',
            headers={**PIPELINE, "Content-Type": "application/json"},
        )
        assert broken.status_code == 422 and "JSON" in error_of(broken)["message"]

        user = client.post("/api/pipeline-runs", json=contract(), headers=USER)
        assert user.status_code == 403 and "role 'pipeline'" in error_of(user)["message"]
        foreign = client.post("/api/pipeline-runs", json=contract("GREYSON"), headers=PIPELINE)
        assert (
            foreign.status_code == 404 and "not registered for tenant 'acme'" in error_of(foreign)["message"]
        )
        unknown = client.post("/api/pipeline-runs", json=contract("PELOTN"), headers=OPS_PIPELINE)
        assert unknown.status_code == 404 and "Did you mean 'PELOTON'?" in error_of(unknown)["message"]
        unregistered = client.post(
            "/api/pipeline-runs", json={**contract(), "pipeline_type": "erp_sync"}, headers=PIPELINE
        )
        assert unregistered.status_code == 422
        assert "`reporting-assets pipelines add erp_sync" in error_of(unregistered)["message"]
        mismatch = client.post(
            f"/api/pipeline-runs?partition=GREYSON|{DAY}", json=contract(), headers=PIPELINE
        )
        assert mismatch.status_code == 422 and "does not match the partition" in error_of(mismatch)["message"]
    assert not instance.fetch_materializations(dg.AssetKey("crm_sync"), limit=1).records


def test_the_curl_example_reports_a_run(
    api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    setup(conn, instance)
    add_pipeline(conn, Pipeline("board_planning", "Board Planning", "board_planning", "monday"))
    token = PIPELINE["Authorization"].removeprefix("Bearer ")
    done = subprocess.run(
        [str(REPO_ROOT / "examples" / "report_run.sh"), "PELOTON", str(DAY), "cron-2025-06-17"],
        env={**os.environ, "API_URL": api.url, "PIPELINE_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "accepted" and answer["external_execution_id"] == "cron-2025-06-17"
    (event,) = instance.fetch_materializations(dg.AssetKey("board_planning"), limit=5).records
    assert event.partition_key == KEY
