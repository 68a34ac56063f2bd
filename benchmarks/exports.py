"""Export benchmark: the project's export path next to its floor, per format.

On a throw-away embedded PostgreSQL with N sample usage events of one tenant (default 1,000,000):

* CSV, N rows: ``execute_export`` (the whole path a scheduled export takes: lock, status rows,
  compile, COPY through the formula-neutralizing SELECT, SHA-256 of the file) vs the floor, a bare
  ``COPY (SELECT the same columns ... LIMIT N) TO STDOUT (FORMAT csv, HEADER)`` into a file;
* XLSX, N rows: ``execute_export`` (server-side cursor batches, typed cells, formats, formula
  neutralization, "About" sheet, SHA-256) vs xlsxwriter (constant_memory) fed the same rows
  already in memory (fetching them is not timed), one typed write per cell, no formats;
* PDF, M rows (default 10,000): ``execute_export`` (spool, layout, fitted cells, header, totals,
  "Page n of m") vs reportlab's canvas drawing ``str(value)`` of the same rows at fixed
  positions, a new page every 40 rows.

Each measurement runs in its own child process, so its peak RSS (``ru_maxrss``) is its own; the
baseline RSS of a child that only imports the modules is reported too. CSV and PDF pairs run
twice (floor first, then project, alternating) and report the faster of each; XLSX runs once.
Results: a table and JSON (also written to ``benchmarks/results/exports.json``).

Usage (from the repo root)::

    .venv/bin/python benchmarks/exports.py                         # 1,000,000 rows, ~5 min on 2 cores
    .venv/bin/python benchmarks/exports.py --rows 100000           # quick check, ~1 min
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from _common import (
    migrated_database,
    peak_rss_mb,
    progress,
    progress_to_stderr,
    publish,
    run_child,
    throwaway_server,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "exports.json"
DATABASE = "bench_exports"
TENANT = "bench"
FIELDS = ["timestamp", "user_id", "event_type", "feature", "duration_ms"]
CSV_TARGET_RATIO = 1.5
RSS_TARGET_MB = 300.0
PDF_ROWS_PER_PAGE = 40


# --- children ------------------------------------------------------------------------------------


def _floor_sql(rows: int) -> str:
    cols = ", ".join(f'"{f}"' for f in FIELDS)
    return f"SELECT {cols} FROM analytics.usage_events WHERE tenant_id = '{TENANT}' LIMIT {rows}"


def child_project(url: str, report_id: str, fmt: str, storage: str, max_rows: int) -> dict[str, Any]:
    from reporting_assets.db.connection import connect
    from reporting_assets.exports import engine
    from reporting_assets.exports.execute import ExportServices, execute_export
    from reporting_assets.exports.models import Actor
    from reporting_assets.exports.settings import ExportSettings
    from reporting_assets.exports.source import PostgresAnalyticsSource

    settings = ExportSettings(storage_dir=Path(storage), max_row_limit=max_rows)
    actor = Actor(TENANT, "bench@bench.example", "admin")
    with connect(url) as conn:
        export = engine.create_export(conn, actor, report_id, fmt)
        conn.commit()
        baseline = peak_rss_mb()
        started = time.perf_counter()
        outcome = execute_export(conn, export.id, ExportServices(PostgresAnalyticsSource(url), settings))
        seconds = time.perf_counter() - started
    assert outcome.status == "completed" and outcome.export is not None, outcome.message
    return {
        "seconds": seconds,
        "rows": outcome.export.row_count,
        "bytes": outcome.export.file_size,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": baseline,
    }


def child_csv_floor(url: str, rows: int, storage: str) -> dict[str, Any]:
    import psycopg

    path = Path(storage) / "floor.csv"
    with psycopg.connect(url) as conn:
        baseline = peak_rss_mb()
        started = time.perf_counter()
        with conn.cursor() as cur, path.open("wb") as out:
            with cur.copy(f"COPY ({_floor_sql(rows)}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    out.write(chunk)
            count = cur.rowcount
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": count,
        "bytes": path.stat().st_size,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": baseline,
    }


def _fetch_all(url: str, rows: int) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return conn.execute(_floor_sql(rows)).fetchall()


def child_xlsx_floor(url: str, rows: int, storage: str) -> dict[str, Any]:
    import xlsxwriter

    data = _fetch_all(url, rows)  # not timed: the floor is fed rows already in memory
    path = Path(storage) / "floor.xlsx"
    baseline = peak_rss_mb()
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = workbook.add_worksheet()
    ws.write_row(0, 0, FIELDS)
    write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
    for r, (ts, user, event, feature, duration) in enumerate(data, start=1):
        write_datetime(r, 0, ts.replace(tzinfo=None))
        write_string(r, 1, user)
        write_string(r, 2, event)
        write_string(r, 3, feature)
        write_number(r, 4, duration)
    workbook.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(data),
        "bytes": path.stat().st_size,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": baseline,
    }


def child_pdf_floor(url: str, rows: int, storage: str) -> dict[str, Any]:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    data = _fetch_all(url, rows)
    path = Path(storage) / "floor.pdf"
    baseline = peak_rss_mb()
    started = time.perf_counter()
    c = canvas.Canvas(str(path), pagesize=landscape(A4), pageCompression=1)
    c.setFont("Helvetica", 8)
    y = 560.0
    for i, row in enumerate(data):
        if i and i % PDF_ROWS_PER_PAGE == 0:
            c.showPage()
            c.setFont("Helvetica", 8)
            y = 560.0
        x = 36.0
        for value in row:
            c.drawString(x, y, str(value))
            x += 150.0
        y -= 13.0
    c.save()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(data),
        "bytes": path.stat().st_size,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": baseline,
    }


def child_imports() -> dict[str, Any]:
    import reporting_assets.exports.execute
    import reporting_assets.exports.formats  # noqa: F401

    return {"peak_rss_mb": peak_rss_mb()}


# --- the parent ----------------------------------------------------------------------------------


def setup_data(url: str, rows: int, pdf_rows: int) -> dict[str, str]:
    from reporting_assets.db.connection import connect
    from reporting_assets.exports import engine
    from reporting_assets.exports.models import Actor
    from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
    from reporting_assets.exports.settings import ExportSettings

    per_day = 10_000
    weeks = rows // (per_day * 6) + 1  # 5 weekdays at per_day, 2 weekend days at half
    spec = SampleSpec(
        end=dt.date(2025, 6, 30), tenants=(TENANT,), days=weeks * 7, events_per_day=per_day, users=2000
    )
    with connect(url) as conn:
        counts = generate_sample_data(conn, spec)
        available = counts["usage_events"]
        if available < rows:
            raise SystemExit(f"generated only {available:,} events for {rows:,} rows")
        settings = ExportSettings(storage_dir=Path("."), max_row_limit=rows)
        actor = Actor(TENANT, "bench@bench.example", "admin")
        query = {"table": "usage_events", "fields": FIELDS}
        big = engine.create_report(
            conn, actor, {"name": "Bench raw events", "query_config": query, "row_limit": rows}, settings
        )
        small = engine.create_report(
            conn, actor, {"name": "Bench PDF", "query_config": query, "row_limit": pdf_rows}, settings
        )
        conn.commit()
    return {"big": big.id, "small": small.id, "events": str(available)}


def measure(name: str, project: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": name,
        "rows": project["rows"],
        "project": {**project, "rows_per_second": project["rows"] / project["seconds"]},
        "floor": {**floor, "rows_per_second": floor["rows"] / floor["seconds"]},
        "ratio": project["seconds"] / floor["seconds"],
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'format':<6} {'rows':>10} {'project s':>10} {'floor s':>9} {'ratio':>6} {'project rows/s':>15} "
        f"{'floor rows/s':>13} {'project RSS MB':>15} {'floor RSS MB':>13} {'file MB':>8}",
    ]
    for m in result["measurements"]:
        p, f = m["project"], m["floor"]
        lines.append(
            f"{m['format']:<6} {m['rows']:>10,} {p['seconds']:>10.2f} {f['seconds']:>9.2f} "
            f"{m['ratio']:>5.2f}x "
            f"{p['rows_per_second']:>15,.0f} {f['rows_per_second']:>13,.0f} {p['peak_rss_mb']:>15.0f} "
            f"{f['peak_rss_mb']:>13.0f} {p['bytes'] / 1e6:>8.1f}"
        )
    t = result["targets"]
    lines += [
        "",
        f"imports only (baseline of every project child): {result['baseline_rss_mb']:.0f} MB RSS",
        f"CSV within {CSV_TARGET_RATIO}x of COPY: {'yes' if t['csv_ratio_ok'] else 'NO'} "
        f"({t['csv_ratio']:.2f}x)",
        f"peak RSS under {RSS_TARGET_MB:.0f} MB at {result['rows']:,} rows: CSV {t['csv_rss_mb']:.0f} MB, "
        f"XLSX {t['xlsx_rss_mb']:.0f} MB -> {'yes' if t['rss_ok'] else 'NO'}",
    ]
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    t = result["targets"]
    rows = [
        {
            "benchmark": f"exports {m['format'].upper()}: {m['rows']:,} rows vs bare writer",
            "project": m["project"]["seconds"],
            "floor": m["floor"]["seconds"],
            "unit": "s",
            "ratio": m["ratio"],
            "target": f"<= {CSV_TARGET_RATIO:g}x" if m["format"] == "csv" else None,
            "met": t["csv_ratio_ok"] if m["format"] == "csv" else None,
        }
        for m in result["measurements"]
    ]
    rows.append(
        {
            "benchmark": f"exports: peak RSS at {result['rows']:,} rows (vs imports only)",
            "project": max(t["csv_rss_mb"], t["xlsx_rss_mb"]),
            "floor": result["baseline_rss_mb"],
            "unit": "MB",
            "ratio": None,
            "target": f"< {RSS_TARGET_MB:g} MB",
            "met": t["rss_ok"],
        }
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for CSV and XLSX (default 1000000)")
    parser.add_argument("--pdf-rows", type=int, default=10_000, help="rows for PDF (default 10000)")
    parser.add_argument("--skip-xlsx", action="store_true", help="skip the XLSX pair (the slowest)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.child:
        mode, *rest = args.child
        if mode == "project":
            url, report_id, fmt, storage, max_rows = rest
            out = child_project(url, report_id, fmt, storage, int(max_rows))
        elif mode == "imports":
            out = child_imports()
        else:
            url, rows, storage = rest
            out = {"csv": child_csv_floor, "xlsx": child_xlsx_floor, "pdf": child_pdf_floor}[mode](
                url, int(rows), storage
            )
        print(json.dumps(out))
        return 0
    if args.rows < 1 or args.pdf_rows < 1:
        parser.error("--rows and --pdf-rows must be positive")
    if args.json_only:
        progress_to_stderr()

    with throwaway_server("exports_bench_") as (root, server_url):
        storage = root / "files"
        storage.mkdir()
        url = migrated_database(server_url, DATABASE)
        t0 = time.perf_counter()
        progress(f"[setup] generating >= {args.rows:,} usage events (not timed)")
        ids = setup_data(url, args.rows, args.pdf_rows)
        setup_seconds = time.perf_counter() - t0
        progress(f"        {int(ids['events']):,} events in {setup_seconds:.1f}s")
        baseline = run_child(__file__, ["imports"])["peak_rss_mb"]
        measurements = []
        pairs = [
            ("csv", ids["big"], args.rows),
            ("xlsx", ids["big"], args.rows),
            ("pdf", ids["small"], args.pdf_rows),
        ]
        for fmt, report_id, rows in pairs:
            if fmt == "xlsx" and args.skip_xlsx:
                continue
            # CSV and PDF are quick: best of two, floor and project alternating (warm cache for both)
            tries = 1 if fmt == "xlsx" else 2
            projects, floors = [], []
            for attempt in range(1, tries + 1):
                progress(f"[{fmt}] floor ({attempt}/{tries})")
                floors.append(run_child(__file__, [fmt, url, str(rows), str(storage)]))
                progress(f"        {floors[-1]['seconds']:.2f}s, peak RSS {floors[-1]['peak_rss_mb']:.0f} MB")
                progress(f"[{fmt}] project path: execute_export, {rows:,} rows ({attempt}/{tries})")
                projects.append(
                    run_child(__file__, ["project", url, report_id, fmt, str(storage), str(args.rows)])
                )
                progress(
                    f"        {projects[-1]['seconds']:.2f}s, peak RSS {projects[-1]['peak_rss_mb']:.0f} MB"
                )
                for leftover in storage.rglob("*"):
                    if leftover.is_file():
                        leftover.unlink()
            best = min(projects, key=lambda m: m["seconds"])
            best_floor = min(floors, key=lambda m: m["seconds"])
            best["peak_rss_mb"] = max(m["peak_rss_mb"] for m in projects)
            best_floor["peak_rss_mb"] = max(m["peak_rss_mb"] for m in floors)
            measurements.append(measure(fmt, best, best_floor))
        by = {m["format"]: m for m in measurements}
        csv_rss = by["csv"]["project"]["peak_rss_mb"]
        xlsx_rss = by["xlsx"]["project"]["peak_rss_mb"] if "xlsx" in by else 0.0
        result = {
            "benchmark": "exports",
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": args.rows,
            "pdf_rows": args.pdf_rows,
            "cpus": os.cpu_count(),
            "setup_seconds": setup_seconds,
            "baseline_rss_mb": baseline,
            "measurements": measurements,
            "targets": {
                "csv_ratio": by["csv"]["ratio"],
                "csv_ratio_ok": by["csv"]["ratio"] <= CSV_TARGET_RATIO,
                "csv_rss_mb": csv_rss,
                "xlsx_rss_mb": xlsx_rss,
                "rss_ok": max(csv_rss, xlsx_rss) < RSS_TARGET_MB,
            },
        }
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
