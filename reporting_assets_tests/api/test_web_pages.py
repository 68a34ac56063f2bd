"""The web pages over real HTTP (uvicorn, PostgreSQL): sign-in and its cookies, CSRF, and the bad
input every page must survive: markup in names and messages rendered inert, a cron that never
fires, a timezone typo, a query the engine rejects, an expired session, a double submission,
and another tenant's ids in the URL."""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg
import psycopg
import pytest

from reporting_assets.customers import add_customer
from reporting_assets.demo import DEMO_CUSTOMERS, DEMO_END_DATE, register_demo_customers
from reporting_assets_tests.api.browser import csrf_of, signed_in
from reporting_assets_tests.api.support import USAGE_QUERY, Served, create_report, create_schedule, make_token

ACME_ADMIN = make_token("acme", "admin@acme.example", "admin")
GLOBEX_ADMIN = make_token("globex", "root@globex.example", "admin")
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_pages_need_a_session_and_sign_in_sets_strict_http_only_cookies(light_api: Served) -> None:
    with light_api.client(follow_redirects=False) as client:
        first = client.get("/reports")
        assert first.status_code == 303
        assert first.headers["location"].startswith("/sign-in?next=/reports")
        page = client.get("/sign-in")
        assert page.status_code == 200 and "Sign in as local admin" in page.text
        without_csrf = client.post("/sign-in", data={"token": ACME_ADMIN})
        assert without_csrf.status_code == 403 and "security token" in without_csrf.text
        bad = client.post("/sign-in", data={"csrf": csrf_of(client), "token": "not.a.jwt", "next": "/"})
        assert bad.status_code == 401 and "not a JWT" in bad.text
        good = client.post(
            "/sign-in", data={"csrf": csrf_of(client), "token": ACME_ADMIN, "next": "//evil.example/"}
        )
        assert good.status_code == 303 and good.headers["location"] == "/"
        cookie = good.headers["set-cookie"]
        assert "ra_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert client.get("/reports").status_code == 200


def test_dev_sign_in_is_the_local_admin_and_absent_without_dev(light_api: Served, api: Served) -> None:
    with light_api.client(follow_redirects=False) as client:
        client.get("/sign-in")
        response = client.post("/sign-in", data={"csrf": csrf_of(client), "dev": "1", "next": "/reports"})
        assert response.status_code == 303 and response.headers["location"] == "/reports"
        assert "admin@acme.example · acme · admin" in client.get("/reports").text
    with api.client(follow_redirects=False) as client:
        assert "Sign in as local admin" not in client.get("/sign-in").text
        refused = client.post("/sign-in", data={"csrf": csrf_of(client), "dev": "1"})
        assert refused.status_code == 401 and "Paste a token" in refused.text


def test_after_the_demo_the_dev_admin_sees_its_customers_on_the_dashboard(
    light_api: Served, instance: dg.DagsterInstance, conn: psycopg.Connection
) -> None:
    register_demo_customers(conn, instance, DEMO_CUSTOMERS)
    conn.commit()
    with light_api.client() as client:
        client.get("/sign-in")
        client.post("/sign-in", data={"csrf": csrf_of(client), "dev": "1", "next": "/"})
        dashboard = client.get(f"/?date={DEMO_END_DATE}").text
    shown = re.findall(r'data-customer="([^"]+)"', dashboard)
    assert sorted(shown) == sorted(DEMO_CUSTOMERS)


def test_markup_in_report_names_customer_names_values_and_errors_is_inert(
    light_api: Served, conn: psycopg.Connection
) -> None:
    add_customer(conn, None, f"🚀 {SCRIPT} " + "x" * 150, key="HOSTILE", tenant="acme")
    conn.commit()
    headers = {"Authorization": f"Bearer {ACME_ADMIN}"}
    with light_api.client(follow_redirects=False) as api_client:
        report = create_report(api_client, headers, name=f"Usage {SCRIPT}")
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        for path in ("/reports", f"/reports/{report['id']}", "/", "/customers/HOSTILE"):
            html = client.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html, path
            assert "&lt;script&gt;alert(" in html, path
        fields = {
            "csrf": csrf_of(client),
            "name": "bad value",
            "table": "usage_events",
            "col": "usage_events.event_type",
            "filter.0.field": "duration_ms",
            "filter.0.op": "eq",
            "filter.0.value": SCRIPT,
        }
        saved = client.post("/reports", data=fields)
        assert saved.status_code == 422
        assert "expected a whole number" in saved.text and "<script>alert" not in saved.text
        preview = client.post("/reports/preview", data=fields, headers={"Accept": "application/json"}).json()
        [message] = preview["errors"]["filter-0"]
        assert message.startswith("filters[0].value: expected a whole number") and SCRIPT[:20] in message
        assert "<script>alert" not in preview["html"]


