"""Sensor-tick benchmark: ``source_runs_sensor`` with a small and a large event log.

One run measures, on a throw-away embedded PostgreSQL and a PostgreSQL-backed Dagster instance
(the project's ``ReportingPostgresStorage``):

1. the log holds ``--small`` source events (default 1,000): the last ``--tail`` (default 20)
   are fresh runs of today's partitions, the cursor sits just before them (the steady state of
   a sensor that ticks every 30 s); the tick is evaluated ``--repeats`` times with
   ``dg.build_sensor_context(instance=..., cursor=..., definitions=defs)``;
2. more history is added until the log holds ``--large`` events (default 30,000), again ending
   with ``--tail`` fresh events and the cursor just before them; same evaluation.

The ratio of the median ticks must stay near 1 (cost per tick depends on what is new, not on
history). The storage part of the tick (``touched_partitions``: 6 paged event-log queries) is
also timed alone.

Source events are runless: history through Dagster's batch writer
(``event_log_storage.store_event_batch``, the path single-run backfills use), or one by one with
``instance.report_runless_asset_event`` (``--writer runless``, ~10x slower to set up); the fresh
tail always through ``report_runless_asset_event``. Each event carries a real run-report contract
(``PipelineReporter`` + ``run_pipeline``) drawn from a pool, so rows have realistic size; the
sensor does not read contracts. About 1 in 100 history events is an observation (a failed run's
error contract), so both fetches the sensor makes return rows.

Usage (from the repo root)::

    .venv/bin/python benchmarks/sensor_tick.py                         # 1,000 vs 30,000 events
    .venv/bin/python benchmarks/sensor_tick.py --large 5000 --repeats 5   # quick check

Project and Dagster modules are imported inside functions, after ``main`` has silenced warnings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from _common import (
    load,
    migrated_database,
    progress,
    progress_to_stderr,
    publish,
    source_state,
    throwaway_instance,
    throwaway_server,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "sensor_tick.json"
REPORTING_DB = "bench_sensor_reporting"
DAGSTER_DB = "bench_sensor_dagster"
HISTORY_START = dt.date(2025, 1, 1)
HISTORY_CUSTOMERS = 20
POOL_DAYS = 10  # contracts in the pool: 3 pipelines x POOL_DAYS days (x 1 customer)
OBSERVATION_EVERY = 100
BATCH = 500
TARGET_RATIO = 1.25  # "near 1": large / small median tick


def contract_pool() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(pipeline, success metadata, failure metadata) from real contracts."""
    from reporting_assets.reporter import PipelineReporter
    from reporting_assets.sources.pipelines import PIPELINES, run_pipeline

    pool = []
    for i in range(POOL_DAYS):
        day = dt.date(2025, 6, 8) + dt.timedelta(days=i)
        for pipeline in PIPELINES:
            reporter = PipelineReporter("ACTIVELY BLACK", pipeline, None, execution_date=day)
            run_pipeline(pipeline, reporter, "ACTIVELY BLACK", day)
            ok = reporter.to_metadata()
            reporter.add_error("Pipeline failed: DatabaseUnavailableError: connection refused")
            pool.append((pipeline, ok, reporter.to_metadata(status="failed")))
    return pool


