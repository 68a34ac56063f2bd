"""Named SQL statements kept as package data in ``sql/queries/`` (values always bound as parameters)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

QUERIES_DIR: Traversable = resources.files("reporting_assets") / "sql" / "queries"


@cache
def query(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(
            f"SQL file {path} is missing: the installed package is incomplete; reinstall reporting_assets."
        )
    return path.read_text(encoding="utf-8")
