"""Named SQL statements kept as files in ``sql/queries/`` (values always bound as parameters)."""

from __future__ import annotations

from functools import cache

from reporting_assets.db.urls import PROJECT_ROOT

QUERIES_DIR = PROJECT_ROOT / "sql" / "queries"


@cache
def query(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {path} is missing; run from a full checkout.")
    return path.read_text(encoding="utf-8")
