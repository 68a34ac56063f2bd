"""Refresh one day's error patterns in the database, and read them back.

A refresh is a few set-based statements in one transaction: the day's error and warning lines
are fingerprinted and grouped in SQL into a staging table, then patterns, occurrences per
customer and the per-day totals with their flags are upserted, and what the day no longer has
is removed. Re-running a day writes the same rows: nothing is added or counted twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from psycopg import sql

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.error_patterns.fingerprint import sql_fingerprint
from reporting_assets.error_patterns.flagged import GROWTH_FACTOR, FlaggedPattern


@cache
def _stage_statement() -> tuple[sql.Composed, dict[str, str | int]]:
    expression, params = sql_fingerprint(sql.Identifier("message"))
    return sql.SQL(query("error_patterns_stage")).format(fingerprint=expression), params


def refresh_day(conn: Connection, day: dt.date) -> None:
    """Recompute ``day``'s patterns from its reports (commits)."""
    statement, mask_params = _stage_statement()
    params: dict[str, Any] = {"day": day, "growth": GROWTH_FACTOR}
    with conn.transaction():
        conn.execute(query("error_patterns_lock"), params)
        conn.execute(statement, {**params, **mask_params}, prepare=False)
        for name in (
            "error_patterns_stage_blank",
            "error_patterns_upsert",
            "error_patterns_occurrences_upsert",
            "error_patterns_occurrences_stale",
            "error_patterns_days_upsert",
            "error_patterns_days_stale",
        ):
            conn.execute(query(name), params, prepare=False)
    conn.commit()


def day_patterns(
    conn: Connection,
    day: dt.date,
    *,
    every_customer: bool = True,
    tenant: str | None = None,
    flagged: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The patterns of ``day`` over every customer, or those of ``tenant``, flagged first, then
    by occurrences; each row carries ``total`` (the number of patterns before paging)."""
    rows = conn.execute(
        query("error_patterns_day"),
        {
            "day": day,
            "all": every_customer,
            "tenant": tenant,
            "flagged": flagged,
            "limit": limit,
            "offset": offset,
        },
    ).fetchall()
    return [dict(r) for r in rows]


def latest_day(conn: Connection, *, every_customer: bool = True, tenant: str | None = None) -> dt.date | None:
    """The latest day with a pattern of the customers the caller may see."""
    row = conn.execute(
        query("error_patterns_latest_day"), {"all": every_customer, "tenant": tenant}
    ).fetchone()
    return row["day"] if row else None


def _flagged(row: Mapping[str, Any]) -> FlaggedPattern:
    return FlaggedPattern(
        row["flag"],
        row["severity"],
        row["fingerprint"],
        row["occurrences"],
        row.get("total_occurrences", row["occurrences"]),
        float(row["seven_day_average"]),
    )


def flagged_for_days(
    conn: Connection, ranges: Mapping[str, list[Any]]
) -> dict[tuple[str, dt.date], list[FlaggedPattern]]:
    """Flagged patterns per (customer, day) of ``ranges`` (``summaries.service.day_ranges``);
    occurrences are the customer's own."""
    found: dict[tuple[str, dt.date], list[FlaggedPattern]] = {}
    for row in conn.execute(query("error_patterns_flagged_for_days"), ranges):
        found.setdefault((row["customer_key"], row["day"]), []).append(_flagged(row))
    return found


def flagged_by_source(
    conn: Connection, first_day: dt.date, last_day: dt.date, sources: Iterable[str]
) -> dict[str, list[FlaggedPattern]]:
    """Flagged patterns of the days ``first_day``..``last_day`` per source system among ``sources``."""
    wanted = set(sources)
    found: dict[str, list[FlaggedPattern]] = {}
    for row in conn.execute(
        query("error_patterns_flagged_by_source"), {"first_day": first_day, "last_day": last_day}
    ):
        if row["source"] in wanted:
            found.setdefault(row["source"], []).append(_flagged(row))
    return found
