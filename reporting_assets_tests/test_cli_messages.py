"""What the CLI says when a request cannot be met: one ``error:`` line, never a traceback; and
a reader that stops reading (``| head -1``) ends a command quietly."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import subprocess
import sys

import dagster as dg
import psycopg
import pytest

from reporting_assets.automation.errors import TimeWindowError
from reporting_assets.automation.window import parse_report_time
from reporting_assets_tests.helpers import REPO_ROOT, render, run_sources

KEY = "PELOTON|2025-06-17"
CLI = [sys.executable, "-m", "reporting_assets.cli"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line of a refused command (exit 2, nothing on stdout)."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def rendered(instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]) -> str:
    """PELOTON's 2025-06-17 reports, stored."""
    run_sources(instance, KEY)
    render(instance, KEY)
    return KEY


# --- reports show --------------------------------------------------------------------------


def test_reports_show_names_the_pipelines_a_partition_has(rendered: str) -> None:
    line = _one_error_line(_cli("reports", "show", rendered, "--pipeline", "nope"))
    assert line == (
        "error: Pipeline 'nope' has no report in partition 'PELOTON|2025-06-17'; the pipelines with "
        "reports there are: manufacturing_sync, order_sync, shipping_sync."
    )
    shown = _cli("reports", "show", rendered, "--pipeline", "shipping_sync")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("# 📋 Pipeline Execution Report") == 1


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("|", "the customer before '|' and the day after it are both missing"),
        ("|2025-06-17", "the customer before '|' is missing"),
        ("PELOTON|", "the day after '|' ('') is not a date YYYY-MM-DD"),
        ("PELOTON|17/06/2025", "the day after '|' ('17/06/2025') is not a date YYYY-MM-DD"),
        ("PELOTON 2025-06-17", "there is no '|' between the customer and the day"),
    ],
)
@pytest.mark.integration
def test_reports_show_says_what_a_partition_key_looks_like(key: str, problem: str) -> None:
    """Refused before any database work: the message shows the shape, an example and what is off."""
    line = _one_error_line(_cli("reports", "show", key))
    assert line == (
        f"error: Partition key {key!r} is not 'CUSTOMER|YYYY-MM-DD' (e.g. 'PELOTON|2025-06-17'): {problem}."
    )


def test_reports_show_says_the_customer_is_not_registered(rendered: str) -> None:
    line = _one_error_line(_cli("reports", "show", "NOPE|2025-06-17"))
    assert line.startswith("error: Customer 'NOPE' is not registered.")
    assert "reporting-assets customers add 'NOPE'" in line
    close = _one_error_line(_cli("reports", "show", "PELOTN|2025-06-17"))
    assert "Customer 'PELOTN' is not registered. Did you mean 'PELOTON'?" in close


def test_reports_show_of_a_day_without_reports_says_how_to_make_them(rendered: str) -> None:
    line = _one_error_line(_cli("reports", "show", "PELOTON|2025-06-16"))
    assert line.startswith("error: No execution report stored for 'PELOTON|2025-06-16'. Materialize it with")


# --- a closed pipe -------------------------------------------------------------------------


def test_a_reader_that_stops_after_one_line_ends_the_command_quietly(
    rendered: str, instance: dg.DagsterInstance
) -> None:
    """``reporting-assets reports show ... | head -1``: the pipe is shrunk to one page and the
    output is larger, so the command is still writing when the reader goes."""
    run_sources(instance, rendered)  # a second run of each pipeline: six reports
    render(instance, rendered)
    full = _cli("reports", "show", rendered)
    assert full.returncode == 0, full.stderr
    page = 4096
    assert len(full.stdout.encode()) > 2 * page  # more than the pipe holds: writes must block
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, page)
    with subprocess.Popen(
        [*CLI, "reports", "show", rendered],
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
        cwd=REPO_ROOT,
    ) as process:
        os.close(write_end)
        with os.fdopen(read_end, "rb", buffering=0) as reader:
            first = b""
            while not first.endswith(b"\n"):
                first += reader.read(1)
        # the reader is closed: the command's next write meets a closed pipe
        _, stderr = process.communicate(timeout=120)
    assert first.decode() == full.stdout.splitlines(keepends=True)[0]
    assert process.returncode == 141  # 128 + SIGPIPE, as a shell reports `cmd | head -1`
    assert stderr.decode() == ""


@pytest.mark.parametrize(
    "args",
    [
        ["automation-report", "--report-time", "2025-06-18T00:00:00Z"],
        ["reports", "show", KEY],
        ["customers", "list"],
    ],
)
def test_every_command_ends_quietly_on_a_pipe_nobody_reads(args: list[str], rendered: str) -> None:
    """stdout is a pipe whose reader is gone before the command starts: its first write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*CLI, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
            cwd=REPO_ROOT,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""


@pytest.mark.integration
def test_help_on_a_pipe_nobody_reads_is_quiet_too() -> None:
    """argparse prints help itself and ignores a failed write: exit 0, nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*CLI, "--help"], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120, check=False
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


# --- automation-report ---------------------------------------------------------------------


def test_automation_report_prints_no_dagster_warnings(rendered: str) -> None:
    result = _cli("automation-report", "--detailed")
    assert result.returncode == 0, result.stderr
    assert "[order_sync]" in result.stdout
    assert "BetaWarning" not in result.stderr and "owners" not in result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("value", ["", "  ", " , "])
def test_automation_report_refuses_an_empty_source(value: str, rendered: str) -> None:
    line = _one_error_line(_cli("automation-report", "--crm", value))
    assert line == (
        f"error: No source named (got {value!r}). Name a source system: manufacturing_sync, order_sync, "
        "shipping_sync, sync_order_list; or 'all' for every one."
    )


@pytest.mark.integration
def test_automation_report_refuses_a_report_time_far_in_the_future() -> None:
    line = _one_error_line(_cli("automation-report", "--report-time", "9999-12-31T23:00:00Z"))
    assert line == (
        "error: argument --report-time: Report time 9999-12-31T23:00:00Z is more than a day in the "
        "future: a report covers the hours before its report time, and nothing has run then yet. Use "
        "a past time (e.g. 2025-07-10T21:00:00Z), or leave the report time out for now. "
        "(see `reporting-assets automation-report --help`)"
    )


def test_a_report_time_up_to_a_day_ahead_is_allowed() -> None:
    now = dt.datetime(2025, 7, 10, 21, 0, tzinfo=dt.UTC)
    assert parse_report_time("2025-07-11T21:00:00Z", now) == now + dt.timedelta(days=1)
    with pytest.raises(TimeWindowError, match=r"2025-07-11T21:00:01Z is more than a day in the future"):
        parse_report_time("2025-07-11T21:00:01Z", now)


# --- usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nosuch"], "error: argument COMMAND: invalid choice: 'nosuch'"),
        (["reports", "show"], "error: the following arguments are required: partition"),
        (["automation-report", "--time-window", "0"], "error: argument --time-window: The time window"),
        (["exports", "list"], "error: the following arguments are required: --tenant, --user"),
        (["reports", "show", KEY, "--bogus"], "error: unrecognized arguments: --bogus"),
        (["sync", "--limit", "0"], "error: argument --limit:"),
        (["recipients", "add"], "error: the following arguments are required"),
    ],
)
@pytest.mark.integration
def test_usage_errors_are_one_line_that_points_at_help(args: list[str], expected: str) -> None:
    line = _one_error_line(_cli(*args))
    assert line.startswith(expected), line
    assert line.endswith("--help`)")
