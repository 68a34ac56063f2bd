"""The analytics source behind every report: one interface, PostgreSQL behind it today.

The engine, formats and previews only talk to :class:`AnalyticsSource`: ``prepare`` turns a
validated query into the engine's own form (for PostgreSQL, :class:`CompiledQuery`: SQL with
bound parameters), and the other methods read it. A ClickHouse or DuckDB source would
implement the same methods with its own compiler; nothing else would change.

Every read runs in a READ ONLY transaction with a statement timeout (defence in depth on top
of the compiler's whitelist), and exports read through a server-side cursor in batches so
memory stays flat however many rows there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, Protocol

from psycopg import sql
from psycopg.rows import tuple_row

from reporting_assets.db.connection import Connection, connect
from reporting_assets.exports.dialects import POSTGRES, Dialect
from reporting_assets.exports.dsl import CompiledQuery, QuerySpec, compile_query

DEFAULT_BATCH_ROWS = 5000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is read as a formula by spreadsheet programs."""


class ChartAxes(NamedTuple):
    """What a chart adds up: ``y`` per value of ``x``, the first ``max_points`` values."""

    x: str
    y: str
    max_points: int


@dataclass(frozen=True)
class Page:
    rows: list[tuple[Any, ...]]
    page: int
    page_size: int
    total: int
    chart: list[tuple[Any, float]] | None = None
    """The points of the chart asked for with the page (None when none was)."""

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))


class AnalyticsSource(Protocol):
    """What the report engine needs from an analytics store."""

    name: str

    def prepare(
        self,
        config: Mapping[str, Any] | QuerySpec,
        *,
        tenant_id: str,
        row_limit: int,
        max_row_limit: int,
        as_of: dt.datetime | None = None,
        extra_filters: Sequence[Any] | None = None,
    ) -> CompiledQuery: ...

    def page(
        self, query: CompiledQuery, *, page: int, page_size: int, chart: ChartAxes | None = None
    ) -> Page: ...

    def count(self, query: CompiledQuery) -> int: ...

    def stream(
        self, query: CompiledQuery, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[list[tuple]]: ...

    def copy_csv(self, query: CompiledQuery, out: IO[bytes]) -> int: ...

    def chart(self, query: CompiledQuery, x: str, y: str, max_points: int) -> list[tuple[Any, float]]: ...


def neutralize_sql(column: sql.Composable) -> sql.Composable:
    """SQL that prefixes a text value starting with = + - @ TAB CR with ``'`` (CSV formula
    injection), the same rule as :func:`reporting_assets.exports.formats.cells.neutralize`."""
    # ascii() of the first character compared with integers: the cheapest test per cell
    # ('=' 61, '+' 43, '-' 45, '@' 64, TAB 9, CR 13)
    return sql.SQL("CASE WHEN ascii({c}) IN (61, 43, 45, 64, 9, 13) THEN '''' || {c} ELSE {c} END").format(
        c=column
    )


class CompilingSource:
    """What every engine's source shares: the DSL compiled in the engine's own dialect."""

    dialect: Dialect = POSTGRES

    def prepare(
        self,
        config: Mapping[str, Any] | QuerySpec,
        *,
        tenant_id: str,
        row_limit: int,
        max_row_limit: int,
        as_of: dt.datetime | None = None,
        extra_filters: Sequence[Any] | None = None,
    ) -> CompiledQuery:
        return compile_query(
            config,
            tenant_id=tenant_id,
            row_limit=row_limit,
            max_row_limit=max_row_limit,
            as_of=as_of,
            extra_filters=extra_filters,
            dialect=self.dialect,
        )


class PostgresAnalyticsSource(CompilingSource):
    """Analytics tables in PostgreSQL (schema ``analytics``), read with the project's connections."""

    name = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        statement_timeout_ms: int = 600_000,
        connector: Callable[..., Any] = connect,
    ) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self._connect = connector

    @contextmanager
    def _read(self, doing: str) -> Iterator[Connection]:
        with self._connect(self.url, doing=doing) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(
                sql.SQL("SET LOCAL statement_timeout = {}").format(
                    sql.Literal(int(self.statement_timeout_ms))
                )
            )
            yield conn

    def page(
        self, query: CompiledQuery, *, page: int, page_size: int, chart: ChartAxes | None = None
    ) -> Page:
        """One page of rows and the total; with ``chart`` also its points, counted and charted
        in one statement: the result is computed twice (count, page), as without a chart."""
        points = None
        with self._read("previewing a report") as conn, conn.cursor(row_factory=tuple_row) as cur:
            if chart is None:
                total = int(cur.execute(*query.count_sql()).fetchone()[0])  # type: ignore[index]
            else:
                counted = cur.execute(*query.count_chart_sql(*chart)).fetchall()
                total = int(counted[0][2]) if counted else 0
                points = [(r[0], float(r[1] or 0)) for r in counted]
            statement, params = query.preview_sql(page_offset=(page - 1) * page_size, page_size=page_size)
            rows = cur.execute(statement, params).fetchall()
        return Page(rows=rows, page=page, page_size=page_size, total=total, chart=points)

    def count(self, query: CompiledQuery) -> int:
        with self._read("counting report rows") as conn:
            return int(conn.execute(*query.count_sql()).fetchone()["total"])  # type: ignore[index]

    def stream(self, query: CompiledQuery, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[list[tuple]]:
        """The result in batches, through a server-side (named) cursor: at most ``batch_rows``
        rows are in memory at a time."""
        statement, params = query.rows_sql()
        with (
            self._read("exporting a report") as conn,
            conn.cursor(name="report_export", row_factory=tuple_row) as cur,
        ):
            cur.itersize = batch_rows
            cur.execute(statement, params)
            while True:
                batch = cur.fetchmany(batch_rows)
                if not batch:
                    break
                yield batch

    def copy_csv(self, query: CompiledQuery, out: IO[bytes]) -> int:
        """Write the result as CSV (header + rows) with PostgreSQL's COPY, text cells
        neutralized against formula injection; return the number of rows."""
        statement, params = query.rows_sql()
        cols = [
            neutralize_sql(sql.Identifier("q", c.name)) if c.type == "text" else sql.Identifier("q", c.name)
            for c in query.columns
        ]
        outer = sql.SQL("SELECT {} FROM ({}) AS q").format(
            sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(e, sql.Identifier(c.name))
                for e, c in zip(cols, query.columns, strict=True)
            ),
            statement,
        )
        copy_sql = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(outer)
        # COPY takes no bind parameters: psycopg merges them client-side, quoted as literals
        with self._read("exporting a report as CSV") as conn, conn.cursor() as cur:
            with cur.copy(copy_sql, params) as copy:
                for chunk in copy:
                    out.write(chunk)
            rows = cur.rowcount
        return max(rows, 0)

    def chart(self, query: CompiledQuery, x: str, y: str, max_points: int) -> list[tuple[Any, float]]:
        with self._read("charting a report") as conn, conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(*query.chart_sql(x, y, max_points)).fetchall()
        return [(r[0], float(r[1] or 0)) for r in rows]
