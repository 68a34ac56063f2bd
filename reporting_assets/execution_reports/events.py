"""Read what source runs reported for a set of partitions from the Dagster instance.

Materializations carry the contract of successful runs, observations the error contract of
runs that failed after starting, and the run storage covers runs that failed or were canceled
before emitting anything. The asset events of every registered pipeline are read with one
indexed query (plus one for the assets' wipe times), so a render costs the same number of
queries however many pipelines are registered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from dagster._core.instance.utils import RUNLESS_RUN_ID
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result, db_select
from dagster._serdes import deserialize_value

from reporting_assets.contract import RUN_REPORT_METADATA_KEY
from reporting_assets.errors import ReportingError
from reporting_assets.execution_reports.source_event import EventKind, SourceEvent, external_run_id
from reporting_assets.lineage.store import RunInfo

EXTERNAL_ID_METADATA_KEY = "external_execution_id"
"""The metadata entry of a runless materialization that names the external run."""
_PARTITION_TAG = "dagster/partition"


def metadata_value(metadata: Mapping[str, Any], key: str) -> Any:
    """The plain value of a metadata entry (``MetadataValue`` or raw), or None."""
    entry = metadata.get(key)
    return None if entry is None else getattr(entry, "value", entry)


_ASSET_EVENT_TYPES = [DagsterEventType.ASSET_OBSERVATION.value, DagsterEventType.ASSET_MATERIALIZATION.value]


def asset_event_records(
    instance: dg.DagsterInstance,
    asset_keys: Sequence[dg.AssetKey],
    partition_keys: Sequence[str] | None,
    stored: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[dg.EventLogRecord]:
    """The materializations and observations of ``asset_keys`` for ``partition_keys`` (None: any
    partition or none) stored in ``stored`` (start inclusive, end exclusive; None: any time),
    oldest first, in one query over the event log's asset index (Dagster's own readers take one
    asset key per query). Events from before an asset was wiped are left out, as Dagster's
    readers do."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        raise ReportingError(
            f"The instance's event log storage ({type(storage).__name__}) is not SQL-based; the reports "
            "read asset events with SQL. Use PostgreSQL storage (dagster.yaml in the project)."
        )
    if not asset_keys or (partition_keys is not None and not partition_keys):
        return []
    table = SqlEventLogStorageTable
    query = (
        db_select([table.c.id, table.c.event])
        .where(table.c.asset_key.in_([key.to_string() for key in asset_keys]))
        .where(table.c.dagster_event_type.in_(_ASSET_EVENT_TYPES))
        .order_by(table.c.id.asc())
    )
    if partition_keys is not None:
        query = query.where(table.c.partition.in_(list(partition_keys)))
    if stored is not None:  # the column holds naive UTC times
        start, end = (t.astimezone(dt.UTC).replace(tzinfo=None) for t in stored)
        query = query.where(table.c.timestamp >= start).where(table.c.timestamp < end)
    query = storage._add_assets_wipe_filter_to_query(
        query, storage._get_assets_details(asset_keys), asset_keys
    )
    with storage.index_connection() as conn, db_result(conn, query) as result:
        rows = result.fetchall()
    return [
        dg.EventLogRecord(storage_id=row_id, event_log_entry=deserialize_value(event, dg.EventLogEntry))
        for row_id, event in rows
    ]


def fetch_source_events(
    instance: dg.DagsterInstance,
    sources: Mapping[dg.AssetKey, str],
    partition_keys: Sequence[str],
) -> list[SourceEvent]:
    """All reports of source runs for these partitions, one per (run, pipeline, partition).

    ``sources`` maps each registered pipeline's asset key to its pipeline type. A run that both
    observed (failure) and materialized the same partition keeps the materialization. Runs that
    failed without emitting anything get a ``run_failure`` event. A runless materialization is a
    run reported from outside Dagster: its run is its pipeline and external execution id, so a
    report sent twice is one report (the newest event wins).
    """
    found: dict[tuple[str, str, str], SourceEvent] = {}
    materialized: set[tuple[str, str, str]] = set()
    for record in asset_event_records(instance, list(sources), partition_keys):
        entry = record.event_log_entry
        materialization = entry.asset_materialization
        asset_event = materialization or entry.asset_observation
        if asset_event is None or asset_event.partition is None or asset_event.asset_key not in sources:
            continue
        pipeline_type = sources[asset_event.asset_key]
        metadata = dict(asset_event.metadata)
        if materialization is None and RUN_REPORT_METADATA_KEY not in metadata:
            continue
        run_id, external_id = entry.run_id, None
        kind: EventKind = "materialization" if materialization is not None else "observation"
        if run_id == RUNLESS_RUN_ID:
            external_id = str(
                metadata_value(metadata, EXTERNAL_ID_METADATA_KEY) or f"event-{record.storage_id}"
            )
            run_id = external_run_id(pipeline_type, external_id)
            kind = "external"
        key = (run_id, pipeline_type, asset_event.partition)
        if materialization is not None:
            materialized.add(key)
        elif key in materialized:
            continue  # the run's materialization wins over its observation, whichever came first
        found[key] = SourceEvent(
            run_id=run_id,
            pipeline_type=pipeline_type,
            partition_key=asset_event.partition,
            kind=kind,
            storage_id=record.storage_id,
            timestamp=entry.timestamp,
            raw_contract=metadata_value(metadata, RUN_REPORT_METADATA_KEY),
            external_id=external_id,
            asset_key=asset_event.asset_key.to_user_string(),
        )
    for event in _silent_failures(instance, sources, partition_keys, found):
        found[(event.run_id, event.pipeline_type, event.partition_key)] = event
    return sorted(found.values(), key=lambda e: (e.partition_key, e.pipeline_type, e.timestamp, e.run_id))


