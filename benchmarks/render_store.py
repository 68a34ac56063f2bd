"""Render + store benchmark: the project's report path next to its floor, and Dagster range runs.

One run measures, on a throw-away embedded PostgreSQL:

A. the project path: ``render_partitions`` (``plan_reports``: events, names, times;
   ``render_and_store``: each contract validated once per chunk, yesterday's contract looked
   up, ``build_row`` per report on every core through forked workers as the asset does for
   400+ reports, rows COPYed into the table as chunks arrive, as a first write is) followed
   by lineage (``runs_for_partitions`` + ``store_lineage``), over N realistic contracts;
B. the floor: the same rows stored the cheapest way. A bare ``jinja2.Environment`` with the
   options of ``markdown_environment`` (``auto_reload=False`` included) renders the same
   template with the same context in one process; one psycopg COPY writes the report rows
   (every column A stores: markdown, the JSONB summary, metrics and contract, and the rest)
   and three more the rows A's lineage write stored (its runs, run partitions and figure rows,
   every column but the created/updated times), each into a plain table without keys,
   indexes or constraints. ``json.dumps`` of the JSON columns and figure values is timed, as
   is each COPY's commit; capturing contexts, compiling the template, taking the other column
   values from A's rows and reading the lineage rows back from A's tables are setup. Every
   floor row is compared with the project's, column by column. Ratios: project
   total / floor combined, and without lineage on both sides (A minus lineage / render + COPY
   reports);
C. range runs of the ``render_reports`` job on a PostgreSQL-backed Dagster instance, next to a
   no-op asset with the same partitions definition run over the same ranges.

Usage (from the repo root)::

    .venv/bin/python benchmarks/render_store.py                 # defaults: 5,000 reports, 30 days
    .venv/bin/python benchmarks/render_store.py --reports 500 --days 3   # quick check

Project and Dagster modules are imported inside functions, after ``main`` has silenced
warnings, so Dagster's import-time beta/preview notes stay out of the output and ``--help``
stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import (
    bare_environment,
    copy_plain,
    migrated_database,
    plain_table,
    progress,
    progress_to_stderr,
    publish,
    rate,
    step_seconds,
    throwaway_instance,
    throwaway_server,
    timed,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "render_store.json"
END_DATE = dt.date(2025, 6, 17)  # the demo's last day: inside the partitions, enough board history
PIPELINE_COUNT = 3
REPORTING_DB_AB = "bench_reporting_ab"  # A and B: customers here never reach the Dagster instance
REPORTING_DB_C = "bench_reporting_c"  # C: what PostgresResource sees through REPORTING_DATABASE_URL
DAGSTER_DB_C = "bench_dagster_c"
TARGET_RATIO = 2.0
STAGES = ("prepare", "render_store", "lineage")  # A's stages, in order; they sum to A's total
FLOOR_REPORT_COLUMNS = (  # every column a stored report fills (store.REPORT_COLUMNS, checked), plain types
    ("customer_name", "text"),
    ("customer_key", "text"),
    ("execution_date", "date"),
    ("pipeline_type", "text"),
    ("execution_id", "text"),
    ("external_execution_id", "text"),
    ("partition_key", "text"),
    ("status", "text"),
    ("source_event", "text"),
    ("event_storage_id", "bigint"),
    ("run_started_at", "timestamptz"),
    ("markdown_content", "text"),
    ("summary_json", "jsonb"),
    ("metrics_json", "jsonb"),
    ("contract_json", "jsonb"),
    ("content_hash", "text"),
    ("generated_at", "timestamptz"),
)
REPORT_KEY = ("execution_id", "pipeline_type", "customer_key", "execution_date")
FLOOR_LINEAGE_TABLES: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    # what a lineage write stores, in write order: each table's columns (all it fills but the
    # created/updated times; checked against the project's tables) in plain types, and its key
    "workflow_executions": (
        (
            ("run_id", "text"),
            ("job_name", "text"),
            ("status", "text"),
            ("started_at", "timestamptz"),
            ("completed_at", "timestamptz"),
            ("external_execution_id", "text"),
            ("source", "text"),
        ),
        ("run_id",),
    ),
    "workflow_execution_partitions": (
        (
            ("id", "bigint"),
            ("run_id", "text"),
            ("pipeline_type", "text"),
            ("customer_key", "text"),
            ("execution_date", "date"),
            ("partition_key", "text"),
            ("status", "text"),
            ("record_count", "integer"),
            ("external_execution_id", "text"),
        ),
        ("id",),
    ),
    "report_lineage": (
        (
            ("report_id", "bigint"),
            ("figure_path", "text"),
            ("figure_value", "jsonb"),
            ("run_id", "text"),
            ("execution_partition_id", "bigint"),
            ("event_storage_id", "bigint"),
            ("external_execution_id", "text"),
        ),
        ("report_id", "figure_path"),
    ),
}
TIMESTAMP_COLUMNS = {"created_at", "updated_at"}  # filled by the server's defaults
LINEAGE_TABLE_LABELS = {
    "workflow_executions": "runs",
    "workflow_execution_partitions": "run partitions",
    "report_lineage": "figures",
}


def floor_same_rows_sql(
    floor_table: str, table: str, columns: tuple[tuple[str, str], ...], key: tuple[str, ...]
) -> str:
    """How many rows of the floor's ``public.<floor_table>`` hold exactly the values the project
    stored in ``reporting.<table>`` (every column; JSONB compared as JSONB, NULL equal to NULL)."""
    return (
        f"SELECT count(*) FROM public.{floor_table} f JOIN reporting.{table} r USING ({', '.join(key)}) "
        f"WHERE ({', '.join(f'f.{c}' for c, _ in columns)}) IS NOT DISTINCT FROM "
        f"({', '.join(f'r.{c}' for c, _ in columns)})"
    )


def days_ending(end: dt.date, days: int) -> list[dt.date]:
    first = end - dt.timedelta(days=days - 1)
    return [first + dt.timedelta(days=i) for i in range(days)]


# --------------------------------------------------------------------------------------------
# Contracts (setup, not timed)
# --------------------------------------------------------------------------------------------


def make_source_events(reports: int, days: list[dt.date]) -> tuple[list[Any], dict[str, Any], list[str]]:
    """``reports`` materialization events over customers x days x pipelines, oldest day first.

    One run id per customer and day (one Dagster run materializes the three pipelines), a
    Kestra-style external id per pipeline, and an occasional partial run (rejected records).
    Returns the events, a RunInfo per run id and the customer keys.
    """
    from reporting_assets.execution_reports.source_event import SourceEvent
    from reporting_assets.lineage.store import RunInfo
    from reporting_assets.reporter import PipelineReporter
    from reporting_assets.sources.pipelines import PIPELINES, run_pipeline

    per_customer = len(days) * len(PIPELINES)
    customers = [f"BENCH {i:03d}" for i in range(math.ceil(reports / per_customer))]
    events: list[SourceEvent] = []
    infos: dict[str, RunInfo] = {}
    started = time.perf_counter()
    base_ts = dt.datetime(2025, 6, 18, tzinfo=dt.UTC).timestamp()
    for ci, customer in enumerate(customers):
        for di, day in enumerate(days):
            if len(events) >= reports:
                break
            run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{customer}/{day}"))
            run_start = dt.datetime.combine(day, dt.time(6), dt.UTC) + dt.timedelta(seconds=ci)
            infos[run_id] = RunInfo(
                run_id, "sample_pipelines", "success", run_start, run_start + dt.timedelta(seconds=40)
            )
            for pi, pipeline in enumerate(PIPELINES):
                if len(events) >= reports:
                    break
                reporter = PipelineReporter(
                    customer.title(),
                    pipeline,
                    run_id,
                    customer_key=customer,
                    execution_date=day,
                    external_execution_id=f"kestra_exec_{day:%Y%m%d}_{(ci * 1000 + di) * 10 + pi:08d}",
                )
                simulate = "partial" if (ci + di + pi) % 23 == 0 else "none"
                run_pipeline(pipeline, reporter, customer, day, simulate)  # type: ignore[arg-type]
                events.append(
                    SourceEvent(
                        run_id=run_id,
                        pipeline_type=pipeline,
                        partition_key=f"{customer}|{day.isoformat()}",
                        kind="materialization",
                        storage_id=len(events) + 1,
                        timestamp=base_ts + len(events),
                        raw_contract=reporter.build().model_dump(mode="json"),
                    )
                )
        if (ci + 1) % 10 == 0 or len(events) >= reports:
            progress(
                f"      contracts: {len(events):>6,}/{reports:,} "
                f"({time.perf_counter() - started:.1f}s, {ci + 1} customers)"
            )
        if len(events) >= reports:
            break
    events.sort(key=lambda e: (e.partition_key, e.pipeline_type, e.timestamp, e.run_id))
    return events, infos, customers[: ci + 1]


# --------------------------------------------------------------------------------------------
# A. Project path
# --------------------------------------------------------------------------------------------


def bench_project(
    url: str, events: list[Any], infos: dict[str, Any], customers: list[str], processes: int
) -> dict[str, Any]:
    """``render_partitions`` + lineage as the asset runs them, stage by stage (``plan_reports``
    and ``render_and_store`` are the two steps of ``render_partitions``); only the two Dagster
    reads (source events and run records) are replaced by the precomputed data."""
    from reporting_assets.customers import add_customer
    from reporting_assets.db.connection import connect
    from reporting_assets.execution_reports import service
    from reporting_assets.lineage.store import lineage_connections, runs_for_partitions, store_lineage
    from reporting_assets.parallel import worker_count
    from reporting_assets.pipelines.registry import load_registry
    from reporting_assets.resources import ReportSettingsResource

    settings = ReportSettingsResource(render_processes=processes)
    partition_keys = list(dict.fromkeys(e.partition_key for e in events))
    stages: dict[str, float] = {}

    with connect(url, doing="registering benchmark customers") as conn:
        for name in customers:
            add_customer(conn, None, name.title(), key=name)

    def fake_fetch(instance: Any, source_keys: Any, keys: Any) -> list[Any]:
        return events  # the sorted list fetch_source_events would return for these partitions

    def fake_run_infos(instance: Any, run_ids: Any) -> dict[str, Any]:
        return {rid: infos[rid] for rid in run_ids if rid in infos}

    patches = {"fetch_source_events": fake_fetch, "run_infos": fake_run_infos}
    saved = {name: getattr(service, name) for name in patches}
    for name, value in patches.items():
        setattr(service, name, value)
    try:
        with connect(url, doing="benchmark: project path") as conn:
            with timed(stages, "prepare"):
                plan = service.plan_reports(
                    None,  # type: ignore[arg-type]  # only the replaced Dagster reads use it
                    conn,
                    partition_keys,
                    load_registry(conn),
                    settings.run_url,
                    settings.list_length,
                )
            with timed(stages, "render_store"):
                outcome = service.render_and_store(conn, plan, settings.render_processes)
                conn.commit()
            extra = lineage_connections(len(partition_keys), processes) - 1
            with ExitStack() as stack, timed(stages, "lineage"):
                more = [stack.enter_context(connect(url, doing="lineage")) for _ in range(extra)]
                runs = runs_for_partitions(conn, partition_keys)
                lineage = store_lineage(
                    conn, partition_keys, runs, fake_run_infos(None, [r["run_id"] for r in runs]), more
                )
                conn.commit()
            items = plan.report_inputs()  # for the floor, not timed
    finally:
        for name, value in saved.items():
            setattr(service, name, value)

    with connect(url, doing="counting benchmark rows") as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) AS n FROM reporting.{table}").fetchone()["n"]  # type: ignore[index]
            for table in ("pipeline_execution_reports", "workflow_executions", "report_lineage")
        }
    rows = outcome.rows
    return {
        "rows": rows,
        "items": items,
        "stages": stages,
        "workers": worker_count(len(rows), processes),
        "partitions": len(partition_keys),
        "problems": len(outcome.problems),
        "lineage_runs": len(lineage.runs),
        "table_counts": counts,
    }


# --------------------------------------------------------------------------------------------
# B. Floor
# --------------------------------------------------------------------------------------------


def capture_contexts(items: list[Any]) -> list[dict[str, Any]]:
    """The exact keyword arguments ``render_report`` hands to the template, per item (setup).

    ``items`` are the ``ReportInput`` objects the project rendered (``plan.report_inputs``),
    so the contracts are the already-validated ``item.report``; ``build_row`` renders each as
    the project does (pipeline labels and customer settings included).
    """
    from reporting_assets.execution_reports import render
    from reporting_assets.execution_reports.build import build_row

    contexts: list[dict[str, Any]] = []

    class _Capture:
        def get_template(self, name: str) -> _Capture:
            return self

        def render(self, **context: Any) -> str:
            contexts.append(context)
            return ""

    real_environment = render.environment
    render.environment = lambda: _Capture()  # type: ignore[assignment]
    try:
        for item in items:
            build_row(item)
    finally:
        render.environment = real_environment
    return contexts


def floor_environment() -> Any:
    """A bare ``jinja2.Environment`` with the options of ``markdown_environment`` (checked)."""
    from reporting_assets.execution_reports import render

    return bare_environment(
        "reporting_assets.execution_reports",
        {"thousands": render.thousands, "duration": render.duration},
        render.environment(),
    )


def lineage_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What A's lineage write stored, per table of ``FLOOR_LINEAGE_TABLES`` (setup, not timed).

    JSONB values come back as Python objects (psycopg decodes them), so the floor serializes
    them inside its timed COPY, as it does the report's JSON columns. Refuses to run when a
    table has a column the floor does not copy, or the other way round.
    """
    import psycopg

    rows: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(url) as conn:
        for table, (columns, key) in FLOOR_LINEAGE_TABLES.items():
            stored = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'reporting' AND table_name = %s ORDER BY ordinal_position",
                    (table,),
                )
            ]
            names = [c for c, _ in columns]
            if sorted(set(stored) - TIMESTAMP_COLUMNS) != sorted(names):
                raise RuntimeError(f"the floor's {table} columns {names} differ from the stored {stored}")
            rows[table] = conn.execute(
                f"SELECT {', '.join(names)} FROM reporting.{table} ORDER BY {', '.join(key)}"
            ).fetchall()
    return rows


