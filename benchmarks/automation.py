"""Automation report benchmark: the report over 24 h of lineage rows against the bare SQL
aggregate on the same rows, and the cost a pipeline pays per batch for its lightweight logging.

One run measures, on a throw-away embedded PostgreSQL:

A. the project path, what the ``automation_reports`` asset does minus Dagster's step: system
   health from a Dagster instance and the code location's schedules and sensors
   (``repository_health``), ``generate_reports`` for every source (the window aggregate over
   ``reporting.automation_actions``, the known-sources loose index scan, the earlier-reports
   lookup, rules, JSON documents), ``store_reports`` + commit, and ``render_markdown``;
B. the floor: one hand-written SQL aggregate over the same rows giving the same per-source
   figures (total, successful, failed, partial, average duration of the actions that did not
   fail), straight from the three tables, fetched and nothing else. B0 is the counts alone
   (no join to the reports table for durations), to show what durations cost;
C. the ``--detailed`` report (breakdowns, percentiles, top errors, slowest runs), for
   information: it is not part of the target;
D. per-batch logging: ``log_batch`` (one structured line on a standard logger) in microseconds
   per batch, with INFO on and off, next to building a full report per batch (what a
   pipeline would pay if it reported after every batch).

Setup (not timed): ``--runs`` runs (default 200,000) spread evenly over the 24 h before the
report time, each with one ``workflow_executions`` row, one ``workflow_execution_partitions``
row and one ``pipeline_execution_reports`` row (6 sources, 50 customers, 4 jobs; 95 % success,
2 % partial, 3 % failed with 5 distinct error messages), written with ``generate_series`` and
``ANALYZE``d. ``report_lineage`` (figure rows) is not generated: no automation query reads it.
A, B and B0 each run once to warm the cache, then ``--repeat`` times in turn (default 5), so
load on the machine hits all alike; the table shows medians.

Usage (from the repo root)::

    .venv/bin/python benchmarks/automation.py                  # 200,000 runs, ~1 min
    .venv/bin/python benchmarks/automation.py --runs 20000     # quick check

The JSON goes to ``benchmarks/results/automation.json`` too. Project and Dagster modules are
imported inside functions, after warnings are silenced, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import migrated_database, progress, progress_to_stderr, publish, throwaway_server

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "automation.json"
REPORT_TIME = dt.datetime(2025, 7, 10, 21, 0, tzinfo=dt.UTC)
DATABASE = "bench_automation"
TARGET_RATIO = 2.0
SOURCES = ["order_sync", "manufacturing_sync", "shipping_sync", "hubspot_sync", "genius_sync", "arrivy_sync"]

FLOOR_SQL = """
SELECT p.pipeline_type,
       count(*),
       count(*) FILTER (WHERE p.status = 'success'),
       count(*) FILTER (WHERE p.status = 'failed'),
       count(*) FILTER (WHERE p.status = 'partial'),
       avg((r.metrics_json ->> 'execution_time_seconds')::double precision)
           FILTER (WHERE p.status <> 'failed')
FROM reporting.workflow_executions e
JOIN reporting.workflow_execution_partitions p ON p.run_id = e.run_id
LEFT JOIN reporting.pipeline_execution_reports r
       ON r.execution_id = p.run_id AND r.pipeline_type = p.pipeline_type
      AND r.customer_key = p.customer_key AND r.execution_date = p.execution_date
WHERE e.started_at >= %(start)s AND e.started_at < %(end)s
GROUP BY p.pipeline_type
"""
COUNTS_SQL = """
SELECT p.pipeline_type, count(*),
       count(*) FILTER (WHERE p.status = 'success'),
       count(*) FILTER (WHERE p.status = 'failed'),
       count(*) FILTER (WHERE p.status = 'partial')