def _silent_failures(
    instance: dg.DagsterInstance,
    source_keys: Mapping[dg.AssetKey, str],
    partition_keys: Sequence[str],
    found: dict[tuple[str, str, str], SourceEvent],
) -> Iterable[SourceEvent]:
    """Failed/canceled single-partition runs of source assets that left no report event."""
    runs = instance.get_runs(
        RunsFilter(
            tags={_PARTITION_TAG: list(partition_keys)},
            statuses=[DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED],
        )
    )
    wanted = dict(source_keys)
    for run in runs:
        partition = run.tags.get(_PARTITION_TAG)
        selected = planned_assets(instance, run) & set(wanted)
        missing = [k for k in selected if (run.run_id, wanted[k], partition) not in found]
        if not missing or partition is None:
            continue
        messages = _failure_messages(instance, run.run_id, run.status)
        record = instance.get_run_record_by_id(run.run_id)
        finished = record.end_time if record and record.end_time else dt.datetime.now(dt.UTC).timestamp()
        for key in sorted(missing):
            yield SourceEvent(
                run_id=run.run_id,
                pipeline_type=wanted[key],
                partition_key=partition,
                kind="run_failure",
                storage_id=None,
                timestamp=finished,
                raw_contract=None,
                failure_messages=messages,
            )


def planned_assets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> set[dg.AssetKey]:
    """The assets a run set out to materialize (its selection, else its execution plan)."""
    if run.asset_selection:
        return set(run.asset_selection)
    if run.execution_plan_snapshot_id is None:
        return set()
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    to_execute = set(plan.step_keys_to_execute)
    return {
        output.properties.asset_key
        for step in plan.steps
        if step.key in to_execute
        for output in step.outputs
        if output.properties is not None and output.properties.asset_key is not None
    }


def _user_error(error: Any) -> str:
    """The first error in the cause chain that is not a Dagster wrapper (the one to act on)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or error.context
    chosen = next((e for e in chain if not (e.cls_name or "").startswith("Dagster")), chain[0])
    message = chosen.message.strip()
    prefix = f"{chosen.cls_name}: "
    return message if message.startswith(prefix) else prefix + message


def _failure_messages(instance: dg.DagsterInstance, run_id: str, status: DagsterRunStatus) -> tuple[str, ...]:
    messages: list[str] = []
    records = instance.get_records_for_run(
        run_id,
        of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED},
    ).records
    for record in records:
        dagster_event = record.event_log_entry.dagster_event
        data = getattr(dagster_event, "event_specific_data", None)
        error = getattr(data, "error", None)
        if error is not None:
            messages.append(_user_error(error))
        elif record.event_log_entry.user_message:
            messages.append(record.event_log_entry.user_message.strip())
    if not messages:
        messages.append(f"Run ended with status {status.value} before reporting anything.")
    return tuple(dict.fromkeys(messages))


_RUN_STATUS = {
    DagsterRunStatus.QUEUED: "queued",
    DagsterRunStatus.NOT_STARTED: "queued",
    DagsterRunStatus.STARTING: "starting",
    DagsterRunStatus.STARTED: "started",
    DagsterRunStatus.CANCELING: "started",
    DagsterRunStatus.SUCCESS: "success",
    DagsterRunStatus.FAILURE: "failed",
    DagsterRunStatus.CANCELED: "canceled",
}


def run_infos(instance: dg.DagsterInstance, run_ids: Sequence[str]) -> dict[str, RunInfo]:
    """Job, status and timing of each run, for ``workflow_executions``."""
    if not run_ids:
        return {}
    infos = {}
    for record in instance.get_run_records(RunsFilter(run_ids=list(run_ids))):
        run = record.dagster_run
        infos[run.run_id] = RunInfo(
            run_id=run.run_id,
            job_name=run.job_name,
            status=_RUN_STATUS.get(run.status, "unknown"),
            started_at=dt.datetime.fromtimestamp(record.start_time, dt.UTC) if record.start_time else None,
            completed_at=dt.datetime.fromtimestamp(record.end_time, dt.UTC) if record.end_time else None,
        )
    return infos