def bench_floor(url: str, project_rows: list[Any], items: list[Any]) -> dict[str, Any]:
    """Floor: render the same contexts, COPY the report rows, COPY the lineage write's rows.

    Timed: ``template.render`` per context; COPY of every column a stored report fills into a
    plain table, with ``json.dumps`` of each summary, metrics and contract (the same values the
    project stores, read back from its rows); COPY of the runs, run partitions and figure rows
    the project's lineage write stored (every column but the created/updated times) into three
    more plain tables, with ``json.dumps`` of each figure value. Each COPY commits. No table has
    keys, indexes or constraints. Not timed: capturing the contexts, compiling the template,
    taking the other columns' values from the project's rows, reading the lineage rows back
    from A's tables.
    """
    import psycopg

    from reporting_assets.execution_reports.store import REPORT_COLUMNS

    names = tuple(c for c, _ in FLOOR_REPORT_COLUMNS)
    if names != REPORT_COLUMNS:
        raise RuntimeError(f"the floor's report columns {names} differ from the stored ones {REPORT_COLUMNS}")
    contexts = capture_contexts(items)
    template = floor_environment().get_template("execution_report.md.j2")  # compiled before timing
    markdown_at = REPORT_COLUMNS.index("markdown_content")
    hash_at = REPORT_COLUMNS.index("content_hash")
    before = [tuple(getattr(row, c) for c in REPORT_COLUMNS[:markdown_at]) for row in project_rows]
    after = [tuple(getattr(row, c) for c in REPORT_COLUMNS[hash_at:]) for row in project_rows]
    documents = [(row.summary_json, row.metrics_json, row.contract_json) for row in project_rows]
    lineage = lineage_rows(url)
    dumps = json.dumps

    seconds: dict[str, float] = {}
    with timed(seconds, "render"):
        markdown = [template.render(**context) for context in contexts]
    identical = sum(a == b.markdown_content for a, b in zip(markdown, project_rows, strict=True))

    with psycopg.connect(url) as conn:
        plain_table(conn, "floor_reports", FLOOR_REPORT_COLUMNS)
        for table, (columns, _) in FLOOR_LINEAGE_TABLES.items():
            plain_table(conn, f"floor_{table}", columns)
        with timed(seconds, "copy_reports"):
            copy_plain(
                conn,
                "floor_reports",
                FLOOR_REPORT_COLUMNS,
                (
                    (
                        *head,
                        md,
                        dumps(summary, ensure_ascii=False),
                        dumps(metrics, ensure_ascii=False),
                        dumps(contract, ensure_ascii=False),
                        *tail,
                    )
                    for head, md, (summary, metrics, contract), tail in zip(
                        before, markdown, documents, after, strict=True
                    )
                ),
            )
        with timed(seconds, "copy_lineage"):
            for table in ("workflow_executions", "workflow_execution_partitions"):
                copy_plain(conn, f"floor_{table}", FLOOR_LINEAGE_TABLES[table][0], lineage[table])
            copy_plain(
                conn,
                "floor_report_lineage",
                FLOOR_LINEAGE_TABLES["report_lineage"][0],
                (
                    (report, path, dumps(value, ensure_ascii=False), run_id, partition, event, external)
                    for report, path, value, run_id, partition, event, external in lineage["report_lineage"]
                ),
            )
        stored = {
            table: conn.execute(f"SELECT count(*) FROM public.{table}").fetchone()[0]  # type: ignore[index]
            for table in ("floor_reports", *(f"floor_{t}" for t in FLOOR_LINEAGE_TABLES))
        }
        checked = {"pipeline_execution_reports": ("floor_reports", FLOOR_REPORT_COLUMNS, REPORT_KEY)} | {
            table: (f"floor_{table}", columns, key) for table, (columns, key) in FLOOR_LINEAGE_TABLES.items()
        }
        same = {
            table: conn.execute(floor_same_rows_sql(floor, table, columns, key)).fetchone()[0]  # type: ignore[index]
            for table, (floor, columns, key) in checked.items()
        }
        same_rows = same.pop("pipeline_execution_reports")
    seconds["render_store"] = seconds["render"] + seconds["copy_reports"]
    seconds["combined"] = seconds["render_store"] + seconds["copy_lineage"]
    return {
        "seconds": seconds,
        "identical_markdown": identical,
        "identical_rows": same_rows,
        "identical_lineage_rows": same,
        "stored": stored,
        "leaves": len(lineage["report_lineage"]),
        "lineage_table_rows": {table: len(rows) for table, rows in lineage.items()},
    }


