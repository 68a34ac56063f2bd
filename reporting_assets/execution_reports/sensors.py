"""Sensors that keep reports, lineage and summaries current without anyone touching anything.

``source_runs_sensor`` follows the event log with a storage-id cursor (cost per tick depends on
what is new, not on history) and requests the report assets for exactly the partitions touched.
A run for a day before yesterday is the sensor-triggered backfill of that partition; when one
tick touches many past partitions it launches one backfill, which the backfill daemon splits by
the assets' ``BackfillPolicy`` (one run per customer range), instead of a run per partition.

``failed_source_run_sensor``/``canceled_source_run_sensor`` make sure a source run that failed
or was canceled still gets its failed report, even when it emitted nothing.
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.definitions.events import AssetKeyPartitionKey

from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS, render_reports_job
from reporting_assets.execution_reports.events import planned_assets
from reporting_assets.logging_ids import get_logger
from reporting_assets.partition_keys import parse_partition_key
from reporting_assets.partitions import split_valid_partition_keys
from reporting_assets.sources.assets import REPORTED_SOURCE_KEYS

PAGE_SIZE = 1_000
BACKFILL_THRESHOLD = 10
_PARTITION_TAG = "dagster/partition"


def touched_partitions(
    instance: dg.DagsterInstance, after_storage_id: int, source_keys: Sequence[dg.AssetKey]
) -> tuple[dict[str, int], int]:
    """Partitions with new source events after the cursor -> newest storage id, and the next cursor.

    At most ``PAGE_SIZE`` events per source asset and kind are read per tick; when a page is
    full the cursor stops at the lowest fully read id, so nothing is skipped.
    """
    touched: dict[str, int] = {}
    newest = after_storage_id
    stop_at: list[int] = []
    for key in source_keys:
        filter_ = dg.AssetRecordsFilter(asset_key=key, after_storage_id=after_storage_id)
        for fetch in (instance.fetch_materializations, instance.fetch_observations):
            result = fetch(filter_, limit=PAGE_SIZE, ascending=True)
            for record in result.records:
                newest = max(newest, record.storage_id)
                if record.partition_key:
                    touched[record.partition_key] = max(
                        touched.get(record.partition_key, 0), record.storage_id
                    )
            if result.has_more and result.records:
                stop_at.append(result.records[-1].storage_id)
    cursor = min(stop_at) if stop_at else newest
    if stop_at:
        touched = {p: s for p, s in touched.items() if s <= cursor}
    return touched, cursor


def report_requests(
    touched: dict[str, int],
    today: dt.date,
    asset_graph: BaseAssetGraph | None = None,
) -> list[dg.RunRequest]:
    """One run per recent partition (run key = partition@event), past partitions batched."""
    recent = {p: s for p, s in touched.items() if parse_partition_key(p).day >= today - dt.timedelta(days=1)}
    past = sorted(set(touched) - set(recent))
    requests = [
        dg.RunRequest(partition_key=p, asset_selection=REPORT_ASSET_KEYS, run_key=f"reports:{p}@{s}")
        for p, s in sorted(recent.items())
    ]
    if len(past) > BACKFILL_THRESHOLD and asset_graph is not None:
        subset = AssetGraphSubset.from_asset_partition_set(
            {AssetKeyPartitionKey(key, p) for key in REPORT_ASSET_KEYS for p in past}, asset_graph
        )
        requests.append(
            dg.RunRequest.for_asset_graph_subset(subset, tags={"reporting/trigger": "source_runs_sensor"})
        )
    else:
        requests += [
            dg.RunRequest(
                partition_key=p, asset_selection=REPORT_ASSET_KEYS, run_key=f"reports:{p}@{touched[p]}"
            )
            for p in past
        ]
    return requests


@dg.sensor(
    name="source_runs_sensor",
    job=render_reports_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Renders reports, lineage and daily summaries for the partitions new source runs touched.",
)
def source_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    if context.cursor is None:
        # Start at the present: history is rendered by the demo, backfills or a manual range run.
        latest = context.instance.event_log_storage.get_maximum_record_id() or 0
        return dg.SensorResult(skip_reason=f"Cursor initialised at event {latest}", cursor=str(latest))
    touched, cursor = touched_partitions(context.instance, int(context.cursor), REPORTED_SOURCE_KEYS)
    valid, invalid = split_valid_partition_keys(context.instance, touched)
    if invalid:
        # requesting them would fail the tick for good (the cursor could never pass them)
        get_logger(__name__, context.log).warning(
            "es-001",
            "Not rendering %s: not a partition of the report assets (a customer removed from the "
            "'customers' partitions?); `reporting-assets customers add NAME` brings one back, then "
            "re-run its source pipelines",
            ", ".join(invalid),
        )
        touched = {p: touched[p] for p in valid}
    today = dt.datetime.now(dt.UTC).date()
    graph = context.repository_def.asset_graph if context.repository_def else None
    requests = report_requests(touched, today, graph)
    if not requests:
        return dg.SensorResult(skip_reason="No new source runs", cursor=str(cursor))
    return dg.SensorResult(run_requests=requests, cursor=str(cursor))


def source_run_partition(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | dg.SkipReason:
    """The report partition of a single-partition run that set out to materialize a source
    pipeline, or why the run is not one (any job of any code location ends up here)."""
    partition = run.tags.get(_PARTITION_TAG)
    if partition is None or run.job_name == render_reports_job.name:
        return dg.SkipReason(f"Run {run.run_id} is not a single-partition source run")
    if not planned_assets(instance, run) & set(REPORTED_SOURCE_KEYS):
        return dg.SkipReason(f"Run {run.run_id} ({run.job_name}) did not plan any source pipeline")
    if not split_valid_partition_keys(instance, [partition])[0]:
        return dg.SkipReason(
            f"Run {run.run_id}: {partition!r} is not a partition of the report assets (customer "
            "removed?); `reporting-assets customers add NAME` brings it back"
        )
    return partition


def _build_status_sensor(status: dg.DagsterRunStatus, name: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        monitor_all_code_locations=True,
        request_job=render_reports_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Reports source runs that end {status.value}: their partition is re-rendered so the "
        "failed run gets a report even when it emitted nothing.",
    )
    def sensor(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        partition = source_run_partition(context.instance, context.dagster_run)
        if isinstance(partition, dg.SkipReason):
            return partition
        return dg.RunRequest(
            partition_key=partition,
            asset_selection=REPORT_ASSET_KEYS,
            run_key=f"reports:{partition}@{status.value.lower()}:{context.dagster_run.run_id}",
        )

    return sensor


failed_source_run_sensor = _build_status_sensor(dg.DagsterRunStatus.FAILURE, "failed_source_run_sensor")
canceled_source_run_sensor = _build_status_sensor(dg.DagsterRunStatus.CANCELED, "canceled_source_run_sensor")
report_sensors = [source_runs_sensor, failed_source_run_sensor, canceled_source_run_sensor]
