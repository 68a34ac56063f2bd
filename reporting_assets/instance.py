"""The project's Dagster instance (``dagster.yaml`` in the project home) and the ``.env`` that finds it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from reporting_assets.home import HOME_ENV, ensure_dagster_yaml, project_home


def project_instance(home: Path | None = None) -> dg.DagsterInstance:
    """The PostgreSQL-backed instance configured by the home's ``dagster.yaml``.

    A home without one gets the shipped default first, so CLI commands and ``dagster dev`` (which
    reads ``DAGSTER_HOME`` from the ``.env`` written by :func:`write_dotenv`) share one instance.
    """
    root = home or project_home()
    ensure_dagster_yaml(root)
    return dg.DagsterInstance.from_config(str(root))


def write_dotenv(home: Path | None = None) -> Path:
    """Point ``DAGSTER_HOME`` and ``REPORTING_HOME`` at the project home, so ``dagster dev``, ``dg``
    and every process they start (code server, daemon, run workers) use the same instance and state.

    The dagster CLI loads ``.env`` from the working folder before it looks for DAGSTER_HOME.
    Other lines of an existing ``.env`` are kept.
    """
    root = home or project_home()
    path = root / ".env"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [line for line in lines if not line.startswith(("DAGSTER_HOME=", f"{HOME_ENV}="))]
    lines += [f"DAGSTER_HOME={root}", f"{HOME_ENV}={root}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
