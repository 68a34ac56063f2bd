"""The code location's layout: one ``defs()`` per domain, merged at the root.

What each domain contributes is written out here, so a definition that moves, disappears or
changes its default status fails a test; ``dg check defs`` on the whole code location is run by
test_packaging.py.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass, field
from types import ModuleType

import dagster as dg
import pytest

from reporting_assets import shared_definitions
from reporting_assets.automation import definitions as automation
from reporting_assets.automation.health import LocationAutomations
from reporting_assets.definitions import DOMAINS, loaded_definitions
from reporting_assets.delivery import definitions as delivery
from reporting_assets.error_patterns import definitions as error_patterns
from reporting_assets.execution_reports import definitions as execution_reports
from reporting_assets.exports import definitions as exports
from reporting_assets.sources import definitions as sources
from reporting_assets.summaries import definitions as summaries
from reporting_assets.sync import definitions as sync
from reporting_assets.sync.assets import SYNC_ORDER_LIST
from reporting_assets.sync.model import PIPELINE_TYPE
from reporting_assets.trends import definitions as trends
from reporting_assets_tests.helpers import REPO_ROOT

RUNNING = "RUNNING"


@dataclass(frozen=True)
class Domain:
    """What one domain's ``defs()`` holds, and the domains whose definitions it needs to load."""

    module: ModuleType
    assets: set[str] = field(default_factory=set)
    checks: set[tuple[str, str]] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)
    sensors: set[str] = field(default_factory=set)
    schedules: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    needs: tuple[ModuleType, ...] = (shared_definitions,)


EXPECTED = {
    "shared": Domain(shared_definitions, resources={"postgres", "report_settings"}, needs=()),
    "sources": Domain(
        sources,
        assets={"order_sync", "manufacturing_sync", "shipping_sync"},
        jobs={"sample_pipelines"},
        schedules={"sample_pipelines_schedule"},
    ),
    "execution_reports": Domain(
        execution_reports,
        assets={"execution_reports", "workflow_lineage", "daily_customer_summaries"},
        jobs={"render_reports"},
        sensors={"source_runs_sensor", "failed_source_run_sensor", "canceled_source_run_sensor"},
    ),
    # the nightly schedule runs the render_reports job, which produces the summaries asset
    "summaries": Domain(
        summaries, schedules={"daily_summaries_schedule"}, needs=(shared_definitions, execution_reports)
    ),
    "trends": Domain(
        trends,
        assets={"customer_trends"},
        jobs={"customer_trends_job"},
        schedules={"customer_trends_schedule"},
    ),
    "error_patterns": Domain(
        error_patterns,
        assets={"error_patterns"},
        jobs={"error_patterns_job"},
        schedules={"error_patterns_schedule"},
    ),
    "delivery": Domain(
        delivery,
        jobs={"send_daily_summary_emails"},
        sensors={"daily_summary_email_sensor"},
        resources={"smtp", "summary_email"},
    ),
    "automation": Domain(
        automation,
        assets={"automation_reports", "automation_alerts"},
        checks={("automation_reports", "success_rate_above_threshold")},
        jobs={"automation_reports_job"},
        schedules={"automation_reports_schedule"},
        resources={"automation"},
        needs=(shared_definitions, delivery),  # smtp for the alerts
    ),
    "exports": Domain(
        exports,
        assets={"scheduled_exports"},
        checks={("scheduled_exports", "export_failure_rate"), ("scheduled_exports", "export_backlog")},
        jobs={"scheduled_exports_job", "export_maintenance", "export_health_checks"},
        sensors={"scheduled_exports_sensor", "export_maintenance_sensor"},
        resources={"s3", "exports"},
        needs=(shared_definitions, delivery),  # smtp for email exports
    ),
    "sync": Domain(
        sync,
        assets={"sync_order_list", "sync_sessions"},
        jobs={"sync_order_list"},
        sensors={"failed_sync_run_sensor", "canceled_sync_run_sensor", "stale_sync_sessions_sensor"},
        resources={"reports_output", "sync_settings"},
    ),
}


def _union(part: str) -> set:
    return set().union(*(getattr(domain, part) for domain in EXPECTED.values()))


def _contents(defs: dg.Definitions) -> dict[str, set]:
    """Names of what ``defs`` holds, without resolving it into a repository."""
    return {
        "assets": {key.to_user_string() for a in defs.assets or [] for key in a.keys},  # type: ignore[union-attr]
        "checks": {
            (key.asset_key.to_user_string(), key.name)
            for a in [*(defs.assets or []), *(defs.asset_checks or [])]
            for key in a.check_keys  # type: ignore[union-attr]
        },
        "jobs": {job.name for job in defs.jobs or []},
        "sensors": {sensor.name for sensor in defs.sensors or []},
        "schedules": {schedule.name for schedule in defs.schedules or []},
        "resources": set(defs.resources or {}),
    }


def test_the_root_merges_every_domain_once() -> None:
    assert {domain.module for domain in EXPECTED.values()} == set(DOMAINS)
    assert len(DOMAINS) == len(EXPECTED)


