"""Backfill benchmark: per-partition runs vs batched range runs vs Dagster's own floor, and how
Dagster 1.13 splits a UI backfill of the report assets.

One run measures, on a throw-away embedded PostgreSQL and a PostgreSQL-backed Dagster instance
(the project's ``ReportingPostgresStorage``):

a. one run per partition for a sample of partitions, launched the way a per-partition backfill
   launches them: each run in its own process, which loads the code location and the instance
   and executes the run (the run launcher starts ``dagster api execute_run``; here
   ``dagster asset materialize --partition``, the same process shape started by hand);
   next to it, for the cheapest possible single run, the same partitions as
   ``execute_in_process(partition_key=...)`` runs of ``render_reports`` and of a no-op;
b. one batched range run per customer over all its days (range tags, as ``demo.py`` does);
c. a no-op multi-asset with the same partitions definition and ``BackfillPolicy.single_run()``
   that yields one ``AssetMaterialization`` per partition for 3 keys, over the same ranges;
d. the split: an asset backfill of the report assets created like the UI creates it
   (``PartitionBackfill.from_asset_partitions`` + ``instance.add_backfill``), driven by the
   backfill daemon's ``execute_backfill_iteration`` with a queued run coordinator, so the runs
   it creates stay queued and can be listed with their partition ranges.

Usage (from the repo root)::

    .venv/bin/python benchmarks/backfill.py                          # 90 days x 20 customers
    .venv/bin/python benchmarks/backfill.py --days 10 --customers 3 --sample 5   # quick check

Project and Dagster modules are imported inside functions, after ``main`` has silenced
warnings, so Dagster's import-time beta/preview notes stay out of the output and ``--help``
stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import (
    instance_settings,
    load,
    migrated_database,
    progress,
    progress_to_stderr,
    publish,
    source_state,
    step_seconds,
    throwaway_instance,
    throwaway_server,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "backfill.json"
END_DATE = dt.date(2025, 6, 17)  # the demo's last day; 90 days back stays inside the partitions
REPORTING_DB = "bench_backfill_reporting"
DAGSTER_DB = "bench_backfill_dagster"
NOOP_KEYS = 3  # render_reports materializes 3 assets per partition; so does the no-op
PARTIAL_EVERY = 37  # every 37th contract is a partial run (rejected records), as in render_store
TARGET_SINGLE_OVER_BATCHED = 10.0  # a / b must be at least this
TARGET_BATCHED_OVER_NOOP = 2.0  # b / c must be at most this
BACKFILL_TAG = "dagster/backfill"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def days_ending(end: dt.date, days: int) -> list[dt.date]:
    first = end - dt.timedelta(days=days - 1)
    return [first + dt.timedelta(days=i) for i in range(days)]


def partition_key(customer: str, day: dt.date) -> str:
    return f"{customer}|{day.isoformat()}"


# --------------------------------------------------------------------------------------------
# Setup (not timed): customers and runless source materializations
# --------------------------------------------------------------------------------------------


def register_customers(url: str, instance: Any, names: list[str]) -> None:
    from reporting_assets.customers import add_customer
    from reporting_assets.db.connection import connect

    with connect(url, doing="registering customers") as conn:
        for name in names:
            add_customer(conn, instance, name)


def report_source_events(
    instance: Any, customers: list[str], days: list[dt.date], pipelines: list[str]
) -> dict[str, Any]:
    """One runless materialization per customer x day x pipeline, carrying a real contract.

    Contracts come from ``PipelineReporter`` + ``run_pipeline`` (the synthetic board), with a
    Kestra-style external id and an occasional partial run, and are reported with
    ``instance.report_runless_asset_event`` (so their run id is Dagster's runless id, "").
    """
    import dagster as dg

    from reporting_assets.reporter import PipelineReporter
    from reporting_assets.sources.pipelines import run_pipeline

    total = len(customers) * len(days) * len(pipelines)
    step = max(1, total // 10)
    build_s = store_s = 0.0
    partial = 0
    n = 0
    started = time.perf_counter()
    for customer in customers:
        for day in days:
            for pipeline in pipelines:
                n += 1
                t0 = time.perf_counter()
                simulate = "partial" if n % PARTIAL_EVERY == 0 else "none"
                partial += simulate == "partial"
                reporter = PipelineReporter(
                    customer,
                    pipeline,
                    None,
                    execution_date=day,
                    customer_key=customer,
                    external_execution_id=f"kestra_exec_{day:%Y%m%d}_{n:06d}",
                )
                run_pipeline(pipeline, reporter, customer, day, simulate)  # type: ignore[arg-type]
                event = dg.AssetMaterialization(
                    asset_key=pipeline,
                    partition=partition_key(customer, day),
                    metadata=reporter.to_metadata(),
                )
                t1 = time.perf_counter()
                instance.report_runless_asset_event(event)
                t2 = time.perf_counter()
                build_s += t1 - t0
                store_s += t2 - t1
                if n % step == 0 or n == total:
                    elapsed = time.perf_counter() - started
                    progress(
                        f"      [{n:>6,}/{total:,}] events, {elapsed:.1f}s "
                        f"(contract {build_s / n * 1000:.1f} ms, report_runless_asset_event "
                        f"{store_s / n * 1000:.1f} ms per event)"
                    )
    return {
        "events": total,
        "partial": partial,
        "contract_seconds": build_s,
        "store_seconds": store_s,
        "seconds": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


def noop_definitions() -> Any:
    """A no-op multi-asset shaped like ``render_execution_reports``: same partitions def,
    single-run backfill policy, 3 skippable keys, one materialization per partition and key."""
    import dagster as dg

    from reporting_assets.partitions import customer_day_partitions

    specs = [dg.AssetSpec(f"bench_noop_{i}", skippable=True) for i in range(NOOP_KEYS)]

    @dg.multi_asset(
        name="bench_noop",
        specs=specs,
        partitions_def=customer_day_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    def bench_noop(context) -> Iterator[Any]:  # type: ignore[no-untyped-def]  # Dagster reads the hints
        keys = list(context.partition_keys)
        for spec in specs:
            for key in keys:
                yield dg.AssetMaterialization(asset_key=spec.key, partition=key)

    job = dg.define_asset_job(
        "bench_noop_job", selection=[bench_noop], partitions_def=customer_day_partitions
    )
    return dg.Definitions(assets=[bench_noop], jobs=[job])


RUN_MIGRATIONS = {"apply": True}  # main() switches it off with --skip-run-migrations


LAUNCHED_SELECTION = "execution_reports,workflow_lineage,daily_customer_summaries"


def write_instance_yaml(home: Path) -> None:
    """A ``dagster.yaml`` for the launched runs: the same storage as the in-process instance."""
    home.mkdir(parents=True, exist_ok=True)
    import yaml

    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_settings()), encoding="utf-8")


def launch_run(home: Path, key: str) -> dict[str, float]:
    """One run of the report assets for ``key`` in a new process (wall time, launch to exit)."""
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "reporting_assets.definitions",
        "--select",
        LAUNCHED_SELECTION,
        "--partition",
        key,
    ]
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=home, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"launched run for {key} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return {"seconds": wall, "step_seconds": float("nan")}


def run_job(job: Any, instance: Any, **kwargs: Any) -> dict[str, float]:
    from reporting_assets.batched_runs import QUIET_LOGGERS

    run_config: dict[str, Any] = dict(QUIET_LOGGERS)
    if job.name == "render_reports" and not RUN_MIGRATIONS["apply"]:
        run_config["resources"] = {"postgres": {"config": {"apply_migrations": False}}}
    t0 = time.perf_counter()
    outcome = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False, **kwargs)
    wall = time.perf_counter() - t0
    if not outcome.success:
        errors = [
            error.to_string()
            for event in outcome.all_events
            if (error := getattr(event.event_specific_data, "error", None)) is not None
        ]
        raise RuntimeError(
            f"{job.name} failed ({kwargs}); run {outcome.run_id}: " + ("\n".join(errors) or "no error event")
        )
    return {"seconds": wall, "step_seconds": step_seconds(instance, outcome.run_id)}


def migrate_seconds(url: str, repeats: int = 5) -> float:
    """Median cost of the migration check every render run makes at start (database up to date)."""
    from reporting_assets.db.migrations import migrate

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        migrate(url)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sample_partitions(customers: list[str], days: list[dt.date], sample: int) -> list[str]:
    """``sample`` partitions spread evenly over the customer x day grid."""
    grid = [partition_key(c, d) for c in customers for d in days]
    sample = min(sample, len(grid))
    return [grid[(i * len(grid)) // sample + (len(grid) // sample) // 2] for i in range(sample)]


def bench_runs(
    instance: Any,
    jobs: dict[str, Any],
    customers: list[str],
    days: list[dt.date],
    sample: list[str],
    url: str,
    launched: list[str],
    home: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """a, b and c, interleaved per customer so that load changes on a shared machine hit all
    alike: the customer's sampled partitions one run each (launched in a new process, then
    in-process render and no-op), then its range run (render, then no-op). Returns (a, b+c)."""
    from reporting_assets.db.connection import connect

    single: dict[str, list[dict[str, Any]]] = {label: [] for label in ("launched", *jobs)}
    ranged: dict[str, list[dict[str, Any]]] = {label: [] for label in jobs}
    for customer in customers:
        mine = [k for k in sample if k.split("|")[0] == customer]
        line = f"      {customer:<14}"
        runs = [{"partition": key, **launch_run(home, key)} for key in launched if key in mine]
        single["launched"] += runs
        if runs:
            line += f" launched {statistics.fmean(r['seconds'] for r in runs):.2f}s/run"
        for label, job in jobs.items():
            runs = [{"partition": key, **run_job(job, instance, partition_key=key)} for key in mine]
            single[label] += runs
            if runs:
                line += f" single {label} {statistics.fmean(r['seconds'] for r in runs):.2f}s/run"
        tags = {
            RANGE_START_TAG: partition_key(customer, days[0]),
            RANGE_END_TAG: partition_key(customer, days[-1]),
        }
        for label, job in jobs.items():
            entry = {"customer": customer, "partitions": len(days), **run_job(job, instance, tags=tags)}
            ranged[label].append(entry)
            line += f" | range {label} {entry['seconds']:.2f}s (step {entry['step_seconds']:.2f}s)"
        progress(line)
    a = {label: summarize_runs(runs, len(runs)) for label, runs in single.items()}
    bc: dict[str, Any] = {
        label: summarize_runs(runs, len(customers) * len(days)) for label, runs in ranged.items()
    }
    with connect(url, doing="counting rows") as conn:
        bc["table_counts"] = {
            table: conn.execute(f"SELECT count(*) AS n FROM reporting.{table}").fetchone()["n"]  # type: ignore[index]
            for table in ("pipeline_execution_reports", "report_lineage", "daily_customer_summaries")
        }
    return a, bc


def summarize_runs(runs: list[dict[str, Any]], partitions: int) -> dict[str, Any]:
    secs = sum(r["seconds"] for r in runs)
    step = sum(r["step_seconds"] for r in runs)  # NaN for launched runs (not read from the log)
    return {
        "runs": len(runs),
        "partitions": partitions,
        "seconds": secs,
        "step_seconds": step,
        "seconds_per_partition": secs / partitions,
        "step_seconds_per_partition": step / partitions,
        "median_run_seconds": statistics.median(r["seconds"] for r in runs),
        "per_run": runs,
    }


# --------------------------------------------------------------------------------------------
# d. How the backfill daemon splits a UI backfill
# --------------------------------------------------------------------------------------------


def backfill_split(
    instance: Any, workspace: Any, backfill_id: str, keys: list[str], customers: list[str]
) -> dict[str, Any]:
    """Create an asset backfill of the report assets for ``keys`` as the UI does and let the
    daemon iteration request its runs (they stay queued: queued run coordinator, no dequeuer)."""
    import dagster as dg
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
    from dagster._daemon.backfill import execute_backfill_iteration

    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()
    from reporting_assets.execution_reports.assets import REPORT_ASSET_KEYS

    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=defs.get_repository_def().asset_graph,
        partition_names=keys,
        asset_selection=REPORT_ASSET_KEYS,
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    logger = logging.getLogger("bench_backfill")
    logger.setLevel(logging.WARNING)
    iterations: list[dict[str, Any]] = []
    stable = 0
    runs: list[Any] = []
    for i in range(1, 11):  # runs are all requested in the first iteration in practice
        t0 = time.perf_counter()
        errors = [e for e in execute_backfill_iteration(workspace, logger) if e is not None]
        seconds = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"backfill iteration failed: {errors[0].to_string()}")
        status = instance.get_backfill(backfill_id).status
        before = len(runs)
        runs = instance.get_runs(dg.RunsFilter(tags={BACKFILL_TAG: backfill_id}))
        iterations.append({"iteration": i, "seconds": seconds, "runs": len(runs), "status": status.value})
        stable = stable + 1 if runs and len(runs) == before else 0
        if status != BulkActionStatus.REQUESTED or stable >= 2:
            break
    listed = []
    for run in sorted(runs, key=lambda r: r.tags.get(RANGE_START_TAG) or r.tags.get(PARTITION_TAG) or ""):
        start = run.tags.get(RANGE_START_TAG) or run.tags.get(PARTITION_TAG)
        end = run.tags.get(RANGE_END_TAG) or run.tags.get(PARTITION_TAG)
        listed.append(
            {
                "run_id": run.run_id,
                "status": run.status.value,
                "start": start,
                "end": end,
                "partitions": count_range(start, end, customers),
                "assets": sorted(k.to_user_string() for k in run.asset_selection or ()),
            }
        )
    return {
        "backfill_id": backfill_id,
        "partitions_requested": len(keys),
        "iterations": iterations,
        "runs": listed,
    }


def count_range(start: str | None, end: str | None, customers: list[str]) -> int | None:
    """Partitions in a ``customer|day`` key range: Dagster ranges over a multi-partitions
    definition are rectangles (customers c1..c2 in registration order x days d1..d2)."""
    if not start or not end:
        return None
    (c1, d1), (c2, d2) = start.split("|"), end.split("|")
    if c1 not in customers or c2 not in customers:
        return None
    spanned = customers.index(c2) - customers.index(c1) + 1
    return spanned * ((dt.date.fromisoformat(d2) - dt.date.fromisoformat(d1)).days + 1)


def bench_split(
    instance: Any, customers: list[str], days: list[dt.date], args: argparse.Namespace
) -> dict[str, Any]:
    import sys as _sys

    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    origin = InProcessCodeLocationOrigin(
        loadable_target_origin=LoadableTargetOrigin(
            executable_path=_sys.executable,
            module_name="reporting_assets.definitions",
            working_directory=str(Path(__file__).resolve().parents[1]),
        ),
        location_name="reporting_assets",
    )
    small_customers = customers[: args.split_customers]
    small_days = days[-args.split_days :]
    out: dict[str, Any] = {}
    with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as workspace:
        cases = (
            ("small", small_customers, small_days),
            ("few_days", customers[:5], days[-2:]),  # more customers than days: which way does it split?
            ("full", customers, days),
        )
        for name, cs, ds in cases:
            keys = [partition_key(c, d) for c in cs for d in ds]
            progress(
                f"      backfill '{name}': {len(ds)} days x {len(cs)} customers = {len(keys)} partitions"
            )
            result = backfill_split(instance, workspace, f"bench_split_{name}", keys, cs)
            result.update(days=len(ds), customers=len(cs))
            out[name] = result
            progress(
                f"        -> {len(result['runs'])} run(s) after "
                f"{len(result['iterations'])} daemon iteration(s)"
            )
    return out


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def summarize(
    meta: dict[str, Any], a: dict[str, Any], bc: dict[str, Any], split: dict[str, Any] | None
) -> dict[str, Any]:
    a_pp = a["launched"]["seconds_per_partition"]
    a_in_process_pp = a["render"]["seconds_per_partition"]
    b_pp = bc["render"]["seconds_per_partition"]
    c_pp = bc["noop"]["seconds_per_partition"]
    return {
        "config": meta,
        "a_launched_runs": a["launched"],
        "a_in_process_runs": a["render"],
        "a_noop_single_runs": a["noop"],
        "b_range_runs": bc["render"],
        "c_noop_range_runs": bc["noop"],
        "table_counts": bc["table_counts"],
        "seconds_per_partition": {
            "a": a_pp,
            "a_in_process": a_in_process_pp,
            "a_noop": a["noop"]["seconds_per_partition"],
            "b": b_pp,
            "c": c_pp,
        },
        "ratios": {
            "a_over_b": a_pp / b_pp,
            "a_over_b_target_min": TARGET_SINGLE_OVER_BATCHED,
            "a_over_b_met": a_pp / b_pp >= TARGET_SINGLE_OVER_BATCHED,
            "a_in_process_over_b": a_in_process_pp / b_pp,
            "b_over_c": b_pp / c_pp,
            "b_over_c_target_max": TARGET_BATCHED_OVER_NOOP,
            "b_over_c_met": b_pp / c_pp <= TARGET_BATCHED_OVER_NOOP,
            "b_over_c_step": bc["render"]["step_seconds"] / bc["noop"]["step_seconds"],
            "a_noop_over_c": a["noop"]["seconds_per_partition"] / c_pp,
        },
        "backfill_split": split,
    }


def table(r: dict[str, Any]) -> str:
    cfg, ra = r["config"], r["ratios"]
    lines = [
        f"backfill benchmark: {cfg['customers']} customers x {cfg['days']} days = "
        f"{cfg['partitions']:,} partitions, "
        f"{cfg['pipelines']} source contracts each ({cfg['source_events']:,} runless materializations), "
        f"{cfg['cpus']} CPUs, load {cfg['load_before']} -> {cfg['load_after']}",
        "",
        f"   {'':<58}{'runs':>6}{'parts':>7}{'wall s':>9}{'step s':>9}{'s/partition':>13}",
    ]
    rows = (
        ("a. report assets, one launched run (own process) per partition", r["a_launched_runs"]),
        ("   render_reports, one in-process run per partition", r["a_in_process_runs"]),
        ("   no-op, one run per partition (same sample)", r["a_noop_single_runs"]),
        ("b. render_reports, one range run per customer", r["b_range_runs"]),
        (f"c. no-op multi-asset ({NOOP_KEYS} keys, single_run), same ranges", r["c_noop_range_runs"]),
    )
    for label, x in rows:
        lines.append(
            f"   {label:<58}{x['runs']:>6}{x['partitions']:>7,}{x['seconds']:>9.2f}{x['step_seconds']:>9.2f}"
            f"{x['seconds_per_partition']:>13.4f}"
        )
    lines += [
        "",
        f"   a / b = {ra['a_over_b']:.1f}x  (target >= {ra['a_over_b_target_min']:.0f}x: "
        f"{'met' if ra['a_over_b_met'] else 'NOT met'}); in-process single runs / b = "
        f"{ra['a_in_process_over_b']:.1f}x",
        f"   b / c = {ra['b_over_c']:.2f}x  (target <= {ra['b_over_c_target_max']:.0f}x: "
        f"{'met' if ra['b_over_c_met'] else 'NOT met'}; step time only: {ra['b_over_c_step']:.2f}x)",
        f"   no-op single run / no-op range, per partition = {ra['a_noop_over_c']:.1f}x "
        "(Dagster's own per-run cost)",
        f"   rows after b: {', '.join(f'{k} {v:,}' for k, v in r['table_counts'].items())}",
        f"   setup, not timed: {cfg['source_events']:,} events in {cfg['setup']['seconds']:.1f}s "
        f"(contracts {cfg['setup']['contract_seconds']:.1f}s, report_runless_asset_event "
        f"{cfg['setup']['store_seconds']:.1f}s)",
        f"   render runs {'apply' if cfg['render_runs_apply_migrations'] else 'skip'} the migration check at "
        f"start; alone it costs {cfg['migrate_check_seconds'] * 1000:.0f} ms "
        "(median of 5, database up to date)",
    ]
    split = r["backfill_split"]
    if split:
        lines += [
            "",
            "d. Backfill split: asset backfill of execution_reports + workflow_lineage + "
            "daily_customer_summaries",
        ]
        lines.append(
            "   (PartitionBackfill.from_asset_partitions + add_backfill, "
            "driven by execute_backfill_iteration)"
        )
        for name in ("small", "few_days", "full"):
            s = split[name]
            sizes = [x["partitions"] for x in s["runs"]]
            known = [x for x in sizes if x is not None]
            lines.append(
                f"   {s['days']} days x {s['customers']} customers "
                f"({s['partitions_requested']} partitions) -> "
                f"{len(s['runs'])} run(s) in {len(s['iterations'])} iteration(s); partitions per run "
                f"{min(known) if known else '?'}..{max(known) if known else '?'}"
            )
            if name != "full" or len(s["runs"]) <= 6:
                for x in s["runs"]:
                    lines.append(
                        f"     {x['start']} ... {x['end']}  ({x['partitions']} partitions, {x['status']})"
                    )
    src = r["config"]["source"]
    lines.append(f"   code: commit {src['commit']}" + (" + uncommitted changes" if src["dirty"] else ""))
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    pp, ra = result["seconds_per_partition"], result["ratios"]
    return [
        {
            "benchmark": "backfill a/b: one run per partition vs range runs (s/partition)",
            "project": pp["a"],
            "floor": pp["b"],
            "unit": "s",
            "ratio": ra["a_over_b"],
            "target": f">= {TARGET_SINGLE_OVER_BATCHED:g}x",
            "met": ra["a_over_b_met"],
        },
        {
            "benchmark": "backfill b/c: range runs vs no-op range runs (s/partition)",
            "project": pp["b"],
            "floor": pp["c"],
            "unit": "s",
            "ratio": ra["b_over_c"],
            "target": f"<= {TARGET_BATCHED_OVER_NOOP:g}x",
            "met": ra["b_over_c_met"],
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90, help="days per customer (default 90)")
    parser.add_argument("--customers", type=int, default=20, help="customers (default 20)")
    parser.add_argument(
        "--sample", type=int, default=20, help="partitions run one by one in-process in a (default 20)"
    )
    parser.add_argument(
        "--launched",
        type=int,
        default=8,
        help="of those, partitions run in their own process in a (default 8; ~5 s each)",
    )
    parser.add_argument(
        "--pipelines",
        type=int,
        default=3,
        help="source contracts per partition, 1-3 (default 3: all sources)",
    )
    parser.add_argument(
        "--split-days", type=int, default=5, help="days of the small backfill in d (default 5)"
    )
    parser.add_argument(
        "--split-customers", type=int, default=3, help="customers of the small backfill (default 3)"
    )
    parser.add_argument("--skip-split", action="store_true", help="skip d (backfill split)")
    parser.add_argument(
        "--skip-run-migrations",
        action="store_true",
        help="render runs skip PostgresResource's migration check at start (its cost is reported apart)",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if min(args.days, args.customers, args.sample, args.launched, args.split_days, args.split_customers) < 1:
        parser.error("counts must be positive")
    if not 1 <= args.pipelines <= 3:
        parser.error("--pipelines must be 1, 2 or 3")
    args.split_days = min(args.split_days, args.days)
    args.split_customers = min(args.split_customers, args.customers)
    if args.json_only:
        progress_to_stderr()
    RUN_MIGRATIONS["apply"] = not args.skip_run_migrations
    warnings.simplefilter("ignore")  # Dagster beta/preview notes, platformdirs' runtime-dir fallback

    from reporting_assets.db.urls import DAGSTER_DATABASE_URL_ENV, DATABASE_URL_ENV, with_database

    load_before = load()
    days = days_ending(END_DATE, args.days)
    customers = [f"CUSTOMER {i:03d}" for i in range(args.customers)]
    with throwaway_server("backfill_bench_") as (root, server_url):
        url = migrated_database(server_url, REPORTING_DB, DAGSTER_DB)
        os.environ[DATABASE_URL_ENV] = url
        os.environ[DAGSTER_DATABASE_URL_ENV] = with_database(server_url, DAGSTER_DB)

        from reporting_assets.definitions import loaded_definitions

        defs = loaded_definitions()
        from reporting_assets.sources.pipelines import PIPELINES

        pipelines = list(PIPELINES)[: args.pipelines]
        # d: runs the backfill daemon submits stay queued (nothing dequeues them);
        # execute_in_process (a-c) does not go through the coordinator
        queued = {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}
        with throwaway_instance(root, run_coordinator=queued) as instance:
            progress(f"[setup] registering {len(customers)} customers")
            register_customers(url, instance, customers)
            total = len(customers) * len(days) * len(pipelines)
            progress(
                f"[setup] {total:,} runless source materializations ({len(customers)} customers x "
                f"{len(days)} days x {len(pipelines)} pipelines), not timed"
            )
            setup = report_source_events(instance, customers, days, pipelines)

            render_job = defs.resolve_job_def("render_reports")
            noop_job = noop_definitions().resolve_job_def("bench_noop_job")
            warm = partition_key(customers[0], days[0] - dt.timedelta(days=1))  # no events: renders nothing
            progress("[warm-up] one run of each job (first runs pay one-off costs), not timed")
            run_job(render_job, instance, partition_key=warm)
            run_job(noop_job, instance, partition_key=warm)
            migrate_s = migrate_seconds(url)

            sample = sample_partitions(customers, days, args.sample)
            progress(
                f"[a+b+c] per customer: its sampled partitions one run each ({len(sample)} in all), "
                f"then its {len(days)}-day range run; render_reports, then the no-op"
            )
            jobs = {"render": render_job, "noop": noop_job}
            launched = sample[:: max(1, len(sample) // args.launched)][: args.launched]  # spread out
            launch_home = root / "launched_home"
            write_instance_yaml(launch_home)
            a, bc = bench_runs(instance, jobs, customers, days, sample, url, launched, launch_home)

            split = None
            if not args.skip_split:
                progress("[d] how the backfill daemon splits a UI backfill of the report assets")
                split = bench_split(instance, customers, days, args)

        meta = {
            "customers": len(customers),
            "days": len(days),
            "first_day": days[0].isoformat(),
            "last_day": days[-1].isoformat(),
            "partitions": len(customers) * len(days),
            "pipelines": len(pipelines),
            "source_events": setup["events"],
            "sample": len(sample),
            "launched": len(launched),
            "render_runs_apply_migrations": RUN_MIGRATIONS["apply"],
            "migrate_check_seconds": migrate_s,
            "setup": setup,
            "source": source_state(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_before": load_before,
            "load_after": load(),
        }
        result = summarize(meta, a, bc, split)
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