FROM reporting.workflow_executions e
JOIN reporting.workflow_execution_partitions p ON p.run_id = e.run_id
WHERE e.started_at >= %(start)s AND e.started_at < %(end)s
GROUP BY p.pipeline_type
"""


def populate(url: str, runs: int) -> float:
    """Write ``runs`` runs' rows into the window (set-based); return seconds (setup, not timed)."""
    import psycopg

    started = time.perf_counter()
    params = {
        "runs": runs,
        "start": REPORT_TIME - dt.timedelta(hours=24),
        "step": dt.timedelta(hours=24) / runs,
        "sources": SOURCES,
    }
    with psycopg.connect(url) as conn:
        conn.execute(
            """CREATE TEMP TABLE bench_runs AS
               SELECT i,
                      'run-' || lpad(i::text, 8, '0') AS run_id,
                      (%(sources)s::text[])[1 + i %% cardinality(%(sources)s::text[])] AS pipeline_type,
                      (ARRAY['sample_pipelines', 'crm_sync', 'warehouse_collect',
                             'order_backfill'])[1 + i %% 4] AS job_name,
                      'CUSTOMER ' || lpad((i %% 50)::text, 2, '0') AS customer_key,
                      DATE '2025-07-10' - (i %% 2) AS execution_date,
                      CASE WHEN i %% 100 < 95 THEN 'success' WHEN i %% 100 < 97 THEN 'partial'
                           ELSE 'failed' END AS status,
                      %(start)s::timestamptz + %(step)s::interval * i AS started_at,
                      0.2 + (i %% 997) / 100.0 AS seconds
               FROM generate_series(0, %(runs)s - 1) AS i""",
            params,
        )
        conn.execute(
            """INSERT INTO reporting.workflow_executions (run_id, job_name, status, started_at, completed_at)
               SELECT run_id, job_name, CASE WHEN status = 'failed' THEN 'failed' ELSE 'success' END,
                      started_at, started_at + make_interval(secs => seconds + 0.5)
               FROM bench_runs""",
            {},
        )
        conn.execute(
            """INSERT INTO reporting.workflow_execution_partitions
                   (run_id, pipeline_type, customer_key, execution_date, partition_key, status, record_count)
               SELECT run_id, pipeline_type, customer_key, execution_date,
                      customer_key || '|' || execution_date, status, 100 + i %% 900
               FROM bench_runs""",
            {},
        )
        conn.execute(
            """INSERT INTO reporting.pipeline_execution_reports
                   (customer_name, customer_key, execution_date, pipeline_type, execution_id, partition_key,
                    status, source_event, run_started_at, markdown_content, summary_json, metrics_json,
                    contract_json, content_hash, generated_at)
               SELECT customer_key, customer_key, execution_date, pipeline_type, run_id,
                      customer_key || '|' || execution_date, status,
                      CASE WHEN status = 'failed' THEN 'observation' ELSE 'materialization' END, started_at,
                      '# report ' || run_id,
                      jsonb_build_object('status', status,
                                         'counts', jsonb_build_object('records_processed', 100)),
                      jsonb_build_object('execution_time_seconds', seconds,
                                         'records_per_second', 100 / seconds),
                      jsonb_build_object('errors', CASE
                          WHEN status = 'failed' THEN jsonb_build_array(
                              'Pipeline failed: ConnectionError: upstream API returned 50' || (i %% 5))
                          WHEN status = 'partial' THEN jsonb_build_array('3 records rejected by the target')
                          ELSE '[]'::jsonb END),
                      md5(run_id) || md5(pipeline_type), started_at
               FROM bench_runs""",
            {},
        )
        conn.execute("ANALYZE reporting.workflow_executions")
        conn.execute("ANALYZE reporting.workflow_execution_partitions")
        conn.execute("ANALYZE reporting.pipeline_execution_reports")
    return time.perf_counter() - started


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[list[float], Any]]:
    """Warm each up once, then time them in turn ``repeat`` times (A, B, B0, A, B, B0, ...), so a
    change in machine load hits all of them alike; name -> (timings, last result)."""
    results = {name: fn() for name, fn in fns.items()}
    timings: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            results[name] = fn()
            timings[name].append(time.perf_counter() - started)
    return {name: (timings[name], results[name]) for name in fns}