def test_the_code_location_holds_exactly_the_expected_definitions() -> None:
    defs = loaded_definitions()
    repo = defs.get_repository_def()
    assert {key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()} == _union("assets")
    assert {
        (key.asset_key.to_user_string(), key.name) for key in repo.asset_graph.asset_check_keys
    } == _union("checks")
    assert set(repo.job_names) - {"__ASSET_JOB"} == _union("jobs")
    # names and default statuses: every sensor and schedule runs unless stopped in the UI
    assert {s.name: s.default_status.value for s in repo.sensor_defs} == dict.fromkeys(
        _union("sensors"), RUNNING
    )
    assert {s.name: s.default_status.value for s in repo.schedule_defs} == dict.fromkeys(
        _union("schedules"), RUNNING
    )
    assert set(repo.get_top_level_resources()) == _union("resources") | {automation.CODE_LOCATION_RESOURCE}


def test_the_automation_report_is_handed_every_schedule_and_sensor_of_the_code_location() -> None:
    defs = loaded_definitions()
    resource = defs.resources[automation.CODE_LOCATION_RESOURCE]  # type: ignore[index]
    handed = resource.resource_fn(dg.build_init_resource_context())
    assert isinstance(handed, LocationAutomations)
    repo = defs.get_repository_def()
    assert sorted(s.name for s in handed.schedules) == sorted(s.name for s in repo.schedule_defs)
    assert sorted(s.name for s in handed.sensors) == sorted(s.name for s in repo.sensor_defs)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_domain_defs_loads_on_its_own(name: str) -> None:
    expected = EXPECTED[name]
    own = expected.module.defs()
    assert isinstance(own, dg.Definitions)
    assert _contents(own) == {
        "assets": expected.assets,
        "checks": expected.checks,
        "jobs": expected.jobs,
        "sensors": expected.sensors,
        "schedules": expected.schedules,
        "resources": expected.resources,
    }
    # with the resources (and, for summaries, the job) other domains own, it is a whole code location
    parts = [module.defs() for module in expected.needs]
    together = dg.Definitions.merge(*parts, own)
    if expected.module is automation:
        together = dg.Definitions.merge(together, automation.code_location_definitions(together))
    dg.Definitions.validate_loadable(together)


def _imported_modules(path: str) -> set[str]:
    tree = ast.parse((REPO_ROOT / path).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_only_entry_points_import_the_root_definitions() -> None:
    """Domains hand things over through ``defs()`` and resources, never by reaching up to the
    assembled code location; only the CLI commands may load it (``loaded_definitions()``)."""
    package = REPO_ROOT / "reporting_assets"
    importers = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in package.rglob("*.py")
        if "reporting_assets.definitions" in _imported_modules(str(path.relative_to(REPO_ROOT)))
    )
    assert importers and all(path.endswith("cli.py") for path in importers), importers


@pytest.mark.parametrize("name", ["automation", "delivery", "exports", "sync"])
def test_domain_packages_are_plain_docstrings_without_lazy_names(name: str) -> None:
    tree = ast.parse((REPO_ROOT / "reporting_assets" / name / "__init__.py").read_text(encoding="utf-8"))
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert "__getattr__" not in functions
    assert ast.get_docstring(tree)
    assert not any(
        module.startswith("dagster") for module in _imported_modules(f"reporting_assets/{name}/__init__.py")
    )


DOCUMENT_LIBRARIES = ("reportlab", "xlsxwriter", "boto3", "pandas", "fastapi", "clickhouse_connect", "chdb")
"""Libraries only some runs or commands use: loading the code location (every run worker, code
server start and CLI call) must not pay for them."""

RUN_TIME_MODULES = (
    "psycopg",
    "jinja2",
    "markdown_it",
    "babel",
    "croniter",
    "dateutil",
    "reporting_assets.db.connection",
    "reporting_assets.contract",
    "reporting_assets.reporter",
    "reporting_assets.sources.pipelines",
    "reporting_assets.sources.synthetic",
    "reporting_assets.sources.materialize",
    "reporting_assets.pipelines.registry",
    "reporting_assets.automation.materialize",
    "reporting_assets.automation.rules",
    "reporting_assets.automation.metrics",
    "reporting_assets.error_patterns.flagged",
    "reporting_assets.delivery.daily_summary",
    "reporting_assets.delivery.email_plan",
    "reporting_assets.execution_reports.materialize",
    "reporting_assets.exports.runtime",
    "reporting_assets.exports.dsl",
    "reporting_assets.exports.execute",
    "reporting_assets.sync.engine",
    "reporting_assets.sync.model",
    "reporting_assets.sync.dead_runs",
)
"""What assets, checks, ops, sensors and resource methods import when they run or tick: the
database driver, template rendering, the run-report contract's models and builder, the sample
pipelines and each domain's engine. Defining them needs none of it."""


def _loaded_with_the_code_location(names: tuple[str, ...]) -> list[str]:
    probe = (
        "import sys, reporting_assets.definitions as d; d.defs(); "
        f"print(','.join(m for m in {names!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=True
    )
    return [name for name in done.stdout.strip().split(",") if name]


def test_loading_the_code_location_imports_no_document_storage_or_web_library() -> None:
    assert _loaded_with_the_code_location(DOCUMENT_LIBRARIES) == []


def test_loading_the_code_location_imports_no_database_driver_template_or_domain_engine() -> None:
    assert _loaded_with_the_code_location(RUN_TIME_MODULES) == []


def test_the_sync_asset_is_named_after_the_pipeline_type_of_its_contracts() -> None:
    # spelled out in sync/assets.py so the load does not import sync.model
    assert SYNC_ORDER_LIST.path == [PIPELINE_TYPE]
