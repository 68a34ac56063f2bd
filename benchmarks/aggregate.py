"""Daily-summary benchmark: the project's aggregation path over many stored execution reports,
next to the same summaries aggregated, rendered and stored the cheapest way.

One run measures, on a throw-away embedded PostgreSQL:

- setup (not timed): N lean rows COPYed straight into ``reporting.pipeline_execution_reports``
  (short markdown; ``summary_json`` / ``metrics_json`` / ``contract_json`` shaped exactly like one
  real contract rendered by ``build_row``, with the counts, status, warnings and errors varied),
  over customers x days x the 3 pipelines, with some pipelines re-run on a day;
- A. the project path: ``summaries.service.summarize_partitions`` over every partition, in
  chunks of one customer's days (what one batched range run per customer does), committing
  after each chunk; ``--workers`` calls at a time in forked processes with their own
  connections (a backfill's range runs run concurrently), and one at a time beside it;
- B. the floor: the same work the cheapest way, in one process. One SQL statement over the same
  table (latest report per (customer, day, pipeline) by the project's ordering, then GROUP BY
  customer and day with the same totals, run counts and warning/error counts, fetched to the
  client); the ``daily_summary`` macro of a bare Jinja2 environment called with the arguments
  the project passes it (captured beforehand, not timed); one COPY of the same columns, the
  markdown and its SHA-256 content hash into a plain table. Target: A within 1.5x of it. For
  reference, the SQL alone is printed beside it, again with the warning/error counts read from
  summary_json (same figures, less to read), and a plain GROUP BY (every row, no latest rule).

B and the A's run ``--repeat`` times (default 3), interleaved, so a burst of load on a shared
machine hits all; the summaries an A wrote are emptied before the next (not timed) so each is
the same first write, and the medians count. The script checks that the totals the project
stored equal the SQL's, and that the floor's rows equal the project's, column by column.

Usage (from the repo root)::

    .venv/bin/python benchmarks/aggregate.py                          # 1,000,000 rows
    .venv/bin/python benchmarks/aggregate.py --rows 50000 --repeat 1  # quick check

Project modules are imported inside functions, after ``main`` has silenced warnings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import (
    bare_environment,
    copy_plain,
    load,
    migrated_database,
    plain_table,
    progress,
    progress_to_stderr,
    publish,
    rate,
    source_state,
    throwaway_server,
    timed,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "aggregate.json"
FIRST_DAY = dt.date(2025, 1, 1)  # the partitions' start date
REPORTING_DB = "bench_aggregate"
PIPELINES = ("order_sync", "manufacturing_sync", "shipping_sync")
RERUN_EVERY = 10  # every 10th (customer, day, pipeline) ran twice: the later run is the latest
PARTIAL_EVERY = 29  # partial runs (an error listed)
FAILED_EVERY = 97  # failed runs (error contract, zero counts)
TARGET_RATIO = 1.5  # project (W runs at a time) / floor (SQL aggregate + render + COPY)
FLOOR_PARTS = ("latest", "counts", "plain", "render", "copy")  # timed apart in B
STAGES = ("fetch_sql", "names_expected_sql", "aggregate", "render", "store_sql", "other_python")

# The floor: latest report per pipeline (the project's ordering), then one GROUP BY.
FLOOR_LATEST_SQL = """
WITH ranked AS (
    SELECT customer_key, execution_date, pipeline_type, status,
           (summary_json #>> '{counts,new}')::integer AS new,
           (summary_json #>> '{counts,updated}')::integer AS updated,
           jsonb_array_length(contract_json -> 'warnings') AS warnings,
           jsonb_array_length(contract_json -> 'errors') AS errors,
           row_number() OVER (
               PARTITION BY customer_key, execution_date, pipeline_type
               ORDER BY run_started_at DESC NULLS LAST, event_storage_id DESC NULLS LAST, id DESC
           ) AS rn
    FROM reporting.pipeline_execution_reports
)
SELECT customer_key, execution_date,
       count(*) AS total_pipelines,
       count(*) FILTER (WHERE status = 'success') AS successful_pipelines,
       coalesce(sum(new) FILTER (WHERE rn = 1 AND pipeline_type = 'order_sync'), 0) AS new_orders,
       coalesce(sum(updated) FILTER (WHERE rn = 1 AND pipeline_type = 'order_sync'), 0) AS updated_orders,
       coalesce(sum(new + updated) FILTER (WHERE rn = 1 AND pipeline_type = 'manufacturing_sync'), 0)
           AS manufacturing_updates,
       coalesce(sum(new + updated) FILTER (WHERE rn = 1 AND pipeline_type = 'shipping_sync'), 0)
           AS shipping_updates,
       coalesce(sum(warnings) FILTER (WHERE rn = 1), 0) AS warnings,
       coalesce(sum(errors) FILTER (WHERE rn = 1), 0) AS errors
FROM ranked
GROUP BY customer_key, execution_date
"""

# The same, with the warning and error counts read from summary_json (the contract's list
# lengths, stored small) instead of the compressed contract_json: same figures, less to read.
FLOOR_COUNTS_SQL = FLOOR_LATEST_SQL.replace(
    "jsonb_array_length(contract_json -> 'warnings')", "(summary_json ->> 'warning_count')::integer"
).replace("jsonb_array_length(contract_json -> 'errors')", "(summary_json ->> 'error_count')::integer")

# The floor's plain table: the columns of reporting.daily_customer_summaries a run writes, in
# the order of the project's COPY, with the same types; no keys, indexes, constraints or defaults.
FLOOR_SUMMARY_COLUMNS = (
    ("customer_name", "text"),
    ("customer_key", "text"),
    ("summary_date", "date"),
    ("partition_key", "text"),
    ("total_pipelines", "integer"),
    ("successful_pipelines", "integer"),
    ("new_orders", "integer"),
    ("updated_orders", "integer"),
    ("manufacturing_updates", "integer"),
    ("shipping_updates", "integer"),
    ("combined_markdown", "text"),
    ("status_json", "jsonb"),
    ("is_complete", "boolean"),
    ("missing_pipelines", "text[]"),
    ("content_hash", "text"),
)

# Lower bound: every row counts (no latest-per-pipeline rule).
FLOOR_PLAIN_SQL = """
SELECT customer_key, execution_date, count(*) AS runs,
       sum((summary_json #>> '{counts,new}')::integer) AS new,
       sum((summary_json #>> '{counts,updated}')::integer) AS updated
FROM reporting.pipeline_execution_reports
GROUP BY customer_key, execution_date
"""


# --------------------------------------------------------------------------------------------
# Setup (not timed): row templates from one real contract per pipeline, then COPY
# --------------------------------------------------------------------------------------------


def _copy_text(value: str) -> str:
    """Escape a value for COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def real_templates() -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """Per pipeline: COPY-escaped %-templates of the three JSON columns, from one real contract
    built with ``PipelineReporter`` + ``run_pipeline`` and packaged by ``build_row``.

    Counts, status, execution time, warnings and errors become %-placeholders; everything else
    (change categories, manufacturing/shipping figures, api calls...) keeps the real values.
    """
    from reporting_assets.execution_reports.build import ReportInput, build_row
    from reporting_assets.execution_reports.source_event import SourceEvent
    from reporting_assets.reporter import PipelineReporter
    from reporting_assets.sources.pipelines import run_pipeline

    sentinels = {
        "new": 987654321,
        "updated": 987654322,
        "records": 987654323,
        "seconds": 98765.4324,
        "status": "SENTINEL_STATUS",
        "warning_count": 987654325,
        "error_count": 987654326,
        "warnings": "SENTINEL_WARNINGS",
        "errors": "SENTINEL_ERRORS",
    }
    day = dt.date(2025, 6, 17)
    templates: dict[str, dict[str, str]] = {}
    sizes: dict[str, Any] = {}
    for pipeline in PIPELINES:
        reporter = PipelineReporter("ACTIVELY BLACK", pipeline, "template-run", execution_date=day)
        run_pipeline(pipeline, reporter, "ACTIVELY BLACK", day)
        report = reporter.build()
        event = SourceEvent(
            run_id="template-run",
            pipeline_type=pipeline,
            partition_key=f"ACTIVELY BLACK|{day.isoformat()}",
            kind="materialization",
            storage_id=1,
            timestamp=time.time(),
            raw_contract=report.model_dump(mode="json"),
        )
        row = build_row(
            ReportInput(
                event=event,
                report=report,
                problem=None,
                previous=None,
                run_url="http://localhost:3000/runs/template-run",
                run_started_at=None,
                generated_at=dt.datetime(2025, 6, 18, tzinfo=dt.UTC),
                list_length=10,
            )
        )
        sizes[pipeline] = {k: len(v) for k, v in row.json_texts.items()} | {
            "markdown": len(row.markdown_content)
        }
        summary = json.loads(row.json_texts["summary_json"])
        summary["counts"].update(
            new=sentinels["new"], updated=sentinels["updated"], records_processed=sentinels["records"]
        )
        summary.update(
            status=sentinels["status"],
            warning_count=sentinels["warning_count"],
            error_count=sentinels["error_count"],
        )
        metrics = json.loads(row.json_texts["metrics_json"])
        metrics.update(
            execution_time_seconds=sentinels["seconds"],
            warning_count=sentinels["warning_count"],
            error_count=sentinels["error_count"],
        )
        contract = json.loads(row.json_texts["contract_json"])
        contract["counts"].update(
            new=sentinels["new"], updated=sentinels["updated"], records_processed=sentinels["records"]
        )
        contract["metrics"] = metrics
        contract.update(
            status=sentinels["status"], warnings=sentinels["warnings"], errors=sentinels["errors"]
        )
        out = {}
        for name, value in (
            ("summary_json", summary),
            ("metrics_json", metrics),
            ("contract_json", contract),
        ):
            text = json.dumps(value, sort_keys=True, ensure_ascii=False).replace("%", "%%")
            text = (
                text.replace(str(sentinels["new"]), "%(new)d")
                .replace(str(sentinels["updated"]), "%(updated)d")
                .replace(str(sentinels["records"]), "%(records)d")
                .replace(str(sentinels["seconds"]), "%(seconds).3f")
                .replace(str(sentinels["warning_count"]), "%(warning_count)d")
                .replace(str(sentinels["error_count"]), "%(error_count)d")
                .replace(f'"{sentinels["status"]}"', '"%(status)s"')
                .replace(f'"{sentinels["warnings"]}"', "%(warnings)s")
                .replace(f'"{sentinels["errors"]}"', "%(errors)s")
            )
            out[name] = _copy_text(text)
        templates[pipeline] = out
    return templates, sizes


WARNINGS = (
    "3 orders are past their delivery date and not shipped",
    "2 orders in production are due within 7 days",
    "1 ready orders missed their estimated ship date",
)
ERROR = "4 records rejected by the target: dropdown value 'Cancelled' is not one of the allowed values"


def generate_rows(rows: int, days: int) -> Iterator[tuple[str, tuple[str, int]]]:
    """COPY text lines, and (customer, day index) of each; customers x days x pipelines, in order."""
    templates, _ = real_templates()
    day_list = [FIRST_DAY + dt.timedelta(days=i) for i in range(days)]
    generated = dt.datetime(2026, 1, 2, tzinfo=dt.UTC).isoformat()
    n = 0
    storage_id = 0
    ci = 0
    while True:
        customer = f"CUSTOMER {ci:05d}"
        for di, day in enumerate(day_list):
            key = f"{customer}|{day.isoformat()}"
            for pi, pipeline in enumerate(PIPELINES):
                cell = (ci * days + di) * len(PIPELINES) + pi
                runs = 2 if cell % RERUN_EVERY == 0 else 1
                for r in range(runs):
                    n += 1
                    storage_id += 1
                    if n > rows:
                        return
                    status = (
                        "failed"
                        if n % FAILED_EVERY == 0
                        else "partial"
                        if n % PARTIAL_EVERY == 0
                        else "success"
                    )
                    warns = [] if n % 5 else list(WARNINGS[: 1 + n % 3])
                    errs = [ERROR] if status != "success" else []
                    new = 0 if status == "failed" else (n * 7) % 23
                    updated = 0 if status == "failed" else (n * 11) % 41
                    values = {
                        "new": new,
                        "updated": updated,
                        "records": new + updated + (n % 300),
                        "seconds": 0.5 + (n % 1000) / 100,
                        "status": status,
                        "warning_count": len(warns),
                        "error_count": len(errs),
                        "warnings": json.dumps(warns),
                        "errors": json.dumps(errs),
                    }
                    t = templates[pipeline]
                    started = dt.datetime(day.year, day.month, day.day, 6 + 2 * r, 5 * pi, tzinfo=dt.UTC)
                    run_id = f"run-{ci:05d}-{di:04d}-{r}"
                    markdown = _copy_text(
                        f"# {pipeline} report\n\n**{customer}**, {day.isoformat()}: {status}, "
                        f"{new} new, {updated} updated.\n"
                    )
                    line = "\t".join(
                        (
                            customer,
                            customer,
                            day.isoformat(),
                            pipeline,
                            run_id,
                            f"kestra_exec_{day:%Y%m%d}_{n:07d}",
                            key,
                            status,
                            "observation" if status == "failed" else "materialization",
                            str(storage_id),
                            started.isoformat(),
                            markdown,
                            t["summary_json"] % values,
                            t["metrics_json"] % values,
                            t["contract_json"] % values,
                            f"{n:064x}",
                            generated,
                        )
                    )
                    yield line + "\n", (customer, di)
        ci += 1


def load_rows(url: str, rows: int, days: int) -> dict[str, Any]:
    """COPY the rows in; returns the partitions per customer (chunks of the project path)."""
    import psycopg

    from reporting_assets.customers import add_customer
    from reporting_assets.db.connection import connect
    from reporting_assets.execution_reports.store import REPORT_COLUMNS

    per_customer: dict[str, set[int]] = {}
    started = time.perf_counter()
    step = max(1, rows // 10)
    buffer: list[str] = []
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(
            f"COPY reporting.pipeline_execution_reports ({', '.join(REPORT_COLUMNS)}) FROM STDIN"
        ) as cp:
            for i, (line, (customer, di)) in enumerate(generate_rows(rows, days), 1):
                per_customer.setdefault(customer, set()).add(di)
                buffer.append(line)
                if len(buffer) >= 2000:
                    cp.write("".join(buffer))
                    buffer.clear()
                if i % step == 0:
                    progress(f"      [{i:>9,}/{rows:,}] rows copied, {time.perf_counter() - started:.1f}s")
            if buffer:
                cp.write("".join(buffer))
        conn.commit()
    copy_seconds = time.perf_counter() - started
    with connect(url, doing="registering customers") as conn:
        for customer in per_customer:
            add_customer(conn, None, customer)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE reporting.pipeline_execution_reports")
        size = conn.execute(
            "SELECT pg_total_relation_size('reporting.pipeline_execution_reports')"
        ).fetchone()[0]  # type: ignore[index]
        stored = conn.execute("SELECT count(*) FROM reporting.pipeline_execution_reports").fetchone()[0]  # type: ignore[index]
    return {
        "rows": stored,
        "customers": len(per_customer),
        "partitions": sum(len(d) for d in per_customer.values()),
        "per_customer": {c: sorted(d) for c, d in per_customer.items()},
        "copy_seconds": copy_seconds,
        "vacuum_analyze_seconds": time.perf_counter() - t0,
        "table_bytes": size,
        "seconds": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------------------------
# A. The project path
# --------------------------------------------------------------------------------------------


class TimedConnection:
    """Delegates to a psycopg connection and times ``execute`` / ``copy`` by statement kind."""

    def __init__(
        self, conn: Any, stages: dict[str, float], fetch_sql: str, side_sql: tuple[str, ...]
    ) -> None:
        self._conn = conn
        self._stages = stages
        self._fetch_sql = fetch_sql
        self._side_sql = side_sql

    @property
    def raw(self) -> Any:
        return self._conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def stage(self, statement: Any) -> str:
        if statement == self._fetch_sql:
            return "fetch_sql"
        return "names_expected_sql" if statement in self._side_sql else "store_sql"

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        with timed(self._stages, self.stage(statement)):
            return self._conn.execute(statement, *args, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return TimedCursor(self._conn.cursor(*args, **kwargs), self)


class TimedCursor:
    def __init__(self, cursor: Any, conn: TimedConnection) -> None:
        self._cursor = cursor
        self._conn = conn
        self._stages = conn._stages

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __enter__(self) -> TimedCursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cursor.close()

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        # like TimedConnection.execute: server time and transfer; rows are converted on fetch
        with timed(self._stages, self._conn.stage(statement)):
            self._cursor.execute(statement, *args, **kwargs)
        return self

    @contextmanager
    def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        # the COPY's rows are written by the service (Python) inside; the server work is at exit
        with self._cursor.copy(statement, *args, **kwargs) as cp:
            yield cp
            started = time.perf_counter()
        self._stages["store_sql"] = self._stages.get("store_sql", 0.0) + time.perf_counter() - started


def chunks_of(loaded: dict[str, Any], chunk_days: int) -> list[list[str]]:
    """The partition keys of each summarize_partitions call: one customer's days (or K of them)."""
    chunks: list[list[str]] = []
    for customer, day_indexes in loaded["per_customer"].items():
        keys = [f"{customer}|{(FIRST_DAY + dt.timedelta(days=d)).isoformat()}" for d in day_indexes]
        size = chunk_days or len(keys)
        chunks += [keys[i : i + size] for i in range(0, len(keys), size)]
    return chunks


def summarize_chunks(url: str, chunks: list[list[str]], report: Any = None) -> tuple[int, dict[str, float]]:
    """summarize_partitions over ``chunks`` on one connection, a commit after each (one batched
    run per chunk); the summaries stored and the seconds per stage. ``report(done, summaries)``
    is called after each chunk."""
    from reporting_assets.db.connection import connect
    from reporting_assets.db.queries import query
    from reporting_assets.resources import ReportSettingsResource
    from reporting_assets.summaries import service

    settings = ReportSettingsResource()
    stages: dict[str, float] = {}
    real = {name: getattr(service, name) for name in ("summarize", "render_summaries", "display_names")}

    def wrap(name: str, stage: str) -> Any:
        fn = real[name]

        def timed_fn(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], TimedConnection):  # its queries count here, not twice
                args = (args[0].raw, *args[1:])
            with timed(stages, stage):
                return fn(*args, **kwargs)

        return timed_fn

    def wrap_iter(name: str, stage: str) -> Any:
        fn = real[name]

        def timed_iter(*args: Any, **kwargs: Any) -> Iterator[Any]:
            items = fn(*args, **kwargs)
            while True:  # each item as it is produced (perf_counter: a context manager per item costs more)
                started = time.perf_counter()
                item = next(items, stop)
                stages[stage] = stages.get(stage, 0.0) + time.perf_counter() - started
                if item is stop:
                    return
                yield item

        return timed_iter

    stop = object()
    service.summarize = wrap("summarize", "aggregate")  # type: ignore[assignment]
    service.render_summaries = wrap_iter("render_summaries", "render")  # type: ignore[assignment]
    service.display_names = wrap("display_names", "names_expected_sql")  # type: ignore[assignment]
    summaries = 0
    try:
        with connect(url, doing="summarizing") as raw:
            conn = TimedConnection(raw, stages, query("summaries_reports"), (query("summaries_expected"),))
            started = time.perf_counter()
            for i, keys in enumerate(chunks, 1):
                stored = service.summarize_partitions(
                    conn,  # type: ignore[arg-type]
                    keys,
                    settings.run_url,
                    settings.expected_pipelines,
                )
                with timed(stages, "store_sql"):
                    raw.commit()  # one batched run per chunk: its own transaction
                summaries += len(stored)
                if report is not None:
                    report(i, summaries)
            total = time.perf_counter() - started
    finally:
        for name, fn in real.items():
            setattr(service, name, fn)
    stages["other_python"] = total - sum(stages.get(s, 0.0) for s in STAGES if s != "other_python")
    return summaries, {s: stages.get(s, 0.0) for s in STAGES}


def _summarize_share(task: tuple[str, list[list[str]]]) -> tuple[int, dict[str, float]]:
    return summarize_chunks(*task)


def bench_project(url: str, chunks: list[list[str]], workers: int) -> dict[str, Any]:
    """A: every chunk through summarize_partitions, ``workers`` processes at a time (each with its
    own connection), the way the run coordinator runs a backfill's per-customer range runs."""
    step = max(1, len(chunks) // 10)
    started = time.perf_counter()

    def report(done: int, summaries: int) -> None:
        if workers > 1 or done % step == 0 or done == len(chunks):
            elapsed = time.perf_counter() - started
            progress(
                f"      [{done:>5}/{len(chunks)}] chunks, {summaries:,} summaries, {elapsed:.1f}s "
                f"({rate(summaries, elapsed):,.0f} summaries/s)"
            )

    if workers == 1:
        summaries, stages = summarize_chunks(url, chunks, report)
    else:
        # shares of about 1/(5 x workers) of the chunks, handed out as workers free up
        share = max(1, len(chunks) // (5 * workers))
        tasks = [(url, chunks[i : i + share]) for i in range(0, len(chunks), share)]
        summaries, done = 0, 0
        stages = dict.fromkeys(STAGES, 0.0)
        from reporting_assets.parallel import die_on_sigterm

        with multiprocessing.get_context("fork").Pool(workers, initializer=die_on_sigterm) as pool:
            for count, part in pool.imap_unordered(_summarize_share, tasks):
                summaries, done = summaries + count, min(len(chunks), done + share)
                stages = {k: stages[k] + part[k] for k in STAGES}  # summed over the workers
                report(done, summaries)
    return {
        "seconds": time.perf_counter() - started,
        "workers": workers,
        "chunks": len(chunks),
        "chunk_partitions": max(len(c) for c in chunks),
        "summaries": summaries,
        "stages": stages,
    }


def empty_summaries(url: str) -> None:
    """Empty what A wrote, so a repeat measures the same first write again (not timed)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE reporting.daily_customer_summaries, reporting.daily_customer_summary_history")
        conn.execute("VACUUM ANALYZE reporting.daily_customer_summaries")


# --------------------------------------------------------------------------------------------
# B. The floor, and the check
# --------------------------------------------------------------------------------------------


def capture_summaries(
    url: str, chunks: list[list[str]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Per summary the project stores, in its order: the arguments ``render_summaries`` hands the
    template's ``daily_summary`` macro, and the row's columns other than the markdown and the
    hash (setup, not timed).

    ``summarize_partitions`` runs chunk by chunk with the macro replaced by a recorder, and each
    chunk is rolled back: nothing is stored.
    """
    from reporting_assets.db.connection import connect
    from reporting_assets.resources import ReportSettingsResource
    from reporting_assets.summaries import render, service

    settings = ReportSettingsResource()
    calls: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []

    def record(*args: Any) -> str:
        calls.append(args)
        return ""

    real_macro = render.summary_macro
    render.summary_macro = lambda: record  # type: ignore[assignment]
    try:
        with connect(url, doing="capturing the floor's inputs") as conn:
            for keys in chunks:
                for stored in service.summarize_partitions(
                    conn, keys, settings.run_url, settings.expected_pipelines
                ):
                    day, totals = stored.summary, stored.summary.totals
                    rows.append(
                        (
                            day.customer_name,
                            day.partition.customer_key,
                            day.partition.day,
                            day.partition.partition_key,
                            day.total_pipelines,
                            day.successful_pipelines,
                            totals["new_orders"],
                            totals["updated_orders"],
                            totals["manufacturing_updates"],
                            totals["shipping_updates"],
                            day.status_text(),
                            day.is_complete,
                            day.missing,
                        )
                    )
                conn.rollback()
    finally:
        render.summary_macro = real_macro
    return calls, rows


def summary_macro() -> Any:
    """The ``daily_summary`` macro of a bare Jinja2 environment (checked against the project's)."""
    from reporting_assets.summaries import render

    env = bare_environment("reporting_assets.summaries", {}, render.environment())
    return env.get_template("daily_summary.md.j2").module.daily_summary


def floor_rows(rows: list[tuple[Any, ...]], markdown: list[str]) -> Iterator[tuple[Any, ...]]:
    """The floor's summary rows: the captured columns, the markdown, the content hash."""
    sha256 = hashlib.sha256
    for row, md in zip(rows, markdown, strict=True):
        status = row[10]
        yield (*row[:10], md, status, row[11], row[12], sha256((md + status).encode()).hexdigest())


def bench_floor(url: str, chunks: list[list[str]]) -> dict[str, Any]:
    """B: the SQL aggregates, then the same summaries rendered and stored the cheapest way.

    Timed: each SQL statement, fetched; the bare macro called with each captured argument
    list; one COPY of the rows (captured columns, markdown, SHA-256 content hash) into a plain
    table, and its commit. Not timed: capturing the arguments and columns, compiling the
    template, creating the table.
    """
    import psycopg

    empty_summaries(url)  # the capture sees the same first write as A
    calls, rows = capture_summaries(url, chunks)
    macro = summary_macro()
    out: dict[str, Any] = {"summaries": len(calls)}
    with psycopg.connect(url) as conn:
        conn.execute("SELECT count(*) FROM reporting.pipeline_execution_reports").fetchone()  # warm the cache
        for name, sql in (
            ("latest", FLOOR_LATEST_SQL),
            ("counts", FLOOR_COUNTS_SQL),
            ("plain", FLOOR_PLAIN_SQL),
        ):
            started = time.perf_counter()
            fetched = conn.execute(sql).fetchall()  # type: ignore[call-overload]
            out[name] = {"seconds": time.perf_counter() - started, "groups": len(fetched)}
            if name == "latest":
                out["latest_rows"] = {(r[0], r[1]): r[2:] for r in fetched}
            elif name == "counts":  # the same figures, or it is no floor
                out["counts_agree"] = {(r[0], r[1]): r[2:] for r in fetched} == out["latest_rows"]
        plain_table(conn, "floor_summaries", FLOOR_SUMMARY_COLUMNS)
        started = time.perf_counter()
        markdown = [macro(*args) for args in calls]
        out["render"] = {"seconds": time.perf_counter() - started}
        started = time.perf_counter()
        copy_plain(conn, "floor_summaries", FLOOR_SUMMARY_COLUMNS, floor_rows(rows, markdown))
        out["copy"] = {"seconds": time.perf_counter() - started}
    return out


def identical_rows(url: str) -> int:
    """Rows of the floor's table equal, column by column, to the summary the project stored."""
    import psycopg

    same = " AND ".join(
        f"f.{c} IS NOT DISTINCT FROM d.{c}{'::text' if c == 'content_hash' else ''}"
        for c, _ in FLOOR_SUMMARY_COLUMNS
    )
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM public.floor_summaries f JOIN reporting.daily_customer_summaries d "
            f"USING (customer_key, summary_date) WHERE {same}"
        ).fetchone()[0]  # type: ignore[index]


def check_totals(url: str, floor_rows: dict[tuple[str, dt.date], tuple[Any, ...]]) -> dict[str, Any]:
    """Compare what the project stored with the floor's figures, summary by summary."""
    import psycopg

    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT customer_key, summary_date, total_pipelines, successful_pipelines, new_orders, "
            "updated_orders, manufacturing_updates, shipping_updates, "
            "(status_json ->> 'warnings')::int, (status_json ->> 'errors')::int "
            "FROM reporting.daily_customer_summaries"
        ).fetchall()
    mismatches = [
        (r[0], r[1].isoformat())
        for r in stored
        if tuple(int(x) for x in floor_rows.get((r[0], r[1]), ())) != tuple(int(x) for x in r[2:])
    ]
    return {
        "stored_summaries": len(stored),
        "floor_groups": len(floor_rows),
        "mismatches": len(mismatches),
        "mismatch_sample": mismatches[:5],
    }


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def summarize_result(
    meta: dict[str, Any], a: dict[str, Any], a1: dict[str, Any], b: dict[str, Any], check: dict[str, Any]
) -> dict[str, Any]:
    seconds = {name: b[name]["seconds"] for name in FLOOR_PARTS}
    floor = seconds["latest"] + seconds["render"] + seconds["copy"]
    counts_floor = seconds["counts"] + seconds["render"] + seconds["copy"]

    def project(run: dict[str, Any]) -> dict[str, Any]:
        return {
            "seconds": run["seconds"],
            "workers": run["workers"],
            "summaries": run["summaries"],
            "summaries_per_second": rate(run["summaries"], run["seconds"]),
            "rows_per_second": rate(meta["rows"], run["seconds"]),
            "chunks": run["chunks"],
            "chunk_partitions": run["chunk_partitions"],
            "stage_seconds": run["stages"],
            "repeat_seconds": run["repeats"],
        }

    return {
        "config": meta,
        "project": project(a),
        "project_one_process": project(a1),
        "floor": {
            "seconds": floor,
            "with_summary_counts_seconds": counts_floor,
            "latest_per_pipeline_seconds": seconds["latest"],
            "latest_per_pipeline_groups": b["latest"]["groups"],
            "latest_from_summary_counts_seconds": seconds["counts"],
            "summary_counts_give_the_same_figures": b["counts_agree"],
            "plain_group_by_seconds": seconds["plain"],
            "plain_group_by_groups": b["plain"]["groups"],
            "render_seconds": seconds["render"],
            "copy_seconds": seconds["copy"],
            "summaries": b["summaries"],
            "repeat_seconds": b["repeats"],
        },
        "check": check,
        "ratios": {
            "project_over_floor": a["seconds"] / floor,
            "project_over_counts_floor": a["seconds"] / counts_floor,
            "one_process_over_floor": a1["seconds"] / floor,
            "project_over_sql_floor": a["seconds"] / seconds["latest"],
            "project_over_counts_sql_floor": a["seconds"] / seconds["counts"],
            "project_over_plain_group_by": a["seconds"] / seconds["plain"],
            "one_process_over_sql_floor": a1["seconds"] / seconds["latest"],
            "project_sql_only_over_sql_floor": (
                a1["stages"]["fetch_sql"] + a1["stages"]["names_expected_sql"]
            )
            / seconds["latest"],
            "target": TARGET_RATIO,
            "within_target": a["seconds"] / floor <= TARGET_RATIO,
        },
    }


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    p, f, ra = result["project"], result["floor"], result["ratios"]
    runs = f"{p['summaries']:,} summaries, {p['workers']} runs at a time"
    return [
        {
            "benchmark": f"aggregate: {runs} vs SQL + render + COPY",
            "project": p["seconds"],
            "floor": f["seconds"],
            "unit": "s",
            "ratio": ra["project_over_floor"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": ra["within_target"],
        },
        {
            "benchmark": "aggregate: the same vs the SQL aggregate alone (reference)",
            "project": p["seconds"],
            "floor": f["latest_per_pipeline_seconds"],
            "unit": "s",
            "ratio": ra["project_over_sql_floor"],
            "target": None,
            "met": None,
        },
    ]


def _verdict(ratio: float) -> str:
    return f"{ratio:.2f}x ({'met' if ratio <= TARGET_RATIO else 'NOT met'})"


def table(r: dict[str, Any]) -> str:
    cfg, p, p1, f, ra, ck = (
        r["config"],
        r["project"],
        r["project_one_process"],
        r["floor"],
        r["ratios"],
        r["check"],
    )
    st = p1["stage_seconds"]
    n = cfg["rows"]
    labels = {
        "fetch_sql": "summaries_reports query (server + transfer)",
        "names_expected_sql": "display_names + summaries_expected queries",
        "aggregate": "summarize (group, latest per pipeline, totals)",
        "render": "render_summaries (Jinja2 markdown) per partition",
        "store_sql": "lock + versions + COPY end (+ restatements) + commit",
        "other_python": "rest: row conversion, status_json, hashing, COPY rows",
    }

    def floor_line(label: str, seconds: float) -> str:
        return f"   {label:<59}{seconds:>9.2f}{rate(n, seconds):>12,.0f}"

    lines = [
        f"aggregate benchmark: {n:,} execution-report rows = {cfg['customers']} customers x up to "
        f"{cfg['days']} days x {len(PIPELINES)} pipelines (every {RERUN_EVERY}th re-run), "
        f"{cfg['partitions']:,} partitions, table {cfg['table_bytes'] / 2**20:,.0f} MiB, {cfg['cpus']} CPUs, "
        f"PostgreSQL {cfg['postgres']}, load {cfg['load_before']} -> {cfg['load_after']}; "
        f"every figure: median of {cfg['repeats']} interleaved repeat(s) (stage medians need not add up)",
        "",
        f"{'':<62}{'seconds':>9}{'rows/s':>12}{'share':>7}",
        f"A. Project path: summarize_partitions, {p['chunks']} calls of <= {p['chunk_partitions']} "
        "partitions (one customer's days: one batched range run each)",
        f"   {p['workers']} runs at a time (the run coordinator runs a backfill's range runs concurrently)",
        f"   {'total (' + format(p['summaries'], ',') + ' summaries stored)':<59}{p['seconds']:>9.2f}"
        f"{p['rows_per_second']:>12,.0f}",
        "   one run at a time, by stage:",
    ]
    for stage in STAGES:
        lines.append(f"   {labels[stage]:<59}{st[stage]:>9.2f}{'':>12}{st[stage] / p1['seconds']:>7.0%}")
    lines += [
        f"   {'total, one run at a time':<59}{p1['seconds']:>9.2f}{p1['rows_per_second']:>12,.0f}",
        "B. Floor: the SQL aggregate fetched, then the same summaries rendered by a bare Jinja2 macro",
        "   and COPYed into a plain table (one process, no keys, validation or upserts)",
        floor_line("SQL: latest per pipeline + GROUP BY customer, day", f["latest_per_pipeline_seconds"]),
        floor_line(
            f"render: the daily_summary macro, {f['summaries']:,} summaries",
            f["render_seconds"],
        ),
        floor_line("COPY: the same columns + SHA-256 content hash, commit", f["copy_seconds"]),
        floor_line("floor (SQL + render + COPY)", f["seconds"]),
        "   for reference:",
        floor_line(
            "  SQL with warning/error counts from summary_json", f["latest_from_summary_counts_seconds"]
        ),
        floor_line("  plain GROUP BY customer, day (no latest rule)", f["plain_group_by_seconds"]),
        "",
        f"   project / floor: {_verdict(ra['project_over_floor'])}  (target <= {ra['target']:g}x); "
        f"one run at a time / floor: {ra['one_process_over_floor']:.2f}x; with the summary-counts "
        f"SQL: {ra['project_over_counts_floor']:.2f}x",
        f"   pure SQL, for reference: project / SQL aggregate {ra['project_over_sql_floor']:.1f}x "
        f"(with summary counts {ra['project_over_counts_sql_floor']:.1f}x, plain GROUP BY "
        f"{ra['project_over_plain_group_by']:.1f}x); one run at a time / SQL aggregate "
        f"{ra['one_process_over_sql_floor']:.1f}x; the project's SQL reads alone / SQL aggregate "
        f"{ra['project_sql_only_over_sql_floor']:.2f}x",
        f"   repeats: project {', '.join(f'{x:.1f}' for x in p['repeat_seconds'])} s; one at a time "
        f"{', '.join(f'{x:.1f}' for x in p1['repeat_seconds'])} s; floor "
        f"{', '.join(format(x['latest'] + x['render'] + x['copy'], '.2f') for x in f['repeat_seconds'])} s",
        f"   checks: {ck['stored_summaries']:,} stored summaries vs {ck['floor_groups']:,} SQL groups, "
        f"{ck['mismatches']} mismatches; floor rows identical to the stored ones (every column): "
        f"{ck['identical_rows']:,}/{f['summaries']:,}; the two SQL statements give the same figures: "
        f"{'yes' if f['summary_counts_give_the_same_figures'] else 'NO'}",
        f"   setup, not timed: COPY {cfg['setup']['copy_seconds']:.1f}s + VACUUM ANALYZE "
        f"{cfg['setup']['vacuum_analyze_seconds']:.1f}s",
    ]
    src = r["config"]["source"]
    lines.append(f"   code: commit {src['commit']}" + (" + uncommitted changes" if src["dirty"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="execution-report rows (default 1,000,000)"
    )
    parser.add_argument(
        "--days", type=int, default=365, help="days per customer from 2025-01-01 (default 365)"
    )
    parser.add_argument(
        "--chunk-days",
        type=int,
        default=0,
        help="partitions per summarize_partitions call (default 0: all of one customer's days)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of B and the A's, interleaved; times are the median of the rounds (default 3)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="summarize_partitions calls running at a time, each in its own process and "
        "connection, like concurrent range runs of a backfill (default: one per core); "
        "one at a time is measured beside it",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.days < 1 or args.chunk_days < 0 or args.repeat < 1 or args.workers < 1:
        parser.error("--rows, --days, --repeat and --workers must be positive, --chunk-days >= 0")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    load_before = load()
    with throwaway_server("aggregate_bench_") as (_root, server_url):
        url = migrated_database(server_url, REPORTING_DB)
        import psycopg

        with psycopg.connect(url) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        per_customer = args.days * len(PIPELINES) * (1 + 1 / RERUN_EVERY)
        progress(
            f"[setup] COPY {args.rows:,} rows (~{math.ceil(args.rows / per_customer)} customers x "
            f"{args.days} days "
            f"x {len(PIPELINES)} pipelines), not timed"
        )
        loaded = load_rows(url, args.rows, args.days)
        progress(
            f"      {loaded['rows']:,} rows, {loaded['partitions']:,} partitions, "
            f"{loaded['table_bytes'] / 2**20:,.0f} MiB in {loaded['seconds']:.1f}s"
        )

        chunks = chunks_of(loaded, args.chunk_days)
        runs: dict[int, list[dict[str, Any]]] = {1: [], args.workers: []}
        b_runs: list[dict[str, Any]] = []
        for repeat in range(args.repeat):
            label = f" (repeat {repeat + 1}/{args.repeat})" if args.repeat > 1 else ""
            progress(
                f"[B] floor{label}: latest-per-pipeline GROUP BY (two ways), plain GROUP BY; bare "
                "render and COPY of the same summaries"
            )
            b_runs.append(bench_floor(url, chunks))
            floor = b_runs[-1]
            progress(
                f"      latest {floor['latest']['seconds']:.2f}s, with summary counts "
                f"{floor['counts']['seconds']:.2f}s, plain {floor['plain']['seconds']:.2f}s, "
                f"render {floor['render']['seconds']:.2f}s, COPY {floor['copy']['seconds']:.2f}s "
                f"({floor['summaries']:,} summaries)"
            )
            for workers in runs:  # one at a time first, the headline last (its rows are checked)
                empty_summaries(url)
                progress(
                    f"[A] project path{label}, {workers} run(s) at a time: summarize_partitions over "
                    f"{loaded['partitions']:,} partitions"
                )
                runs[workers].append(bench_project(url, chunks, workers))
                progress(
                    "      " + ", ".join(f"{k} {v:.1f}s" for k, v in runs[workers][-1]["stages"].items())
                )

        def median_run(repeats: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                **repeats[-1],
                "seconds": statistics.median(run["seconds"] for run in repeats),
                "stages": {s: statistics.median(run["stages"][s] for run in repeats) for s in STAGES},
                "repeats": [run["seconds"] for run in repeats],
            }

        a, a1 = median_run(runs[args.workers]), median_run(runs[1])
        floors = FLOOR_PARTS
        b = {
            **b_runs[-1],
            **{
                name: {
                    **b_runs[-1][name],
                    "seconds": statistics.median(run[name]["seconds"] for run in b_runs),
                }
                for name in floors
            },
            "counts_agree": all(run["counts_agree"] for run in b_runs),
            "repeats": [{name: run[name]["seconds"] for name in floors} for run in b_runs],
        }

        check = {**check_totals(url, b["latest_rows"]), "identical_rows": identical_rows(url)}
        meta = {
            "rows": loaded["rows"],
            "customers": loaded["customers"],
            "days": args.days,
            "partitions": loaded["partitions"],
            "table_bytes": loaded["table_bytes"],
            "setup": {k: v for k, v in loaded.items() if k != "per_customer"},
            "row_bytes_real_contract": real_templates()[1],
            "source": source_state(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "postgres": pg_version,
            "load_before": load_before,
            "load_after": load(),
            "repeats": args.repeat,
            "workers": args.workers,
        }
        result = summarize_result(meta, a, a1, b, check)
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
