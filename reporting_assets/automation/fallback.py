"""The fallback: basic source metrics from the Dagster event log, for when the lineage tables
have nothing for a source (reports not rendered yet) or the reporting database is away.

A materialization of a source asset is a finished action (its ``status`` metadata says
success or partial, ``seconds`` how long it took); an observation carrying the run-report
contract is a failed one (``report_failures`` logs it before re-raising). Runs that died
without emitting anything are not counted: that needs the lineage (``execution_reports``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from reporting_assets.automation.metrics import ObservedAction
from reporting_assets.automation.window import ReportWindow
from reporting_assets.contract import RUN_REPORT_METADATA_KEY
from reporting_assets.execution_reports.events import all_records, metadata_value

_EPSILON = 1e-6  # after_timestamp is exclusive; the window's start is inclusive


def event_log_actions(
    instance: dg.DagsterInstance,
    sources: Sequence[str],
    window: ReportWindow,
    asset_keys: Mapping[str, dg.AssetKey] | None = None,
) -> dict[str, list[ObservedAction]]:
    """Source -> its actions in the report window and the one before (for trends).

    ``asset_keys`` maps a source to its asset key (default: the asset named like the source).
    A run that observed a failure and still materialized the partition counts once, as the
    materialization.
    """
    found: dict[str, list[ObservedAction]] = {}
    for source in sources:
        key = (asset_keys or {}).get(source, dg.AssetKey(source))
        filter_ = dg.AssetRecordsFilter(
            asset_key=key,
            after_timestamp=window.previous_start.timestamp() - _EPSILON,
            before_timestamp=window.end.timestamp(),
        )
        by_identity: dict[tuple[str, str | None], ObservedAction] = {}
        for kind, fetch in (
            ("observation", instance.fetch_observations),
            ("materialization", instance.fetch_materializations),
        ):
            for record in all_records(fetch, filter_):
                event = record.event_log_entry
                asset_event = event.asset_materialization or event.asset_observation
                if asset_event is None:
                    continue
                metadata = dict(asset_event.metadata)
                if kind == "observation" and RUN_REPORT_METADATA_KEY not in metadata:
                    continue
                status = (
                    "failed"
                    if kind == "observation"
                    else str(metadata_value(metadata, "status") or "success")
                )
                seconds = metadata_value(metadata, "seconds")
                by_identity[(event.run_id, asset_event.partition)] = ObservedAction(
                    source=source,
                    run_id=event.run_id,
                    partition_key=asset_event.partition,
                    status=status if status in ("success", "partial", "failed") else "success",
                    timestamp=event.timestamp,
                    seconds=float(seconds) if isinstance(seconds, int | float) else None,
                )
        found[source] = sorted(by_identity.values(), key=lambda a: (a.timestamp, a.run_id))
    return found


def event_log_reader(
    instance: dg.DagsterInstance, asset_keys: Mapping[str, dg.AssetKey] | None = None
) -> Any:
    """An ``EventLogReader`` for :func:`reporting_assets.automation.report.generate_reports`."""

    def read(sources: Sequence[str], window: ReportWindow) -> dict[str, list[ObservedAction]]:
        return event_log_actions(instance, sources, window, asset_keys)

    return read


def source_names(keys: Iterable[dg.AssetKey]) -> list[str]:
    """Source names of source asset keys (the asset's name is its pipeline type)."""
    return [key.to_user_string() for key in keys]
