"""Sync session benchmark: what reporting and structured logging cost a real session.

One run, on a throw-away embedded PostgreSQL: a session of N records (default 5,000) over C
customers (default 20), executed against the sample target (its state in PostgreSQL), measured
in two modes with the same starting state:

- **ON**: what the sync job does: a run-report contract per customer (``PipelineReporter`` with
  a change per record, turned into Dagster metadata by ``report_metadata``), customer reports,
  group and batch summaries, the executive summary, and the session's JSON-lines log with log
  ids at the profile's verbosity;
- **OFF**: the same session with ``SessionOptions(reporting=False, structured_logs=False)``: no
  contracts, no files, logging left at Python's default (INFO calls cost one level check).

Both keep what the sync needs to be correct (the session's tables, every API operation with its
payloads). Before each session the order list is reset to pending and the target and session
tables are emptied (not timed); after one unmeasured warm-up the modes alternate (ON-OFF,
OFF-ON, ...).

The overhead is measured **inside** the ON sessions: the time spent emitting log records, building
and converting the contracts, and finalizing (summary queries, rendering, files) minus the OFF
sessions' finalize. Wall-time differences between whole sessions are printed as a cross-check,
with the process's CPU time: on a shared machine the PostgreSQL server's share of a session (most
of its time) varies by more than the overhead itself. Target: overhead < 5 % of the OFF session.

Usage (from the repo root)::

    .venv/bin/python benchmarks/sync_session.py                       # 5,000 records, 20 customers
    .venv/bin/python benchmarks/sync_session.py --records 1000 --repeats 1   # quick check
    .venv/bin/python benchmarks/sync_session.py --latency-ms 20       # with simulated API latency

The target's latency defaults to 0 ms: the worst case for the ratio (no network wait to hide
the reporting cost behind). ``synchronous_commit`` is off for the benchmark database
(``--durable-commits`` keeps it on): commit flushes add seconds of disk noise to both modes.
The Dagster event-log writes of the contract events are not part of either side (the asset's
``context.log_event`` is replaced by building the metadata).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import migrated_database, progress, progress_to_stderr, publish, throwaway_server

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "sync_session.json"
SAMPLE_DAY = dt.date(2025, 6, 17)
DATABASE = "bench_sync"
TARGET_PERCENT = 5.0


class StageTimer:
    """Sums the time spent in wrapped functions, per mode: the reporting work measured directly
    inside the sessions (far less noisy than the difference of two session times)."""

    def __init__(self) -> None:
        self.mode = "warm-up"
        self.seconds: dict[str, dict[str, float]] = {}
        self.depth = 0

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.depth:  # nested (e.g. a log call inside a timed stage): counted once, outside
                return original(*args, **kwargs)
            self.depth += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.depth -= 1
                stages = self.seconds.setdefault(self.mode, {})
                stages[label] = stages.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed)


def reset(url: str) -> None:
    """Same starting state for every session (not timed)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE reporting.sync_record_errors, reporting.sync_api_operations, reporting.sync_batches, "
            "reporting.sync_session_customers, reporting.sync_sessions, sample_target.subitems, "
            "sample_target.items, sample_target.groups"
        )
        conn.execute(
            "UPDATE reporting.sync_order_list SET sync_state = 'PENDING', group_id = NULL, item_id = NULL, "
            "last_sync_id = NULL, sync_attempts = 0, last_error = NULL, last_error_cause = NULL, "
            "synced_at = NULL"
        )
        conn.execute("VACUUM ANALYZE reporting.sync_order_list")
        conn.execute("VACUUM ANALYZE sample_target.items")


def run_once(url: str, profile: Any, request: Any, reports: Path, on: bool) -> dict[str, Any]:
    from reporting_assets.reporter import report_metadata
    from reporting_assets.sync.engine import RunHooks, SessionOptions, run_session

    contracts: list[int] = []

    def sink(partition_key: str, report: Any) -> None:  # what the asset hands to context.log_event
        contracts.append(len(report_metadata(report)))

    reset(url)
    cpu = time.process_time()
    start = time.perf_counter()
    result = run_session(
        url,
        request,
        profile,
        reports,
        options=SessionOptions(reporting=on, structured_logs=on),
        hooks=RunHooks(sink=sink if on else None),
    )
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    import psycopg

    with psycopg.connect(url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM reporting.sync_order_list WHERE sync_state = 'SYNCED') AS synced, "
            "(SELECT count(*) FROM reporting.sync_api_operations) AS operations, "
            "(SELECT count(*) FROM sample_target.subitems) AS subitems"
        ).fetchone()
    assert counts is not None
    log_file = result.folder / "logs" / "sync_session.jsonl"
    return {
        "mode": "on" if on else "off",
        "seconds": round(seconds, 4),
        "cpu_seconds": round(cpu, 4),
        "status": result.status,
        "records_synced": counts[0],
        "api_operations": counts[1],
        "subitems": counts[2],
        "contracts": len(contracts),
        "files": sum(1 for p in result.folder.rglob("*") if p.is_file()) if result.folder.exists() else 0,
        "log_lines": len(log_file.read_text().splitlines()) if log_file.exists() else 0,
    }


