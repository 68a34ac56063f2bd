"""GET /api/error-patterns over the real server: a tenant sees its customers' patterns only (their
counts, customers and examples), the operations tenant all; day and flagged filters, paging and
bad input."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg

from reporting_assets.customers import add_customer
from reporting_assets.error_patterns.assets import error_patterns
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets_tests.api.support import OPERATIONS, Served, auth
from reporting_assets_tests.helpers import QUIET
from reporting_assets_tests.support.error_reports import ErrorReport, insert_error_reports

DAY = dt.date(2025, 6, 17)
BEFORE = DAY - dt.timedelta(days=1)
ACME = auth("acme", "alice@acme.example", "user")
GLOBEX = auth("globex", "root@globex.example", "admin")
OPS = auth(OPERATIONS, "oncall@ops.example", "user")


def _materialize(instance: dg.DagsterInstance, day: dt.date) -> None:
    assert dg.materialize(
        [error_patterns],
        instance=instance,
        partition_key=day.isoformat(),
        run_config=QUIET,
        resources={"postgres": PostgresResource(), "report_settings": ReportSettingsResource()},
    ).success


def test_error_patterns_are_scoped_to_the_callers_customers_and_filtered(
    light_api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    add_customer(conn, instance, "PELOTON", tenant="acme")
    add_customer(conn, instance, "GREYSON", tenant="globex")
    insert_error_reports(
        conn,
        [
            # 7 the day before: a 7-day average of 1, so 3 the next day is not "growing"
            ErrorReport("PELOTON", BEFORE, "run-p0", errors=[f"Timeout after {n} s" for n in range(7)]),
            ErrorReport("PELOTON", DAY, "run-p1", errors=["Timeout after 31 s", "Timeout after 32 s"]),
            ErrorReport(
                "GREYSON", DAY, "run-g1", errors=["Timeout after 9 s", "Secret 'globex-only' failed"]
            ),
            ErrorReport(
                "GREYSON", DAY, "run-g2", warnings=["Zeile 5 fehlt 🚚"], pipeline_type="shipping_sync"
            ),
        ],
    )
    _materialize(instance, BEFORE)
    _materialize(instance, DAY)

    with light_api.client() as client:
        everything = client.get("/api/error-patterns", headers=OPS)
        assert everything.status_code == 200, everything.text
        body = everything.json()
        assert (body["day"], body["total"], body["flagged_total"]) == ("2025-06-17", 3, 2)
        by_fingerprint = {p["fingerprint"]: p for p in body["items"]}
        timeout = by_fingerprint["Timeout after <n> s"]
        assert (timeout["occurrences"], timeout["customers"], timeout["flag"]) == (
            3,
            ["GREYSON", "PELOTON"],
            None,
        )
        assert timeout["first_seen"] == "2025-06-16" and timeout["last_seen"] == "2025-06-17"
        assert by_fingerprint["Zeile <n> fehlt 🚚"]["example_message"] == "Zeile 5 fehlt 🚚"
        assert body["items"][-1]["fingerprint"] == "Timeout after <n> s"  # flagged first

        acme = client.get("/api/error-patterns", headers=ACME).json()
        assert [(p["fingerprint"], p["occurrences"], p["customers"]) for p in acme["items"]] == [
            ("Timeout after <n> s", 2, ["PELOTON"])
        ]
        (own,) = acme["items"]
        # one report, two lines of the pattern: its first message, the same on every run
        assert (own["latest_run_id"], own["example_message"]) == ("run-p1", "Timeout after 31 s")
        assert own["links"]["run"] == "/api/lineage/runs/run-p1"
        assert client.get(own["links"]["report"], headers=ACME).status_code == 200
        assert "globex-only" not in client.get("/api/error-patterns?day=2025-06-17", headers=ACME).text

        flagged = client.get("/api/error-patterns?flagged=true", headers=GLOBEX).json()
        assert [p["flag"] for p in flagged["items"]] == ["new", "new"] and flagged["flagged_only"] is True
        assert {p["fingerprint"] for p in flagged["items"]} == {
            "Secret '<value>' failed",
            "Zeile <n> fehlt 🚚",
        }

        before = client.get("/api/error-patterns?day=2025-06-16", headers=OPS).json()
        assert [(p["flag"], p["occurrences"]) for p in before["items"]] == [("new", 7)]
        empty = client.get("/api/error-patterns?day=2025-01-02", headers=OPS).json()
        assert (empty["items"], empty["total"], empty["page_count"]) == ([], 0, 1)

        paged = client.get("/api/error-patterns?page_size=2&page=2", headers=OPS).json()
        assert (len(paged["items"]), paged["page_count"]) == (1, 2)
        past = client.get("/api/error-patterns?page_size=2&page=3", headers=OPS)
        assert past.status_code == 422 and "past the last page (2)" in past.json()["error"]["message"]

        for bad in ("day=2025-13-01", "day=yesterday", "flagged=maybe", "page=0", "page_size=100000"):
            response = client.get(f"/api/error-patterns?{bad}", headers=OPS)
            assert response.status_code == 422, bad
            assert set(response.json()) == {"error"}
        assert client.get("/api/error-patterns").status_code == 401


def test_no_patterns_yet(light_api: Served, instance: dg.DagsterInstance, customers: list[str]) -> None:
    with light_api.client() as client:
        body = client.get("/api/error-patterns", headers=OPS).json()
    assert (body["day"], body["items"], body["total"]) == (None, [], 0)
