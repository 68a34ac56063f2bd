"""Report builder and scheduled exports. See docs/exports.md.

For the code location (``definitions.py``)::

    from reporting_assets.exports import export_assets, export_jobs, export_resources, export_sensors

* ``export_assets``: the ``scheduled_exports`` asset and its two health checks;
* ``export_jobs``: ``scheduled_exports_job``, ``export_maintenance``, ``export_health_checks``;
* ``export_sensors``: ``scheduled_exports_sensor`` (every 30 s), ``export_maintenance_sensor`` (hourly);
* ``export_resources``: ``{"s3": S3Resource, "exports": ExportSettingsResource}`` from
  ``REPORTING_S3_*`` / ``REPORTING_EXPORTS_*`` (unset variables keep the defaults). The asset also
  uses the project's ``postgres`` and the shared ``smtp`` resource.

Names resolve lazily, so the CLI and the engine modules load without importing Dagster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

    export_assets: list[dg.AssetsDefinition | dg.AssetChecksDefinition]
    export_jobs: list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition]
    export_sensors: list[dg.SensorDefinition]
    export_resources: dict[str, dg.ConfigurableResource]

_DEFS = "reporting_assets.exports.dagster_defs"


def build_export_resources() -> dict[str, Any]:
    """Resource key -> resource for ``dg.Definitions(resources=...)``."""
    from reporting_assets.exports.s3 import s3_resource_from_env
    from reporting_assets.exports.settings import export_settings_resource_from_env

    return {"s3": s3_resource_from_env(), "exports": export_settings_resource_from_env()}


def __getattr__(name: str) -> Any:
    if name == "export_assets":
        defs = importlib.import_module(_DEFS)
        return [defs.scheduled_exports, defs.export_failure_rate, defs.export_backlog]
    if name == "export_jobs":
        defs = importlib.import_module(_DEFS)
        return [defs.scheduled_exports_job, defs.export_maintenance, defs.export_health_job]
    if name == "export_sensors":
        defs = importlib.import_module(_DEFS)
        return [defs.scheduled_exports_sensor, defs.export_maintenance_sensor]
    if name == "export_resources":
        return build_export_resources()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["build_export_resources", "export_assets", "export_jobs", "export_resources", "export_sensors"]
