"""Sync sessions: the ``sync_order_list`` job's multi-asset and the sensors that close sessions of
failed, canceled or dead runs, with ``reports_output`` (``REPORTING_REPORTS_DIR`` or reports/) and
``sync_settings`` (``REPORTING_SYNC_CONFIG`` or the shipped sync.toml). They also use the shared
``postgres``.
"""

import dagster as dg

from reporting_assets.sync.assets import sync_order_list_job, sync_session
from reporting_assets.sync.resources import ReportsOutputResource, SyncSettingsResource
from reporting_assets.sync.sensors import sync_sensors


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[sync_session],
        jobs=[sync_order_list_job],
        sensors=sync_sensors,
        resources={"reports_output": ReportsOutputResource(), "sync_settings": SyncSettingsResource()},
    )