def table(result: dict[str, Any]) -> str:
    on, off = result["on"], result["off"]
    rows = [
        (
            "session, reporting + log ids ON (best of repeats)",
            f"{on['min_seconds']:.3f} s",
            f"{on['records_per_second']:,.0f} rec/s (median {on['median_seconds']:.3f} s)",
        ),
        (
            "session, reporting + log ids OFF (best of repeats)",
            f"{off['min_seconds']:.3f} s",
            f"{off['records_per_second']:,.0f} rec/s (median {off['median_seconds']:.3f} s, "
            f"spread {result['off_wall_spread_seconds']:.3f} s)",
        ),
    ]
    for stage, seconds in result["direct_reporting_seconds"].items():
        rows.append((f"reporting, measured inside: {stage}", f"{seconds * 1000:.1f} ms", ""))
    verdict = "PASS" if result["passed"] else "FAIL"
    rows += [
        (
            "OVERHEAD: reporting + log ids, measured inside",
            f"{result['overhead_seconds'] * 1000:.1f} ms",
            f"{result['overhead_percent']:.2f} % of the OFF session; "
            f"target < {TARGET_PERCENT:g} %: {verdict}",
        ),
        (
            "cross-check: process CPU, ON - OFF (medians)",
            f"{result['cpu_overhead_seconds'] * 1000:+.1f} ms",
            f"{result['cpu_overhead_percent']:+.2f} %",
        ),
        (
            "cross-check: wall time, ON - OFF (best of repeats)",
            f"{result['wall_overhead_seconds'] * 1000:+.1f} ms",
            f"{result['wall_overhead_percent']:+.2f} % "
            f"(medians {result['wall_overhead_percent_of_medians']:+.2f} %; "
            f"load average {result['load_average'][0]:g} on {result['cpus']} CPUs)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':<{width}}  {'time':>12}  notes", "-" * (width + 60)]
    lines += [f"{label:<{width}}  {value:>12}  {extra}" for label, value, extra in rows]
    p = result["parameters"]
    lines.append("")
    lines.append(
        f"{p['records']:,} records, {p['customers']} customers, batch {p['batch_size']}, target latency "
        f"{p['latency_ms']:g} ms, {p['repeats']} repeat(s) per mode; per session: "
        f"{on['runs'][0]['api_operations']:,} API operations, {on['runs'][0]['subitems']:,} subitems, "
        f"{on['runs'][0]['files']} files, {on['runs'][0]['log_lines']} log lines, "
        f"{on['runs'][0]['contracts']} contracts"
    )
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    off = result["off"]["min_seconds"]
    return [
        {
            "benchmark": "sync_session: session with reporting + log ids vs without (measured inside)",
            "project": off + result["overhead_seconds"],
            "floor": off,
            "unit": "s",
            "ratio": 1 + result["overhead_percent"] / 100,
            "target": f"< {1 + TARGET_PERCENT / 100:g}x",
            "met": result["passed"],
        }
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5_000, help="records in the session (default 5000)")
    parser.add_argument("--customers", type=int, default=20, help="customers (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="measured sessions per mode (default 3)")
    parser.add_argument("--batch-size", type=int, default=25, help="records per batch (default 25)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="simulated API latency (default 0)")
    parser.add_argument(
        "--durable-commits",
        action="store_true",
        help="keep synchronous_commit on (each commit waits for the disk: slower, noisier sessions)",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if min(args.records, args.customers, args.repeats, args.batch_size) < 1 or args.records < args.customers:
        parser.error(
            "--records, --customers, --repeats and --batch-size must be positive; records >= customers"
        )
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    import psycopg

    from reporting_assets import logging_ids
    from reporting_assets.customers import add_customer
    from reporting_assets.sync import contracts, engine
    from reporting_assets.sync.config import load_config
    from reporting_assets.sync.engine import SyncRequest
    from reporting_assets.sync.order_list import load_sample_orders

    with throwaway_server("sync_session_bench_") as (root, server_url):
        progress(f"[setup] embedded PostgreSQL in {root}")
        url = migrated_database(server_url, DATABASE)
        if not args.durable_commits:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"ALTER DATABASE {DATABASE} SET synchronous_commit = off")
        per_customer = -(-args.records // args.customers)
        customers = [f"BENCH {i:02d}" for i in range(1, args.customers + 1)]
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        from reporting_assets.db.connection import connect

        with connect(url) as conn:
            for name in customers:
                add_customer(conn, None, name)
            day, loaded = SAMPLE_DAY, 0
            while True:  # add days of the synthetic board until every customer has enough pending records
                load_sample_orders(conn, customers, day)
                short = conn.execute(
                    "SELECT count(*) AS n FROM reporting.customers c WHERE (SELECT count(*) FROM "
                    "reporting.sync_order_list o WHERE o.customer_key = c.partition_key) < %s",
                    (per_customer,),
                ).fetchone()
                loaded += 1
                if not short or short["n"] == 0:
                    break
                day -= dt.timedelta(days=30)
        profile = load_config().profile("development")
        profile = profile.model_copy(
            update={
                "batch_size": args.batch_size,
                "target": profile.target.model_copy(update={"latency_ms": args.latency_ms, "jitter_ms": 0.0}),
            }
        )
        limit = per_customer
        request = SyncRequest(environment=profile.environment, limit=limit, execute=True)
        total = min(args.records, limit * args.customers)
        progress(
            f"[setup] {total:,} records in scope ({limit} per customer), "
            f"target latency {args.latency_ms:g} ms"
        )

        stages = StageTimer()
        stages.wrap(contracts.Contracts, "emit", "contracts (PipelineReporter + metadata)")
        stages.wrap(engine, "finalize_session", "finalize (summary, reports, files)")
        stages.wrap(logging_ids.IdLogger, "_emit", "log records emitted (ids, JSON lines)")
        progress("[warm-up] one 'on' session (not measured)")
        run_once(url, profile, request, root / "reports", on=True)
        runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        for repeat in range(args.repeats):
            order = (True, False) if repeat % 2 == 0 else (False, True)
            for on in order:
                stages.mode = "on" if on else "off"
                outcome = run_once(url, profile, request, root / "reports", on=on)
                runs[outcome["mode"]].append(outcome)
                progress(
                    f"[{repeat + 1}/{args.repeats}] {outcome['mode']:>3}: {outcome['seconds']:.3f} s, "
                    f"{outcome['records_synced']:,} synced, {outcome['api_operations']:,} API operations, "
                    f"{outcome['files']} files, {outcome['log_lines']} log lines"
                )
        on_median = statistics.median(r["seconds"] for r in runs["on"])
        off_median = statistics.median(r["seconds"] for r in runs["off"])
        on_min = min(r["seconds"] for r in runs["on"])
        off_min = min(r["seconds"] for r in runs["off"])
        overhead = on_min - off_min
        per_session = {
            mode: {k: v / args.repeats for k, v in stages.seconds.get(mode, {}).items()}
            for mode in ("on", "off")
        }
        direct = {
            label: seconds - per_session["off"].get(label, 0.0)
            for label, seconds in per_session["on"].items()
        }
        direct_total = sum(direct.values())
        cpu_on = statistics.median(r["cpu_seconds"] for r in runs["on"])
        cpu_off = statistics.median(r["cpu_seconds"] for r in runs["off"])
        off_spread = max(r["seconds"] for r in runs["off"]) - off_min
        synced = runs["on"][0]["records_synced"]
        assert synced == runs["off"][0]["records_synced"], "both modes must sync the same records"
        result = {
            "benchmark": "sync_session",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "postgres": version,
            "cpus": os.cpu_count(),
            "parameters": {
                "records": total,
                "customers": args.customers,
                "batch_size": args.batch_size,
                "latency_ms": args.latency_ms,
                "repeats": args.repeats,
                "synchronous_commit": "on" if args.durable_commits else "off",
            },
            "on": {
                "min_seconds": round(on_min, 4),
                "median_seconds": round(on_median, 4),
                "records_per_second": round(synced / on_min, 1),
                "runs": runs["on"],
            },
            "off": {
                "min_seconds": round(off_min, 4),
                "median_seconds": round(off_median, 4),
                "records_per_second": round(synced / off_min, 1),
                "runs": runs["off"],
            },
            "direct_reporting_seconds": {k: round(v, 4) for k, v in direct.items()},
            "overhead_seconds": round(direct_total, 4),
            "overhead_percent": round(100 * direct_total / off_min, 2),
            "cpu_overhead_seconds": round(cpu_on - cpu_off, 4),
            "cpu_overhead_percent": round(100 * (cpu_on - cpu_off) / off_min, 2),
            "wall_overhead_seconds": round(overhead, 4),
            "wall_overhead_percent": round(100 * overhead / off_min, 2),
            "wall_overhead_percent_of_medians": round(100 * (on_median - off_median) / off_median, 2),
            "off_wall_spread_seconds": round(off_spread, 4),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "target_percent": TARGET_PERCENT,
            "passed": 100 * direct_total / off_min < TARGET_PERCENT,
        }
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
