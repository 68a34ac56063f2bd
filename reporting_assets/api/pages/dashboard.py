"""The pipeline status dashboard's data: one page of the viewer's customers with, per customer,
the day's latest report of every expected pipeline, that day's and the day before's summary and
the 30-day trend. Four set-based queries per page, whatever the page size, so a tenant with
hundreds of customers pages through them instead of getting one huge page."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from reporting_assets.api.auth import Principal
from reporting_assets.api.pages.charts import Trend, trend
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.summaries import SummaryVersion
from reporting_assets.pipelines.registry import load_registry
from reporting_assets.trends.assets import TREND_WINDOW_DAYS

PAGE_SIZE = 25


@dataclass
class CustomerRow:
    key: str
    name: str
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    today: SummaryVersion | None = None
    yesterday: SummaryVersion | None = None
    trend: Trend | None = None

    @property
    def worst(self) -> str:
        """The customer's overall state for the day: failed, partial, missing or success."""
        statuses = {p["status"] for p in self.pipelines}
        return next((s for s in ("failed", "partial", "missing") if s in statuses), "success")


@dataclass(frozen=True)
class Dashboard:
    day: dt.date
    customers: list[CustomerRow]
    total: int
    page: int
    page_count: int
    query: str | None


def dashboard(
    conn: Connection,
    principal: Principal,
    *,
    day: dt.date,
    q: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Dashboard:
    scope = {"all": principal.operations, "tenant": principal.actor.tenant_id}
    rows = conn.execute(
        query("web_dashboard_customers"),
        {**scope, "q": q or None, "limit": page_size, "offset": (page - 1) * page_size},
    ).fetchall()
    total = int(rows[0]["total"]) if rows else 0
    customers = {r["key"]: CustomerRow(r["key"], r["display_name"] or r["key"]) for r in rows}
    keys = list(customers)
    if keys:
        params = {"customer_keys": keys, "day": day}
        expected = load_registry(conn).expected_daily
        for p in conn.execute(query("web_dashboard_pipelines"), {**params, "default_expected": expected}):
            customers[p["customer_key"]].pipelines.append(dict(p))
        for s in conn.execute(query("web_dashboard_summaries"), params):
            summary = SummaryVersion.from_row(s)
            row = customers[summary.customer_key]
            if summary.summary_date == day:
                row.today = summary
            else:
                row.yesterday = summary
        days: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for t in conn.execute(query("web_dashboard_trend"), {**params, "window_days": TREND_WINDOW_DAYS}):
            days[t["customer_key"]].append(dict(t))
        for key, row in customers.items():
            row.trend = trend(days.get(key, []), day, TREND_WINDOW_DAYS)
    return Dashboard(
        day=day,
        customers=list(customers.values()),
        total=total,
        page=page,
        page_count=max(1, -(-total // page_size)),
        query=q,
    )
