"""Only http(s) run links in reports, only http/https/mailto links in the HTML email."""

from __future__ import annotations

import re
import subprocess

import dagster as dg
import psycopg
import pytest

from reporting_assets.delivery.render import markdown_to_html
from reporting_assets.execution_reports.assets import render_execution_reports
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets_tests.helpers import QUIET, render, report_rows, run_cli, run_sources

HOSTILE_BASE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "http://",
    "localhost:3000",
    "",
]
BASE_URL_RULE = r"must be an http:// or https:// URL \(e\.g\. http://localhost:3000"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


def _hrefs(html: str) -> list[str]:
    return re.findall(r"""(?:href|src)\s*=\s*["']?([^"'\s>]*)""", html, flags=re.IGNORECASE)


# --- the markdown-to-HTML step of the daily email ------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("[x](javascript:alert(1))", "x"),
        ("[x](JaVaScRiPt:alert(1))", "x"),
        ("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "x"),
        ("[x](vbscript:msgbox(1))", "x"),
        ("[x](&#106;avascript&#58;alert(1))", "x"),  # entity-encoded scheme
        ("[x](&#x6A;&#x61;vascript:alert(1))", "x"),
        ("[x](<java\tscript:alert(1)>)", "x"),  # whitespace inside the scheme
        ("[x](<java\nscript:alert(1)>)", "x"),
        ("[x](  javascript:alert(1)  )", "x"),
        ("[x](\u00a0javascript:alert(1))", "x"),
        ("[*x*][r]\n\n[r]: javascript:alert(1)", "<em>x</em>"),  # reference-style
        ("<javascript:alert(1)>", "javascript:alert(1)"),  # autolink
        ("![x](javascript:alert(1))", "x"),
        ("![x](data:image/png;base64,iVBORw0KGgo=)", "x"),
        ("| a |\n|---|\n| [x](javascript:alert(1)) |", "<td>x</td>"),  # in a table cell
    ],
)
def test_the_email_html_keeps_the_text_of_unsafe_links_and_drops_the_link(markdown: str, text: str) -> None:
    html = str(markdown_to_html(markdown))
    assert _hrefs(html) == [], html
    assert not re.search(r"<a\b|<img\b", html), html
    assert not re.search(r"javascript|vbscript|data:", html.replace("javascript:alert(1)", ""), re.I), html
    assert text in html


def test_the_email_html_keeps_http_https_and_mailto_links() -> None:
    html = str(
        markdown_to_html(
            "[run](https://dagster.example.com/runs/abc) [old](HTTP://example.com/x) "
            "[mail](mailto:ops@example.com) <https://example.com/a> [rel](/runs/abc) [js](javascript:x)"
        )
    )
    assert _hrefs(html) == [
        "https://dagster.example.com/runs/abc",
        "HTTP://example.com/x",
        "mailto:ops@example.com",
        "https://example.com/a",
    ]
    assert ">rel<" not in html and "rel" in html and "js" in html


# --- the --ui-base-url flag ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "ftp://x"]
)
@pytest.mark.integration
def test_automation_report_refuses_a_ui_base_url_that_is_not_http(value: str) -> None:
    result = _cli("automation-report", f"--ui-base-url={value}")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: argument --ui-base-url: the Dagster UI's address for run links ")
    assert re.search(BASE_URL_RULE, lines[0])
    assert f"got {value!r}" in lines[0]
    assert "only http and https links" in lines[0]


def test_automation_report_builds_run_links_on_an_https_ui_base_url(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run = run_sources(instance, "PELOTON|2025-06-17")
    render(instance, "PELOTON|2025-06-17")
    result = _cli(
        "automation-report", "--detailed", "--json", "--crm", "order",
        "--ui-base-url", "https://dagster.example.com/prefix/",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f'"https://dagster.example.com/prefix/runs/{run.run_id}"' in result.stdout, result.stdout


# --- the report_settings resource ------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE_BASE_URLS)
def test_report_settings_refuse_a_ui_base_url_that_is_not_http(value: str) -> None:
    with pytest.raises(ValueError, match=r"report_settings\.ui_base_url \(the Dagster UI's address"):
        ReportSettingsResource(ui_base_url=value)


def _failure_messages(result: dg.ExecuteInProcessResult) -> str:
    """Every error message of the run's failure events, causes included."""
    messages = []
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            messages.append(error.message)
            error = error.cause
    return "\n".join(messages)


def test_a_run_with_a_javascript_ui_base_url_in_run_config_fails_and_stores_nothing(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    run_sources(instance, "PELOTON|2025-06-17")
    from reporting_assets.definitions import loaded_definitions

    result = (
        loaded_definitions()
        .resolve_job_def("render_reports")
        .execute_in_process(
            instance=instance,
            partition_key="PELOTON|2025-06-17",
            run_config={
                **QUIET,
                "resources": {"report_settings": {"config": {"ui_base_url": "javascript:alert(1)"}}},
            },
            raise_on_error=False,
        )
    )
    assert not result.success
    messages = _failure_messages(result)
    assert re.search(r"report_settings\.ui_base_url .*" + BASE_URL_RULE, messages), messages
    assert "got 'javascript:alert(1)'" in messages
    assert report_rows(conn, ["PELOTON|2025-06-17"]) == []


def test_a_ui_base_url_from_the_environment_is_checked_when_the_run_starts(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An EnvVar resolves only when a run starts: a real materialize() run then fails with the
    message (no report is stored), and an https value makes every run link start with it."""
    run_sources(instance, "PELOTON|2025-06-17")
    settings = ReportSettingsResource(ui_base_url=dg.EnvVar("REPORTING_TEST_UI_BASE_URL"))
    resources = {"postgres": PostgresResource(), "report_settings": settings}

    monkeypatch.setenv("REPORTING_TEST_UI_BASE_URL", "JaVaScRiPt:alert(1)")
    failed = dg.materialize(
        [render_execution_reports],
        instance=instance,
        partition_key="PELOTON|2025-06-17",
        resources=resources,
        run_config=QUIET,
        raise_on_error=False,
    )
    assert not failed.success
    messages = _failure_messages(failed)
    assert "SettingsError" in messages or "report_settings.ui_base_url" in messages
    assert re.search(r"report_settings\.ui_base_url .*" + BASE_URL_RULE, messages), messages
    assert report_rows(conn, ["PELOTON|2025-06-17"]) == []

    monkeypatch.setenv("REPORTING_TEST_UI_BASE_URL", "https://dagster.example.com")
    ok = dg.materialize(
        [render_execution_reports],
        instance=instance,
        partition_key="PELOTON|2025-06-17",
        resources=resources,
        run_config=QUIET,
    )
    assert ok.success
    rows = report_rows(conn, ["PELOTON|2025-06-17"])
    assert len(rows) == 3
    for row in rows:
        links = re.findall(r"\[View Details\]\(([^)]*)\)", row["markdown_content"])
        assert links and all(link.startswith("https://dagster.example.com/runs/") for link in links)
