"""What an export document says about itself (PDF header, XLSX "About" sheet) and the chart it
draws: plain data, so building them loads no document library."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DocumentInfo:
    """What documents say about themselves (PDF header, XLSX "About" sheet)."""

    title: str
    description: str | None
    tenant_id: str
    generated_at: dt.datetime
    timezone: str
    filters: Sequence[str]
    row_limit: int


@dataclass(frozen=True)
class ChartData:
    """A chart for the first page: ``y`` summed per ``x`` over the exported rows."""

    kind: Literal["bar", "line"]
    title: str
    x_label: str
    y_label: str
    points: Sequence[tuple[str, float]]
