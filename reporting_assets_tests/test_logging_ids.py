"""Structured log ids (docs/sync.md): the checker over the whole package, the registry, ids in
the session's JSON-lines log and in Dagster's event log, verbosity per component.

The checker scans every ``reporting_assets/**/*.py``: two statements sharing an id, a module that
logs without a prefix in ``logging_ids.REGISTRY``, and a logging call without an id all fail.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from reporting_assets.devtools.log_id_check import (
    check_project,
    check_sources,
    next_free_id,
    project_sources,
    scan_source,
)
from reporting_assets.logging_ids import (
    LOG_ID,
    PACKAGE_ROOT,
    REGISTRY,
    ContextFilter,
    IdLogger,
    JsonLinesHandler,
    LoggingConfigError,
    attached,
    get_logger,
    levels_from_env,
    log_context,
    verbosity,
)
from reporting_assets_tests.helpers import render, run_sources
from reporting_assets_tests.support.sync import add_orders, run_sync, session_of, write_config


def test_every_log_statement_of_a_registered_module_has_a_unique_id() -> None:
    problems = check_project()
    assert problems == [], "\n".join(map(str, problems))


def test_every_module_that_logs_is_registered() -> None:
    logging_modules = {
        module for module, (path, text) in project_sources().items() if scan_source(text, module, path)
    }
    assert logging_modules - {"reporting_assets.logging_ids"} <= set(REGISTRY)
    assert {"reporting_assets.execution_reports.materialize", "reporting_assets.exports.runtime"} <= set(
        REGISTRY
    )
    assert len(set(REGISTRY.values())) == len(REGISTRY)
    ids = [c.log_id for m, (p, t) in project_sources().items() if m in REGISTRY for c in scan_source(t, m, p)]
    assert len(ids) >= 20 and all(i and LOG_ID.match(i) for i in ids)


def test_the_checker_finds_shared_ids_missing_ids_and_foreign_prefixes() -> None:
    registry = {"pkg.alpha": "al", "pkg.beta": "be"}
    sources = {
        "pkg.alpha": (
            "pkg/alpha.py",
            'log.info("al-001", "ok")\nlog.warning("al-001", "same id")\nlog.error("no id %s", x)\n'
            'context.log.info("text only")\nlogger.log(20, "al-002", "level first")\n',
        ),
        "pkg.beta": ("pkg/beta.py", 'log.debug("al-003", "wrong prefix")\n'),
        "pkg.gamma": (
            "pkg/gamma.py",
            'log.info("no id, not registered")\nlog.info("al-002", "dup")\n',
        ),
    }
    problems = [str(p) for p in check_sources(sources, registry)]
    assert "pkg/alpha.py:2: log id al-001 is also used at pkg/alpha.py:1" in problems
    assert any(
        p.startswith("pkg/alpha.py:3: logging call without a log id") and "al-NNN" in p for p in problems
    )
    assert any(p.startswith("pkg/alpha.py:4: logging call without a log id") for p in problems)
    assert "pkg/beta.py:1: log id al-003 does not use pkg.beta's prefix 'be'" in problems
    assert "pkg/gamma.py:2: log id al-002 is also used at pkg/alpha.py:5" in problems
    assert "pkg/gamma.py:1: pkg.gamma logs but has no prefix: add it to REGISTRY in " in "".join(problems)
    assert len(problems) == 7
    clash = check_sources(
        {"pkg.a": ("a.py", ""), "pkg.b": ("b.py", "")}, {"pkg.a": "xx", "pkg.b": "xx", "pkg.c": "x1"}
    )
    assert {str(p).split(": ", 1)[1] for p in clash} == {
        "prefix 'xx' is shared by pkg.a, pkg.b",
        "pkg.c: prefix 'x1' is not 2 letters",
        "registered module pkg.c does not exist",
    }
    assert next_free_id("al", {"al-001", "al-007", "be-009"}) == "al-008"
    assert next_free_id("zz", set()) == "zz-001"


@pytest.mark.integration
def test_the_checker_runs_from_the_command_line() -> None:
    checker = [sys.executable, "-m", "reporting_assets.devtools.log_id_check"]
    check = subprocess.run([*checker, "check"], capture_output=True, text=True, timeout=120)
    assert (check.returncode, check.stdout.strip().splitlines()[-1]) == (0, "0 problem(s)"), check.stdout
    upcoming = subprocess.run(
        [*checker, "next", "reporting_assets.sync.engine"], capture_output=True, text=True, timeout=120
    )
    used = {c.log_id for m, (p, t) in project_sources().items() for c in scan_source(t, m, p) if c.log_id}
    assert (upcoming.returncode, upcoming.stdout.strip()) == (0, next_free_id("se", used)), upcoming.stderr
    unknown = subprocess.run(
        [*checker, "next", "reporting_assets.nope"], capture_output=True, text=True, timeout=120
    )
    assert unknown.returncode == 2
    assert "reporting_assets.nope is not in REGISTRY (reporting_assets/logging_ids.py)" in unknown.stderr


def test_unregistered_modules_cannot_get_an_id_logger() -> None:
    with pytest.raises(LoggingConfigError, match=r"Add it to REGISTRY in reporting_assets/logging_ids\.py"):
        get_logger("reporting_assets.not_registered")
    assert get_logger("reporting_assets.sync.engine").prefix == "se"


def test_ids_fields_and_context_reach_the_json_lines_file(tmp_path: Path) -> None:
    logger = IdLogger(logging.getLogger("reporting_assets.sync.probe"), "pr")
    handler = JsonLinesHandler(tmp_path / "log.jsonl")
    handler.addFilter(ContextFilter(sync_id="S1"))
    with verbosity({"sync": "DEBUG"}), attached(handler):
        with log_context(sync_id="S1", customer="PELOTON"):
            logger.info("pr-001", "synced %d records", 3, batch=2)
            logger.debug("pr-002", "details")
        with log_context(sync_id="S2"):
            logger.info("pr-003", "another session: filtered out")
    entries = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["log_id"] for e in entries] == ["pr-001", "pr-002"]
    assert entries[0]["message"] == "synced 3 records" and entries[0]["fields"] == {"batch": 2}
    assert entries[0]["customer"] == "PELOTON" and entries[0]["level"] == "INFO"


def test_verbosity_is_set_per_component_and_restored() -> None:
    engine, target = (
        logging.getLogger("reporting_assets.sync.engine"),
        logging.getLogger("reporting_assets.sync.target"),
    )
    before = (engine.level, target.level)
    with verbosity({"reporting_assets": "INFO", "sync.engine": "WARNING", "sync.target": "DEBUG"}):
        assert not engine.isEnabledFor(logging.INFO) and target.isEnabledFor(logging.DEBUG)
    assert (engine.level, target.level) == before
    env = {"REPORTING_LOG_LEVEL": "error", "REPORTING_LOG_LEVELS": "sync.target=DEBUG, sync.engine=WARNING"}
    assert levels_from_env(env) == {
        "reporting_assets": "error",
        "sync.target": "DEBUG",
        "sync.engine": "WARNING",
    }
    with pytest.raises(LoggingConfigError, match="is not component=LEVEL"):
        levels_from_env({"REPORTING_LOG_LEVELS": "sync.target"})
    with pytest.raises(LoggingConfigError, match="'LOUD' is not a log level"), verbosity({"sync": "LOUD"}):
        pass


@pytest.mark.usefixtures("clean_sync_tables")
def test_a_session_logs_ids_to_its_folder_and_to_dagster_with_env_verbosity(
    instance: dg.DagsterInstance,
    conn: psycopg.Connection,
    customers: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_orders(conn, "PELOTON", ["Received"] * 2)
    add_orders(conn, "GREYSON", ["Received"] * 2)
    monkeypatch.setenv("REPORTING_LOG_LEVELS", "sync.engine=WARNING,sync.target=DEBUG")
    config = write_config(tmp_path, fail_customers=["GREYSON"])
    result = run_sync(instance, config, tmp_path / "reports", execute=True)
    session = session_of(conn, result.run_id)
    entries = [
        json.loads(x)
        for x in (Path(session["folder"]) / "logs" / "sync_session.jsonl").read_text().splitlines()
    ]
    by_id = {e["log_id"]: e for e in entries}
    assert "st-001" in by_id and by_id["st-001"]["level"] == "DEBUG"  # target at DEBUG
    engine = [e for e in entries if e["logger"] == "reporting_assets.sync.engine"]
    assert engine and {e["level"] for e in engine} <= {"WARNING", "ERROR"}  # engine at WARNING
    assert "sr-002" in by_id  # other components keep the config's INFO
    messages = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
    assert any(m.startswith("[st-001] Simulated outage for GREYSON") for m in messages)
    assert any(m.startswith("[se-011] GREYSON get_groups attempt 1/3 failed") for m in messages)
    assert logging.getLogger("reporting_assets.sync.engine").level == logging.NOTSET  # restored


def test_the_package_root_is_the_one_scanned() -> None:
    assert (PACKAGE_ROOT / "logging_ids.py").is_file()
    assert "reporting_assets.sync.engine" in project_sources()


def test_asset_log_lines_reach_dagster_with_their_ids(
    instance: dg.DagsterInstance, customers: list[str]
) -> None:
    run_sources(instance, "PELOTON|2025-06-17")
    result = render(instance, "PELOTON|2025-06-17")
    messages = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
    assert "[ea-001] Rendering 1 partition(s)" in messages
