"""Error patterns benchmark: the ``error_patterns`` asset's work over a day of many stored reports
against a bare SQL GROUP BY of the same fingerprints, and what customer report settings add to
rendering an execution report.

One run measures, on a throw-away embedded PostgreSQL:

A. the project path, what the ``error_patterns`` asset does for one day minus Dagster's step:
   ``refresh_day`` (fingerprint and group the day's lines in SQL into a staging table, upsert
   patterns, occurrences per customer and per-day totals with flags, remove what the day no
   longer has, commit), then ``day_patterns`` (the asset view's rows) and ``patterns_markdown``;
B. the floor: one hand-written SQL GROUP BY of the same lines by (severity, fingerprint,
   customer) with the same fingerprint expression, fetched and nothing else. B0 is the same
   GROUP BY over text fingerprinted beforehand (a plain table filled by Python's
   ``fingerprint``, not timed): the price of the masking itself;
C. rendering: ``build_row`` (validate-free: the contract is parsed beforehand) of the same
   execution reports with the default format and with customer settings (de_DE, a time zone,
   the manufacturing section off, a header and a footer template block). The list length stays
   the default's (10) on both sides: a longer list is more output, not the cost of the settings.

Setup (not timed): ``--reports`` reports (default 1,000,000) on the measured day, ``--error-share``
of them (default 10 %) with one error out of 8 message shapes full of numbers, ids, quoted values
and timestamps, one in 20 with a warning; 500 customers, 6 pipelines; written with
``generate_series`` and ``ANALYZE``d. The day is refreshed once before timing, so A measures a
re-run (the nightly case: the same day again, nothing added). A, B and B0 each run once to warm
the cache, then ``--repeat`` times in turn (default 5); C renders ``--renders`` reports (default
3,000) per repetition, default and customised in turn. The table shows medians.

Usage (from the repo root)::

    .venv/bin/python benchmarks/patterns.py                   # the figures to quote (minutes)
    .venv/bin/python benchmarks/patterns.py --quick           # seconds: that it works

The JSON goes to ``benchmarks/results/patterns.json`` too. Project and Dagster modules are
imported inside functions, after warnings are silenced, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    copy_plain,
    migrated_database,
    plain_table,
    progress,
    progress_to_stderr,
    publish,
    throwaway_server,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "patterns.json"
DAY = dt.date(2025, 6, 17)
DATABASE = "bench_patterns"
TARGET_RATIO = 2.0  # A / B
TARGET_RENDER_OVERHEAD = 0.15  # C: customised / default - 1
CUSTOMERS = 500
PIPELINES = [
    "order_sync",
    "manufacturing_sync",
    "shipping_sync",
    "hubspot_sync",
    "genius_sync",
    "arrivy_sync",
]
QUICK = {"reports": 20_000, "renders": 200, "repeat": 1}

# 8 message shapes, in turn; every line differs from the next in its numbers, ids, quotes or times
MESSAGE_SQL = """CASE (i / %(every)s) %% 8
    WHEN 0 THEN 'Order ' || i || ' failed: HTTP 50' || (i %% 4)
    WHEN 1 THEN 'Timeout after ' || (i %% 90) || ' s calling ''https://api.example.com/v' || (i %% 3) || ''''
    WHEN 2 THEN 'Record ' || md5(i::text) || ' rejected at '
                || to_char(timestamp '2025-06-17' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    WHEN 3 THEN 'Run ' || md5('run' || i)::uuid || ' lost its worker'
    WHEN 4 THEN 'Customer "CUST ' || (i %% 500) || '" has no address'
    WHEN 5 THEN 'Deadlock detected on row ' || i || ' of table orders'
    WHEN 6 THEN 'SKU ''SKU-' || i || ''' unknown in catalog ' || (i %% 7)
    ELSE 'Rate limit: ' || (i %% 1000) || ' requests in 60 s, retry at 10:'
         || lpad((i %% 60)::text, 2, '0') || ':00'
