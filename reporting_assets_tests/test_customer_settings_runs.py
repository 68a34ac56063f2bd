"""Customer report settings with the real database, CLI and Dagster runs: `customers settings`
validates and stores, nothing re-renders by itself, `reports rerender` re-renders through one
batched run whose summaries keep their earlier versions, a failing customer template never
fails the run, and the summary email carries the subject prefix."""

from __future__ import annotations

import datetime as dt
import json
import os
import zoneinfo
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.customer_settings.model import CustomerSettingsError
from reporting_assets.customer_settings.rerender import RERENDER_TAG, rerender, rerender_range
from reporting_assets.customer_settings.store import SettingsChange, set_settings, subject_prefix
from reporting_assets.customer_settings.templates import template_folder
from reporting_assets.definitions import loaded_definitions
from reporting_assets_tests.helpers import render, report_rows, run_cli, run_sources

DAY = "2025-06-17"


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(*args, env={**os.environ, "REPORTING_HOME": str(home)})
    return result.returncode, result.stdout, result.stderr


def markdown_of(conn: psycopg.Connection, pipeline: str) -> str:
    rows = [r for r in report_rows(conn, [f"PELOTON|{DAY}"]) if r["pipeline_type"] == pipeline]
    assert len(rows) == 1
    return rows[0]["markdown_content"]


def test_settings_cli_validates_stores_and_resets(
    instance: dg.DagsterInstance, customers: list[str], tmp_path: Path
) -> None:
    code, out, err = cli(tmp_path, "customers", "settings", "set", "PELOTON", "--locale", "de_DX")
    assert code == 2 and out == ""
    assert err.startswith("error: Unknown locale 'de_DX'. Did you mean") and "'de_DE'" in err
    assert err.count("\n") == 1
    code, _, err = cli(tmp_path, "customers", "settings", "set", "PELOTON", "--hide", "manufactoring")
    assert code == 2 and "did you mean 'manufacturing'" in err
    code, _, err = cli(tmp_path, "customers", "settings", "set", "PELOTN", "--locale", "de_DE")
    assert code == 2 and "Did you mean 'PELOTON'" in err

    folder = template_folder(tmp_path, "PELOTON")
    folder.mkdir(parents=True)
    (folder / "header.md.j2").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    code, _, err = cli(tmp_path, "customers", "settings", "set", "PELOTON", "--locale", "de_DE")
    assert code == 2 and f"{folder / 'header.md.j2'} tries to reach Python internals" in err
    (folder / "header.md.j2").write_text("> Account manager: Jane Roe\n", encoding="utf-8")

    code, out, err = cli(
        tmp_path, "customers", "settings", "set", "PELOTON", "--locale", "de-de", "--hide", "manufacturing",
        "--time-zone", "Europe/Berlin", "--list-length", "25", "--subject-prefix", "[PELOTON]",
    )  # fmt: skip
    assert code == 0, err
    assert "Nothing was re-rendered" in out and "manufacturing OFF" in out
    code, out, _ = cli(tmp_path, "customers", "settings", "show", "PELOTON", "--json")
    shown = json.loads(out)
    assert shown["locale"] == "de_DE" and shown["time_zone"] == "Europe/Berlin"
    assert shown["sections"]["manufacturing"] is False and shown["sections"]["shipping"] is True
    assert shown["list_length"] == 25 and shown["version"] == 1
    assert shown["templates"] == [str(folder / "header.md.j2")]
    code, out, _ = cli(
        tmp_path, "customers", "settings", "set", "PELOTON", "--clear", "locale", "--show", "manufacturing"
    )
    assert code == 0
    code, out, _ = cli(tmp_path, "customers", "settings", "show", "PELOTON", "--json")
    assert json.loads(out)["locale"] is None and json.loads(out)["version"] == 2
    assert cli(tmp_path, "customers", "settings", "reset", "PELOTON")[1] == "Back to the default format.\n"
    code, out, _ = cli(tmp_path, "customers", "settings", "show", "PELOTON", "--json")
    shown = json.loads(out)
    assert shown["version"] == 3 and shown["sections"]["manufacturing"] is True and shown["locale"] is None
    assert cli(tmp_path, "customers", "settings", "reset", "PELOTON")[1] == ("Already the default format.\n")
    # the version keeps counting after a reset: a version never names two sets of settings
    assert cli(tmp_path, "customers", "settings", "set", "PELOTON", "--locale", "fr_FR")[0] == 0
    code, out, _ = cli(tmp_path, "customers", "settings", "show", "PELOTON", "--json")
    assert json.loads(out)["version"] == 4 and json.loads(out)["locale"] == "fr_FR"


