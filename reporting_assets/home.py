"""The project home: the one folder that holds runtime state, never the installed package.

The embedded PostgreSQL data (``.data/``), session reports (``reports/``), the ``.env`` the demo
writes and Dagster's instance (``dagster.yaml``, compute logs in ``storage/``) live here. It is
``REPORTING_HOME`` when set, else the current working folder, so a wheel installed into a
read-only site-packages works from any folder the user can write to.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from reporting_assets.errors import ProjectHomeError

HOME_ENV = "REPORTING_HOME"
DAGSTER_YAML = "dagster.yaml"


def project_home(environ: Mapping[str, str] | None = None) -> Path:
    """The folder for runtime state; an error naming it and the fix when it cannot hold state."""
    env = os.environ if environ is None else environ
    raw = env.get(HOME_ENV, "").strip()
    home = Path(raw).expanduser().absolute() if raw else Path.cwd()
    named = f"{HOME_ENV}={raw}" if raw else f"the current folder {home} ({HOME_ENV} is not set)"
    fix = (
        f"create it (mkdir -p {home}) or set {HOME_ENV} to a writable folder"
        if raw
        else f"run from a folder you can write to, or set {HOME_ENV} to one"
    )
    if not home.is_dir():
        what = "is not a folder" if home.exists() else "does not exist"
        raise ProjectHomeError(f"The project home {named} {what}: {fix}.")
    if not os.access(home, os.W_OK | os.X_OK):
        raise ProjectHomeError(
            f"The project home {named} is read-only for this user: {fix}. It holds the embedded "
            f"database (.data/), reports/, .env and Dagster's storage."
        )
    if _inside_site_packages(home):
        raise ProjectHomeError(
            f"The project home {named} is inside the Python installation's site-packages: {fix} "
            f"(runtime state never goes next to the installed code)."
        )
    return home


def _inside_site_packages(path: Path) -> bool:
    resolved = path.resolve()
    for key in ("purelib", "platlib"):
        lib = Path(sysconfig.get_paths()[key]).resolve()
        if resolved == lib or resolved.is_relative_to(lib):
            return True
    return False


def default_dagster_yaml() -> str:
    """The instance settings shipped with the package (the repo-root ``dagster.yaml``)."""
    return resources.files("reporting_assets").joinpath("defaults", DAGSTER_YAML).read_text(encoding="utf-8")


def ensure_dagster_yaml(home: Path) -> tuple[Path, bool]:
    """``home/dagster.yaml``, written from the shipped default when missing; (path, written)."""
    path = home / DAGSTER_YAML
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite the user's settings
            handle.write(default_dagster_yaml())
    except FileExistsError:
        return path, False
    except OSError as exc:
        raise ProjectHomeError(
            f"Cannot write {path}: {exc.strerror or exc}. Make the project home writable or set "
            f"{HOME_ENV} to a writable folder."
        ) from exc
    return path, True
