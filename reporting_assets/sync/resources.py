"""Resources of the sync: where reports go and which TOML config the session reads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from reporting_assets.sync.folders import reports_root

if TYPE_CHECKING:
    from reporting_assets.sync.config import SyncConfig


class ReportsOutputResource(dg.ConfigurableResource):
    """The reports root: sync sessions write to ``{root}/sync/{SYNC-ID}/``. Empty means
    ``REPORTING_REPORTS_DIR`` when set, else ``reports/`` in the repo (resolved when a run
    starts, never at import time)."""

    root: str = Field(
        default="",
        description="Folder for report files; empty = REPORTING_REPORTS_DIR, else reports/ in the repo.",
    )

    def path(self) -> Path:
        return reports_root(self.root)


class SyncSettingsResource(dg.ConfigurableResource):
    """Which sync config file to read (field mappings, dropdown labels, environment profiles)."""

    config_path: str = Field(
        default="",
        description="TOML file; empty = REPORTING_SYNC_CONFIG when set, else config/sync.toml.",
    )

    def load(self) -> SyncConfig:
        from reporting_assets.sync.config import load_config  # the TOML schema: read when a run starts

        return load_config(self.config_path or None)
