"""``reporting-assets pipelines add|list|remove|show`` and ``reporting-assets report-run``.

Wired into ``reporting_assets/cli.py`` with ``add_cli(sub)``; handlers return the exit code and
raise ReportingError subclasses that ``main()`` prints as one ``error: ...`` line (exit 2).
Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

PIPELINES_EPILOG = """examples:
  reporting-assets pipelines add crm_sync --name 'CRM Sync' --source-system hubspot \\
      --run-link 'https://kestra.example.com/executions/{id}'
  reporting-assets pipelines add board_planning --name 'Board Planning' --asset-key planning/board \\
      --not-expected-daily
  reporting-assets pipelines list [--json]
  reporting-assets pipelines show crm_sync
  reporting-assets pipelines remove crm_sync

A registered pipeline's runs get execution reports, lineage and a place in the daily summary:
runs of a Dagster asset with that key (in any code location on the instance), and runs reported
from outside Dagster (PipelineReporter.save(), `reporting-assets report-run`, POST
/api/pipeline-runs). See README.md, "Reporting from your own pipeline"."""

REPORT_RUN_EPILOG = """examples:
  reporting-assets report-run --file contract.json
  python my_etl.py | reporting-assets report-run          # the contract JSON on stdin
  reporting-assets report-run --spool                     # send contracts spooled while the instance was away

The contract is the run-report JSON of docs/contract.md (PipelineReporter.build() as JSON), with
external_execution_id set. Sending the same pipeline and external execution id again makes no
second report."""


def _database_url() -> str:
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls

    url = resolve_urls().reporting
    migrate(url)
    return url


def reserved_asset_keys() -> list[Any]:
    """Asset keys of this code location that cannot be a pipeline's: the report step's outputs and
    every asset not partitioned by customer x day (its events could never name a report partition).
    Read from the definitions' assets, without resolving the repository (which warns)."""
    import dagster as dg

    from reporting_assets.definitions import loaded_definitions
    from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS
    from reporting_assets.partitions import customer_day_partitions

    return [
        key
        for assets in loaded_definitions().assets or ()
        if isinstance(assets, dg.AssetsDefinition)
        for key in assets.keys
        if key in REPORT_ASSET_KEYS or assets.partitions_def != customer_day_partitions
    ]


def _cmd_pipelines(args: argparse.Namespace) -> int:
    from reporting_assets.db.connection import connect
    from reporting_assets.pipelines.registry import (
        Pipeline,
        add_pipeline,
        describe,
        load_registry,
        remove_pipeline,
    )

    if args.pipelines_command == "add":
        pipeline = Pipeline(
            pipeline_type=args.pipeline_type,
            display_name=args.name or args.pipeline_type.replace("_", " ").title(),
            asset_key=args.asset_key or args.pipeline_type,
            source_system=args.source_system or args.pipeline_type,
            run_link_template=args.run_link,
            expected_daily=not args.not_expected_daily,
            new_label=args.new_label,
            updated_label=args.updated_label,
        )
        from reporting_assets.pipelines.registry import refuse_reserved_key, validate_pipeline

        validate_pipeline(pipeline)  # a bad value or key needs no database
        reserved = reserved_asset_keys()
        refuse_reserved_key(pipeline, reserved)
        with connect(_database_url(), doing="registering a pipeline") as conn:
            outcome = add_pipeline(conn, pipeline, reserved, replace=args.replace)
        verb = {"registered": "Registered", "updated": "Updated", "unchanged": "Already registered:"}[outcome]
        print(
            f"{verb} pipeline {pipeline.pipeline_type!r} (asset {pipeline.asset_key}, source system "
            f"{pipeline.source_system})"
        )
        return 0
    with connect(_database_url(), doing="reading the pipeline registry") as conn:
        if args.pipelines_command == "remove":
            removed = remove_pipeline(conn, args.pipeline_type)
            print(
                f"Removed pipeline {removed.pipeline_type!r}; its stored reports stay, and new runs of "
                f"asset {removed.asset_key} are no longer reported."
            )
            return 0
        registry = load_registry(conn)
    if args.pipelines_command == "show":
        pipeline = registry.require(args.pipeline_type)
        if args.json:
            print(json.dumps(pipeline.__dict__, ensure_ascii=False, indent=2))
        else:
            for name, value in pipeline.__dict__.items():
                print(f"{name:<18} {'' if value is None else value}")
        return 0
    if args.json:
        print(json.dumps([p.__dict__ for p in registry.pipelines], ensure_ascii=False, indent=2))
    elif not registry.pipelines:
        print("No pipelines registered. Add one: reporting-assets pipelines add TYPE --name NAME")
    else:
        print("\n".join(describe(registry.pipelines)))
    return 0


def _read_contract(file: str | None) -> Any:
    if file in (None, "-"):
        if sys.stdin.isatty():
            raise ValueError("No contract given: pass --file contract.json, or pipe the JSON on stdin.")
        text, where = sys.stdin.read(), "stdin"
    else:
        path = Path(file)
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise ValueError(f"Cannot read the contract file {file}: {exc.strerror or exc}.") from None
    try:
        return json.loads(text), where
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"The contract in {where} is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None


