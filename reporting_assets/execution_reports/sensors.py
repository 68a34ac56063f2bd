"""Sensors that keep reports, lineage and summaries current without anyone touching anything.

``source_runs_sensor`` follows the event log with a storage-id cursor (cost per tick depends on
what is new, not on history or on the number of registered pipelines) and requests the report
assets for exactly the partitions that the registered pipelines' assets touched (runs of any
code location, and runs reported from outside Dagster as runless events).
A run for a day before yesterday is the sensor-triggered backfill of that partition; when one
tick touches many past partitions it launches one backfill, which the backfill daemon splits by
the assets' ``BackfillPolicy`` (one run per customer range), instead of a run per partition.

``failed_source_run_sensor``/``canceled_source_run_sensor`` make sure a run of a registered
pipeline that failed or was canceled still gets its failed report, even when it emitted nothing.
Each evaluation reads the pipeline registry with one query.
"""

import datetime as dt
from collections.abc import Collection

import dagster as dg
from dagster import DagsterEventType
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.definitions.events import AssetKeyPartitionKey

from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS, render_reports_job
from reporting_assets.logging_ids import get_logger
from reporting_assets.partition_keys import parse_partition_key
from reporting_assets.partitions import split_valid_partition_keys
from reporting_assets.resources import PostgresResource

PAGE_SIZE = 1_000
BACKFILL_THRESHOLD = 10
_PARTITION_TAG = "dagster/partition"


def touched_partitions(
    instance: dg.DagsterInstance,
    after_storage_id: int,
    source_keys: Collection[dg.AssetKey],
    unregistered: set[dg.AssetKey] | None = None,
) -> tuple[dict[str, int], int]:
    """Partitions with new events of ``source_keys`` after the cursor -> newest storage id, and the
    next cursor.

    One paged query per kind (materializations, observations) over every asset, filtered here:
    a tick costs what is new, however many pipelines are registered. When a page is full the
    cursor stops at the last id read, so nothing is skipped. Events that carry the run-report
    contract for an asset no registered pipeline has are added to ``unregistered``.
    """
    from reporting_assets.contract import RUN_REPORT_METADATA_KEY  # pydantic models: paid by the tick

    wanted = set(source_keys)
    touched: dict[str, int] = {}
    newest = after_storage_id
    stop_at: list[int] = []
    for event_type in (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION):
        records = instance.event_log_storage.get_event_records(
            dg.EventRecordsFilter(event_type=event_type, after_cursor=after_storage_id),
            limit=PAGE_SIZE,
            ascending=True,
        )
        for record in records:
            newest = max(newest, record.storage_id)
            entry = record.event_log_entry
            asset_event = entry.asset_materialization or entry.asset_observation
            if asset_event is None or not record.partition_key:
                continue
            if asset_event.asset_key not in wanted:
                if unregistered is not None and RUN_REPORT_METADATA_KEY in asset_event.metadata:
                    unregistered.add(asset_event.asset_key)
                continue
            touched[record.partition_key] = max(touched.get(record.partition_key, 0), record.storage_id)
        if len(records) == PAGE_SIZE:
            stop_at.append(records[-1].storage_id)
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
def source_runs_sensor(context: dg.SensorEvaluationContext, postgres: PostgresResource) -> dg.SensorResult:
    from reporting_assets.pipelines.registry import load_registry  # psycopg: paid by a tick, not the load

    if context.cursor is None:
        # Start at the present: history is rendered by the demo, backfills or a manual range run.
        latest = context.instance.event_log_storage.get_maximum_record_id() or 0
        return dg.SensorResult(skip_reason=f"Cursor initialised at event {latest}", cursor=str(latest))
    with postgres.connection(doing="reading the pipeline registry") as conn:
        registry = load_registry(conn)
    unregistered: set[dg.AssetKey] = set()
    touched, cursor = touched_partitions(
        context.instance, int(context.cursor), registry.asset_keys, unregistered
    )
    log = get_logger(__name__, context.log)
    if unregistered:
        log.warning(
            "es-002",
            "Skipping run reports of %s: no registered pipeline has this asset (removed from the "
            "registry?); `reporting-assets pipelines add TYPE --asset-key KEY` registers it, then "
            "re-send or re-run those runs",
            ", ".join(sorted(k.to_user_string() for k in unregistered)),
        )
    valid, invalid = split_valid_partition_keys(context.instance, touched)
    if invalid:
        # requesting them would fail the tick for good (the cursor could never pass them)
        log.warning(
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


def source_run_partition(
    instance: dg.DagsterInstance, run: dg.DagsterRun, source_keys: Collection[dg.AssetKey]
) -> str | dg.SkipReason:
    """The report partition of a single-partition run that set out to materialize a registered
    pipeline's asset (``source_keys``), or why the run is not one (any job of any code location
    ends up here)."""
    from reporting_assets.execution_reports.events import planned_assets  # the lineage store, psycopg

    partition = run.tags.get(_PARTITION_TAG)
    if partition is None or run.job_name == render_reports_job.name:
        return dg.SkipReason(f"Run {run.run_id} is not a single-partition source run")
    if not planned_assets(instance, run) & set(source_keys):
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
    def sensor(
        context: dg.RunStatusSensorContext, postgres: PostgresResource
    ) -> dg.RunRequest | dg.SkipReason:
        from reporting_assets.pipelines.registry import load_registry

        with postgres.connection(doing="reading the pipeline registry") as conn:
            keys = load_registry(conn).asset_keys
        partition = source_run_partition(context.instance, context.dagster_run, keys)
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
