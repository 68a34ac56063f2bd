"""Exports over HTTP, each run as a real Dagster run: submitted by the API to the session's
PostgreSQL-backed instance, launched by its run launcher through a code server subprocess, and
polled over HTTP until the run finished it. Email through a real SMTP server, S3 through moto."""

from __future__ import annotations

import datetime as dt
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from pypdf import PdfReader

from reporting_assets.db.connection import connect
from reporting_assets.exports.maintenance import cleanup_expired
from reporting_assets.exports.settings import ExportSettings
from reporting_assets_tests.api.support import (
    ADMIN,
    ALICE,
    WAIT_SECONDS,
    Served,
    create_report,
    create_schedule,
    wait_for_export,
)
from reporting_assets_tests.support.servers import Handler


def _run_of(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    run = instance.get_run_by_id(run_id)
    assert run is not None, f"no Dagster run {run_id}"
    return run


def _finished_run(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    """The run once it ended (its export is finished before the run's asset checks are)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (run := _run_of(instance, run_id)).is_finished:
        assert time.monotonic() < deadline, f"run {run_id} still {run.status} after {WAIT_SECONDS} s"
        time.sleep(0.5)
    return run


def test_the_whole_flow_over_http_emails_the_pdf_once(
    api: Served, instance: dg.DagsterInstance, mailbox: Handler
) -> None:
    mailbox.messages.clear()
    with api.client() as client:
        report = create_report(
            client,
            ALICE,
            name="Usage Summary",
            row_limit=30,
            visualization_config={"type": "bar", "x": "date", "y": "total_events"},
        )
        preview = client.get(f"/api/reports/{report['id']}/preview?page=1&page_size=10", headers=ALICE).json()
        assert preview["total"] == 30 and preview["page_count"] == 3
        schedule = create_schedule(
            client, ALICE, report["id"], name="Weekly PDF", timezone="America/New_York", format="pdf"
        )
        started = client.post(f"/api/reports/schedules/{schedule['id']}/run", headers=ALICE)
        assert started.status_code == 202, started.text
        body = started.json()
        assert started.headers["Location"] == f"/api/reports/exports/{body['id']}"
        assert body["status"] == "pending" and body["run_id"], body
        run = _run_of(instance, body["run_id"])
        assert run.job_name == "scheduled_exports_job"
        assert run.tags["reporting/export_id"] == body["id"]

        done = wait_for_export(client, body["id"], ALICE)
        assert done["status"] == "completed", done["error_message"]
        assert done["row_count"] == 30 and "file_path" not in done
        assert _finished_run(instance, body["run_id"]).status == dg.DagsterRunStatus.SUCCESS

        download = client.get(done["links"]["download"], headers=ALICE)
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/pdf"
        filename = f"usage-summary-{dt.datetime.fromisoformat(done['as_of']):%Y-%m-%d}.pdf"
        assert download.headers["content-disposition"] == f'attachment; filename="{filename}"'
        history = client.get("/api/reports/exports", headers=ALICE).json()
    messages = mailbox.to("ops@acme.example")
    assert len(mailbox.messages) == len(messages) == 1
    [attachment] = list(messages[0].iter_attachments())
    data = bytes(attachment.get_payload(decode=True))
    assert attachment.get_content_type() == "application/pdf" and data == download.content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Usage Summary" in text and "30 rows (row limit 30 reached" in text
    assert [e["id"] for e in history] == [body["id"]]


def test_download_name_is_safe_and_a_cleaned_up_file_is_410_with_what_to_do(
    api: Served, instance: dg.DagsterInstance, export_settings: ExportSettings, database_url: str
) -> None:
    with api.client() as client:
        report = create_report(client, ADMIN, name='../../etc/passwd "; x=.exe')
        pending = client.get("/api/reports/exports/not-yet/download", headers=ADMIN)
        assert pending.status_code == 404
        started = client.post(
            "/api/reports/exports", json={"report_id": report["id"], "format": "csv"}, headers=ADMIN
        )
        assert started.status_code == 202, started.text
        export_id = started.json()["id"]
        done = wait_for_export(client, export_id, ADMIN)
        assert done["status"] == "completed", done["error_message"]
        download = client.get(f"/api/reports/exports/{export_id}/download", headers=ADMIN)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        day = dt.datetime.fromisoformat(done["as_of"]).date()
        assert download.headers["content-disposition"] == f'attachment; filename="etc-passwd-x-exe-{day}.csv"'
        assert download.text.splitlines()[0] == "date,total_events,event_type"

        with connect(database_url) as conn:
            report_cleanup = cleanup_expired(
                conn, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=8), settings=export_settings, s3=None
            )
        assert report_cleanup.removed_local >= 1
        gone = client.get(f"/api/reports/exports/{export_id}/download", headers=ADMIN)
    assert gone.status_code == 410
    error = gone.json()["error"]
    assert error["code"] == "gone"
    assert "no longer on this machine" in error["message"] and "create a new export" in error["message"]
    assert not Path(export_settings.storage_dir / "acme" / f"{export_id}.csv").exists()


def test_two_concurrent_retries_of_a_failed_export_deliver_once_and_one_is_409(
    api: Served, instance: dg.DagsterInstance, mailbox: Handler
) -> None:
    mailbox.messages.clear()
    mailbox.reject["late@acme.example"] = "450 Mailbox busy, try later"
    try:
        with api.client() as client:
            report = create_report(client, ADMIN)
            schedule = create_schedule(
                client,
                ADMIN,
                report["id"],
                name="Daily CSV",
                cron_expression="0 6 * * *",
                recipients=["late@acme.example"],
            )
            export_id = client.post(f"/api/reports/schedules/{schedule['id']}/run", headers=ADMIN).json()[
                "id"
            ]
            failed = wait_for_export(client, export_id, ADMIN)
            assert failed["status"] == "failed"
            assert "late@acme.example" in failed["error_message"]
            assert mailbox.to("late@acme.example") == []
    finally:
        mailbox.reject.clear()

    def retry(_: int) -> httpx.Response:
        with api.client() as client:
            return client.post(f"/api/reports/exports/{export_id}/retry", headers=ADMIN)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(retry, range(2)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202, 409], [r.text for r in responses]
    conflict = next(r for r in responses if r.status_code == 409).json()["error"]
    assert conflict["code"] == "conflict"
    assert (
        "only failed exports can be retried" in conflict["message"] or "changed state" in conflict["message"]
    )
    accepted: dict[str, Any] = next(r for r in responses if r.status_code == 202).json()
    with api.client() as client:
        done = wait_for_export(client, export_id, ADMIN)
    assert done["status"] == "completed" and done["attempts"] == 2
    assert len(mailbox.to("late@acme.example")) == 1
    assert _finished_run(instance, accepted["run_id"]).status == dg.DagsterRunStatus.SUCCESS
