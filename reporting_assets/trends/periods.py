"""Period over period: a customer's week (or 30 days) against the one before, per figure, with
the change and its direction, worded for a reader: "success rate 96.2 % (-2.1 pt vs last week)"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from reporting_assets.db.queries import query

if TYPE_CHECKING:
    from reporting_assets.db.connection import Connection

Direction = Literal["up", "down", "flat", "new"]
PERIODS = {"week": 7, "month": 30}
_VS = {"week": "vs last week", "month": "vs last month"}


@dataclass(frozen=True)
class Figure:
    """One figure of one period against the period before."""

    name: str
    current: float | None
    previous: float | None
    unit: str  # "" (a count), "%" (a rate: change in points) or "s"

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 3)

    @property
    def direction(self) -> Direction:
        if self.current is not None and self.previous is None:
            return "new"
        change = self.change
        if change is None or abs(change) < 0.05:
            return "flat"
        return "up" if change > 0 else "down"

    def phrase(self, period: str) -> str:
        """``success rate 96.2 % (-2.1 pt vs last week)``."""
        if self.current is None:
            return f"{self.name} — (no runs)"
        value = _value(self.current, self.unit)
        change = self.change
        if change is None:
            return f"{self.name} {value} (nothing to compare {_VS[period]})"
        if self.direction == "flat":
            return f"{self.name} {value} (no change {_VS[period]})"
        delta = f"{change:+.1f} pt" if self.unit == "%" else _signed(change, self.unit)
        return f"{self.name} {value} ({delta} {_VS[period]})"


def _value(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:,.0f}"


def _signed(value: float, unit: str) -> str:
    return f"{value:+.1f} s" if unit == "s" else f"{value:+,.0f}"


@dataclass(frozen=True)
class Comparison:
    customer_key: str
    customer_name: str
    period: str  # "week" or "month"
    figures: tuple[Figure, ...]

    def summary(self) -> str:
        return "; ".join(f.phrase(self.period) for f in self.figures)


def _figures(current: Mapping[str, Any], previous: Mapping[str, Any]) -> tuple[Figure, ...]:
    def rate(row: Mapping[str, Any]) -> float | None:
        return round(100.0 * row["successful_runs"] / row["runs"], 1) if row["runs"] else None

    def seconds(row: Mapping[str, Any], column: str) -> float | None:
        return round(float(row[column]), 1) if row[column] is not None else None

    def count(row: Mapping[str, Any], column: str) -> float | None:
        return float(row[column]) if row["runs"] else None

    return (
        Figure("runs", float(current["runs"]), float(previous["runs"]), ""),
        Figure("success rate", rate(current), rate(previous), "%"),
        Figure("new orders", count(current, "new_orders"), count(previous, "new_orders"), ""),
        Figure("processing time p50", seconds(current, "p50_seconds"), seconds(previous, "p50_seconds"), "s"),
        Figure("processing time p95", seconds(current, "p95_seconds"), seconds(previous, "p95_seconds"), "s"),
    )


def compare_rows(rows: Iterable[Mapping[str, Any]], period: str) -> list[Comparison]:
    """Rows of ``trends_periods`` (period 0 and 1 per customer) as comparisons."""
    by_customer: dict[str, dict[int, Mapping[str, Any]]] = {}
    for row in rows:
        by_customer.setdefault(row["customer_key"], {})[row["period"]] = row
    return [
        Comparison(key, periods[0]["customer_name"], period, _figures(periods[0], periods[1]))
        for key, periods in sorted(by_customer.items())
    ]


def period_comparisons(conn: Connection, day: dt.date) -> dict[str, list[Comparison]]:
    """Week over week and month over month for every registered customer, as of ``day``."""
    return {
        period: compare_rows(conn.execute(query("trends_periods"), {"day": day, "days": days}), period)
        for period, days in PERIODS.items()
    }
