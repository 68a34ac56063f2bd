"""Report builder and scheduled exports. See docs/exports.md.

The Dagster definitions are in ``definitions.py``; this package imports nothing at import time,
so the CLI and the engine modules load without Dagster.
"""

from __future__ import annotations

from typing import Any


def build_export_resources() -> dict[str, Any]:
    """Resource key -> resource for ``dg.Definitions(resources=...)``."""
    from reporting_assets.exports.s3 import s3_resource_from_env
    from reporting_assets.exports.settings import export_settings_resource_from_env

    return {"s3": s3_resource_from_env(), "exports": export_settings_resource_from_env()}