def bench(url: str, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A and C (the report as the asset makes it, stage by stage), B and B0 (the bare SQL)."""
    import dagster as dg
    import psycopg

    from reporting_assets.automation.fallback import event_log_reader
    from reporting_assets.automation.health import repository_health
    from reporting_assets.automation.render import render_markdown
    from reporting_assets.automation.report import ReportRequest, generate_reports
    from reporting_assets.automation.store import store_reports
    from reporting_assets.automation.window import ReportWindow
    from reporting_assets.db.connection import connect
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()
    from reporting_assets.pipelines.registry import load_registry

    window = ReportWindow.ending_at(REPORT_TIME, 24)
    repository = defs.get_repository_def()
    with connect(url) as conn:
        sources = load_registry(conn).sources()
    defined = sorted(sources)
    params = {"start": window.start, "end": window.end}

    def bare(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(url) as conn:
            return conn.execute(sql, params).fetchall()

    with dg.DagsterInstance.ephemeral() as instance:
        reader = event_log_reader(instance, sources)

        def report(detailed: bool = False) -> dict[str, Any]:
            t0 = time.perf_counter()
            health = repository_health(instance, repository, window)
            t1 = time.perf_counter()
            with connect(url) as conn:
                t2 = time.perf_counter()
                reports = generate_reports(
                    conn,
                    ReportRequest(window, "all", detailed),
                    health,
                    defined_sources=defined,
                    event_log=reader,
                )
                t3 = time.perf_counter()
                store_reports(conn, reports, run_id=None)
                conn.commit()
                t4 = time.perf_counter()
            render_markdown(reports, window)
            t5 = time.perf_counter()
            stages = {"health": t1 - t0, "connect": t2 - t1, "generate": t3 - t2, "store": t4 - t3}
            return {"stages": {**stages, "render": t5 - t4}, "reports": reports}

        stage_runs: list[dict[str, float]] = []

        def report_default() -> dict[str, Any]:
            done = report()
            stage_runs.append(done["stages"])
            return done

        found = interleaved(
            {"A": report_default, "B": lambda: bare(FLOOR_SQL), "B0": lambda: bare(COUNTS_SQL)}, repeat
        )
        detailed = interleaved({"C": lambda: report(True)}, max(1, repeat // 2))["C"]
    a_timings, last = found["A"]
    b_timings, rows = found["B"]
    b0_timings, _ = found["B0"]
    timed_stages = stage_runs[1:]  # the warm-up is not a sample
    a = {
        "median_seconds": statistics.median(a_timings),
        "timings": a_timings,
        "stages": {k: statistics.median(r[k] for r in timed_stages) for k in timed_stages[0]},
        "actions": sum(r.metrics.total for r in last["reports"]),
        "sources": [r.source for r in last["reports"]],
        "per_source": {r.source: r.document["performance_metrics"] for r in last["reports"]},
        "detailed_median_seconds": statistics.median(detailed[0]),
    }
    b = {
        "median_seconds": statistics.median(b_timings),
        "timings": b_timings,
        "counts_only_median_seconds": statistics.median(b0_timings),
        "counts_only_timings": b0_timings,
        "per_source": {
            r[0]: {"total": r[1], "successful": r[2], "failed": r[3], "partial": r[4], "avg_seconds": r[5]}
            for r in rows
        },
    }
    return a, b


def bench_batch_logging(batches: int) -> dict[str, float]:
    """D: microseconds per ``log_batch`` call, logging on (to a memory stream) and off."""
    from reporting_assets.automation.batch_log import LOGGER_NAME, log_batch

    logger = logging.getLogger(LOGGER_NAME)
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    result = {}
    for label, level in (("info_on", logging.INFO), ("info_off", logging.WARNING)):
        logger.setLevel(level)
        started = time.perf_counter()
        for i in range(batches):
            log_batch("hubspot_sync", batch=i, records=100, failed=i % 3, seconds=0.412, run_id="r")
        result[f"{label}_us_per_batch"] = (time.perf_counter() - started) / batches * 1e6
        stream.seek(0)
        stream.truncate()
    logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)
    return result


def check_agreement(a: dict[str, Any], b: dict[str, Any]) -> None:
    """A and B must report the same figures, or the comparison means nothing."""
    for source, floor in b["per_source"].items():
        mine = a["per_source"][source]
        got = (
            mine["total_actions"],
            mine["successful_actions"],
            mine["failed_actions"],
            mine["partial_actions"],
        )
        want = (floor["total"], floor["successful"], floor["failed"], floor["partial"])
        if got != want or round(float(floor["avg_seconds"]), 3) != mine["avg_duration_seconds"]:
            raise SystemExit(
                f"{source}: report {got}/{mine['avg_duration_seconds']} != "
                f"floor {want}/{floor['avg_seconds']}"
            )


def table(result: dict[str, Any]) -> str:
    a, b, d = result["project"], result["floor"], result["batch_logging"]
    ratio = result["ratio"]
    rows = [
        ("A. automation report (default)", f"{a['median_seconds'] * 1000:,.1f} ms", ""),
        *[(f"     {k}", f"{v * 1000:,.1f} ms", "") for k, v in a["stages"].items()],
        ("B. bare SQL aggregate (same figures)", f"{b['median_seconds'] * 1000:,.1f} ms", ""),
        ("B0. bare counts (no durations)", f"{b['counts_only_median_seconds'] * 1000:,.1f} ms", ""),
        (
            "A / B",
            f"{ratio:.2f}x",
            f"target <= {TARGET_RATIO:g}x: {'OK' if ratio <= TARGET_RATIO else 'MISSED'}",
        ),
        ("C. detailed report (info)", f"{a['detailed_median_seconds'] * 1000:,.1f} ms", ""),
        ("D. log_batch, INFO on", f"{d['info_on_us_per_batch']:.2f} us/batch", ""),
        ("D. log_batch, INFO off", f"{d['info_off_us_per_batch']:.3f} us/batch", ""),
        (
            "   full report per batch instead",
            f"{a['median_seconds'] * 1e6:,.0f} us/batch",
            f"{a['median_seconds'] * 1e6 / d['info_on_us_per_batch']:,.0f}x the log line",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    head = (
        f"Automation report over {result['runs']:,} runs in 24 h "
        f"({result['actions']:,} actions, {len(a['sources'])} sources), median of {result['repeat']}"
    )
    return "\n".join([head, *(f"{n:<{width}}  {v:>18}  {c}".rstrip() for n, v, c in rows)])


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    return [
        {
            "benchmark": f"automation: report over {result['runs']:,} runs vs bare SQL aggregate",
            "project": result["project"]["median_seconds"] * 1000,
            "floor": result["floor"]["median_seconds"] * 1000,
            "unit": "ms",
            "ratio": result["ratio"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": result["ratio"] <= TARGET_RATIO,
        }
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200_000, help="runs in the 24 h window (default 200000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions after a warm-up (default 5)")
    parser.add_argument("--batches", type=int, default=200_000, help="log_batch calls for D (default 200000)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.repeat < 1 or args.batches < 1:
        parser.error("--runs, --repeat and --batches must be positive")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    with throwaway_server("automation_bench_") as (_root, server_url):
        url = migrated_database(server_url, DATABASE)
        progress(f"[setup] {args.runs:,} runs' executions, partitions and reports in the 24 h window")
        setup_seconds = populate(url, args.runs)
        progress(f"        {setup_seconds:.1f}s (not timed)")
        progress(
            f"[A, B, B0] report vs bare SQL aggregates, warm-up + {args.repeat} interleaved; [C] detailed"
        )
        a, b = bench(url, args.repeat)
        check_agreement(a, b)
        progress(f"[D] log_batch x {args.batches:,}")
        d = bench_batch_logging(args.batches)
        import psycopg

        with psycopg.connect(url) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        result = {
            "runs": args.runs,
            "actions": a["actions"],
            "repeat": args.repeat,
            "report_time": REPORT_TIME.isoformat(),
            "postgres": pg_version,
            "setup_seconds": setup_seconds,
            "project": {k: v for k, v in a.items() if k != "per_source"},
            "floor": {k: v for k, v in b.items() if k != "per_source"},
            "ratio": a["median_seconds"] / b["median_seconds"],
            "ratio_vs_counts_only": a["median_seconds"] / b["counts_only_median_seconds"],
            "target_ratio": TARGET_RATIO,
            "batch_logging": d,
        }
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
