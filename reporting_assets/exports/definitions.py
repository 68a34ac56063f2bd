"""Scheduled exports: the ``scheduled_exports`` asset with its two health checks, its jobs
(``scheduled_exports_job``, ``export_maintenance``, ``export_health_checks``) and sensors, with
the ``s3`` and ``exports`` resources built from ``REPORTING_S3_*`` / ``REPORTING_EXPORTS_*`` when
``defs()`` runs. The asset also uses the shared ``postgres`` and the delivery domain's ``smtp``.
"""

import dagster as dg

from reporting_assets.exports import build_export_resources
from reporting_assets.exports.dagster_defs import (
    export_backlog,
    export_failure_rate,
    export_health_job,
    export_maintenance,
    export_maintenance_sensor,
    scheduled_exports,
    scheduled_exports_job,
    scheduled_exports_sensor,
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[scheduled_exports],
        asset_checks=[export_failure_rate, export_backlog],
        jobs=[scheduled_exports_job, export_maintenance, export_health_job],
        sensors=[scheduled_exports_sensor, export_maintenance_sensor],
        resources=build_export_resources(),
    )
