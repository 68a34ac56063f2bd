"""Ingest benchmark: external run reports through ``PipelineReporter.save()`` and through
``POST /api/pipeline-runs``, against Dagster's own floor.

One run measures, on a throw-away embedded PostgreSQL and a PostgreSQL-backed Dagster instance
(the project's ``ReportingPostgresStorage``), ``--reports`` reports (default 10,000) of one
registered pipeline over ``--customers`` customers and their days, each phase with its own
external execution ids:

1. *floor*: the same runless materializations written straight to the instance
   (``instance.report_runless_asset_event`` with the metadata ``save()`` writes; contracts built
   beforehand, nothing validated or looked up);
2. *save()*: ``PipelineReporter.save()`` per report, as a script calls it (the contract validated,
   the pipeline and customer checked in the registry, the event written);
3. *HTTP*: ``POST /api/pipeline-runs`` per report from one keep-alive client to the API on a
   real uvicorn (127.0.0.1), with a ``pipeline`` token.

Reports/s of each and the ratios to the floor (targets: save() within 1.5x, HTTP within 3x);
then one ``source_runs_sensor`` tick over the whole backlog (its run requests) and the render of
the touched partitions (execution reports, lineage, summaries, as the report step does).

Usage (from the repo root)::

    .venv/bin/python benchmarks/ingest.py                    # 10,000 reports per path
    .venv/bin/python benchmarks/ingest.py --reports 200      # quick check

Project and Dagster modules are imported inside functions, after ``main`` has silenced warnings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import threading
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
    rate,
    source_state,
    throwaway_instance,
    throwaway_server,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "ingest.json"
REPORTING_DB = "bench_ingest_reporting"
DAGSTER_DB = "bench_ingest_dagster"
PIPELINE = "crm_sync"
FIRST_DAY = dt.date(2025, 3, 1)
TARGETS = {"save": 1.5, "http": 3.0}
SECRET = "benchmark-secret-" + "k" * 40


def reporter(index: int, phase: str, customers: list[str]) -> Any:
    """The ``index``-th report of a phase: its own external id, a customer and day, real figures."""
    from reporting_assets.reporter import PipelineReporter

    customer = customers[index % len(customers)]
    day = FIRST_DAY + dt.timedelta(days=index // len(customers))
    made = PipelineReporter(customer, PIPELINE, execution_date=day, external_execution_id=f"{phase}-{index}")
    made.log_change("new_order", f"Order {index} (Qty: {index % 500 + 1})", key=f"ORD-{index}")
    made.log_metric("records_processed", 100 + index % 900)
    made.log_metric("new", 1)
    made.count_api_calls("hubspot", 1 + index % 7)
    return made


def floor(instance: Any, reports: int, customers: list[str]) -> float:
    import dagster as dg

    from reporting_assets.pipelines.ingest import external_metadata

    events = [
        dg.AssetMaterialization(
            asset_key=PIPELINE,
            partition=f"{r.customer_key}|{r.execution_date}",
            metadata=external_metadata(r.build()),
        )
        for r in (reporter(i, "floor", customers) for i in range(reports))
    ]
    started = time.perf_counter()
    for event in events:
        instance.report_runless_asset_event(event)
    return time.perf_counter() - started


def through_save(instance: Any, reports: int, customers: list[str]) -> float:
    made = [reporter(i, "save", customers) for i in range(reports)]
    started = time.perf_counter()
    for item in made:
        item.save(instance=instance)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def through_http(instance: Any, url: str, reports: int, customers: list[str], root: Path) -> float:
    import httpx
    import jwt
    import uvicorn

    from reporting_assets.api.app import create_app
    from reporting_assets.api.settings import ApiSettings
    from reporting_assets.exports.settings import ExportSettings

    settings = ApiSettings(
        algorithm="HS256", key=SECRET, rate_limit_per_minute=10_000_000, operations_tenant="ops"
    )
    app = create_app(
        settings=settings,
        database_url=url,
        exports=ExportSettings(storage_dir=root / "exports"),
        s3=None,
        instance=instance,
    )
    now = int(time.time())
    token = jwt.encode(
        {"sub": "bench", "tenant": "ops", "role": "pipeline", "iat": now, "exp": now + 86_400}, SECRET
    )
    bodies = [reporter(i, "http", customers).build().model_dump(mode="json") for i in range(reports)]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, name="ingest-api", daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.config.port}"
    app.state.context.runs.load()  # the API's code server (for export runs) is up before timing
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            started = time.perf_counter()
            for body in bodies:
                answer = client.post("/api/pipeline-runs", json=body)
                assert answer.status_code == 202, answer.text
            return time.perf_counter() - started
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def written_partitions(reports: int, customers: list[str]) -> list[str]:
    """The partitions the reports of every phase went to (the same for each phase)."""
    return sorted(
        {
            f"{customers[i % len(customers)]}|{FIRST_DAY + dt.timedelta(days=i // len(customers))}"
            for i in range(reports)
        }
    )


def tick_and_render(
    instance: Any, url: str, cursor: int, reports: int, customers: list[str]
) -> dict[str, Any]:
    import dagster as dg

    from reporting_assets.db.connection import connect
    from reporting_assets.definitions import loaded_definitions
    from reporting_assets.execution_reports.events import run_infos
    from reporting_assets.execution_reports.sensors import source_runs_sensor
    from reporting_assets.execution_reports.service import render_partitions
    from reporting_assets.lineage.store import runs_for_partitions, store_lineage
    from reporting_assets.pipelines.registry import load_registry
    from reporting_assets.resources import PostgresResource, ReportSettingsResource
    from reporting_assets.summaries.service import summarize_partitions

    context = dg.build_sensor_context(
        instance=instance,
        cursor=str(cursor),
        definitions=loaded_definitions(),
        resources={"postgres": PostgresResource()},
    )
    started = time.perf_counter()
    result = source_runs_sensor(context)
    tick = time.perf_counter() - started
    requests = list(result.run_requests or [])  # runs, or one backfill for past days
    partitions = written_partitions(reports, customers)
    settings = ReportSettingsResource(render_processes=0)
    started = time.perf_counter()
    with connect(url, doing="benchmark: rendering") as conn:
        outcome = render_partitions(
            instance,
            conn,
            partitions,
            load_registry(conn),
            settings.run_url,
            settings.list_length,
            0,
            settings.event_url,
        )
        conn.commit()
        runs = runs_for_partitions(conn, partitions)
        store_lineage(conn, partitions, runs, run_infos(instance, [r["run_id"] for r in runs]))
        conn.commit()
        summarize_partitions(conn, partitions, settings.run_url, (), settings.asset_url)
        conn.commit()
    render = time.perf_counter() - started
    return {
        "tick_seconds": tick,
        "run_requests": len(requests),
        "partitions": len(partitions),
        "reports_rendered": len(outcome.rows),
        "render_seconds": render,
    }


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    x = result["results"]
    return [
        {
            "benchmark": f"ingest: {label}, reports/s vs runless events written straight",
            "project": x[name]["per_second"],
            "floor": x["floor"]["per_second"],
            "unit": "reports/s",
            "ratio": x[name]["ratio"],
            "target": f"<= {TARGETS[name]:g}x",
            "met": x[name]["within_target"],
        }
        for name, label in (("save", "PipelineReporter.save()"), ("http", "POST /api/pipeline-runs"))
    ]


def table(r: dict[str, Any]) -> str:
    cfg, x = r["config"], r["results"]
    lines = [
        f"ingest benchmark: {cfg['reports']:,} external reports per path over {cfg['customers']} customers, "
        f"{cfg['cpus']} CPUs, load {cfg['load_before']} -> {cfg['load_after']}",
        "",
        f"   {'path':<44}{'seconds':>10}{'reports/s':>12}{'x floor':>10}{'target':>9}",
    ]
    for name, label in (
        ("floor", "floor: report_runless_asset_event"),
        ("save", "PipelineReporter.save()"),
        ("http", "POST /api/pipeline-runs"),
    ):
        row = x[name]
        target = f"{TARGETS[name]}x" if name in TARGETS else ""
        ratio = f"{row['ratio']:.2f}x" if name != "floor" else ""
        lines.append(
            f"   {label:<44}{row['seconds']:>10.2f}{row['per_second']:>12,.0f}{ratio:>10}{target:>9}"
        )
    b = x["backlog"]
    lines += [
        "",
        f"   backlog of {3 * cfg['reports']:,} events: sensor tick {b['tick_seconds']:.3f}s "
        f"({b['run_requests']} run requests), render of {b['partitions']:,} partitions "
        f"({b['reports_rendered']:,} reports, lineage, summaries) {b['render_seconds']:.1f}s",
    ]
    src = cfg["source"]
    lines.append(f"   code: commit {src['commit']}" + (" + uncommitted changes" if src["dirty"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=10_000, help="reports per path (default 10000)")
    parser.add_argument(
        "--customers", type=int, default=20, help="customers the reports spread over (default 20)"
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if args.reports < 1 or args.customers < 1:
        parser.error("need --reports >= 1 and --customers >= 1")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    from reporting_assets.db.urls import DAGSTER_DATABASE_URL_ENV, DATABASE_URL_ENV, with_database

    load_before = load()
    with throwaway_server("ingest_bench_") as (root, server_url):
        url = migrated_database(server_url, REPORTING_DB, DAGSTER_DB)
        os.environ[DATABASE_URL_ENV] = url
        os.environ[DAGSTER_DATABASE_URL_ENV] = with_database(server_url, DAGSTER_DB)

        from reporting_assets.customers import add_customer
        from reporting_assets.db.connection import connect
        from reporting_assets.pipelines.registry import Pipeline, add_pipeline

        customers = [f"CUSTOMER {i:03d}" for i in range(args.customers)]
        results: dict[str, Any] = {}
        with throwaway_instance(root) as instance:
            with connect(url, doing="registering customers and the pipeline") as conn:
                for name in customers:
                    add_customer(conn, instance, name)
                add_pipeline(
                    conn,
                    Pipeline(PIPELINE, "CRM Sync", PIPELINE, "hubspot", "https://kestra.example.com/e/{id}"),
                )
            cursor = instance.event_log_storage.get_maximum_record_id() or 0
            for name, run in (
                ("floor", lambda: floor(instance, args.reports, customers)),
                ("save", lambda: through_save(instance, args.reports, customers)),
                ("http", lambda: through_http(instance, url, args.reports, customers, root)),
            ):
                progress(f"[{name}] {args.reports:,} reports")
                seconds = run()
                results[name] = {"seconds": seconds, "per_second": rate(args.reports, seconds)}
                progress(f"      {seconds:.2f}s, {results[name]['per_second']:,.0f} reports/s")
            for name in ("save", "http"):
                results[name]["ratio"] = results[name]["seconds"] / results["floor"]["seconds"]
                results[name]["within_target"] = results[name]["ratio"] <= TARGETS[name]
            progress("[backlog] one sensor tick over every event, then the render of the touched partitions")
            results["backlog"] = tick_and_render(instance, url, cursor, args.reports, customers)
        meta = {
            "reports": args.reports,
            "customers": args.customers,
            "targets": TARGETS,
            "source": source_state(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_before": load_before,
            "load_after": load(),
        }
        result = {"config": meta, "results": results}
        publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