class History:
    """Source events over customers x days x the 3 pipelines from 2025-01-01, in order."""

    def __init__(self, pool: list[tuple[str, dict[str, Any], dict[str, Any]]], customers: list[str]) -> None:
        self.pool = pool
        self.customers = customers
        self.n = 0

    def next_events(self, count: int) -> list[Any]:
        import dagster as dg

        out = []
        for _ in range(count):
            pipeline, ok, failed = self.pool[self.n % len(self.pool)]
            cell = self.n // 3  # one partition per 3 events (the 3 pipelines)
            customer = self.customers[cell % len(self.customers)]
            day = HISTORY_START + dt.timedelta(days=cell // len(self.customers))
            key = f"{customer}|{day.isoformat()}"
            self.n += 1
            if self.n % OBSERVATION_EVERY == 0:
                out.append(dg.AssetObservation(asset_key=pipeline, partition=key, metadata=failed))
            else:
                out.append(dg.AssetMaterialization(asset_key=pipeline, partition=key, metadata=ok))
        return out


def write_runless_batch(instance: Any, events: list[Any]) -> None:
    """Store runless events through the event log's batch writer, grouped by kind and asset
    (the batch writer updates the asset row from its last event only)."""
    import dagster as dg
    from dagster._core.events import (
        AssetObservationData,
        DagsterEvent,
        DagsterEventType,
        StepMaterializationData,
    )
    from dagster._core.events.log import EventLogEntry
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

    groups: dict[tuple[str, str], list[Any]] = {}
    for event in events:
        kind = "m" if isinstance(event, dg.AssetMaterialization) else "o"
        groups.setdefault((kind, event.asset_key.to_user_string()), []).append(event)
    for (kind, _), group in groups.items():
        entries = []
        for event in group:
            if kind == "m":
                dagster_event = DagsterEvent(
                    event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
                    event_specific_data=StepMaterializationData(event),
                    job_name=RUNLESS_JOB_NAME,
                )
            else:
                dagster_event = DagsterEvent(
                    event_type_value=DagsterEventType.ASSET_OBSERVATION.value,
                    event_specific_data=AssetObservationData(event),
                    job_name=RUNLESS_JOB_NAME,
                )
            entries.append(
                EventLogEntry(
                    user_message="",
                    level=logging.INFO,
                    job_name=RUNLESS_JOB_NAME,
                    run_id=RUNLESS_RUN_ID,
                    error_info=None,
                    timestamp=time.time(),
                    step_key=None,
                    dagster_event=dagster_event,
                )
            )
        instance.event_log_storage.store_event_batch(entries)


def add_history(instance: Any, history: History, count: int, writer: str) -> float:
    started = time.perf_counter()
    done = 0
    step = max(BATCH, (count // 10) // BATCH * BATCH)
    while done < count:
        events = history.next_events(min(BATCH, count - done))
        if writer == "batch":
            write_runless_batch(instance, events)
        else:
            for event in events:
                instance.report_runless_asset_event(event)
        done += len(events)
        if done % step == 0 or done == count:
            progress(f"      [{done:>7,}/{count:,}] history events, {time.perf_counter() - started:.1f}s")
    return time.perf_counter() - started


def add_tail(
    instance: Any, pool: list[tuple[str, dict[str, Any], dict[str, Any]]], customers: list[str], tail: int
) -> int:
    """``tail`` fresh runless materializations of today's partitions; returns the cursor just before them."""
    import dagster as dg

    cursor = instance.event_log_storage.get_maximum_record_id() or 0
    today = dt.datetime.now(dt.UTC).date()
    for i in range(tail):
        pipeline, ok, _ = pool[i % len(pool)]
        key = f"{customers[(i // 3) % len(customers)]}|{today.isoformat()}"
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=pipeline, partition=key, metadata=ok)
        )
    return cursor


def source_event_count(instance: Any) -> int:
    from reporting_assets.sources.assets import SOURCE_ASSET_KEYS

    total = 0
    for key in SOURCE_ASSET_KEYS:
        for fetch in (instance.fetch_materializations, instance.fetch_observations):
            cursor = None
            while True:
                result = fetch(key, limit=10_000, cursor=cursor)
                total += len(result.records)
                if not result.has_more:
                    break
                cursor = result.cursor
    return total


def measure(instance: Any, cursor: int, repeats: int) -> dict[str, Any]:
    """Tick ``repeats`` times from the same cursor (steady state); also the storage part alone."""
    import dagster as dg

    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()
    from reporting_assets.execution_reports.sensors import source_runs_sensor, touched_partitions
    from reporting_assets.resources import PostgresResource
    from reporting_assets.sources.assets import SOURCE_ASSET_KEYS

    ticks, queries = [], []
    result = None
    for _ in range(repeats + 1):  # the first tick warms caches and is not counted
        context = dg.build_sensor_context(
            instance=instance,
            cursor=str(cursor),
            definitions=defs,
            resources={"postgres": PostgresResource()},
        )
        t0 = time.perf_counter()
        result = source_runs_sensor(context)
        ticks.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        touched_partitions(instance, cursor, SOURCE_ASSET_KEYS)
        queries.append(time.perf_counter() - t0)
    ticks, queries = ticks[1:], queries[1:]
    assert result is not None
    requests = list(result.run_requests or [])
    return {
        "cursor": cursor,
        "repeats": repeats,
        "tick_median_seconds": statistics.median(ticks),
        "tick_min_seconds": min(ticks),
        "tick_max_seconds": max(ticks),
        "touched_partitions_median_seconds": statistics.median(queries),
        "ticks_seconds": ticks,
        "run_requests": len(requests),
        "partitions_requested": sorted({r.partition_key for r in requests if r.partition_key}),
        "new_cursor": result.cursor,
    }


def summarize(meta: dict[str, Any], small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    ratio = large["tick_median_seconds"] / small["tick_median_seconds"]
    return {
        "config": meta,
        "small": small,
        "large": large,
        "ratios": {
            "tick_large_over_small": ratio,
            "touched_partitions_large_over_small": large["touched_partitions_median_seconds"]
            / small["touched_partitions_median_seconds"],
            "target_max": TARGET_RATIO,
            "within_target": ratio <= TARGET_RATIO,
        },
    }


def table(r: dict[str, Any]) -> str:
    cfg, ra = r["config"], r["ratios"]
    lines = [
        f"sensor_tick benchmark: source_runs_sensor, cursor {cfg['tail']} events before the end, "
        f"{cfg['repeats']} ticks each (median), history writer '{cfg['writer']}', {cfg['cpus']} CPUs, "
        f"load {cfg['load_before']} -> {cfg['load_after']}",
        "",
        f"   {'source events in the log':<28}{'tick median s':>15}{'min s':>9}{'max s':>9}"
        f"{'storage part s':>16}{'run requests':>14}",
    ]
    for name in ("small", "large"):
        x = r[name]
        lines.append(
            f"   {x['events']:<28,}{x['tick_median_seconds']:>15.4f}{x['tick_min_seconds']:>9.4f}"
            f"{x['tick_max_seconds']:>9.4f}{x['touched_partitions_median_seconds']:>16.4f}{x['run_requests']:>14}"
        )
    lines += [
        "",
        f"   large / small: tick {ra['tick_large_over_small']:.2f}x, storage part "
        f"{ra['touched_partitions_large_over_small']:.2f}x  (target: near 1, <= {ra['target_max']}x: "
        f"{'met' if ra['within_target'] else 'NOT met'})",
        f"   setup, not timed: history {cfg['history_seconds']['small']:.1f}s + "
        f"{cfg['history_seconds']['large']:.1f}s",
    ]
    src = r["config"]["source"]
    lines.append(f"   code: commit {src['commit']}" + (" + uncommitted changes" if src["dirty"] else ""))
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    ra = result["ratios"]
    return [
        {
            "benchmark": f"sensor_tick: tick at {result['large']['events']:,} vs "
            f"{result['small']['events']:,} events",
            "project": result["large"]["tick_median_seconds"] * 1000,
            "floor": result["small"]["tick_median_seconds"] * 1000,
            "unit": "ms",
            "ratio": ra["tick_large_over_small"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": ra["within_target"],
        }
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--small", type=int, default=1_000, help="source events in the small log (default 1000)"
    )
    parser.add_argument(
        "--large", type=int, default=30_000, help="source events in the large log (default 30000)"
    )
    parser.add_argument("--tail", type=int, default=20, help="fresh events after the cursor (default 20)")
    parser.add_argument("--repeats", type=int, default=15, help="ticks per log size, median (default 15)")
    parser.add_argument(
        "--writer",
        choices=("batch", "runless"),
        default="batch",
        help="how history is written (default batch)",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if not 0 < args.tail < args.small < args.large or args.repeats < 1:
        parser.error("need 0 < --tail < --small < --large and --repeats >= 1")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    from reporting_assets.db.urls import DAGSTER_DATABASE_URL_ENV, DATABASE_URL_ENV, with_database

    load_before = load()
    with throwaway_server("sensor_tick_bench_") as (root, server_url):
        url = migrated_database(server_url, REPORTING_DB, DAGSTER_DB)
        os.environ[DATABASE_URL_ENV] = url
        os.environ[DAGSTER_DATABASE_URL_ENV] = with_database(server_url, DAGSTER_DB)

        from reporting_assets.customers import add_customer
        from reporting_assets.db.connection import connect

        customers = [f"CUSTOMER {i:03d}" for i in range(HISTORY_CUSTOMERS)]
        results: dict[str, dict[str, Any]] = {}
        history_seconds: dict[str, float] = {}
        with throwaway_instance(root) as instance:
            with connect(url, doing="registering customers") as conn:
                for name in customers:
                    add_customer(conn, instance, name)
            progress(f"[setup] building a pool of {POOL_DAYS * 3} real contracts")
            pool = contract_pool()
            history = History(pool, customers)
            written = 0
            for name, size in (("small", args.small), ("large", args.large)):
                count = size - written - args.tail
                progress(f"[{name}] adding {count:,} history events + {args.tail} fresh ones (not timed)")
                history_seconds[name] = add_history(instance, history, count, args.writer)
                cursor = add_tail(instance, pool, customers, args.tail)
                written += count + args.tail
                events = source_event_count(instance)
                progress(
                    f"      {events:,} source events in the log; "
                    f"ticking {args.repeats} times from cursor {cursor}"
                )
                results[name] = {"events": events, **measure(instance, cursor, args.repeats)}
                x = results[name]
                progress(
                    f"      tick median {x['tick_median_seconds'] * 1000:.1f} ms (storage part "
                    f"{x['touched_partitions_median_seconds'] * 1000:.1f} ms), "
                    f"{x['run_requests']} run requests"
                )
        meta = {
            "tail": args.tail,
            "repeats": args.repeats,
            "writer": args.writer,
            "history_seconds": history_seconds,
            "contract_pool": len(pool),
            "source": source_state(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_before": load_before,
            "load_after": load(),
        }
        result = summarize(meta, results["small"], results["large"])
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
