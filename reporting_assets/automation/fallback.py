"""The fallback: basic source metrics from the Dagster event log, for when the lineage tables
have nothing for a source (reports not rendered yet) or the reporting database is away.

A materialization of a source asset is a finished action (its ``status`` metadata says
success or partial, ``seconds`` how long it took); an observation carrying the run-report
contract is a failed one (``report_failures`` logs it before re-raising). Runs that died
without emitting anything are not counted: that needs the lineage (``execution_reports``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from reporting_assets.automation.metrics import ObservedAction
from reporting_assets.automation.window import ReportWindow
from reporting_assets.contract import RUN_REPORT_METADATA_KEY
from reporting_assets.execution_reports.events import (
    EXTERNAL_ID_METADATA_KEY,
    asset_event_records,
    metadata_value,
)


def event_log_actions(
    instance: dg.DagsterInstance,
    sources: Sequence[str],
    window: ReportWindow,
    asset_keys: Mapping[str, Sequence[dg.AssetKey]] | None = None,
) -> dict[str, list[ObservedAction]]:
    """Source -> its actions in the report window and the one before (for trends).

    ``asset_keys`` maps a source system to its pipelines' asset keys (the registry's
    ``sources()``; default: the asset named like the source). The events of all of them are
    read with one query, as the report step reads them, so the fallback costs the same however
    many pipelines are registered. A run that observed a failure and still materialized the
    partition counts once, as the materialization.
    """
    sources_of: dict[dg.AssetKey, list[str]] = {}
    for source in sources:
        for key in (asset_keys or {}).get(source, [dg.AssetKey(source)]):
            sources_of.setdefault(key, []).append(source)
    stored = (window.previous_start, window.end)
    found: dict[str, dict[tuple[str, str, str | None], ObservedAction]] = {s: {} for s in sources}
    materialized: set[tuple[str, str, str, str | None]] = set()
    for record in asset_event_records(instance, list(sources_of), None, stored):
        entry = record.event_log_entry
        asset_event = entry.asset_materialization or entry.asset_observation
        if asset_event is None:
            continue
        for source in sources_of.get(asset_event.asset_key, []):
            action = _action(source, record)
            if action is None:
                continue
            identity = (asset_event.asset_key.to_user_string(), action.run_id, action.partition_key)
            if entry.asset_materialization is not None:
                materialized.add((source, *identity))
            elif (source, *identity) in materialized:
                continue  # the run's materialization wins over its observation, whichever came first
            found[source][identity] = action
    return {
        source: sorted(actions.values(), key=lambda a: (a.timestamp, a.run_id))
        for source, actions in found.items()
    }


def _action(source: str, record: dg.EventLogRecord) -> ObservedAction | None:
    """The action an event stands for, or None (an observation without the contract). A runless
    event (a run reported from outside Dagster) is known by its external execution id."""
    event = record.event_log_entry
    asset_event = event.asset_materialization or event.asset_observation
    if asset_event is None:
        return None
    metadata = dict(asset_event.metadata)
    observed = event.asset_materialization is None
    if observed and RUN_REPORT_METADATA_KEY not in metadata:
        return None
    status = "failed" if observed else str(metadata_value(metadata, "status") or "success")
    seconds = metadata_value(metadata, "seconds")
    run_id = event.run_id or str(metadata_value(metadata, EXTERNAL_ID_METADATA_KEY) or record.storage_id)
    return ObservedAction(
        source=source,
        run_id=run_id,
        partition_key=asset_event.partition,
        status=status if status in ("success", "partial", "failed") else "success",
        timestamp=event.timestamp,
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
    )


def event_log_reader(
    instance: dg.DagsterInstance, asset_keys: Mapping[str, Sequence[dg.AssetKey]] | None = None
) -> Any:
    """An ``EventLogReader`` for :func:`reporting_assets.automation.report.generate_reports`."""

    def read(sources: Sequence[str], window: ReportWindow) -> dict[str, list[ObservedAction]]:
        return event_log_actions(instance, sources, window, asset_keys)

    return read
