"""Render and store the execution reports of a set of partitions (the asset's core)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from reporting_assets.customer_settings.model import ReportSettings
from reporting_assets.customer_settings.store import settings_for, templates_home
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
from reporting_assets.execution_reports.render import RunLinks, warm
from reporting_assets.execution_reports.source_event import SourceEvent
from reporting_assets.execution_reports.store import first_generated, stage_values, store_staged
from reporting_assets.parallel import chunk_count, gc_paused, imap_forked, worker_count
from reporting_assets.partition_keys import parse_partition_key
from reporting_assets.pipelines.registry import Registry

EventUrl = Callable[[str, str, float], str]
"""The Dagster UI's page of an asset event: (asset key, partition, event timestamp) -> URL."""


@dataclass(frozen=True)
class RenderOutcome:
    rows: list[ReportRow]
    problems: list[str]


@dataclass(frozen=True)
class Built:
    """One rendered report: its output position, row, problem and staging-table values."""

    position: int
    row: ReportRow
    problem: str | None
    staged: tuple[object, ...]


@dataclass(frozen=True)
class ReportPlan:
    """What rendering a set of partitions needs, read once in the run's process: the events of
    the partitions and of their previous days, display names, run start times and
    first-generated times. Validation and rendering happen chunk by chunk (:meth:`build_chunk`)."""

    partition_keys: list[str]  # to render, sorted by customer then day
    events: dict[str, list[tuple[int, SourceEvent]]]  # partition -> (position in the output, event)
    names: dict[str, str]
    starts: dict[str, dt.datetime | None]
    generated: dict[ReportIdentity, dt.datetime]
    now: dt.datetime
    run_url: Callable[[str], str]
    list_length: int
    registry: Registry
    event_url: EventUrl | None = None
    settings: Mapping[str, ReportSettings] = field(default_factory=dict)  # per customer with settings

    def links(self, event: SourceEvent) -> str | RunLinks:
        """The Dagster run's link, or for a run reported from outside Dagster the external run's
        (from the registry's template) and the Dagster event's."""
        if event.external_id is None:
            return self.run_url(event.run_id)
        pipeline = self.registry.by_type.get(event.pipeline_type)
        event_link = None
        if self.event_url is not None and event.asset_key is not None:
            event_link = self.event_url(event.asset_key, event.partition_key, event.timestamp)
        return RunLinks(
            dagster=event_link,
            external=pipeline.run_link(event.external_id) if pipeline else None,
            external_id=event.external_id,
        )

    @property
    def report_count(self) -> int:
        return sum(len(self.events.get(k, ())) for k in self.partition_keys)

    def chunks(self, count: int) -> list[list[str]]:
        """``partition_keys`` cut into about ``count`` runs of neighbouring partitions with
        similar numbers of reports (neighbours share their previous days' contracts)."""
        total = self.report_count
        size = max(1, -(-total // max(count, 1)))
        chunks: list[list[str]] = [[]]
        filled = 0
        for key in self.partition_keys:
            if filled >= size:
                chunks.append([])
                filled = 0
            chunks[-1].append(key)
            filled += len(self.events.get(key, ()))
        return [c for c in chunks if c]

    def chunk_inputs(self, keys: Sequence[str]) -> Iterator[tuple[int, ReportInput]]:
        """The validated inputs of the reports of ``keys``, with their output positions.

        Each contract is validated once per chunk; yesterday's contracts (the "Change" column)
        are looked up among the chunk's own and its previous days' events.
        """
        partitions = [parse_partition_key(k) for k in keys]
        previous = {p.previous_day().partition_key for p in partitions}
        cache: ContractCache = {}
        candidates = [e for k in sorted(previous) for _, e in self.events.get(k, ())]
        latest = latest_successful(candidates, self.names, previous, cache)
        for partition in partitions:
            before = partition.previous_day().partition_key
            for position, event in self.events.get(partition.partition_key, ()):
                report, problem = parsed_contract(event, self.names, cache)
                yield (
                    position,
                    ReportInput(
                        event=event,
                        report=report,
                        problem=problem,
                        previous=latest.get((before, event.pipeline_type)),
                        run_url=self.links(event),
                        run_started_at=self.starts.get(event.run_id),
                        generated_at=self.generated.get(
                            (event.run_id, event.pipeline_type, partition.customer_key, partition.day),
                            self.now,
                        ),
                        list_length=self.list_length,
                        labels=self.registry.labels.get(event.pipeline_type),
                        settings=self.settings.get(partition.customer_key),
                    ),
                )

    def build_chunk(self, keys: Sequence[str]) -> list[Built]:
        built = []
        for position, item in self.chunk_inputs(keys):
            row = build_row(item)
            built.append(Built(position, row, item.problem, stage_values(row)))
        return built

    def report_inputs(self) -> list[ReportInput]:
        """Every report's input, in output order (what :func:`render_and_store` renders)."""
        return [item for _, item in sorted(self.chunk_inputs(self.partition_keys), key=lambda x: x[0])]


def plan_reports(
    instance: dg.DagsterInstance,
    conn: Connection,
    partition_keys: Sequence[str],
    registry: Registry,
    run_url: Callable[[str], str],
    list_length: int,
    event_url: EventUrl | None = None,
) -> ReportPlan:
    wanted = list(dict.fromkeys(partition_keys))
    partitions = sorted((parse_partition_key(k) for k in wanted), key=lambda p: (p.customer_key, p.day))
    previous_keys = sorted({p.previous_day().partition_key for p in partitions} - set(wanted))
    sources = {p.key: p.pipeline_type for p in registry.pipelines}
    events = fetch_source_events(instance, sources, wanted + previous_keys)
    wanted_set = set(wanted)
    by_partition: dict[str, list[tuple[int, SourceEvent]]] = {}
    position = 0
    for event in events:
        if event.partition_key in wanted_set:
            by_partition.setdefault(event.partition_key, []).append((position, event))
            position += 1
        else:
            by_partition.setdefault(event.partition_key, []).append((-1, event))
    current_runs = sorted({e.run_id for e in events if e.partition_key in wanted_set})
    customers = sorted({p.customer_key for p in partitions})
    return ReportPlan(
        partition_keys=[p.partition_key for p in partitions],
        events=by_partition,
        names=display_names(conn, customers),
        starts={
            **{rid: info.started_at for rid, info in run_infos(instance, current_runs).items()},
            **external_starts(e for e in events if e.partition_key in wanted_set),
        },
        generated=first_generated(conn, wanted),
        now=dt.datetime.now(dt.UTC).replace(microsecond=0),
        run_url=run_url,
        list_length=list_length,
        registry=registry,
        event_url=event_url,
        settings=settings_for(conn, customers, templates_home()),
    )


def external_starts(events: Iterable[SourceEvent]) -> dict[str, dt.datetime]:
    """When each run reported from outside Dagster started: its contract's ``started_at``, else
    when the report arrived (there is no Dagster run to ask)."""
    starts: dict[str, dt.datetime] = {}
    for event in events:
        if event.external_id is None:
            continue
        raw = event.raw_contract.get("started_at") if isinstance(event.raw_contract, dict) else None
        try:
            started = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            started = None
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=dt.UTC)
        starts[event.run_id] = started or dt.datetime.fromtimestamp(event.timestamp, dt.UTC)
    return starts


def iter_chunks(plan: ReportPlan, processes: int = 0) -> Iterator[list[Built]]:
    """The plan's reports, chunk by chunk as the chunks are rendered: on every core (forked
    workers) for large batches."""
    workers = worker_count(plan.report_count, processes)
    if workers > 1:
        warm(plan.settings.values())  # once here, not in each worker
    chunks = plan.chunks(chunk_count(workers))
    yield from imap_forked(lambda i: plan.build_chunk(chunks[i]), len(chunks), workers)


def render_and_store(conn: Connection, plan: ReportPlan, processes: int = 0) -> RenderOutcome:
    """Render the plan's reports and upsert them in one transaction; each chunk is copied and
    written while the workers render the next ones."""
    built: list[Built] = []

    def staged() -> Iterator[list[tuple[object, ...]]]:
        for chunk in iter_chunks(plan, processes):
            built.extend(chunk)
            yield [item.staged for item in chunk]

    with gc_paused():
        store_staged(conn, staged(), first_write=not plan.generated)
    built.sort(key=lambda b: b.position)
    return RenderOutcome(rows=[b.row for b in built], problems=[b.problem for b in built if b.problem])


def render_partitions(
    instance: dg.DagsterInstance,
    conn: Connection,
    partition_keys: Sequence[str],
    registry: Registry,
    run_url: Callable[[str], str],
    list_length: int,
    processes: int = 0,
    event_url: EventUrl | None = None,
) -> RenderOutcome:
    """Render every run of the registered pipelines in ``partition_keys`` and upsert the reports
    (idempotent).

    ``processes``: workers for large batches (0 = one per core, 1 = this process only).
    """
    plan = plan_reports(instance, conn, partition_keys, registry, run_url, list_length, event_url)
    return render_and_store(conn, plan, processes)