def test_a_cron_that_never_fires_and_a_timezone_typo_are_named_with_what_to_do(light_api: Served) -> None:
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        check = client.post(
            "/schedules/check",
            data={
                "csrf": csrf_of(client),
                "cron_expression": "0 0 31 2 *",
                "timezone": "Europe/Berln",
                "recipients": "ok@example.com, not-an-address",
            },
        ).json()
        assert "never fires" in check["errors"]["cron"][0]
        assert "Did you mean Europe/Berlin" in check["errors"]["timezone"][0]
        [recipient] = check["errors"]["recipients"]
        assert recipient.startswith("not-an-address")
        fine = client.post(
            "/schedules/check",
            data={"csrf": csrf_of(client), "cron_expression": "0 9 * * 1", "timezone": "America/New_York"},
        ).json()
        assert fine["errors"] == {}
        assert "At 09:00, only on Monday" in fine["html"]
        assert re.search(r"\d{2}:00 UTC", fine["html"]) and "(UTC-0" in fine["html"]


def test_a_preview_the_engine_rejects_shows_the_problem_next_to_its_control(light_api: Served) -> None:
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        answer = client.post(
            "/reports/preview",
            data={
                "csrf": csrf_of(client),
                "table": "usage_events",
                "col": "usage_events.event_type",
                "agg.0.fn": "sum",
                "agg.0.field": "event_type",
                "filter.0.field": "event_type",
                "filter.0.op": "like",
                "filter.0.value": "ends with a backslash\\",
                "order.0.field": "nope",
            },
            headers={"Accept": "application/json"},
        ).json()
        assert set(answer["errors"]) >= {"agg-0", "filter-0", "order-0"}, answer["errors"]
        assert "escapes nothing" in answer["errors"]["filter-0"][0]
        assert "fix the fields marked" in answer["html"]


def test_an_expired_session_goes_back_to_sign_in_and_scripts_are_told_where(light_api: Served) -> None:
    expired = make_token("acme", "admin@acme.example", "admin", exp=dt.timedelta(minutes=-5))
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        client.cookies.delete("ra_session")
        client.cookies.set("ra_session", expired)
        page = client.get("/reports/new")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/sign-in?next=/reports/new&reason=Your%20session%20ended")
        script = client.post(
            "/reports/preview", data={"csrf": csrf_of(client)}, headers={"Accept": "application/json"}
        )
        assert script.status_code == 401 and script.json()["error"]["sign_in"].startswith("/sign-in?next=")


def test_a_double_submitted_download_or_run_now_makes_one_export(
    light_api: Served, conn: psycopg.Connection
) -> None:
    headers = {"Authorization": f"Bearer {ACME_ADMIN}"}
    with light_api.client() as api_client:
        report = create_report(api_client, headers)
        schedule = create_schedule(api_client, headers, report["id"], recipients=["a@example.com"])
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        form = {"csrf": csrf_of(client), "format": "pdf", "nonce": "n-1"}
        first = client.post(f"/reports/{report['id']}/download", data=form).json()
        second = client.post(f"/reports/{report['id']}/download", data=form).json()
        assert first["export_id"] == second["export_id"]
        runs = {
            client.post(
                f"/schedules/{schedule['id']}/run", data={"csrf": csrf_of(client), "nonce": "r-1"}
            ).json()["export_id"]
            for _ in range(2)
        }
        assert len(runs) == 1
        status = client.get(f"/exports/{first['export_id']}/status").json()
        assert status["status"] == "pending"
    counts = conn.execute(
        "SELECT count(*) FILTER (WHERE schedule_id IS NULL) AS downloads, count(schedule_id) AS runs "
        "FROM reporting.exports WHERE report_id = %s",
        (report["id"],),
    ).fetchone()
    assert (counts["downloads"], counts["runs"]) == (1, 1)