def _cmd_report_run(args: argparse.Namespace) -> int:
    from reporting_assets.errors import DatabaseUnavailableError
    from reporting_assets.pipelines.ingest import parse_contract
    from reporting_assets.pipelines.spool import send_report, send_spooled

    if args.spool:
        _database_url()
        outcome = send_spooled()
        for run in outcome.sent:
            print(f"Sent {run.pipeline_type} {run.external_execution_id}: {run.show_command}")
        for path, problem in outcome.failed.items():
            print(f"Kept {path}: {problem}", file=sys.stderr)
        if not outcome.sent and not outcome.failed:
            print("Nothing spooled.")
        return 1 if outcome.failed else 0
    raw, where = _read_contract(args.file)
    report = parse_contract(raw, source=f"the run report in {where}")
    with contextlib.suppress(DatabaseUnavailableError):  # send_report spools the contract, saying so
        _database_url()
    run = send_report(report, partition_key=args.partition)
    if args.json:
        print(json.dumps(run.as_json(), ensure_ascii=False))
    else:
        print(
            f"Recorded {run.pipeline_type} run {run.external_execution_id} for {run.partition_key!r}; "
            f"its report appears once the report sensor has run: {run.show_command}"
        )
    return 0


def add_cli(subparsers: Any) -> None:
    """Add the ``pipelines`` and ``report-run`` commands to the top-level subparsers."""
    raw = argparse.RawDescriptionHelpFormatter
    pipelines = subparsers.add_parser(
        "pipelines",
        help="register the pipelines whose runs get reports",
        description="The pipeline registry: which pipelines get execution reports, lineage and daily "
        "summaries, the Dagster asset their runs materialize, the source system automation reports "
        "group them by, and the link to a run in an external orchestrator.",
        epilog=PIPELINES_EPILOG,
        formatter_class=raw,
    )
    p_sub = pipelines.add_subparsers(dest="pipelines_command", required=True, metavar="ACTION")
    add = p_sub.add_parser(
        "add",
        help="register a pipeline (no package edit needed)",
        description="Register a pipeline. Its runs are reported when they materialize --asset-key for a "
        "'customer|day' partition: a Dagster asset in any code location on this instance, or runless "
        "events sent by PipelineReporter.save(), `reporting-assets report-run` or POST /api/pipeline-runs.",
        epilog=PIPELINES_EPILOG,
        formatter_class=raw,
    )
    add.add_argument("pipeline_type", help="the contract's pipeline_type, e.g. crm_sync (a-z, 0-9, _)")
    add.add_argument("--name", help="display name in reports, e.g. 'CRM Sync' (default: from the type)")
    add.add_argument(
        "--asset-key", help="Dagster asset key its runs materialize, e.g. crm/sync (default: the type)"
    )
    add.add_argument(
        "--source-system",
        help="what automation reports group it by (`automation-report --crm hubspot`); default: the type",
    )
    add.add_argument(
        "--run-link",
        metavar="TEMPLATE",
        help="link to an external run, {id} = its execution id, e.g. https://kestra.example.com/executions/{id}",
    )
    add.add_argument(
        "--not-expected-daily",
        action="store_true",
        help="do not mark a customer's day incomplete without a run of it (default: expected daily)",
    )
    add.add_argument(
        "--new-label", default="New Records", help="the report's 'new' row (default: New Records)"
    )
    add.add_argument(
        "--updated-label",
        default="Updated Records",
        help="the report's 'updated' row (default: Updated Records)",
    )
    add.add_argument(
        "--replace", action="store_true", help="change an already registered pipeline's settings"
    )
    lst = p_sub.add_parser("list", help="list registered pipelines")
    lst.add_argument("--json", action="store_true", help="print JSON")
    show = p_sub.add_parser("show", help="print one pipeline's settings")
    show.add_argument("pipeline_type", help="e.g. order_sync")
    show.add_argument("--json", action="store_true", help="print JSON")
    remove = p_sub.add_parser("remove", help="unregister a pipeline (its stored reports stay)")
    remove.add_argument("pipeline_type", help="e.g. crm_sync")
    pipelines.set_defaults(handler=_cmd_pipelines)

    report_run = subparsers.add_parser(
        "report-run",
        help="record a run of a pipeline outside Dagster from its contract JSON",
        description="Record one run of a registered pipeline that ran outside Dagster (a Kestra task, a "
        "cron script): its run-report contract becomes a runless materialization on the Dagster "
        "instance, and the report sensor renders its report, lineage and summary. When the instance "
        "is away the contract is spooled in the project home; --spool sends what was spooled.",
        epilog=REPORT_RUN_EPILOG,
        formatter_class=raw,
    )
    source = report_run.add_mutually_exclusive_group()
    source.add_argument("--file", help="the contract JSON file ('-' or none: stdin)")
    source.add_argument(
        "--spool", action="store_true", help="send the contracts spooled while the instance was away"
    )
    report_run.add_argument(
        "--partition", help="'CUSTOMER|YYYY-MM-DD' the run is for; refused when the contract says otherwise"
    )
    report_run.add_argument("--json", action="store_true", help="print where the report will appear as JSON")
    report_run.set_defaults(handler=_cmd_report_run)
