"""Helpers of the automation report tests (no tests here).

:func:`automation_defs` is the project's code location with resources overridable per test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import dagster as dg
import jsonschema

from reporting_assets.automation.assets import JOB_NAME, run_config_for
from reporting_assets.automation.cli import add_cli
from reporting_assets.db.connection import Connection, connect
from reporting_assets.definitions import loaded_definitions
from reporting_assets_tests.helpers import QUIET, REPO_ROOT

SCHEMA_PATH = REPO_ROOT / "docs" / "automation_report.schema.json"
SEED_SECTIONS = ["metadata", "performance_metrics", "system_health", "recommendations"]
SEED_KEYS = {
    "metadata": ["source", "report_generated_at", "time_window_hours"],
    "performance_metrics": [
        "total_actions",
        "successful_actions",
        "failed_actions",
        "overall_success_rate",
        "actions_per_hour",
    ],
    "system_health": ["active_rules", "total_rules", "rule_utilization_rate"],
}


def automation_defs(**resources: Any) -> dg.Definitions:
    """The project's code location, with ``resources`` in place of its own."""
    defs = loaded_definitions()
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        resources={**(defs.resources or {}), **resources},
    )


def run_automation_job(
    instance: dg.DagsterInstance,
    report_time: dt.datetime,
    hours: int = 24,
    *,
    config: dict[str, Any] | None = None,
    raise_on_error: bool = True,
    **resources: Any,
) -> dg.ExecuteInProcessResult:
    """One ``automation_reports_job`` run, as the schedule launches it (plus extra op config)."""
    run_config: dict[str, Any] = {**QUIET, **run_config_for(report_time, hours)}
    if config:
        run_config["ops"]["automation_reports"]["config"].update(config)
    return (
        automation_defs(**resources)
        .resolve_job_def(JOB_NAME)
        .execute_in_process(instance=instance, run_config=run_config, raise_on_error=raise_on_error)
    )


def truncate_automation(database_url: str) -> None:
    with connect(database_url) as conn:
        conn.execute("TRUNCATE reporting.automation_reports RESTART IDENTITY")


def stored_rows(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM reporting.automation_reports ORDER BY report_time, source").fetchall()
    conn.commit()
    return rows


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def assert_valid(document: dict[str, Any], *, ordered: bool = True) -> None:
    """Valid against docs/automation_report.schema.json, with the four sections (in the documented
    order, except when read back from JSONB, which keeps no key order)."""
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
    if not ordered:
        return
    assert list(document)[:4] == SEED_SECTIONS
    for section, keys in SEED_KEYS.items():
        assert list(document[section])[: len(keys)] == keys


def failure_text(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every error the failed run logged, with causes: what a user sees in the UI."""
    assert not result.success, "expected the run to fail"
    texts = []
    for entry in instance.all_logs(result.run_id):
        error = getattr(getattr(entry.dagster_event, "event_specific_data", None), "error", None)
        if error is not None:
            texts.append(error.to_string())
    assert texts, "the failed run logged no error"
    return "\n".join(texts)


def cli_main(argv: list[str]) -> int:
    """``reporting-assets`` with the ``automation-report`` command, wired or not yet wired."""
    from reporting_assets import cli as project_cli

    original = project_cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "automation-report" not in sub.choices:
            add_cli(sub)
        return parser

    with patch.object(project_cli, "build_parser", build):
        return project_cli.main(argv)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
