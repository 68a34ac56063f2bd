"""The pipeline reports over HTTP, from real runs: customers per tenant (the operations tenant
sees all), a customer's status, stored reports (markdown and HTML), a summary's versions, and
lineage from every figure to its run."""

from __future__ import annotations

import dagster as dg
import httpx
import psycopg
import pytest

from reporting_assets.customers import add_customer
from reporting_assets.errors import CustomerError
from reporting_assets_tests.api.support import OPERATIONS, Served, auth
from reporting_assets_tests.helpers import render, run_sources

DAY = "2025-06-17"
ACME = auth("acme", "alice@acme.example", "user")
GLOBEX = auth("globex", "root@globex.example", "admin")
OPS = auth(OPERATIONS, "oncall@ops.example", "user")


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_pipeline_reports_are_filtered_by_tenant_and_every_figure_leads_to_its_run(
    api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    assert add_customer(conn, instance, "PELOTON", tenant="acme").tenant_set == "acme"
    add_customer(conn, instance, "GREYSON", tenant="globex")
    run_sources(instance, f"PELOTON|{DAY}", only={"order_sync", "manufacturing_sync"})
    render(instance, f"PELOTON|{DAY}")
    late = run_sources(instance, f"PELOTON|{DAY}", only={"shipping_sync"})
    render(instance, f"PELOTON|{DAY}")
    greyson = run_sources(instance, f"GREYSON|{DAY}")
    render(instance, f"GREYSON|{DAY}")

    with api.client() as client:
        assert [c["key"] for c in client.get("/api/customers", headers=ACME).json()] == ["PELOTON"]
        assert [c["key"] for c in client.get("/api/customers", headers=GLOBEX).json()] == ["GREYSON"]
        assert [c["key"] for c in client.get("/api/customers", headers=OPS).json()] == [
            "ACTIVELY BLACK",
            "GREYSON",
            "PELOTON",
        ]

        status = client.get("/api/customers/PELOTON/status", headers=ACME).json()
        assert {p["pipeline_type"]: p["status"] for p in status["pipelines"]} == {
            "manufacturing_sync": "success",
            "order_sync": "success",
            "shipping_sync": "success",
        }
        for path in ("/api/customers/GREYSON/status", "/api/summaries/GREYSON/2025-06-17"):
            hidden = client.get(path, headers=ACME)
            assert hidden.status_code == 404 and "tenant 'acme'" in error_of(hidden)["message"]

        listed = client.get("/api/pipeline-reports?page_size=2", headers=ACME).json()
        assert (listed["total"], listed["page_count"], len(listed["items"])) == (3, 2, 2)
        assert {i["customer_key"] for i in listed["items"]} == {"PELOTON"}
        only = client.get(
            f"/api/pipeline-reports?customer=PELOTON&date={DAY}&pipeline=shipping_sync&status=success",
            headers=ACME,
        ).json()
        [shipping] = only["items"]
        assert shipping["execution_id"] == late.run_id
        none = client.get("/api/pipeline-reports?customer=GREYSON", headers=ACME).json()
        assert none["total"] == 0 and none["items"] == []
        too_far = client.get("/api/pipeline-reports?page=1000000000", headers=ACME)
        assert too_far.status_code == 422 and error_of(too_far)["field"] == "page"

        report = client.get(f"/api/pipeline-reports/{shipping['id']}", headers=ACME).json()
        assert report["markdown"].startswith("#") and "<h1>" in report["html"]
        greyson_ids = [
            i["id"] for i in client.get("/api/pipeline-reports?customer=GREYSON", headers=OPS).json()["items"]
        ]
        assert len(greyson_ids) == 3
        assert client.get(f"/api/pipeline-reports/{greyson_ids[0]}", headers=ACME).status_code == 404
        assert client.get(f"/api/pipeline-reports/{greyson_ids[0]}", headers=GLOBEX).status_code == 200
        assert client.get(f"/api/lineage/figures?report_id={greyson_ids[0]}", headers=ACME).status_code == 404
        assert client.get(f"/api/lineage/runs/{greyson.run_id}", headers=ACME).status_code == 404

        summary = client.get(f"/api/summaries/PELOTON/{DAY}", headers=ACME).json()
        assert (summary["version"], summary["complete"]) == (2, True)
        assert [(v["version"], v["is_complete"]) for v in summary["versions"]] == [(1, False)]
        assert "<table>" in summary["html"] or "<p>" in summary["html"]

        figures = client.get(f"/api/lineage/figures?report_id={shipping['id']}", headers=ACME).json()
        assert figures, "the report has no figures with lineage"
        for figure in figures:
            assert figure["run_id"] == late.run_id and figure["event_storage_id"] is not None
            run = client.get(figure["links"]["run"], headers=ACME).json()
            assert run["run_id"] == late.run_id and run["job_name"] == "sample_pipelines"
            assert (shipping["id"], figure["figure_path"]) in {
                (f["report_id"], f["figure_path"]) for f in run["figures"]
            }
        one = client.get(
            f"/api/lineage/figures?report_id={shipping['id']}&path={figures[0]['figure_path']}", headers=ACME
        ).json()
        assert [f["figure_path"] for f in one] == [figures[0]["figure_path"]]
        missing = client.get(f"/api/lineage/figures?report_id={shipping['id']}&path=nope", headers=ACME)
        assert missing.status_code == 404 and error_of(missing)["field"] == "path"


def test_a_customer_keeps_its_tenant(instance: dg.DagsterInstance, conn: psycopg.Connection) -> None:
    add_customer(conn, instance, "PELOTON", tenant="acme")
    with pytest.raises(CustomerError, match="belongs to tenant 'acme'; nothing was changed"):
        add_customer(conn, instance, "PELOTON", tenant="globex")
    with pytest.raises(CustomerError, match="is not a valid tenant id"):
        add_customer(conn, instance, "GREYSON", tenant="../x")
    row = conn.execute("SELECT tenant_id FROM reporting.customers WHERE partition_key = 'PELOTON'").fetchone()
    assert row == {"tenant_id": "acme"}


def test_a_nul_character_in_a_path_or_query_is_422_not_a_crash(api: Served) -> None:
    with api.client() as client:
        for path in (
            "/api/customers/a%00b/status",
            "/api/lineage/runs/a%00b",
            "/api/summaries/a%00/2025-01-01",
            "/api/pipeline-reports?customer=a%00",
        ):
            response = client.get(path, headers=ACME)
            assert response.status_code == 422, path
            assert (
                "cannot contain NUL (0x00) bytes. Remove it and try again." in error_of(response)["message"]
            )