def test_another_tenants_ids_in_the_url_are_a_404_page(light_api: Served, conn: psycopg.Connection) -> None:
    add_customer(conn, None, "GLOBEX CO", tenant="globex")
    conn.commit()
    headers = {"Authorization": f"Bearer {GLOBEX_ADMIN}"}
    with light_api.client() as api_client:
        report = create_report(api_client, headers, query_config={**USAGE_QUERY})
        schedule = create_schedule(
            api_client, headers, report["id"], name="Theirs", recipients=["g@example.com"]
        )
        export = api_client.post(
            "/api/reports/exports", json={"report_id": report["id"], "format": "csv"}, headers=headers
        ).json()
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        for path in (
            f"/reports/{report['id']}",
            f"/reports/{report['id']}/edit",
            f"/schedules/{schedule['id']}",
            f"/exports/{export['id']}",
            f"/exports/{export['id']}/download",
            "/customers/GLOBEX CO",
            "/reports/not-an-id",
            "/pipeline-reports/999999999",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("text/html") and "Not found" in response.text
        deleted = client.post(f"/reports/{report['id']}/delete", data={"csrf": csrf_of(client)})
        assert deleted.status_code == 404
    assert (
        conn.execute("SELECT count(*) AS n FROM reporting.reports WHERE id = %s", (report["id"],)).fetchone()[
            "n"
        ]
        == 1
    )


@pytest.mark.parametrize("path", ["/reports/x/delete", "/schedules/x/run", "/exports/x/retry"])
def test_changes_without_the_csrf_token_are_refused(light_api: Served, path: str) -> None:
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        response = client.post(path, data={"csrf": "forged"})
        assert response.status_code == 403 and "security token does not match" in response.text


def test_a_report_and_its_schedule_are_edited_paused_and_deleted_then_sign_out_ends_the_session(
    light_api: Served, conn: psycopg.Connection
) -> None:
    with signed_in(light_api.client(follow_redirects=False), ACME_ADMIN) as client:
        built = {
            "csrf": csrf_of(client),
            "name": "Events by type",
            "table": "usage_events",
            "col": "usage_events.event_type",
            "agg.0.fn": "count",
            "agg.0.field": "*",
            "agg.0.as": "events",
            "row_limit": "50",
        }
        created = client.post("/reports", data=built)
        assert created.status_code == 303 and created.headers["location"].endswith("?saved=1")
        report_path = created.headers["location"].split("?")[0]
        report_id = report_path.rsplit("/", 1)[1]
        edit = client.get(f"{report_path}/edit")
        assert edit.status_code == 200 and 'value="Events by type"' in edit.text
        updated = client.post(report_path, data={**built, "name": "Events per type", "is_public": "1"})
        assert updated.status_code == 303
        page = client.get(report_path).text
        assert "Events per type" in page and ">public<" in page and "row limit 50" in page

        schedule_form = {
            "csrf": csrf_of(client),
            "report_id": report_id,
            "name": "Mondays",
            "cron_expression": "0 9 * * 1",
            "timezone": "Europe/Berlin",
            "format": "xlsx",
            "delivery_method": "email",
            "recipients": "team@acme.example",
            "is_active": "1",
        }
        scheduled = client.post("/schedules", data=schedule_form)
        assert scheduled.status_code == 303
        schedule_path = scheduled.headers["location"].split("?")[0]
        schedule_id = schedule_path.rsplit("/", 1)[1]
        changed = client.post(schedule_path, data={**schedule_form, "cron_expression": "30 7 * * *"})
        assert changed.status_code == 303
        assert "At 07:30" in client.get(schedule_path).text
        client.post(f"{schedule_path}/toggle", data={"csrf": csrf_of(client)})
        row = conn.execute(
            "SELECT cron_expression, is_active FROM reporting.schedules WHERE id = %s", (schedule_id,)
        ).fetchone()
        assert (row["cron_expression"], row["is_active"]) == ("30 7 * * *", False)
        assert "Paused: resume" in client.get("/schedules").text

        assert client.post(f"{schedule_path}/delete", data={"csrf": csrf_of(client)}).status_code == 303
        assert client.get(schedule_path).status_code == 404
        deleted = client.post(f"{report_path}/delete", data={"csrf": csrf_of(client)})
        assert deleted.status_code == 303 and deleted.headers["location"] == "/reports?deleted=1"
        assert client.get(report_path).status_code == 404
        assert "No reports yet" in client.get("/reports").text
        assert client.post("/sign-out", data={"csrf": csrf_of(client)}).status_code == 303
        assert client.get("/reports").headers["location"].startswith("/sign-in")
