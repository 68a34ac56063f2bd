"""Render and store the execution reports of a set of partitions (the asset's core)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from reporting_assets.customers import display_names
from reporting_assets.db.connection import Connection
from reporting_assets.execution_reports.build import (
    ContractCache,
    ReportInput,
    ReportRow,
    build_row,
    latest_successful,
    parsed_contract,
)
from reporting_assets.execution_reports.events import fetch_source_events, run_infos
from reporting_assets.execution_reports.store import first_generated, store_reports
from reporting_assets.partition_keys import parse_partition_key


@dataclass(frozen=True)
class RenderOutcome:
    rows: list[ReportRow]
    problems: list[str]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Validation and rendering allocate many small acyclic objects; the cyclic collector
    scanning them cost two thirds of validation time in benchmarks/render_store.py."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_partitions(
    instance: dg.DagsterInstance,
    conn: Connection,
    partition_keys: Sequence[str],
    source_keys: Sequence[dg.AssetKey],
    run_url: Callable[[str], str],
    list_length: int,
) -> RenderOutcome:
    """Render every source run of ``partition_keys`` and upsert the reports (idempotent)."""
    wanted = list(dict.fromkeys(partition_keys))
    partitions = [parse_partition_key(k) for k in wanted]
    previous_keys = sorted({p.previous_day().partition_key for p in partitions} - set(wanted))
    events = fetch_source_events(instance, source_keys, wanted + previous_keys)
    names = display_names(conn, sorted({p.customer_key for p in partitions}))
    wanted_set = set(wanted)
    current = [e for e in events if e.partition_key in wanted_set]
    starts = {
        rid: info.started_at for rid, info in run_infos(instance, sorted({e.run_id for e in current})).items()
    }
    generated = first_generated(conn, wanted)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cache: ContractCache = {}
    rows: list[ReportRow] = []
    problems: list[str] = []
    with gc_paused():
        latest = latest_successful(events, names, {p.previous_day().partition_key for p in partitions}, cache)
        for event in current:
            partition = parse_partition_key(event.partition_key)
            report, problem = parsed_contract(event, names, cache)
            if problem:
                problems.append(problem)
            rows.append(
                build_row(
                    ReportInput(
                        event=event,
                        report=report,
                        problem=problem,
                        previous=latest.get((partition.previous_day().partition_key, event.pipeline_type)),
                        run_url=run_url(event.run_id),
                        run_started_at=starts.get(event.run_id),
                        generated_at=generated.get(
                            (event.run_id, event.pipeline_type, partition.customer_key, partition.day), now
                        ),
                        list_length=list_length,
                    )
                )
            )
    store_reports(conn, rows)
    return RenderOutcome(rows=rows, problems=problems)
