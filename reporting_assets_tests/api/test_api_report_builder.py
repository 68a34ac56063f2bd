"""The report builder over HTTP (a real uvicorn, real PostgreSQL): reports, previews, schedules,
validation, tables; tenant isolation and roles on every path; hostile input."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from reporting_assets_tests.api.support import (
    ADMIN,
    ALICE,
    BOB,
    GLOBEX,
    USAGE_QUERY,
    Served,
    create_report,
    create_schedule,
)


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_reports_crud_preview_tables_and_validation(api: Served) -> None:
    with api.client() as client:
        report = create_report(client, ALICE, name="Events per day", is_public=True)
        assert report["created_by"] == "alice@acme.example" and report["tenant_id"] == "acme"
        listed = client.get("/api/reports", headers=BOB).json()
        assert [r["id"] for r in listed] == [report["id"]]  # public: bob sees it
        changed = client.put(f"/api/reports/{report['id']}", json={"row_limit": 20}, headers=ALICE)
        assert changed.status_code == 200 and changed.json()["row_limit"] == 20

        preview = client.get(f"/api/reports/{report['id']}/preview?page=2&page_size=7", headers=ALICE).json()
        assert (preview["total"], preview["page"], preview["page_size"], preview["page_count"]) == (
            20,
            2,
            7,
            3,
        )
        assert len(preview["rows"]) == 7
        assert [c["name"] for c in preview["columns"]] == ["date", "total_events", "event_type"]

        tables = client.get("/api/reports/tables", headers=ALICE).json()
        assert {t["name"] for t in tables} == {"usage_events", "user_sessions", "device_metrics"}
        valid = client.post("/api/reports/validate-query", json={"query_config": USAGE_QUERY}, headers=ALICE)
        assert valid.status_code == 200 and valid.json()["valid"] is True
        bad = client.post(
            "/api/reports/validate-query",
            json={"query_config": {"table": "usage_events", "fields": ["properties"]}},
            headers=ALICE,
        )
        assert bad.status_code == 422
        assert error_of(bad)["field"] == "query_config.fields[0]"
        assert "unknown field 'properties' in table usage_events" in error_of(bad)["message"]

        assert client.delete(f"/api/reports/{report['id']}", headers=ALICE).status_code == 204
        gone = client.get(f"/api/reports/{report['id']}", headers=ALICE)
        assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"


def test_fixed_paths_are_not_read_as_report_ids(api: Served) -> None:
    with api.client() as client:
        create_report(client, ADMIN)
        schedules = client.get("/api/reports/schedules", headers=ADMIN)
        exports = client.get("/api/reports/exports", headers=ADMIN)
        tables = client.get("/api/reports/tables", headers=ADMIN)
    assert schedules.status_code == exports.status_code == tables.status_code == 200
    assert schedules.json() == [] and exports.json() == []
    assert isinstance(tables.json(), list)


def test_schedules_show_their_next_five_runs_in_their_zone_and_utc(api: Served) -> None:
    with api.client() as client:
        report = create_report(client, ALICE)
        schedule = create_schedule(client, ALICE, report["id"], timezone="America/New_York", format="pdf")
        runs = schedule["next_runs"]
        assert len(runs) == 5
        for run in runs:
            local = dt.datetime.fromisoformat(run["local"])
            utc = dt.datetime.fromisoformat(run["utc"])
            assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
            assert local == utc and utc.utcoffset() == dt.timedelta(0)
            assert utc.hour == (14 if local.utcoffset() == dt.timedelta(hours=-5) else 13)
        paused = client.patch(f"/api/reports/schedules/{schedule['id']}/toggle", headers=ALICE)
        assert paused.status_code == 200 and paused.json()["is_active"] is False
        resumed = client.patch(
            f"/api/reports/schedules/{schedule['id']}/toggle", json={"is_active": True}, headers=ALICE
        )
        assert resumed.json()["is_active"] is True
        renamed = client.put(
            f"/api/reports/schedules/{schedule['id']}", json={"name": "Mondays"}, headers=ALICE
        )
        assert renamed.json()["name"] == "Mondays"
        assert [s["id"] for s in client.get("/api/reports/schedules", headers=ALICE).json()] == [
            schedule["id"]
        ]
        assert client.get("/api/reports/schedules", headers=BOB).json() == []
        assert client.delete(f"/api/reports/schedules/{schedule['id']}", headers=ALICE).status_code == 204


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"cron_expression": "61 9 * * 1"}, "cron_expression", "is not a valid cron expression"),
        ({"cron_expression": "* * * * *"}, "cron_expression", "exports may run at most every 5 minutes"),
        ({"cron_expression": "0 0 31 2 *"}, "cron_expression", "never fires"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Mars/Olympus_Mons"),
        ({"timezone": "../../etc/localtime"}, "timezone", "etc/localtime"),
    ],
)
def test_invalid_cron_and_timezone_are_422_naming_the_field(
    api: Served, change: dict[str, str], field: str, expected: str
) -> None:
    values: dict[str, Any] = {
        "name": "Bad",
        "cron_expression": "0 9 * * 1",
        "timezone": "UTC",
        "format": "csv",
        "delivery_method": "email",
        "recipients": ["ops@acme.example"],
        **change,
    }
    with api.client() as client:
        report = create_report(client, ALICE)
        response = client.post(
            "/api/reports/schedules", json={"report_id": report["id"], **values}, headers=ALICE
        )
        listed = client.get("/api/reports/schedules", headers=ALICE).json()
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["field"] == field and expected in error["message"]
    assert listed == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"table": "usage_events; DROP TABLE analytics.usage_events; --"}, "query_config.table"),
        ({"table": "usage_events", "fields": ['event_type" FROM pg_user --']}, "query_config.fields[0]"),
        (
            {"table": "usage_events", "fields": [{"field": "timestamp", "bucket": "day') --", "as": "d"}]},
            None,
        ),
        ({"table": "usage_events", "fields": [{"aggregate": "count", "as": 'n"; DROP TABLE x; --'}]}, None),
        (
            {"table": "usage_events", "filters": [{"field": "event_type", "op": "eq; --", "value": "x"}]},
            "query_config.filters[0].op",
        ),
        (
            {"table": "usage_events", "filters": [{"field": "1=1 OR tenant_id", "op": "eq", "value": "x"}]},
            "query_config.filters[0]",
        ),
        ({"table": "usage_events", "order_by": [{"field": "event_type", "direction": "desc; DROP"}]}, None),
        ({"table": "usage_events", "group_by": ["event_type; DROP TABLE x"]}, None),
        ({"table": "usage_events", "timezone": "UTC'; DROP TABLE x; --"}, "query_config.timezone"),
        ({"table": "usage_events", "limit": "1; DROP TABLE x"}, "query_config.limit"),
        (
            {"table": "usage_events", "filters": [{"field": "tenant_id", "op": "eq", "value": "globex"}]},
            "query_config.filters[0]",
        ),
    ],
)
def test_sql_injection_in_every_query_field_is_refused_over_http(
    api: Served, analytics: str, query: dict[str, Any], field: str | None
) -> None:
    with psycopg.connect(analytics) as conn:
        before = conn.execute("SELECT count(*) FROM analytics.usage_events").fetchone()
    with api.client() as client:
        created = client.post("/api/reports", json={"name": "x", "query_config": query}, headers=ALICE)
        checked = client.post("/api/reports/validate-query", json={"query_config": query}, headers=ALICE)
        listed = client.get("/api/reports", headers=ALICE).json()
    for response in (created, checked):
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["code"] == "invalid_query"
        assert error["message"].startswith("Invalid query")
        if field is not None:
            assert error["field"].startswith(field), error
    assert listed == []
    with psycopg.connect(analytics) as conn:
        assert conn.execute("SELECT count(*) FROM analytics.usage_events").fetchone() == before


def test_bad_pages_are_422_naming_the_parameter(api: Served) -> None:
    with api.client() as client:
        report = create_report(client, ALICE)
        base = f"/api/reports/{report['id']}/preview"
        far = client.get(f"{base}?page={10**9}&page_size=50", headers=ALICE)
        negative = client.get(f"{base}?page=-1", headers=ALICE)
        zero = client.get(f"{base}?page_size=0", headers=ALICE)
        huge = client.get(f"{base}?page_size=501", headers=ALICE)
        words = client.get(f"{base}?page=two", headers=ALICE)
    assert far.status_code == 422 and "past the last page" in error_of(far)["message"]
    assert error_of(far)["field"] == "page"
    assert negative.status_code == 422 and error_of(negative)["field"] == "page"
    assert zero.status_code == 422 and error_of(zero)["field"] == "page_size"
    assert huge.status_code == 422 and "less than or equal to 500" in error_of(huge)["message"]
    assert words.status_code == 422 and error_of(words)["field"] == "page"


def test_a_user_changing_another_users_report_is_403_and_a_private_one_is_404(api: Served) -> None:
    with api.client() as client:
        public = create_report(client, ALICE, is_public=True)
        private = create_report(client, ALICE)
        change = client.put(f"/api/reports/{public['id']}", json={"name": "Mine now"}, headers=BOB)
        delete = client.delete(f"/api/reports/{public['id']}", headers=BOB)
        hidden = client.get(f"/api/reports/{private['id']}", headers=BOB)
        admin = client.put(f"/api/reports/{public['id']}", json={"name": "Renamed by admin"}, headers=ADMIN)
    assert change.status_code == delete.status_code == 403
    assert "only its owner or an admin" in error_of(change)["message"]
    assert hidden.status_code == 404
    assert admin.status_code == 200 and admin.json()["name"] == "Renamed by admin"


def test_another_tenants_ids_are_404_in_every_path(api: Served, analytics: str) -> None:
    with api.client() as client:
        report = create_report(client, ADMIN, is_public=True)
        schedule = create_schedule(client, ADMIN, report["id"])
        with psycopg.connect(analytics) as conn:  # an export row of acme, without running it
            export_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO reporting.exports (id, report_id, tenant_id, initiated_by, format, status, "
                "error_message, as_of) "
                "VALUES (%s, %s, 'acme', 'admin@acme.example', 'csv', 'failed', 'x', now())",
                (export_id, report["id"]),
            )
        rid, sid, eid = report["id"], schedule["id"], export_id
        calls = [
            ("GET", f"/api/reports/{rid}", None),
            ("PUT", f"/api/reports/{rid}", {"name": "x"}),
            ("DELETE", f"/api/reports/{rid}", None),
            ("GET", f"/api/reports/{rid}/preview", None),
            ("GET", f"/api/reports/schedules/{sid}", None),
            ("PUT", f"/api/reports/schedules/{sid}", {"name": "x"}),
            ("DELETE", f"/api/reports/schedules/{sid}", None),
            ("POST", f"/api/reports/schedules/{sid}/run", None),
            ("PATCH", f"/api/reports/schedules/{sid}/toggle", None),
            ("GET", f"/api/reports/exports/{eid}", None),
            ("DELETE", f"/api/reports/exports/{eid}", None),
            ("GET", f"/api/reports/exports/{eid}/download", None),
            ("POST", f"/api/reports/exports/{eid}/retry", None),
            ("POST", "/api/reports/exports", {"report_id": rid, "format": "csv"}),
            (
                "POST",
                "/api/reports/schedules",
                {
                    "report_id": rid,
                    "name": "x",
                    "cron_expression": "0 9 * * 1",
                    "format": "csv",
                    "delivery_method": "email",
                    "recipients": ["a@globex.example"],
                },
            ),
        ]
        for method, path, payload in calls:
            response = client.request(method, path, json=payload, headers=GLOBEX)
            assert response.status_code == 404, (method, path, response.text)
            assert error_of(response)["code"] == "not_found"
            assert "globex" in error_of(response)["message"]
        # everything of acme is still there and unchanged
        assert client.get(f"/api/reports/{rid}", headers=ADMIN).json()["name"] == report["name"]
        assert client.get(f"/api/reports/schedules/{sid}", headers=ADMIN).json()["is_active"] is True
        assert client.get(f"/api/reports/exports/{eid}", headers=ADMIN).json()["status"] == "failed"
        assert client.get("/api/reports/exports", headers=GLOBEX).json() == []


def test_path_traversal_in_ids_is_404(api: Served) -> None:
    with api.client() as client:
        for path in (
            "/api/reports/..%2F..%2Fetc%2Fpasswd",
            "/api/reports/exports/..%2F..%2Fetc%2Fpasswd/download",
            "/api/reports/exports/%2e%2e/download",
        ):
            response = client.get(path, headers=ALICE)
            assert response.status_code == 404, path
            assert set(response.json()) == {"error"}
