"""Web pages benchmark: time to the first byte of the dashboard and the report builder's pages,
server-side, next to the API calls a client would make for the same content.

On a throw-away embedded PostgreSQL, for each dataset (``demo``: 3 customers x 7 days; ``large``:
500 customers x 30 days; 3 pipelines per customer and day, one report each, every 13th failed),
with the app on a real uvicorn on 127.0.0.1 and one signed-in httpx client:

* dashboard: ``GET /`` (page 1, 25 customers, 30-day trends) vs the API behind it, ``GET
  /api/customers`` plus ``GET /api/customers/{key}/status`` for the same 25 customers;
* report page: ``GET /reports/{id}`` (details, preview page, chart, schedules, latest exports)
  vs the same reads done by hand in this process: the core functions called directly on one open
  connection (the report, one page of rows with the chart's points, its schedules, its last 10
  exports), with no HTTP, sign-in or HTML;
* builder preview: ``POST /reports/preview`` (form in, HTML fragment out) vs ``POST
  /api/reports/validate-query`` + ``GET /api/reports/{id}/preview``.

Each pair is timed side by side after one warm-up: ``--repeat`` rounds, each calling the page
then its floor, so both see the same load; p50 and p95 in ms, the ratio page/floor of the p50s
(target: at most 1.5) and the dashboard's HTML size (target: under one page, i.e. it is
paginated). Results: a table and JSON (also ``benchmarks/results/web.json``).

Usage (from the repo root)::

    .venv/bin/python benchmarks/web.py                      # both datasets, ~2 min on 2 cores
    .venv/bin/python benchmarks/web.py --customers 20 --days 3 --repeat 5   # smoke check
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

from _common import progress, progress_to_stderr, publish, throwaway_server

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "web.json"
DATABASE = "bench_web"
TENANT = "bench"
END = dt.date(2025, 6, 17)
TARGET_RATIO = 1.5
SECRET = "bench-secret-" + "k" * 40
FLOORS = {
    "dashboard": "its API calls",
    "report page": "the same reads by direct calls",
    "builder preview": "its API calls",
}
"""What each page is measured against."""

_REPORTS_SQL = """
INSERT INTO reporting.pipeline_execution_reports
    (customer_name, customer_key, execution_date, pipeline_type, execution_id, external_execution_id,
     partition_key, status, source_event, event_storage_id, run_started_at, markdown_content,
     summary_json, metrics_json, contract_json, content_hash, generated_at)
SELECT c.display_name, c.partition_key, d::date, p, md5(c.partition_key || d::text), 'ext_' || n,
       c.partition_key || '|' || d::date, CASE WHEN n %% 13 = 0 THEN 'failed' ELSE 'success' END,
       'materialization', n, d + interval '9 hours', '# Report', jsonb_build_object('counts',
       jsonb_build_object('new', n %% 50, 'updated', n %% 7, 'records_processed', n %% 500)),
       jsonb_build_object('execution_time_seconds', 60 + n %% 120), '{}'::jsonb, repeat('0', 64), now()