END"""

FLOOR_SQL = """
WITH lines AS (
    SELECT 'error' AS severity, e.message, r.customer_key
    FROM reporting.pipeline_execution_reports r,
         jsonb_array_elements_text(r.contract_json -> 'errors') AS e (message)
    WHERE r.execution_date = %(day)s
    UNION ALL
    SELECT 'warning', w.message, r.customer_key
    FROM reporting.pipeline_execution_reports r,
         jsonb_array_elements_text(r.contract_json -> 'warnings') AS w (message)
    WHERE r.execution_date = %(day)s
)
SELECT severity, {fingerprint} AS fingerprint, customer_key, count(*)
FROM lines
GROUP BY 1, 2, 3
"""
PREFINGERPRINTED_SQL = (
    "SELECT severity, fingerprint, customer_key, count(*) FROM public.bench_lines GROUP BY 1, 2, 3"
)
LINE_COLUMNS = (("severity", "text"), ("fingerprint", "text"), ("customer_key", "text"))


def populate(url: str, reports: int, error_share: float) -> float:
    """Write ``reports`` reports of the day (set-based); return seconds (setup, not timed)."""
    import psycopg

    started = time.perf_counter()
    every = max(1, round(1 / error_share)) if error_share > 0 else 0
    with psycopg.connect(url) as conn:
        conn.execute(
            f"""INSERT INTO reporting.pipeline_execution_reports
                   (customer_name, customer_key, execution_date, pipeline_type, execution_id, partition_key,
                    status, source_event, run_started_at, markdown_content, summary_json, contract_json,
                    content_hash, generated_at)
               SELECT c, c, %(day)s, (%(pipelines)s::text[])[1 + i %% 6], 'run-' || lpad(i::text, 8, '0'),
                      c || '|' || %(day)s, CASE WHEN has_error THEN 'failed' ELSE 'success' END,
                      'materialization', %(start)s::timestamptz + i * interval '50 ms', '# report', '{{}}',
                      jsonb_build_object(
                          'errors', CASE WHEN has_error THEN jsonb_build_array({MESSAGE_SQL})
                                         ELSE '[]'::jsonb END,
                          'warnings', CASE WHEN i %% 20 = 3
                                           THEN jsonb_build_array((i %% 40) || ' records skipped: no price')
                                           ELSE '[]'::jsonb END),
                      repeat('0', 64), now()
               FROM generate_series(0, %(reports)s - 1) AS i,
                    LATERAL (SELECT 'CUSTOMER ' || lpad((i %% {CUSTOMERS})::text, 3, '0') AS c,
                                    %(every)s > 0 AND i %% greatest(%(every)s, 1) = 0 AS has_error) x""",
            {
                "day": DAY,
                "pipelines": PIPELINES,
                "reports": reports,
                "every": every,
                "start": dt.datetime.combine(DAY, dt.time(), dt.UTC),
            },
        )
        conn.execute("ANALYZE reporting.pipeline_execution_reports")
    return time.perf_counter() - started


def prefingerprint(url: str) -> tuple[int, float]:
    """B0's table: every line of the day fingerprinted by Python (setup, not timed)."""
    import psycopg

    from reporting_assets.error_patterns.fingerprint import fingerprint

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT 'error', e.message, r.customer_key FROM reporting.pipeline_execution_reports r,
                      jsonb_array_elements_text(r.contract_json -> 'errors') AS e (message)
               WHERE r.execution_date = %(day)s
               UNION ALL
               SELECT 'warning', w.message, r.customer_key FROM reporting.pipeline_execution_reports r,
                      jsonb_array_elements_text(r.contract_json -> 'warnings') AS w (message)
               WHERE r.execution_date = %(day)s""",
            {"day": DAY},
        ).fetchall()
        plain_table(conn, "bench_lines", LINE_COLUMNS)
        copy_plain(conn, "bench_lines", LINE_COLUMNS, ((s, fingerprint(m), c) for s, m, c in rows))
        conn.execute("ANALYZE public.bench_lines")
        conn.commit()
    return len(rows), time.perf_counter() - started


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[list[float], Any]]:
    """Warm each up once, then time them in turn ``repeat`` times; name -> (timings, last result)."""
    results = {name: fn() for name, fn in fns.items()}
    timings: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            results[name] = fn()
            timings[name].append(time.perf_counter() - started)
    return {name: (timings[name], results[name]) for name in fns}


def bench_patterns(url: str, repeat: int) -> dict[str, Any]:
    """A, B and B0, interleaved; the figures of A and B must agree."""
    import psycopg
    from psycopg import sql

    from reporting_assets.db.connection import connect
    from reporting_assets.error_patterns.fingerprint import sql_fingerprint
    from reporting_assets.error_patterns.render import SHOWN_PATTERNS, patterns_markdown
    from reporting_assets.error_patterns.store import day_patterns, refresh_day

    expression, mask_params = sql_fingerprint(sql.Identifier("message"))
    floor = sql.SQL(FLOOR_SQL).format(fingerprint=expression)
    stages: list[dict[str, float]] = []

    def project() -> list[dict[str, Any]]:
        with connect(url) as conn:
            t0 = time.perf_counter()
            refresh_day(conn, DAY)
            t1 = time.perf_counter()
            rows = day_patterns(conn, DAY, limit=SHOWN_PATTERNS)
            patterns_markdown(DAY.isoformat(), rows, lambda run_id: f"http://localhost:3000/runs/{run_id}")
            stages.append({"refresh_day": t1 - t0, "read_and_render": time.perf_counter() - t1})
        return rows

    def bare(statement: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with psycopg.connect(url) as conn:
            return conn.execute(statement, params).fetchall()

    found = interleaved(
        {
            "A": project,
            "B": lambda: bare(floor, {"day": DAY, **mask_params}),
            "B0": lambda: bare(PREFINGERPRINTED_SQL, {}),
        },
        repeat,
    )
    a_timings, rows = found["A"]
    b_timings, groups = found["B"]
    b0_timings, pre_groups = found["B0"]
    floor_totals: dict[tuple[str, str], int] = {}
    for severity, fp, _customer, n in groups:
        floor_totals[(severity, fp)] = floor_totals.get((severity, fp), 0) + n
    with connect(url) as conn:
        every = day_patterns(conn, DAY, limit=100_000)
    mine = {(r["severity"], r["fingerprint"]): r["occurrences"] for r in every}
    if mine != floor_totals or len(pre_groups) != len(groups):
        raise SystemExit(f"the asset's patterns differ from the floor's: {len(mine)} vs {len(floor_totals)}")
    timed_stages = stages[1:]
    return {
        "project": {
            "median_seconds": statistics.median(a_timings),
            "timings": a_timings,
            "stages": {k: statistics.median(s[k] for s in timed_stages) for k in timed_stages[0]},
            "patterns": len(every),
            "flagged": rows[0]["flagged_total"] if rows else 0,
        },
        "floor": {
            "median_seconds": statistics.median(b_timings),
            "timings": b_timings,
            "groups": len(groups),
            "prefingerprinted_median_seconds": statistics.median(b0_timings),
            "prefingerprinted_timings": b0_timings,
        },
        "lines": sum(floor_totals.values()),
    }


def render_inputs(count: int) -> list[Any]:
    """``count`` execution reports of the sample pipelines, parsed (setup, not timed)."""
    from reporting_assets.contract import parse_run_report
    from reporting_assets.execution_reports.build import ReportInput
    from reporting_assets.execution_reports.source_event import SourceEvent
    from reporting_assets.reporter import PipelineReporter
    from reporting_assets.sources.pipelines import PIPELINES as SAMPLE_PIPELINES
    from reporting_assets.sources.pipelines import run_pipeline

    inputs = []
    generated = dt.datetime(2025, 6, 18, 6, tzinfo=dt.UTC)
    for i in range(count):
        pipeline = list(SAMPLE_PIPELINES)[i % len(SAMPLE_PIPELINES)]
        customer = f"BENCH {i // len(SAMPLE_PIPELINES) % 50:03d}"
        run_id = f"00000000-0000-0000-0000-{i:012d}"
        reporter = PipelineReporter(
            customer.title(), pipeline, run_id, customer_key=customer, execution_date=DAY
        )
        run_pipeline(pipeline, reporter, customer, DAY, "partial" if i % 23 == 0 else "none")  # type: ignore[arg-type]
        raw = reporter.build().model_dump(mode="json")
        event = SourceEvent(run_id, pipeline, f"{customer}|{DAY}", "materialization", i + 1, 0.0, raw)
        inputs.append(
            ReportInput(
                event=event,
                report=parse_run_report(raw, source=run_id),
                problem=None,
                previous=None,
                run_url=f"http://localhost:3000/runs/{run_id}",
                run_started_at=generated,
                generated_at=generated,
                list_length=10,
            )
        )
    return inputs


def bench_render(count: int, repeat: int) -> dict[str, Any]:
    """C: ``build_row`` of the same reports, default format vs customer settings, interleaved."""
    from dataclasses import replace

    from reporting_assets.customer_settings.model import ReportSettings, TemplateBlocks
    from reporting_assets.execution_reports.build import build_row

    plain = render_inputs(count)
    settings = ReportSettings(
        customer_key="BENCH",
        hidden_sections=frozenset({"manufacturing"}),
        list_length=None,
        locale="de_DE",
        time_zone="Europe/Berlin",
        version=1,
        templates=TemplateBlocks(
            folder="/nonexistent/templates/customers/BENCH",
            header="> Account manager: Jane Roe, for {{ customer }} ({{ date }})\n",
            footer="Questions about {{ pipeline_title }}? Reply to this email.\n",
        ),
    )
    customised = [replace(item, settings=settings) for item in plain]

    def render_all(items: list[Any]) -> int:
        return sum(len(build_row(item).markdown_content) for item in items)

    found = interleaved(
        {"default": lambda: render_all(plain), "settings": lambda: render_all(customised)}, repeat
    )
    default = statistics.median(found["default"][0])
    with_settings = statistics.median(found["settings"][0])
    return {
        "reports": count,
        "default_median_seconds": default,
        "settings_median_seconds": with_settings,
        "default_timings": found["default"][0],
        "settings_timings": found["settings"][0],
        "overhead": with_settings / default - 1,
        "markdown_chars": {"default": found["default"][1], "settings": found["settings"][1]},
    }


def table(result: dict[str, Any]) -> str:
    a, b, c = result["project"], result["floor"], result["render"]
    ratio, overhead = result["ratio"], c["overhead"]
    rows = [
        ("A. error_patterns for the day (refresh + view)", f"{a['median_seconds'] * 1000:,.1f} ms", ""),
        *[(f"     {k}", f"{v * 1000:,.1f} ms", "") for k, v in a["stages"].items()],
        ("B. bare SQL GROUP BY, same fingerprints in SQL", f"{b['median_seconds'] * 1000:,.1f} ms", ""),
        (
            "B0. GROUP BY over text fingerprinted beforehand",
            f"{b['prefingerprinted_median_seconds'] * 1000:,.1f} ms",
            "",
        ),
        (
            "A / B",
            f"{ratio:.2f}x",
            f"target <= {TARGET_RATIO:g}x: {'OK' if ratio <= TARGET_RATIO else 'MISSED'}",
        ),
        (
            f"C. render {c['reports']:,} reports, default format",
            f"{c['default_median_seconds'] * 1000:,.1f} ms",
            "",
        ),
        ("C. ... with customer settings and templates", f"{c['settings_median_seconds'] * 1000:,.1f} ms", ""),
        (
            "C overhead",
            f"{overhead * 100:+.1f} %",
            f"target < {TARGET_RENDER_OVERHEAD * 100:g} %: "
            + ("OK" if overhead < TARGET_RENDER_OVERHEAD else "MISSED"),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    head = (
        f"Error patterns over {result['reports']:,} reports of one day ({result['lines']:,} error and "
        f"warning lines, {a['patterns']} patterns), median of {result['repeat']}"
    )
    return "\n".join([head, *(f"{n:<{width}}  {v:>14}  {t}".rstrip() for n, v, t in rows)])


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    c = result["render"]
    return [
        {
            "benchmark": f"patterns: error_patterns over {result['reports']:,} reports vs bare SQL GROUP BY",
            "project": result["project"]["median_seconds"] * 1000,
            "floor": result["floor"]["median_seconds"] * 1000,
            "unit": "ms",
            "ratio": result["ratio"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": result["ratio"] <= TARGET_RATIO,
        },
        {
            "benchmark": f"patterns: render {c['reports']:,} reports with customer settings vs default",
            "project": c["settings_median_seconds"] * 1000,
            "floor": c["default_median_seconds"] * 1000,
            "unit": "ms",
            "ratio": c["settings_median_seconds"] / c["default_median_seconds"],
            "target": f"< {1 + TARGET_RENDER_OVERHEAD:.2f}x",
            "met": c["overhead"] < TARGET_RENDER_OVERHEAD,
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="reports on the day (default 1000000)")
    parser.add_argument(
        "--error-share", type=float, default=0.1, help="share of reports with an error (default 0.1)"
    )
    parser.add_argument(
        "--renders", type=int, default=3_000, help="reports rendered per repetition of C (default 3000)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions after a warm-up (default 5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small sizes to check that it works: {', '.join(f'--{k} {v}' for k, v in QUICK.items())}",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if args.reports < 1 or args.renders < 1 or args.repeat < 1 or not 0 < args.error_share <= 1:
        parser.error("--reports, --renders and --repeat must be positive, --error-share in (0, 1]")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    with throwaway_server("patterns_bench_") as (_root, server_url):
        url = migrated_database(server_url, DATABASE)
        progress(f"[setup] {args.reports:,} reports of {DAY}, {args.error_share:.0%} with an error")
        setup_seconds = populate(url, args.reports, args.error_share)
        lines, pre_seconds = prefingerprint(url)
        progress(
            f"        {setup_seconds:.1f}s; {lines:,} lines fingerprinted in Python in {pre_seconds:.1f}s"
        )
        progress(f"[A, B, B0] asset's work vs bare SQL GROUP BYs, warm-up + {args.repeat} interleaved")
        patterns = bench_patterns(url, args.repeat)
        progress(
            f"[C] render {args.renders:,} reports, default vs customer settings, {args.repeat} interleaved"
        )
        render = bench_render(args.renders, args.repeat)
        import psycopg

        with psycopg.connect(url) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        result = {
            "reports": args.reports,
            "error_share": args.error_share,
            "lines": patterns["lines"],
            "repeat": args.repeat,
            "day": DAY.isoformat(),
            "postgres": pg_version,
            "setup_seconds": setup_seconds,
            "prefingerprint_seconds": pre_seconds,
            "project": patterns["project"],
            "floor": patterns["floor"],
            "ratio": patterns["project"]["median_seconds"] / patterns["floor"]["median_seconds"],
            "target_ratio": TARGET_RATIO,
            "render": render,
            "target_render_overhead": TARGET_RENDER_OVERHEAD,
        }
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
