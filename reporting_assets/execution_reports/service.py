"""Render and store the execution reports of a set of partitions (the asset's core)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from reporting_assets.contract import RunReport
from reporting_assets.customers import display_names
from reporting_assets.db.connection import Connection
from reporting_assets.execution_reports.build import (
    ContractCache,
    ReportIdentity,
    ReportInput,
    ReportRow,
    build_row,
    latest_successful,
    parsed_contract,
)
from reporting_assets.execution_reports.events import fetch_source_events, run_infos
from reporting_assets.execution_reports.parallel import map_indexed
from reporting_assets.execution_reports.source_event import SourceEvent
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


@dataclass(frozen=True)
class ReportPlan:
    """What rendering a set of partitions needs, read once: events, names, yesterday's
    contracts, run start times and first-generated times."""

    current: list[SourceEvent]
    names: dict[str, str]
    latest: dict[tuple[str, str], RunReport]
    starts: dict[str, dt.datetime | None]
    generated: dict[ReportIdentity, dt.datetime]
    now: dt.datetime
    cache: ContractCache
    run_url: Callable[[str], str]
    list_length: int

    def report_input(self, index: int) -> ReportInput:
        """The validated input of the ``index``-th report (validation is cached per contract)."""
        event = self.current[index]
        partition = parse_partition_key(event.partition_key)
        report, problem = parsed_contract(event, self.names, self.cache)
        return ReportInput(
            event=event,
            report=report,
            problem=problem,
            previous=self.latest.get((partition.previous_day().partition_key, event.pipeline_type)),
            run_url=self.run_url(event.run_id),
            run_started_at=self.starts.get(event.run_id),
            generated_at=self.generated.get(
                (event.run_id, event.pipeline_type, partition.customer_key, partition.day), self.now
            ),
            list_length=self.list_length,
        )

    def build(self, index: int) -> tuple[ReportRow, str | None]:
        item = self.report_input(index)
        return build_row(item), item.problem


def plan_reports(
    instance: dg.DagsterInstance,
    conn: Connection,
    partition_keys: Sequence[str],
    source_keys: Sequence[dg.AssetKey],
    run_url: Callable[[str], str],
    list_length: int,
) -> ReportPlan:
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
    cache: ContractCache = {}
    with gc_paused():
        latest = latest_successful(events, names, {p.previous_day().partition_key for p in partitions}, cache)
    return ReportPlan(
        current=current,
        names=names,
        latest=latest,
        starts=starts,
        generated=first_generated(conn, wanted),
        now=dt.datetime.now(dt.UTC).replace(microsecond=0),
        cache=cache,
        run_url=run_url,
        list_length=list_length,
    )


def build_reports(plan: ReportPlan, processes: int = 0) -> RenderOutcome:
    """Validate and render every report of the plan, on every core for large batches."""
    with gc_paused():
        built = map_indexed(plan.build, len(plan.current), processes)
    return RenderOutcome(rows=[row for row, _ in built], problems=[p for _, p in built if p])


def render_partitions(
    instance: dg.DagsterInstance,
    conn: Connection,
    partition_keys: Sequence[str],
    source_keys: Sequence[dg.AssetKey],
    run_url: Callable[[str], str],
    list_length: int,
    processes: int = 0,
) -> RenderOutcome:
    """Render every source run of ``partition_keys`` and upsert the reports (idempotent).

    ``processes``: workers for large batches (0 = one per core, 1 = this process only).
    """
    plan = plan_reports(instance, conn, partition_keys, source_keys, run_url, list_length)
    outcome = build_reports(plan, processes)
    store_reports(conn, outcome.rows)
    return outcome
