"""A report's ``visualization_config``: the chart drawn on the first page of its PDF.

``{"type": "bar" | "line" | "table", "x": <result column>, "y": <numeric result column>,
"title": "...", "max_points": 2..100}``. ``table`` (or no config) means no chart. The chart
adds ``y`` up per value of ``x`` over the exported (row-limited) rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reporting_assets.exports.catalog import NUMERIC_TYPES
from reporting_assets.exports.dsl import CompiledQuery, format_validation_error
from reporting_assets.exports.errors import ReportValidationError


class VisualizationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["bar", "line", "table"] = "table"
    x: str | None = Field(default=None, max_length=63)
    y: str | None = Field(default=None, max_length=63)
    title: str | None = Field(default=None, max_length=200)
    max_points: int = Field(default=31, ge=2, le=100)


def parse_visualization(config: Mapping[str, Any] | None, query: CompiledQuery) -> VisualizationConfig | None:
    """The validated chart settings for ``query``'s columns, or None for no chart."""
    if config is None:
        return None
    if not isinstance(config, Mapping):
        raise ReportValidationError("visualization_config: must be a JSON object or null")
    try:
        viz = VisualizationConfig.model_validate(dict(config))
    except ValidationError as exc:
        raise ReportValidationError(
            "visualization_config: " + "; ".join(format_validation_error(exc, "visualization_config"))
        ) from None
    if viz.type == "table":
        return viz
    names = [c.name for c in query.columns]
    if viz.x is None or query.column(viz.x) is None:
        raise ReportValidationError(
            f"visualization_config.x: {viz.x!r} is not a column of the report; use one of {', '.join(names)}"
        )
    y = query.column(viz.y) if viz.y else None
    if y is None or y.type not in NUMERIC_TYPES:
        numeric = [c.name for c in query.columns if c.type in NUMERIC_TYPES] or ["(none: add an aggregate)"]
        raise ReportValidationError(
            f"visualization_config.y: {viz.y!r} is not a numeric column of the report; use one of "
            f"{', '.join(numeric)}"
        )
    return viz