def reset_reporting_tables(url: str) -> None:
    """Empty what A wrote, so a repeat measures the same first write again (not timed)."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "TRUNCATE reporting.report_lineage, reporting.workflow_execution_partitions, "
            "reporting.workflow_executions, reporting.pipeline_execution_reports, reporting.customers "
            "RESTART IDENTITY CASCADE"
        )


def median_seconds(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per stage, the median over the repeats (a shared machine's bursts skew single runs)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def row_bytes(project_rows: list[Any]) -> dict[str, float]:
    n = max(len(project_rows), 1)
    md = sum(len(r.markdown_content.encode()) for r in project_rows)
    summary = sum(len(json.dumps(r.summary_json)) for r in project_rows)
    metrics = sum(len(json.dumps(r.metrics_json)) for r in project_rows)
    contract = sum(len(json.dumps(r.contract_json)) for r in project_rows)
    return {
        "markdown": md / n,
        "summary_json": summary / n,
        "metrics_json": metrics / n,
        "contract_json": contract / n,
    }


# --------------------------------------------------------------------------------------------
# C. Range runs on a PostgreSQL-backed Dagster instance
# --------------------------------------------------------------------------------------------


def noop_definitions() -> Any:
    import dagster as dg

    from reporting_assets.partitions import customer_day_partitions

    @dg.asset(
        name="bench_noop",
        partitions_def=customer_day_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        output_required=False,
    )
    def bench_noop(context) -> Iterator[Any]:  # Dagster reads the hints
        for key in context.partition_keys:
            yield dg.AssetMaterialization(asset_key=context.asset_key, partition=key)

    job = dg.define_asset_job(
        "bench_noop_range", selection=[bench_noop], partitions_def=customer_day_partitions
    )
    return dg.Definitions(assets=[bench_noop], jobs=[job])


def bench_dagster(server_url: str, customers_n: int, days: list[dt.date], tmp: Path) -> dict[str, Any]:

    from reporting_assets.customers import add_customer
    from reporting_assets.db.connection import connect
    from reporting_assets.db.urls import with_database
    from reporting_assets.definitions import loaded_definitions

    defs = loaded_definitions()
    from reporting_assets.batched_runs import QUIET_LOGGERS, range_tags
    from reporting_assets.demo import DEMO_CUSTOMERS
    from reporting_assets.sources.pipelines import PIPELINES

    url = with_database(server_url, REPORTING_DB_C)
    names = [*DEMO_CUSTOMERS, *(f"CUSTOMER {i:03d}" for i in range(3, customers_n))][:customers_n]
    result: dict[str, Any] = {"customers": names, "days": len(days), "per_customer": []}
    with throwaway_instance(tmp) as instance:
        with connect(url, doing="registering customers") as conn:
            for name in names:
                add_customer(conn, instance, name)

        sources = defs.resolve_job_def("sample_pipelines")
        total = len(names) * len(days)
        progress(f"      materializing sources: {total} runs ({len(names)} customers x {len(days)} days)")
        started = time.perf_counter()
        failed = 0
        for index, (ci, day) in enumerate(((c, d) for c in range(len(names)) for d in days), 1):
            ops = {
                p: {"config": {"external_execution_id": f"kestra_exec_{day:%Y%m%d}_{index * 10 + i:06d}"}}
                for i, p in enumerate(PIPELINES)
            }
            outcome = sources.execute_in_process(
                instance=instance,
                partition_key=f"{names[ci]}|{day.isoformat()}",
                run_config={**QUIET_LOGGERS, "ops": ops},
                raise_on_error=False,
            )
            failed += not outcome.success
            if index % 15 == 0 or index == total:
                elapsed = time.perf_counter() - started
                progress(
                    f"      [{index:>3}/{total}] source runs, {elapsed:.1f}s ({elapsed / index:.2f} s/run)"
                )
        result["source_runs"] = {"runs": total, "failed": failed, "seconds": time.perf_counter() - started}

        reports_job = defs.resolve_job_def("render_reports")
        noop_job = noop_definitions().resolve_job_def("bench_noop_range")
        first_key = f"{names[0]}|{days[0].isoformat()}"
        noop_job.execute_in_process(  # warm-up: first run of a new job pays one-off costs
            instance=instance,
            run_config=QUIET_LOGGERS,
            tags=range_tags(first_key, first_key),
        )
        progress("      timing one batched range run per customer: render_reports, then the no-op")
        for name in names:
            start_key, end_key = f"{name}|{days[0].isoformat()}", f"{name}|{days[-1].isoformat()}"
            tags = range_tags(start_key, end_key)
            entry: dict[str, Any] = {"customer": name, "partitions": len(days)}
            for label, job in (("render", reports_job), ("noop", noop_job)):
                t0 = time.perf_counter()
                outcome = job.execute_in_process(
                    instance=instance, run_config=QUIET_LOGGERS, tags=tags, raise_on_error=False
                )
                wall = time.perf_counter() - t0
                if not outcome.success:
                    raise RuntimeError(f"{job.name} failed for {name}; run {outcome.run_id}")
                entry[label] = {"seconds": wall, "step_seconds": step_seconds(instance, outcome.run_id)}
            with connect(url, doing="counting reports") as conn:
                entry["reports"] = conn.execute(
                    "SELECT count(*) AS n FROM reporting.pipeline_execution_reports WHERE customer_key = %s "
                    "AND execution_date BETWEEN %s AND %s",
                    (name, days[0], days[-1]),
                ).fetchone()["n"]  # type: ignore[index]
            progress(
                f"      {name:<16} render {entry['render']['seconds']:.2f}s "
                f"(step {entry['render']['step_seconds']:.2f}s, {entry['reports']} reports)   "
                f"no-op {entry['noop']['seconds']:.2f}s (step {entry['noop']['step_seconds']:.2f}s)"
            )
            result["per_customer"].append(entry)
    per = result["per_customer"]
    partitions = sum(e["partitions"] for e in per)
    reports = sum(e["reports"] for e in per)
    for label in ("render", "noop"):
        secs = sum(e[label]["seconds"] for e in per)
        step = sum(e[label]["step_seconds"] for e in per)
        result[label] = {
            "seconds": secs,
            "step_seconds": step,
            "seconds_per_partition": secs / partitions,
            "partitions_per_second": rate(partitions, secs),
        }
    result["render"]["reports_per_second"] = rate(reports, result["render"]["seconds"])
    result["partitions"] = partitions
    result["reports"] = reports
    result["ratio_render_over_noop"] = result["render"]["seconds"] / result["noop"]["seconds"]
    return result


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def summarize(
    args: argparse.Namespace,
    meta: dict[str, Any],
    a: dict[str, Any],
    b: dict[str, Any],
    c: dict[str, Any] | None,
) -> dict[str, Any]:
    n = len(a["rows"])
    st = a["stages"]
    project_total = st["prepare"] + st["render_store"] + st["lineage"]
    render_store = st["prepare"] + st["render_store"]
    fl = b["seconds"]
    out: dict[str, Any] = {
        "config": {
            "reports": n,
            "customers": meta["customers"],
            "days": args.days,
            "repeats": args.repeat,
            "pipelines": PIPELINE_COUNT,
            "partitions": a["partitions"],
            "cpus": os.cpu_count(),
            "render_workers": a["workers"],
            "python": sys.version.split()[0],
            "postgres": meta["postgres"],
            "contract_generation_seconds": meta["generation_seconds"],
        },
        "project": {
            "stage_seconds": {k: st[k] for k in STAGES},
            "total_seconds": project_total,
            "reports_per_second": rate(n, project_total),
            "render_store_seconds": render_store,
            "render_store_reports_per_second": rate(n, render_store),
            "problems": a["problems"],
            "table_counts": a["table_counts"],
            "bytes_per_row": row_bytes(a["rows"]),
        },
        "floor": {
            "render_seconds": fl["render"],
            "copy_reports_seconds": fl["copy_reports"],
            "copy_lineage_seconds": fl["copy_lineage"],
            "render_store_seconds": fl["render_store"],
            "combined_seconds": fl["combined"],
            "render_reports_per_second": rate(n, fl["render"]),
            "copy_reports_per_second": rate(n, fl["copy_reports"]),
            "copy_lineage_rows_per_second": rate(b["leaves"], fl["copy_lineage"]),
            "combined_reports_per_second": rate(n, fl["combined"]),
            "lineage_rows": b["leaves"],
            "lineage_rows_per_report": b["leaves"] / n if n else 0.0,
            "identical_markdown": b["identical_markdown"],
            "identical_rows": b["identical_rows"],
            "identical_lineage_rows": b["identical_lineage_rows"],
            "lineage_table_rows": b["lineage_table_rows"],
            "stored": b["stored"],
        },
        "ratios": {
            "project_over_floor": project_total / fl["combined"],
            "project_over_floor_without_lineage": render_store / fl["render_store"],
            "project_lineage_over_floor_lineage": st["lineage"] / fl["copy_lineage"],
            "target": TARGET_RATIO,
            "within_target": project_total / fl["combined"] <= TARGET_RATIO,
        },
        "dagster": c,
    }
    return out


def table(r: dict[str, Any]) -> str:
    cfg, p, f, ra, c = r["config"], r["project"], r["floor"], r["ratios"], r["dagster"]
    n = cfg["reports"]
    lt, same = f["lineage_table_rows"], f["identical_lineage_rows"]
    st = p["stage_seconds"]
    lines = [
        f"render_store benchmark: {n:,} reports = {cfg['customers']} customers x {cfg['days']} days x "
        f"{cfg['pipelines']} pipelines ({cfg['partitions']:,} partitions), {cfg['cpus']} CPUs, "
        f"PostgreSQL {cfg['postgres']} (embedded), Python {cfg['python']}; A and B: median of "
        f"{cfg['repeats']} interleaved repeat(s)",
        "",
        f"{'':<66}{'seconds':>9}{'reports/s':>12}",
        f"A. Project path (render_partitions + lineage; rendering on {cfg['render_workers']} "
        f"process{'es' if cfg['render_workers'] > 1 else ''})",
    ]

    def row(label: str, secs: float, count: int | None = n) -> str:
        rps = f"{rate(count, secs):>12,.0f}" if count else ""
        return f"   {label:<63}{secs:>9.3f}{rps}"

    lines += [
        row("plan_reports (events, names, run times)", st["prepare"]),
        row("render_and_store (validate, render, COPY as rendered)", st["render_store"]),
        row("lineage (runs_for_partitions + store_lineage)", st["lineage"]),
        row("total", p["total_seconds"]),
        row("  render + store only (total minus lineage)", p["render_store_seconds"]),
        "B. Floor (same template + context, 1 process; COPY into plain tables, no keys)",
        row("jinja2 render only", f["render_seconds"]),
        row("COPY reports (every stored column, 3 JSONB)", f["copy_reports_seconds"]),
        row(
            f"COPY lineage ({lt['workflow_executions']:,} runs, {lt['workflow_execution_partitions']:,} "
            f"run partitions, {f['lineage_rows']:,} figures)",
            f["copy_lineage_seconds"],
        ),
        row("combined", f["combined_seconds"]),
        row("  render + COPY reports (combined minus lineage)", f["render_store_seconds"]),
        f"   identical to the project's: markdown {f['identical_markdown']:,}/{n:,}, whole rows: reports "
        f"{f['identical_rows']:,}/{n:,}, "
        + ", ".join(f"{label} {same[t]:,}/{lt[t]:,}" for t, label in LINEAGE_TABLE_LABELS.items()),
        f"   stored {f['stored']['floor_reports']:,} report rows, {f['stored']['floor_report_lineage']:,} "
        f"figure rows (project: {p['table_counts']['pipeline_execution_reports']:,}, "
        f"{p['table_counts']['report_lineage']:,})",
        f"   project / floor: {ra['project_over_floor']:.2f}x overall, "
        f"{ra['project_over_floor_without_lineage']:.2f}x without lineage on both sides, "
        f"lineage alone {ra['project_lineage_over_floor_lineage']:.2f}x "
        f"(target <= {ra['target']:.0f}x overall: {'met' if ra['within_target'] else 'NOT met'})",
    ]
    if c:
        lines += [
            f"C. Dagster range runs: {len(c['customers'])} customers x {c['days']} days = {c['partitions']} "
            f"partitions, {c['reports']} reports (one batched run per customer)",
            f"   {'':<38}{'wall s':>8}{'step s':>8}{'s/partition':>13}{'reports/s':>11}",
        ]
        for label, key in (("render_reports job", "render"), ("no-op asset, same partitions def", "noop")):
            x = c[key]
            rps = f"{x['reports_per_second']:>11,.1f}" if "reports_per_second" in x else f"{'-':>11}"
            lines.append(
                f"   {label:<38}{x['seconds']:>8.2f}{x['step_seconds']:>8.2f}"
                f"{x['seconds_per_partition']:>13.4f}{rps}"
            )
        lines.append(
            f"   render_reports / no-op: {c['ratio_render_over_noop']:.2f}x  "
            f"(setup, not timed: {c['source_runs']['runs']} source runs in "
            f"{c['source_runs']['seconds']:.1f}s)"
        )
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    cfg, p, f, ra, c = (
        result["config"],
        result["project"],
        result["floor"],
        result["ratios"],
        result["dagster"],
    )
    rows = [
        {
            "benchmark": f"render_store: {cfg['reports']:,} reports rendered + stored + lineage",
            "project": p["total_seconds"],
            "floor": f["combined_seconds"],
            "unit": "s",
            "ratio": ra["project_over_floor"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": ra["within_target"],
        }
    ]
    if c:
        rows.append(
            {
                "benchmark": f"render_store C: range runs of {c['partitions']} partitions vs no-op asset",
                "project": c["render"]["seconds"],
                "floor": c["noop"]["seconds"],
                "unit": "s",
                "ratio": c["ratio_render_over_noop"],
                "target": None,
                "met": None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=5_000, help="reports for A and B (default 5000)")
    parser.add_argument("--days", type=int, default=30, help="days per customer, A and C (default 30)")
    parser.add_argument("--customers", type=int, default=3, help="customers for C (default 3)")
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="render processes for A, as ReportSettingsResource.render_processes (default 0: one per core)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="A and B pairs, interleaved; stages are the median of the repeats (default 3)",
    )
    parser.add_argument("--skip-dagster", action="store_true", help="skip C (Dagster range runs)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if min(args.reports, args.days, args.customers, args.repeat) < 1:
        parser.error("--reports, --days, --customers and --repeat must be positive")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")  # Dagster beta/preview notes, platformdirs' runtime-dir fallback

    from reporting_assets.db.urls import DAGSTER_DATABASE_URL_ENV, DATABASE_URL_ENV, with_database

    days = days_ending(END_DATE, args.days)
    with throwaway_server("render_store_bench_") as (root, server_url):
        url_ab = migrated_database(server_url, REPORTING_DB_AB)
        os.environ[DATABASE_URL_ENV] = migrated_database(server_url, REPORTING_DB_C, DAGSTER_DB_C)
        os.environ[DAGSTER_DATABASE_URL_ENV] = with_database(server_url, DAGSTER_DB_C)
        import psycopg

        with psycopg.connect(url_ab) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]

        progress(f"[setup] building {args.reports:,} contracts: PipelineReporter + run_pipeline (not timed)")
        t0 = time.perf_counter()
        events, infos, customers = make_source_events(args.reports, days)
        generation = time.perf_counter() - t0

        a_runs: list[dict[str, Any]] = []
        b_runs: list[dict[str, Any]] = []
        for repeat in range(args.repeat):
            if repeat:
                reset_reporting_tables(url_ab)
            label = f" (repeat {repeat + 1}/{args.repeat})" if args.repeat > 1 else ""
            progress(f"[A] project path: render_partitions + lineage over {len(events):,} reports{label}")
            a = bench_project(url_ab, events, infos, customers, args.processes)
            st = a["stages"]
            progress("      " + ", ".join(f"{k} {st[k]:.2f}s" for k in STAGES))
            progress(f"[B] floor: bare Jinja2 render + COPY of the same report and lineage rows{label}")
            b = bench_floor(url_ab, a["rows"], a["items"])
            fs = b["seconds"]
            progress(
                f"      render {fs['render']:.2f}s, copy reports {fs['copy_reports']:.2f}s, "
                f"copy lineage {fs['copy_lineage']:.2f}s ({b['leaves']:,} figure rows)"
            )
            a_runs.append(a)
            b_runs.append(b)
        a = {**a_runs[-1], "stages": median_seconds([x["stages"] for x in a_runs])}
        b = {**b_runs[-1], "seconds": median_seconds([x["seconds"] for x in b_runs])}

        c = None
        if not args.skip_dagster:
            progress(f"[C] Dagster range runs: {args.customers} customers x {args.days} days")
            c = bench_dagster(server_url, args.customers, days, root)

        meta = {"customers": len(customers), "postgres": pg_version, "generation_seconds": generation}
        result = summarize(args, meta, a, b, c)
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
