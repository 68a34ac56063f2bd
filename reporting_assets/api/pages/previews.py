"""The builder's live preview: one page of an unsaved query's rows and its chart as the PDF will
draw it, or the problems to show next to the form's controls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from reporting_assets.api.context import ApiContext
from reporting_assets.api.pages.builder_form import BuilderState, place_errors, to_values
from reporting_assets.api.pages.charts import Chart, value_chart
from reporting_assets.errors import ReportingError
from reporting_assets.exports import engine
from reporting_assets.exports.dsl import CompiledQuery
from reporting_assets.exports.errors import QueryValidationError
from reporting_assets.exports.formats.cells import display
from reporting_assets.exports.models import Actor, Report
from reporting_assets.exports.source import ChartAxes
from reporting_assets.exports.visualization import parse_visualization
from reporting_assets.redaction import redact

PAGE_SIZE = 20


@dataclass
class PreviewResult:
    preview: engine.Preview | None = None
    chart: Chart | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def _messages(exc: ReportingError) -> list[str]:
    if isinstance(exc, QueryValidationError) and exc.problems:
        return [str(p) for p in exc.problems]
    return [str(exc)]


def _read(
    result: PreviewResult,
    context: ApiContext,
    compiled: CompiledQuery,
    config: dict[str, Any] | None,
    title: str,
    page: int,
) -> None:
    """One page of rows and the chart of the PDF's first page (``y`` added up per ``x``, as
    ``execute`` draws it), read together: the chart costs no extra pass over the result."""
    viz = parse_visualization(config, compiled)
    axes = None
    if viz is not None and viz.type in ("bar", "line") and viz.x and viz.y:
        axes = ChartAxes(viz.x, viz.y, viz.max_points)
    result.preview, points = engine.preview_compiled(
        context.source(), compiled, context.exports, page=page, page_size=PAGE_SIZE, chart=axes
    )
    if viz is not None and points is not None:
        result.chart = value_chart(viz.type, viz.title or title, [(display(x), y) for x, y in points])


def _refused(exc: psycopg.Error) -> dict[str, list[str]]:
    message = " ".join(str(exc).split())[:500]
    return {"form": [redact(f"The database refused this query: {message}. Change the query and try again.")]}


def preview_state(context: ApiContext, actor: Actor, state: BuilderState, page: int) -> PreviewResult:
    """Preview the builder's ``state`` as ``actor``: the rows of ``page``, the chart, or the
    problems placed next to their controls."""
    built = to_values(state)
    values: dict[str, Any] = built.values
    result = PreviewResult()
    try:
        compiled = engine.compile_for(
            actor, values["query_config"], context.exports, row_limit=values["row_limit"]
        )
        _read(result, context, compiled, values["visualization_config"], state.name or "Chart", page)
    except ReportingError as exc:
        result.errors = place_errors(_messages(exc), built.controls)
    except psycopg.Error as exc:
        result.errors = _refused(exc)
    return result


def preview_saved(context: ApiContext, report: Report, page: int) -> PreviewResult:
    """A saved report's page of rows and chart, exactly as ``/api/reports/{id}/preview`` and its
    PDF compute them (``report`` was read as the viewer, who may see it)."""
    result = PreviewResult()
    try:
        compiled = engine.compile_report(report, context.exports)
        _read(result, context, compiled, report.visualization_config, report.name, page)
    except ReportingError as exc:
        result.errors = {"form": _messages(exc)}
    except psycopg.Error as exc:
        result.errors = _refused(exc)
    return result