FROM reporting.customers c
CROSS JOIN generate_series(%(first)s::date, %(end)s::date, interval '1 day') AS d
CROSS JOIN unnest(ARRAY['order_sync', 'manufacturing_sync', 'shipping_sync']) AS p
CROSS JOIN LATERAL (SELECT abs(hashtext(c.partition_key || d::text || p)) AS n) h
"""


def _elapsed_ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _side_by_side(
    page: Callable[[], Any], floor: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float]]:
    """``repeat`` rounds of the page then its floor (after one warm-up of each)."""
    page(), floor()
    rounds = [(_elapsed_ms(page), _elapsed_ms(floor)) for _ in range(repeat)]
    return [p for p, _ in rounds], [f for _, f in rounds]


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
    }


def measure(url: str, folder: Path, customers: int, days: int, repeat: int) -> dict[str, Any]:
    import httpx

    from reporting_assets.api.app import create_app
    from reporting_assets.api.auth import issue_token
    from reporting_assets.api.server import serve_in_thread
    from reporting_assets.api.settings import ApiSettings
    from reporting_assets.db.connection import connect
    from reporting_assets.exports import engine
    from reporting_assets.exports.analytics import analytics_source
    from reporting_assets.exports.defaults import USAGE_SUMMARY
    from reporting_assets.exports.models import Actor
    from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
    from reporting_assets.exports.settings import ExportSettings
    from reporting_assets.exports.source import ChartAxes
    from reporting_assets.exports.visualization import VisualizationConfig

    with connect(url) as conn:
        conn.execute("TRUNCATE reporting.pipeline_execution_reports, reporting.customers CASCADE")
        conn.execute(
            "INSERT INTO reporting.customers (partition_key, display_name, tenant_id) "
            "SELECT 'CUST ' || lpad(i::text, 4, '0'), 'Customer ' || i, %s FROM generate_series(1, %s) i",
            (TENANT, customers),
        )
        conn.execute(_REPORTS_SQL, {"first": END - dt.timedelta(days=days - 1), "end": END})
        generate_sample_data(conn, SampleSpec(end=END, tenants=(TENANT,), days=30))
        conn.commit()
    settings = ApiSettings(algorithm="HS256", key=SECRET, rate_limit_per_minute=10**9)
    token = issue_token(
        settings, tenant=TENANT, user="bench@bench.example", role="admin", ttl=dt.timedelta(hours=1)
    )
    exports = ExportSettings(storage_dir=folder / "exports")
    app = create_app(settings=settings, database_url=url, exports=exports, s3=None, instance=None)
    api = {"Authorization": f"Bearer {token}"}
    query = {**USAGE_SUMMARY["query_config"], "filters": []}
    result: dict[str, Any] = {"customers": customers, "days": days, "reports": customers * days * 3}
    actor = Actor(tenant_id=TENANT, user_id="bench@bench.example", role="admin")
    source = analytics_source(exports, url)
    with (
        serve_in_thread(app) as base,
        connect(url) as conn,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        report = client.post(
            "/api/reports", json={**USAGE_SUMMARY, "query_config": query}, headers=api
        ).json()
        client.get("/sign-in")
        csrf = client.cookies["ra_csrf"]
        client.post("/sign-in", data={"csrf": csrf, "token": token, "next": "/"})
        page_url = f"/?date={END}"
        html = client.get(page_url).text
        keys = [c["key"] for c in client.get("/api/customers", headers=api).json()][:25]

        def dashboard_api() -> None:
            client.get("/api/customers", headers=api)
            for key in keys:
                client.get(f"/api/customers/{key}/status", headers=api)

        def report_by_hand() -> None:
            saved = engine.get_report(conn, actor, report["id"])
            viz = VisualizationConfig.model_validate(saved.visualization_config)
            engine.preview_compiled(
                source,
                engine.compile_report(saved, exports),
                exports,
                page=1,
                page_size=20,
                chart=ChartAxes(str(viz.x), str(viz.y), viz.max_points),
            )
            engine.list_schedules(conn, actor, report_id=saved.id)
            engine.list_exports(conn, actor, report_id=saved.id, limit=10)
            conn.rollback()

        form = {
            "csrf": csrf,
            "table": "usage_events",
            "col": "usage_events.event_type",
            "agg.0.fn": "count",
            "agg.0.as": "total_events",
            "viz.type": "bar",
            "viz.x": "event_type",
            "viz.y": "total_events",
        }

        def builder_api() -> None:
            client.post("/api/reports/validate-query", json={"query_config": query}, headers=api)
            client.get(f"/api/reports/{report['id']}/preview?page_size=20", headers=api)

        pairs = {
            "dashboard": (lambda: client.get(page_url), dashboard_api),
            "report page": (lambda: client.get(f"/reports/{report['id']}"), report_by_hand),
            "builder preview": (lambda: client.post("/reports/preview", data=form), builder_api),
        }
        for name, (page, floor) in pairs.items():
            page_ms, floor_ms = _side_by_side(page, floor, repeat)
            page_stats, floor_stats = _stats(page_ms), _stats(floor_ms)
            result[name] = {
                "page": page_stats,
                "floor": floor_stats,
                "floor_is": FLOORS[name],
                "ratio": round(page_stats["p50_ms"] / floor_stats["p50_ms"], 2),
            }
        result["dashboard_html_kb"] = round(len(html.encode()) / 1024, 1)
        result["dashboard_customers_shown"] = html.count('class="card customer')
    return result


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table: each page against its floor."""
    rows = []
    for r in result["results"]:
        for name in ("dashboard", "report page", "builder preview"):
            m = r[name]
            rows.append(
                {
                    "benchmark": f"web: {name} p50, page vs {FLOORS[name]} ({r['dataset']} data)",
                    "project": m["page"]["p50_ms"],
                    "floor": m["floor"]["p50_ms"],
                    "unit": "ms",
                    "ratio": m["ratio"],
                    "target": f"<= {TARGET_RATIO:g}x",
                    "met": m["ratio"] <= TARGET_RATIO,
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=500, help="customers of the large dataset")
    parser.add_argument("--days", type=int, default=30, help="days of the large dataset")
    parser.add_argument("--repeat", type=int, default=30, help="requests per measurement")
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args()
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import ensure_databases, with_database

    results = []
    with throwaway_server("bench-web-") as (folder, server_url):
        url = with_database(server_url, DATABASE)
        ensure_databases(server_url, [DATABASE])
        migrate(url)
        for label, customers, days in (("demo", 3, 7), ("large", args.customers, args.days)):
            progress(f"[{label}] {customers} customers x {days} days")
            results.append({"dataset": label, **measure(url, folder, customers, days, args.repeat)})
    lines = [
        f"{'dataset':<8} {'what':<16} {'page p50':>9} {'floor p50':>9} {'ratio':>6}  "
        f"(target <= {TARGET_RATIO})"
    ]
    for r in results:
        for name in ("dashboard", "report page", "builder preview"):
            m = r[name]
            lines.append(
                f"{r['dataset']:<8} {name:<16} {m['page']['p50_ms']:>7.1f}ms {m['floor']['p50_ms']:>7.1f}ms "
                f"{m['ratio']:>6.2f}  vs {FLOORS[name]}"
            )
        lines.append(
            f"{r['dataset']:<8} dashboard HTML: {r['dashboard_html_kb']} KB, "
            f"{r['dashboard_customers_shown']} of {r['customers']} customers on page 1"
        )
    publish({"results": results}, "\n".join(lines), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
