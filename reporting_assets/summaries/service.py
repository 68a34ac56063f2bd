"""Summarize and store the days of a set of partitions: two queries in, one merge out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reporting_assets.customers import display_names
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.partition_keys import CustomerDay, parse_partition_key
from reporting_assets.summaries.aggregate import DaySummary, summarize
from reporting_assets.summaries.render import render_summary

_STAGE_COLUMNS = (
    "customer_name",
    "customer_key",
    "summary_date",
    "partition_key",
    "total_pipelines",
    "successful_pipelines",
    "new_orders",
    "updated_orders",
    "manufacturing_updates",
    "shipping_updates",
    "combined_markdown",
    "status_json",
    "is_complete",
    "missing_pipelines",
    "content_hash",
)


@dataclass(frozen=True)
class StoredSummary:
    summary: DaySummary
    markdown: str
    content_hash: str
    version: int


def _row(summary: DaySummary, markdown: str, content_hash: str) -> list[Any]:
    return [
        summary.customer_name,
        summary.partition.customer_key,
        summary.partition.day,
        summary.partition.partition_key,
        summary.total_pipelines,
        summary.successful_pipelines,
        summary.totals["new_orders"],
        summary.totals["updated_orders"],
        summary.totals["manufacturing_updates"],
        summary.totals["shipping_updates"],
        markdown,
        json.dumps(summary.status_json(), ensure_ascii=False),
        summary.is_complete,
        summary.missing,
        content_hash,
    ]


def summarize_partitions(
    conn: Connection,
    partition_keys: Sequence[str],
    run_url: Callable[[str], str],
    default_expected: Sequence[str],
) -> list[StoredSummary]:
    """Aggregate, render and upsert the summaries of ``partition_keys`` (restatements are versioned)."""
    partitions = [parse_partition_key(k) for k in dict.fromkeys(partition_keys)]
    wanted = sorted(set(partitions) | {p.previous_day() for p in partitions})
    rows = conn.execute(
        query("summaries_reports"),
        {"customer_keys": [p.customer_key for p in wanted], "days": [p.day for p in wanted]},
    ).fetchall()
    customers = sorted({p.customer_key for p in partitions})
    expected = {
        r["customer_key"]: r["pipelines"]
        for r in conn.execute(query("summaries_expected"), {"customer_keys": customers})
    }
    summaries = summarize(wanted, rows, display_names(conn, customers), expected, default_expected)
    built: list[tuple[DaySummary, str, str]] = []
    for partition in partitions:
        summary = summaries[partition]
        markdown = render_summary(summary, summaries.get(partition.previous_day()), run_url)
        digest = hashlib.sha256(markdown.encode())
        digest.update(json.dumps(summary.status_json(), sort_keys=True).encode())
        built.append((summary, markdown, digest.hexdigest()))
    with conn.transaction():
        conn.execute(query("summaries_stage"))
        with conn.cursor().copy(f"COPY summaries_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for summary, markdown, content_hash in built:
                copy.write_row(_row(summary, markdown, content_hash))
        conn.execute(query("summaries_archive"))
        conn.execute(query("summaries_merge"))
    versions = {
        CustomerDay(r["customer_key"], r["summary_date"]): r["version"]
        for r in conn.execute(
            query("summaries_versions"),
            {"customer_keys": [p.customer_key for p in partitions], "days": [p.day for p in partitions]},
        )
    }
    return [StoredSummary(s, md, h, versions[s.partition]) for s, md, h in built]
