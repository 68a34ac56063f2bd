"""CSV with the standard library, for sources that cannot produce CSV themselves.

PostgreSQL exports use ``COPY ... TO STDOUT`` (``PostgresAnalyticsSource.copy_csv``), which is
what the benchmark's floor is made of; this writer is the portable path (same header, same
formula neutralization, UTF-8, RFC 4180 quoting) and is what a ClickHouse/DuckDB source without
a native CSV stream would use.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

from reporting_assets.exports.dsl import OutputColumn
from reporting_assets.exports.formats.cells import neutralize


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralize(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    return value


def write_csv(columns: Sequence[OutputColumn], batches: Iterable[Sequence[tuple]], out: IO[bytes]) -> int:
    """Write a header and every row; return the number of rows."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([c.name for c in columns])
        rows = 0
        for batch in batches:
            writer.writerows([[_cell(v) for v in row] for row in batch])
            rows += len(batch)
        text.flush()
        return rows
    finally:
        text.detach()
