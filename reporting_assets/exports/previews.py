"""What the report builder shows while a report is edited: the tables, a query checked and
compiled, and previews (one page of a saved report's or an unsaved query's result)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.exports.catalog import describe_tables
from reporting_assets.exports.dsl import DEFAULT_ROW_LIMIT, CompiledQuery
from reporting_assets.exports.errors import ReportValidationError
from reporting_assets.exports.formats.cells import jsonable
from reporting_assets.exports.models import Actor
from reporting_assets.exports.reports import compile_for, compile_report, get_report
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import AnalyticsSource, ChartAxes


def list_tables() -> list[dict[str, object]]:
    """The tables and fields a report may read (``exports list tables``)."""
    return describe_tables()


def validate_query(
    actor: Actor,
    query_config: Mapping[str, Any],
    settings: ExportSettings,
    *,
    filters: Sequence[Any] | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
) -> dict[str, Any]:
    """A query checked without saving it: the result columns and filters as applied, or a
    QueryValidationError listing every problem."""
    compiled = compile_for(actor, query_config, settings, filters=filters, row_limit=row_limit)
    return {
        "valid": True,
        "table": compiled.table.name,
        "columns": [c.as_json() for c in compiled.columns],
        "filters": list(compiled.filters_text),
        "row_limit": compiled.limit,
    }


@dataclass(frozen=True)
class Preview:
    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    page: int
    page_size: int
    total: int
    page_count: int
    row_limit: int
    filters: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
            "page_count": self.page_count,
            "row_limit": self.row_limit,
            "filters": self.filters,
        }


def preview_compiled(
    source: AnalyticsSource,
    compiled: CompiledQuery,
    settings: ExportSettings,
    *,
    page: int,
    page_size: int,
    chart: ChartAxes | None = None,
) -> tuple[Preview, list[tuple[Any, float]] | None]:
    """One page of a compiled query's result and, with ``chart``, its chart's points, read
    together (the web pages show both; the result is not computed again for the chart)."""
    if page < 1:
        raise ReportValidationError(f"page: pages start at 1, got {page}")
    if not 1 <= page_size <= settings.preview_max_page_size:
        raise ReportValidationError(f"page_size: must be 1-{settings.preview_max_page_size}, got {page_size}")
    result = source.page(compiled, page=page, page_size=page_size, chart=chart)
    if page > result.page_count and result.total:
        raise ReportValidationError(f"page: {page} is past the last page ({result.page_count})")
    preview = Preview(
        columns=[c.as_json() for c in compiled.columns],
        rows=[[jsonable(v) for v in row] for row in result.rows],
        page=page,
        page_size=page_size,
        total=result.total,
        page_count=result.page_count,
        row_limit=compiled.limit,
        filters=list(compiled.filters_text),
    )
    return preview, result.chart


def preview_report(
    conn: Connection,
    actor: Actor,
    report_id: str,
    source: AnalyticsSource,
    settings: ExportSettings,
    *,
    page: int = 1,
    page_size: int = 50,
) -> Preview:
    """One page of a saved report's row-limited result, with the total and the page count
    (``exports preview``)."""
    report = get_report(conn, actor, report_id)
    compiled = compile_report(report, settings)
    return preview_compiled(source, compiled, settings, page=page, page_size=page_size)[0]


def preview_query(
    actor: Actor,
    query_config: Mapping[str, Any],
    source: AnalyticsSource,
    settings: ExportSettings,
    *,
    filters: Sequence[Any] | None = None,
    row_limit: int = DEFAULT_ROW_LIMIT,
    page: int = 1,
    page_size: int = 50,
) -> Preview:
    """A preview of an unsaved query (the builder's live preview)."""
    compiled = compile_for(actor, query_config, settings, filters=filters, row_limit=row_limit)
    return preview_compiled(source, compiled, settings, page=page, page_size=page_size)[0]
