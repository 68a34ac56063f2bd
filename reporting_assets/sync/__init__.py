"""Sync sessions (seed 001, TASK027): a multi-customer sync job, session folders with an
executive summary, reports that exist even when the sync fails, structured log ids.
See docs/sync.md.

For the code location (``definitions.py``)::

    from reporting_assets.sync import sync_assets, sync_jobs, sync_resources, sync_sensors

Names are imported lazily, so ``reporting_assets.sync.cli`` loads without importing Dagster and
the ``reporting-assets`` CLI stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

    from reporting_assets.sync.assets import SYNC_ORDER_LIST, SYNC_SESSIONS, sync_order_list_job, sync_session
    from reporting_assets.sync.engine import SyncRequest, run_session
    from reporting_assets.sync.resources import ReportsOutputResource, SyncSettingsResource
    from reporting_assets.sync.sensors import (
        canceled_sync_run_sensor,
        failed_sync_run_sensor,
        stale_sync_sessions_sensor,
    )

    sync_assets: list[dg.AssetsDefinition]
    sync_jobs: list[dg.UnresolvedAssetJobDefinition]
    sync_sensors: list[dg.SensorDefinition]
    sync_resources: dict[str, dg.ConfigurableResource]

_LAZY = {
    "SYNC_ORDER_LIST": "reporting_assets.sync.assets",
    "SYNC_SESSIONS": "reporting_assets.sync.assets",
    "sync_session": "reporting_assets.sync.assets",
    "sync_order_list_job": "reporting_assets.sync.assets",
    "SyncRequest": "reporting_assets.sync.engine",
    "run_session": "reporting_assets.sync.engine",
    "ReportsOutputResource": "reporting_assets.sync.resources",
    "SyncSettingsResource": "reporting_assets.sync.resources",
    "failed_sync_run_sensor": "reporting_assets.sync.sensors",
    "stale_sync_sessions_sensor": "reporting_assets.sync.sensors",
    "canceled_sync_run_sensor": "reporting_assets.sync.sensors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "sync_assets":
        return [__getattr__("sync_session")]
    if name == "sync_jobs":
        return [__getattr__("sync_order_list_job")]
    if name == "sync_sensors":
        return [
            __getattr__("failed_sync_run_sensor"),
            __getattr__("canceled_sync_run_sensor"),
            __getattr__("stale_sync_sessions_sensor"),
        ]
    if name == "sync_resources":
        # ``reports_output``: REPORTING_REPORTS_DIR or reports/; ``sync_settings``: REPORTING_SYNC_CONFIG
        # or config/sync.toml. The job and sensors also use the project's ``postgres`` resource.
        return {
            "reports_output": __getattr__("ReportsOutputResource")(),
            "sync_settings": __getattr__("SyncSettingsResource")(),
        }
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SYNC_ORDER_LIST",
    "SYNC_SESSIONS",
    "ReportsOutputResource",
    "SyncRequest",
    "SyncSettingsResource",
    "canceled_sync_run_sensor",
    "failed_sync_run_sensor",
    "run_session",
    "stale_sync_sessions_sensor",
    "sync_assets",
    "sync_jobs",
    "sync_order_list_job",
    "sync_resources",
    "sync_sensors",
    "sync_session",
]
