"""Render and store the execution reports of a set of partitions (the asset's core)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import dagster as dg

from reporting_assets.customers import display_names
from reporting_assets.db.connection import Connection
from reporting_assets.execution_reports.build import (
    ReportInput,
    ReportRow,
    build_row,
    latest_successful,
)
from reporting_assets.execution_reports.events import fetch_source_events, run_infos
from reporting_assets.execution_reports.store import first_generated, store_reports
from reporting_assets.partition_keys import parse_partition_key

PARALLEL_THRESHOLD = 400  # below this, starting worker processes costs more than it saves
_CHUNK = 200


@dataclass(frozen=True)
class RenderOutcome:
    rows: list[ReportRow]
    problems: list[str]


def _build_chunk(items: list[ReportInput]) -> list[tuple[ReportRow, str | None]]:
    return [build_row(item) for item in items]


def build_rows(
    items: Sequence[ReportInput], workers: int | None = None
) -> list[tuple[ReportRow, str | None]]:
    """Render many reports, on every core when the batch is large enough to pay for it."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(items) < PARALLEL_THRESHOLD:
        return _build_chunk(list(items))
    chunks = [list(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK)]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [pair for chunk in pool.map(_build_chunk, chunks) for pair in chunk]


def render_partitions(
    instance: dg.DagsterInstance,
    conn: Connection,
    partition_keys: Sequence[str],
    source_keys: Sequence[dg.AssetKey],
    run_url: Callable[[str], str],
    list_length: int,
    workers: int | None = None,
) -> RenderOutcome:
    """Render every source run of ``partition_keys`` and upsert the reports (idempotent)."""
    wanted = list(dict.fromkeys(partition_keys))
    partitions = [parse_partition_key(k) for k in wanted]
    previous_keys = sorted({p.previous_day().partition_key for p in partitions} - set(wanted))
    events = fetch_source_events(instance, source_keys, wanted + previous_keys)
    names = display_names(conn, sorted({p.customer_key for p in partitions}))
    latest = latest_successful(events, names, {p.previous_day().partition_key for p in partitions})
    wanted_set = set(wanted)
    current = [e for e in events if e.partition_key in wanted_set]
    starts = {
        rid: info.started_at for rid, info in run_infos(instance, sorted({e.run_id for e in current})).items()
    }
    generated = first_generated(conn, wanted)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    items = []
    for event in current:
        partition = parse_partition_key(event.partition_key)
        identity = (event.run_id, event.pipeline_type, partition.customer_key, partition.day)
        items.append(
            ReportInput(
                event=event,
                display_name=names.get(partition.customer_key, partition.customer_key),
                previous=latest.get((partition.previous_day().partition_key, event.pipeline_type)),
                run_url=run_url(event.run_id),
                run_started_at=starts.get(event.run_id),
                generated_at=generated.get(identity, now),
                list_length=list_length,
            )
        )
    built = build_rows(items, workers)
    rows = [row for row, _ in built]
    store_reports(conn, rows)
    return RenderOutcome(rows=rows, problems=[p for _, p in built if p])
