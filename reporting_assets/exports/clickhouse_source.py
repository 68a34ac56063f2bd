"""The analytics tables on ClickHouse, behind the same interface as PostgreSQL's.

Queries compile with the ClickHouse dialect (every value a typed server-side parameter) and
run through one clickhouse-connect client, against a server or the embedded engine. Before a
table is first read its columns are checked against the catalog (``clickhouse_schema``), so a
missing table or a wrong column type fails before any export file is started. Exports read in
blocks (``query_row_block_stream``): memory stays flat however many rows there are. Values come
back as PostgreSQL's source gives them (timestamps aware, in UTC), so previews and XLSX/PDF
files are the same. CSV lines are made by ClickHouse itself, byte for byte as PostgreSQL's COPY
writes them (``clickhouse_csv``), and only copied through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from reporting_assets.exports.clickhouse_client import client_errors, open_client
from reporting_assets.exports.clickhouse_csv import csv_lines_sql, header_line
from reporting_assets.exports.clickhouse_schema import check_table
from reporting_assets.exports.clickhouse_url import ClickHouseTarget
from reporting_assets.exports.dialects import ClickHouseDialect
from reporting_assets.exports.dsl import CompiledQuery
from reporting_assets.exports.source import DEFAULT_BATCH_ROWS, ChartAxes, CompilingSource, Page


def _utc(value: Any) -> Any:
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


class ClickHouseAnalyticsSource(CompilingSource):
    """Analytics tables in a ClickHouse database (the target's), read-only."""

    name = "clickhouse"

    def __init__(self, target: ClickHouseTarget, *, statement_timeout_ms: int = 600_000) -> None:
        self.target = target
        self.dialect = ClickHouseDialect(database=target.database)
        self.statement_timeout_ms = statement_timeout_ms
        self._client: Any = None
        self._checked: set[str] = set()

    @property
    def settings(self) -> dict[str, Any]:
        """Per-query settings: read-only, the statement timeout, positional GROUP/ORDER BY."""
        return {
            "readonly": 2,
            "max_execution_time": max(1, self.statement_timeout_ms // 1000),
            "enable_positional_arguments": 1,
        }

    @contextmanager
    def _read(self, query: CompiledQuery, doing: str) -> Iterator[tuple[Any, CompiledQuery]]:
        """The client and ``query`` in this engine's dialect, its table checked once."""
        with client_errors(self.target, doing):
            if self._client is None:
                self._client = open_client(self.target, doing=doing)
            own = query.in_dialect(self.dialect)
            if own.table.name not in self._checked:
                check_table(self._client, self.target, own.table)
                self._checked.add(own.table.name)
            yield self._client, own

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @staticmethod
    def _params(values: Sequence[Any]) -> dict[str, Any]:
        return {f"p{i}": v for i, v in enumerate(values)}

    def _rows(self, client: Any, statement: Any, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        result = client.query(
            statement.as_string(None), parameters=self._params(params), settings=self.settings
        )
        return [tuple(row) for row in result.result_rows]

    def page(
        self, query: CompiledQuery, *, page: int, page_size: int, chart: ChartAxes | None = None
    ) -> Page:
        with self._read(query, "previewing a report") as (client, own):
            total = int(self._rows(client, *own.count_sql())[0][0])
            statement, params = own.preview_sql(page_offset=(page - 1) * page_size, page_size=page_size)
            rows = self._normalized(own, self._rows(client, statement, params))
            points = None if chart is None else self._chart(client, own, chart)
        return Page(rows=rows, page=page, page_size=page_size, total=total, chart=points)

    def count(self, query: CompiledQuery) -> int:
        with self._read(query, "counting report rows") as (client, own):
            return int(self._rows(client, *own.count_sql())[0][0])

    def stream(self, query: CompiledQuery, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[list[tuple]]:
        """The result in blocks as the engine sends them, cut to at most ``batch_rows`` rows."""
        with self._read(query, "exporting a report") as (client, own):
            statement, params = own.rows_sql()
            settings = {**self.settings, "max_block_size": batch_rows}
            with client.query_row_block_stream(
                statement.as_string(None), parameters=self._params(params), settings=settings
            ) as blocks:
                for block in blocks:
                    for start in range(0, len(block), batch_rows):
                        yield self._normalized(own, block[start : start + batch_rows])

    def copy_csv(self, query: CompiledQuery, out: IO[bytes]) -> int:
        """Write the result as CSV, byte for byte as PostgreSQL's COPY would; return the rows.

        ClickHouse formats every line (``clickhouse_csv``); the lines arrive in blocks, as
        bytes, and are written as they come."""
        with self._read(query, "exporting a report as CSV") as (client, own):
            statement, params = own.rows_sql()
            rows = 0
            with client.query_column_block_stream(
                csv_lines_sql(statement, own.columns).as_string(None),
                parameters=self._params(params),
                settings=self.settings,
                column_formats={"line": "bytes"},
            ) as blocks:
                out.write(header_line(own.columns))
                for (lines,) in blocks:
                    if lines:  # an empty block would otherwise add a blank line
                        out.write(b"\n".join(lines) + b"\n")
                        rows += len(lines)
        return rows

    def chart(self, query: CompiledQuery, x: str, y: str, max_points: int) -> list[tuple[Any, float]]:
        with self._read(query, "charting a report") as (client, own):
            return self._chart(client, own, ChartAxes(x, y, max_points))

    def _chart(self, client: Any, own: CompiledQuery, axes: ChartAxes) -> list[tuple[Any, float]]:
        rows = self._rows(client, *own.chart_sql(*axes))
        return [(_utc(r[0]), float(r[1] or 0)) for r in rows]

    @staticmethod
    def _normalized(query: CompiledQuery, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Rows with timestamps aware in UTC (as psycopg gives them in a UTC session)."""
        stamps = [i for i, c in enumerate(query.columns) if c.type == "timestamp"]
        if not stamps:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for i in stamps:
                values[i] = _utc(values[i])
            out.append(tuple(values))
        return out
