"""The repo's Dagster instance (``dagster.yaml`` at the repo root) and the ``.env`` that finds it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from reporting_assets.db.urls import PROJECT_ROOT


def repo_instance() -> dg.DagsterInstance:
    """The PostgreSQL-backed instance configured by the repo-root ``dagster.yaml``."""
    return dg.DagsterInstance.from_config(str(PROJECT_ROOT))


def write_dotenv(root: Path = PROJECT_ROOT) -> Path:
    """Point ``DAGSTER_HOME`` at the repo root so ``dagster dev`` uses the same instance.

    The dagster CLI loads ``.env`` from the working folder before it looks for DAGSTER_HOME.
    Other lines of an existing ``.env`` are kept.
    """
    path = root / ".env"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [line for line in lines if not line.startswith("DAGSTER_HOME=")]
    lines.append(f"DAGSTER_HOME={root}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
