"""The web pages in a real browser (Playwright driving the system Chromium) against the app on a
real uvicorn: a report built from scratch, previewed, saved, scheduled weekly as PDF by email,
run now, downloaded and delivered once; the dashboard after pipeline runs with a failure; a
session that expires in the middle of editing. Each page is saved as a screenshot."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from pypdf import PdfReader

from reporting_assets.customers import add_customer
from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
from reporting_assets_tests.api.browser import DESKTOP, PHONE, sign_in_page, unlabelled_controls
from reporting_assets_tests.api.support import (
    OPERATIONS,
    WAIT_SECONDS,
    Served,
    create_report,
    create_schedule,
    make_token,
)
from reporting_assets_tests.helpers import render, run_sources
from reporting_assets_tests.support.servers import Handler

RECIPIENT = "analyst@webflow.example"
FAILED_DAY = "2025-06-15"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_build_preview_save_schedule_run_download_and_deliver_the_usage_summary(
    api: Served, page: Any, mailbox: Handler, conn: psycopg.Connection, screenshots: Path, tmp_path: Path
) -> None:
    generate_sample_data(
        conn, SampleSpec(end=dt.datetime.now(dt.UTC).date(), tenants=("webflow",), days=10, events_per_day=60)
    )
    sign_in_page(page, api.url, make_token("webflow", "lead@webflow.example", "admin"))

    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_text("No reports yet").wait_for()
    page.get_by_role("link", name="build one").click()
    page.get_by_label("Report name").fill("Usage Summary")
    page.locator("#col-usage_events-timestamp").check()
    page.locator("#bucket-col-usage_events-timestamp").select_option("day")
    page.locator("#as-col-usage_events-timestamp").fill("date")
    page.locator("#col-usage_events-event_type").check()
    page.locator("#col-usage_events-tenant_id").check()
    for i, (fn, field, alias) in enumerate(
        [
            ("count", "*", "total_events"),
            ("count_distinct", "user_id", "unique_users"),
            ("count_distinct", "device_id", "unique_devices"),
        ]
    ):
        if i:
            page.get_by_role("button", name="Add an aggregate").click()
        page.locator(f"#agg-{i}-fn").select_option(fn)
        page.locator(f"#agg-{i}-field").select_option(field)
        page.locator(f"#agg-{i}-as").fill(alias)
    page.locator("#filter-0-field").select_option("timestamp")
    page.locator("#filter-0-op").select_option("last")
    page.locator("#filter-0-amount").fill("7")
    page.locator("#filter-0-unit").select_option("days")
    page.locator("#order-0-field").fill("date")
    page.locator("#order-0-dir").select_option("desc")
    page.get_by_role("button", name="Add an order").click()
    page.locator("#order-1-field").fill("event_type")
    page.get_by_label("Row limit").fill("1000")
    page.get_by_label("Show as").select_option("bar")
    page.get_by_label("x (column)").fill("date")
    page.get_by_label("y (numeric column)").fill("total_events")
    page.get_by_label("Title").fill("Events per day")
    page.get_by_label("Public: everyone").check()
    page.locator("#preview table.preview").wait_for()
    page.locator("#preview svg.chart").wait_for()
    headers = page.locator("#preview table.preview th").all_inner_texts()
    assert headers == ["date", "tenant_id", "event_type", "total_events", "unique_users", "unique_devices"]
    assert "page 1 of" in page.locator("#preview-count").inner_text()
    assert unlabelled_controls(page) == []
    shot(page, screenshots, "builder")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, screenshots, "builder-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Save report").click()
    page.get_by_text("Saved.").wait_for()
    shot(page, screenshots, "report")

    page.get_by_role("link", name="Schedule it", exact=True).click()
    page.get_by_label("Schedule name").fill("Weekly Usage Summary Email")
    page.get_by_label("Cron expression").fill("0 9 * * 1")
    page.get_by_label("Timezone").fill("America/New_York")
    page.get_by_text("At 09:00, only on Monday").wait_for()
    page.locator("#timing td", has_text=re.compile(r"09:00 E[SD]T \(UTC-0[45]:00\)")).first.wait_for()
    page.get_by_label("Format").select_option("pdf")
    page.get_by_label("Delivery").select_option("email")
    page.get_by_label("Recipients").fill(RECIPIENT)
    assert unlabelled_controls(page) == []
    shot(page, screenshots, "schedule")
    page.get_by_role("button", name="Save schedule").click()
    page.get_by_text("Saved.").wait_for()
    page.get_by_role("button", name="Run now").dblclick()
    page.locator("form[data-run-now] .progress[data-status=completed]").wait_for(timeout=WAIT_SECONDS * 1000)

    page.get_by_role("link", name="Exports", exact=True).click()
    rows = page.locator("table.exports tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-status") == "completed"
    shot(page, screenshots, "exports")
    rows.first.get_by_role("link").first.click()
    delivery = page.locator(f'tr[data-recipient="{RECIPIENT}"]')
    assert delivery.get_attribute("data-status") == "sent"
    shot(page, screenshots, "export")

    page.get_by_role("link", name="Usage Summary").click()
    with page.expect_download(timeout=WAIT_SECONDS * 1000) as download:
        page.get_by_role("button", name="Download Report").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("usage-summary-") and path.suffix == ".pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert "Usage Summary" in text and "Events per day" in text

    [email] = mailbox.to(RECIPIENT)
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"


def test_the_dashboard_shows_a_failed_run_as_failed_and_figures_lead_to_their_run(
    light_api: Served, page: Any, instance: dg.DagsterInstance, conn: psycopg.Connection, screenshots: Path
) -> None:
    add_customer(conn, instance, "PELOTON", tenant="acme")
    add_customer(
        conn, instance, "🧵 " + "Very Long Customer Name " * 10 + "<b>bold</b>", key="LONG", tenant="acme"
    )
    conn.commit()
    failed = run_sources(instance, f"PELOTON|{FAILED_DAY}", ops={"shipping_sync": {"simulate": "failure"}})
    render(instance, f"PELOTON|{FAILED_DAY}", raise_on_error=False)
    sign_in_page(page, light_api.url, make_token(OPERATIONS, "oncall@ops.example", "user"))

    page.goto(f"{light_api.url}/?date={FAILED_DAY}")
    peloton = page.locator('li[data-customer="PELOTON"]')
    assert peloton.locator('tr[data-pipeline="shipping_sync"]').get_attribute("data-status") == "failed"
    assert peloton.locator('tr[data-pipeline="order_sync"]').get_attribute("data-status") == "success"
    assert "failed" in (peloton.get_attribute("class") or "")
    assert unlabelled_controls(page) == []
    shot(page, screenshots, "dashboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, screenshots, "dashboard-phone")
    page.set_viewport_size(DESKTOP)

    peloton.locator('tr[data-pipeline="order_sync"] a').click()
    figure_run = page.locator("table.figures a.figure-run").first
    assert figure_run.get_attribute("href") == f"/runs/{failed.run_id}"
    assert (page.locator("#dagster-run").get_attribute("href") or "").endswith(f"/runs/{failed.run_id}")
    assert page.locator("article.markdown h1").count() == 1
    shot(page, screenshots, "pipeline-report")
    figure_run.click()
    page.get_by_role("heading", name=f"Run {failed.run_id}").wait_for()
    shot(page, screenshots, "run")

    page.get_by_role("link", name="PELOTON").first.click()
    assert page.locator("ul.reports-of-day li").count() == 3
    shot(page, screenshots, "customer")
    page.goto(f"{light_api.url}/customers/LONG")
    assert page.locator("h1").inner_text().endswith("Very Long Customer Name <b>bold</b>")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, screenshots, "customer-phone")


def test_an_expired_session_while_editing_signs_in_again_and_keeps_the_form(
    light_api: Served, page: Any, screenshots: Path
) -> None:
    token = make_token("acme", "carol@acme.example", "user")
    sign_in_page(page, light_api.url, token)
    page.goto(f"{light_api.url}/reports/new")
    page.get_by_label("Report name").fill("Draft that must survive")
    page.locator("#col-usage_events-event_type").check()
    page.locator("#preview table.preview").wait_for()
    expired = make_token("acme", "carol@acme.example", "user", exp=dt.timedelta(minutes=-5))
    page.context.add_cookies([{"name": "ra_session", "value": expired, "url": light_api.url}])
    page.locator("#col-usage_events-country").check()
    page.wait_for_url("**/sign-in?**")
    assert "Your session ended" in page.locator("main").inner_text()
    shot(page, screenshots, "sign-in")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{light_api.url}/reports/new")
    page.locator("#draft-note").wait_for()
    assert page.get_by_label("Report name").input_value() == "Draft that must survive"
    assert page.locator("#col-usage_events-country").is_checked()


def test_a_failed_delivery_shows_its_error_and_retry_sends_only_to_that_recipient(
    api: Served, page: Any, mailbox: Handler, screenshots: Path
) -> None:
    fine, busy = "fine@retry.example", "busy@retry.example"
    token = make_token("acme", "admin@acme.example", "admin")
    with api.client() as client:
        report = create_report(client, {"Authorization": f"Bearer {token}"}, name="Retried report")
        schedule = create_schedule(
            client,
            {"Authorization": f"Bearer {token}"},
            report["id"],
            name="Two recipients",
            cron_expression="0 6 * * *",
            recipients=[fine, busy],
        )
    sign_in_page(page, api.url, token)
    mailbox.reject[busy] = "450 Mailbox busy, try later"
    try:
        page.goto(f"{api.url}/schedules/{schedule['id']}")
        page.get_by_role("button", name="Run now").click()
        page.locator("form[data-run-now] .progress[data-status=failed]").wait_for(timeout=WAIT_SECONDS * 1000)
        page.goto(f"{api.url}/exports")
        page.locator("table.exports tbody tr[data-status=failed] a").first.click()
        assert page.locator(f'tr[data-recipient="{fine}"]').get_attribute("data-status") == "sent"
        failed = page.locator(f'tr[data-recipient="{busy}"]')
        assert failed.get_attribute("data-status") == "failed"
        assert "Mailbox busy" in failed.locator("td.error-text").inner_text()
        attempts_before = int(failed.locator("td").nth(3).inner_text())
        shot(page, screenshots, "export-failed")
    finally:
        mailbox.reject.pop(busy, None)
    page.get_by_role("button", name="Retry").dblclick()
    page.locator("form[data-retry] .progress[data-status=completed]").wait_for(timeout=WAIT_SECONDS * 1000)
    page.reload()
    assert page.locator(f'tr[data-recipient="{busy}"]').get_attribute("data-status") == "sent"
    assert int(page.locator(f'tr[data-recipient="{busy}"] td').nth(3).inner_text()) == attempts_before + 1
    assert page.locator(f'tr[data-recipient="{fine}"] td').nth(3).inner_text() == "1"
    assert (len(mailbox.to(fine)), len(mailbox.to(busy))) == (1, 1)