def test_rerender_applies_settings_through_a_batched_run_and_versions_the_summary(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REPORTING_HOME", str(tmp_path))
    run_sources(instance, f"PELOTON|{DAY}")
    render(instance, f"PELOTON|{DAY}")
    before = markdown_of(conn, "manufacturing_sync")
    assert "## 🏭 Manufacturing Updates" in before and "**Date**: 2025-06-17" in before

    set_settings(conn, "PELOTON", SettingsChange(hide=("manufacturing",), locale="de_DE"), tmp_path)
    assert markdown_of(conn, "manufacturing_sync") == before  # setting re-renders nothing

    with pytest.raises(CustomerSettingsError, match="no execution reports on or after 2025-06-18"):
        rerender_range(conn, "PELOTON", dt.date(2025, 6, 18))
    first, last = rerender_range(conn, "PELOTON", dt.date(2025, 6, 10))
    assert (first.partition_key, last.partition_key) == ("PELOTON|2025-06-10", f"PELOTON|{DAY}")
    done = rerender(loaded_definitions(), instance, first, last)
    assert done.success and done.days == 8
    run = instance.get_run_by_id(done.run_id)
    assert run is not None and run.tags[RERENDER_TAG] == "customer_settings"

    after = markdown_of(conn, "manufacturing_sync")
    assert "Manufacturing Updates" not in after and "**Date**: 17.06.2025" in after
    history = conn.execute(
        "SELECT s.version, s.status_json AS now, h.version AS old_version, h.status_json AS old "
        "FROM reporting.daily_customer_summaries s "
        "JOIN reporting.daily_customer_summary_history h ON h.summary_id = s.id "
        "WHERE s.customer_key = 'PELOTON' AND s.summary_date = %s",
        (DAY,),
    ).fetchall()
    conn.commit()
    assert len(history) == 1
    assert history[0]["version"] == 2 and history[0]["old_version"] == 1
    assert (
        history[0]["now"]["report_settings_version"] == 1
        and "report_settings_version" not in history[0]["old"]
    )
    greyson = run_sources(instance, f"GREYSON|{DAY}")
    assert greyson.success  # other customers keep the default format
    render(instance, f"GREYSON|{DAY}")
    assert "**Date**: 2025-06-17" in report_rows(conn, [f"GREYSON|{DAY}"])[0]["markdown_content"]


def test_a_customer_template_failing_in_a_run_is_left_out_with_a_warning(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REPORTING_HOME", str(tmp_path))
    folder = template_folder(tmp_path, "PELOTON")
    folder.mkdir(parents=True)
    (folder / "footer.md.j2").write_text("Your account manager: Jane Roe\n", encoding="utf-8")
    set_settings(conn, "PELOTON", SettingsChange(subject_prefix="[PELOTON]"), tmp_path)
    assert subject_prefix(conn, "PELOTON") == "[PELOTON]"
    (folder / "footer.md.j2").write_text("{{ counts.new // 0 }}\n", encoding="utf-8")  # edited after `set`
    run_sources(instance, f"PELOTON|{DAY}", only={"order_sync"})
    result = render(instance, f"PELOTON|{DAY}")
    assert result.success
    markdown = markdown_of(conn, "order_sync")
    assert "Jane Roe" not in markdown and markdown.rstrip().endswith(")*")
    logged = [e.user_message for e in instance.all_logs(result.run_id) if "ea-004" in e.user_message]
    assert len(logged) == 1 and "footer.md.j2 fails when rendered: ZeroDivisionError" in logged[0]


def test_the_daily_summary_reads_in_the_customers_locale_and_time_zone(
    instance: dg.DagsterInstance, conn: psycopg.Connection, customers: list[str]
) -> None:
    set_settings(conn, "PELOTON", SettingsChange(locale="de_DE", time_zone="Europe/Berlin"), None)
    for key in (f"PELOTON|{DAY}", f"GREYSON|{DAY}"):
        run_sources(instance, key)
        render(instance, key)
    rows = {
        r["customer_key"]: r
        for r in conn.execute(
            "SELECT customer_key, combined_markdown, new_orders FROM reporting.daily_customer_summaries"
        )
    }
    started = conn.execute(
        "SELECT min(run_started_at) AS t FROM reporting.pipeline_execution_reports "
        "WHERE customer_key = 'PELOTON'"
    ).fetchone()
    conn.commit()
    assert started is not None
    berlin = started["t"].astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    peloton = rows["PELOTON"]["combined_markdown"]
    assert "**Date**: 17.06.2025" in peloton
    assert "| Time (Europe/Berlin) | Pipeline |" in peloton and f"| {berlin:%m-%d %H:%M} |" in peloton
    new_orders = rows["PELOTON"]["new_orders"]
    assert f"| **New Orders** | {new_orders:,} |".replace(",", ".") in peloton
    greyson = rows["GREYSON"]["combined_markdown"]  # no settings: the default format
    assert "**Date**: 2025-06-17" in greyson and "| Time (UTC) | Pipeline |" in greyson
