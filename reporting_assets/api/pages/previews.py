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
from reporting_assets.exports.errors import QueryValidationError
from reporting_assets.exports.formats.cells import display
from reporting_assets.exports.models import Actor
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


def preview_state(context: ApiContext, actor: Actor, state: BuilderState, page: int) -> PreviewResult:
    """Preview ``state`` as ``actor``: the rows of ``page``, the chart, or the problems."""
    built = to_values(state)
    values: dict[str, Any] = built.values
    result = PreviewResult()
    try:
        row_limit = values["row_limit"]
        compiled = engine.compile_for(actor, values["query_config"], context.exports, row_limit=row_limit)
        viz = parse_visualization(values["visualization_config"], compiled)
        source = context.source()
        result.preview = engine.preview_query(
            actor,
            values["query_config"],
            source,
            context.exports,
            row_limit=row_limit,
            page=page,
            page_size=PAGE_SIZE,
        )
        if viz is not None and viz.type in ("bar", "line") and viz.x and viz.y:
            points = source.chart(compiled, viz.x, viz.y, viz.max_points)
            result.chart = value_chart(
                viz.type, viz.title or state.name or "Chart", [(display(x), y) for x, y in points]
            )
    except ReportingError as exc:
        result.errors = place_errors(_messages(exc), built.controls)
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())[:500]
        result.errors = {
            "form": [redact(f"The database refused this query: {message}. Change the query and try again.")]
        }
    return result
