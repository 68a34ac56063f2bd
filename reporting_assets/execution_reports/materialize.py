"""What the report step does when it runs: render the execution reports, store the lineage and
the daily summaries of its partitions, and describe each in the asset view. Imported by the step's
body, so loading the code location does not pay for the renderer, the stores or psycopg."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import dagster as dg

from reporting_assets.execution_reports.assets import DAILY_SUMMARIES, EXECUTION_REPORTS, WORKFLOW_LINEAGE
from reporting_assets.execution_reports.events import run_infos
from reporting_assets.execution_reports.service import render_partitions
from reporting_assets.lineage.store import lineage_connections, runs_for_partitions, store_lineage
from reporting_assets.logging_ids import get_logger
from reporting_assets.partitions import run_partition_keys
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.resources import PostgresResource, ReportSettingsResource
from reporting_assets.summaries.service import StoredSummary, summarize_partitions


def materialize_reports(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    report_settings: ReportSettingsResource,
) -> Iterator[dg.AssetMaterialization]:
    """One materialization per selected asset and partition, each after its rows are committed."""
    partition_keys = run_partition_keys(context)
    log = get_logger(__name__, context.log)
    log.info("ea-001", "Rendering %d partition(s)", len(partition_keys))
    with postgres.connection(doing=f"rendering {len(partition_keys)} partition(s)") as conn:
        if EXECUTION_REPORTS in context.selected_asset_keys:
            outcome = render_partitions(
                context.instance,
                conn,
                partition_keys,
                load_registry(conn),
                report_settings.run_url,
                report_settings.list_length,
                report_settings.render_processes,
                report_settings.event_url,
            )
            conn.commit()  # each asset's rows are durable before its materializations are reported
            for problem in outcome.problems:
                log.warning("ea-002", "Stored an error report instead: %s", problem)
            for row in outcome.rows:
                for warning in row.warnings:
                    log.warning("ea-004", "Customer template block left out: %s", warning)
            by_partition: dict[str, list] = {k: [] for k in partition_keys}
            for row in outcome.rows:
                by_partition[row.partition_key].append(row)
            for key in partition_keys:
                yield dg.AssetMaterialization(
                    asset_key=EXECUTION_REPORTS, partition=key, metadata=report_metadata(by_partition[key])
                )
        if WORKFLOW_LINEAGE in context.selected_asset_keys:
            runs = runs_for_partitions(conn, partition_keys)
            infos = run_infos(context.instance, [r["run_id"] for r in runs])
            extra = lineage_connections(len(partition_keys), report_settings.render_processes) - 1
            with ExitStack() as stack:
                more = [
                    stack.enter_context(postgres.connection(doing="writing lineage")) for _ in range(extra)
                ]
                lineage = store_lineage(conn, partition_keys, runs, infos, more)
            conn.commit()
            if lineage.runs_without_external_id:
                log.warning(
                    "ea-003",
                    "%d run(s) have no external execution id; their lineage links figures by "
                    "Dagster run id only",
                    len(lineage.runs_without_external_id),
                )
            rows_by_partition: dict[str, list] = {k: [] for k in partition_keys}
            for run_row in lineage.runs:
                rows_by_partition[run_row["partition_key"]].append(run_row)
            for key in partition_keys:
                yield dg.AssetMaterialization(
                    asset_key=WORKFLOW_LINEAGE,
                    partition=key,
                    metadata=lineage_metadata(rows_by_partition[key]),
                )
        if DAILY_SUMMARIES in context.selected_asset_keys:
            summaries = summarize_partitions(
                conn,
                partition_keys,
                report_settings.run_url,
                report_settings.expected_pipelines,
                report_settings.asset_url,
            )
            conn.commit()
            for stored in summaries:
                yield dg.AssetMaterialization(
                    asset_key=DAILY_SUMMARIES,
                    partition=stored.summary.partition.partition_key,
                    metadata=summary_metadata(stored),
                )


def report_metadata(rows: list) -> dict[str, dg.MetadataValue]:
    """The asset view: the latest report as markdown and a table of the partition's runs."""
    ordered = sorted(
        rows, key=lambda r: (r.run_started_at is not None, r.run_started_at, r.event_storage_id or 0)
    )
    latest = (
        ordered[-1].markdown_content if ordered else "_No source run has reported for this partition yet._"
    )
    table = dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "run_id": r.execution_id,
                    "pipeline": r.pipeline_type,
                    "status": r.status,
                    "new": r.summary_json["counts"]["new"],
                    "updated": r.summary_json["counts"]["updated"],
                    "records": r.summary_json["counts"]["records_processed"],
                    "seconds": float(r.metrics_json["execution_time_seconds"]),
                }
            )
            for r in ordered
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("run_id", "string"),
                dg.TableColumn("pipeline", "string"),
                dg.TableColumn("status", "string"),
                dg.TableColumn("new", "int"),
                dg.TableColumn("updated", "int"),
                dg.TableColumn("records", "int"),
                dg.TableColumn("seconds", "float"),
            ]
        ),
    )
    return {
        "report": dg.MetadataValue.md(latest),
        "runs": table,
        "reports": dg.MetadataValue.int(len(rows)),
        "failed_reports": dg.MetadataValue.int(sum(r.status == "failed" for r in rows)),
        "new_records": dg.MetadataValue.int(sum(r.summary_json["counts"]["new"] for r in rows)),
        "updated_records": dg.MetadataValue.int(sum(r.summary_json["counts"]["updated"] for r in rows)),
    }


def summary_metadata(stored: StoredSummary) -> dict[str, dg.MetadataValue]:
    summary = stored.summary
    return {
        "summary": dg.MetadataValue.md(stored.markdown),
        "complete": dg.MetadataValue.bool(summary.is_complete),
        "missing": dg.MetadataValue.text(", ".join(summary.missing + summary.failed) or "none"),
        "version": dg.MetadataValue.int(stored.version),
        "runs": dg.MetadataValue.int(summary.total_pipelines),
        "successful_runs": dg.MetadataValue.int(summary.successful_pipelines),
        **{name: dg.MetadataValue.int(value) for name, value in summary.totals.items()},
    }


def lineage_metadata(rows: list) -> dict[str, dg.MetadataValue]:
    return {
        "runs": dg.MetadataValue.int(len({r["run_id"] for r in rows})),
        "figures": dg.MetadataValue.int(sum(r["figures"] for r in rows)),
        "lineage": dg.MetadataValue.table(
            records=[
                dg.TableRecord(
                    {
                        "run_id": r["run_id"],
                        "pipeline": r["pipeline_type"],
                        "job": r["job_name"],
                        "run_status": r["run_status"],
                        "external_id": r["external_execution_id"] or "",
                        "figures": r["figures"],
                    }
                )
                for r in rows
            ],
            schema=dg.TableSchema(
                columns=[
                    dg.TableColumn("run_id", "string"),
                    dg.TableColumn("pipeline", "string"),
                    dg.TableColumn("job", "string"),
                    dg.TableColumn("run_status", "string"),
                    dg.TableColumn("external_id", "string"),
                    dg.TableColumn("figures", "int"),
                ]
            ),
        ),
    }
