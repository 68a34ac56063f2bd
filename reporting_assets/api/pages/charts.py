"""Charts drawn on the server as SVG: the numbers become coordinates here, the templates only
draw them (so a chart needs no script and looks the same everywhere)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WIDTH = 600
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """A bar or line chart of ``y`` per ``x`` (the report's chart, as the PDF draws it)."""

    kind: str
    title: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    line: str
    """SVG polyline points for a line chart ('' for bars)."""
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    baseline: float


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def value_chart(kind: str, title: str, points: Sequence[tuple[str, float]]) -> Chart:
    """``points`` (label, value) as a bar or line chart with a zero baseline."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max((v for _, v in points), default=0.0))
    baseline = TOP + plot_h
    slot = plot_w / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        height = plot_h * max(value, 0.0) / top
        bars.append(Bar(LEFT + i * slot + slot * 0.15, baseline - height, slot * 0.7, height, label, value))
    line = " ".join(f"{b.x + b.width / 2:.1f},{b.y:.1f}" for b in bars) if kind == "line" else ""
    step = max(1, -(-len(bars) // 12))
    x_ticks = tuple(Tick(b.x + b.width / 2, b.label[:12]) for i, b in enumerate(bars) if i % step == 0)
    y_ticks = tuple(Tick(baseline - plot_h * f, _number(top * f)) for f in (0, 0.5, 1))
    return Chart(kind, title, WIDTH, HEIGHT, tuple(bars), line, y_ticks, x_ticks, baseline)


@dataclass(frozen=True)
class TrendDay:
    day: dt.date
    runs: int
    successful: int
    new_orders: int
    seconds: float


@dataclass(frozen=True)
class Trend:
    """A customer's last days: runs per day (failed ones stacked in red), new orders as a line,
    and the window's totals."""

    days: tuple[TrendDay, ...]
    bars: tuple[tuple[float, float, float, float, float, str], ...]
    """x, width, y of all runs, y of the successful part, baseline, the day's description."""
    line: str
    runs: int
    success_rate: float | None
    new_orders: int
    avg_seconds: float | None
    width: int = 300
    height: int = 64


def trend(rows: Sequence[Mapping[str, Any]], end: dt.date, window_days: int) -> Trend:
    """The window ending ``end`` from per-day rows (days without runs count as zero)."""
    by_day = {r["day"]: r for r in rows}
    days = []
    for offset in range(window_days - 1, -1, -1):
        day = end - dt.timedelta(days=offset)
        row = by_day.get(day)
        days.append(
            TrendDay(
                day,
                int(row["runs"]) if row else 0,
                int(row["successful_runs"]) if row else 0,
                int(row["new_orders"]) if row else 0,
                float(row["total_seconds"]) if row else 0.0,
            )
        )
    width, height, pad = 300, 64, 2
    slot = width / window_days
    most_runs = max((d.runs for d in days), default=0) or 1
    most_orders = max((d.new_orders for d in days), default=0) or 1
    bars = []
    points = []
    for i, d in enumerate(days):
        x = i * slot + 1
        all_y = height - pad - (height - 2 * pad) * d.runs / most_runs
        ok_y = height - pad - (height - 2 * pad) * d.successful / most_runs
        text = f"{d.day}: {d.runs} runs, {d.runs - d.successful} not successful, {d.new_orders} new orders"
        bars.append((x, slot - 2, all_y, ok_y, float(height - pad), text))
        points.append(
            f"{x + (slot - 2) / 2:.1f},{height - pad - (height - 2 * pad) * d.new_orders / most_orders:.1f}"
        )
    runs = sum(d.runs for d in days)
    successful = sum(d.successful for d in days)
    seconds = sum(d.seconds for d in days)
    return Trend(
        days=tuple(days),
        bars=tuple(bars),
        line=" ".join(points),
        runs=runs,
        success_rate=round(100.0 * successful / runs, 1) if runs else None,
        new_orders=sum(d.new_orders for d in days),
        avg_seconds=round(seconds / runs, 1) if runs else None,
        width=width,
        height=height,
    )
