"""API benchmark: a report preview over HTTP next to the same engine call in-process.

On a throw-away embedded PostgreSQL with sample analytics of one tenant (default 30 days of
2,000 events a day, ending today so the Usage Summary's "last 7 days" has rows):

* **HTTP**: ``GET /api/reports/{id}/preview?page=1&page_size=100`` of the default Usage Summary
  report against ``reporting-assets api`` started as a real server (uvicorn, one process, the
  project's connection pool), each client thread with its own keep-alive connection and a JWT;
* **in-process** (the floor): ``engine.preview_report`` with the same report, page and page size
  on connections from the same kind of pool the API uses, one thread per client.

Each round runs every concurrency level (1, 10, 50 clients by default), in-process then HTTP,
and the rounds are repeated (default 3): the table gives the median over rounds of each
measurement's p50 and p99 latency and requests/s, and the ratio HTTP/in-process of p50. The
server's RSS is read after each HTTP measurement, so growth over the rounds shows. Load average
is printed at start and end: quote only figures from a quiet machine.

Usage (from the repo root)::

    .venv/bin/python benchmarks/api.py                     # ~2 min on 2 cores
    .venv/bin/python benchmarks/api.py --requests 50 --rounds 1   # quick check
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    load,
    migrated_database,
    progress,
    progress_to_stderr,
    publish,
    source_state,
    throwaway_server,
)

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "api.json"
DATABASE = "bench_api"
TENANT = "acme"
PAGE_SIZE = 100
TARGET_RATIO = 1.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def drive(clients: int, per_client: int, call_factory: Callable[[], Callable[[], None]]) -> dict[str, Any]:
    """``clients`` threads, each making ``per_client`` calls with its own ``call_factory()``."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        call = call_factory()
        mine: list[float] = []
        barrier.wait()
        for _ in range(per_client):
            started = time.perf_counter()
            try:
                call()
            except Exception as exc:  # a failed request is counted and reported, not fatal
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "requests_per_second": len(latencies) / seconds if seconds > 0 else float("inf"),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def setup_report(url: str, days: int, per_day: int) -> str:
    """Sample analytics ending today and the tenant's default Usage Summary report; its id."""
    from reporting_assets.db.connection import connect
    from reporting_assets.exports.defaults import init_defaults
    from reporting_assets.exports.models import Actor
    from reporting_assets.exports.sample_data import SampleSpec, generate_sample_data
    from reporting_assets.exports.settings import ExportSettings

    spec = SampleSpec(end=dt.date.today(), tenants=(TENANT,), days=days, events_per_day=per_day, users=400)
    with connect(url) as conn:
        generate_sample_data(conn, spec)
        defaults = init_defaults(
            conn,
            Actor(TENANT, "bench@acme.example", "admin"),
            ["ops@acme.example"],
            ExportSettings(storage_dir=Path(".")),
        )
        conn.commit()
    return defaults.report.id


def start_server(root: Path, url: str, secret: str, port: int) -> subprocess.Popen[bytes]:
    home = root / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "REPORTING_DATABASE_URL": url,
        "REPORTING_HOME": str(home),
        "REPORTING_JWT_SECRET": secret,
        "REPORTING_API_RATE_LIMIT": "100000000",
    }
    command = [str(Path(sys.executable).parent / "reporting-assets"), "api", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise SystemExit(f"the API server exited with {server.returncode}:\n{stderr[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the API server did not answer /health within 120 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def summarize(rounds: list[dict[int, dict[str, Any]]], key: str) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for clients in rounds[0]:
        runs = [r[clients][key] for r in rounds]
        out[clients] = {
            "p50_ms": statistics.median(m["p50_ms"] for m in runs),
            "p99_ms": statistics.median(m["p99_ms"] for m in runs),
            "requests_per_second": statistics.median(m["requests_per_second"] for m in runs),
            "requests": sum(m["requests"] for m in runs),
            "errors": sum(m["errors"] for m in runs),
            "first_error": next((m["first_error"] for m in runs if m["first_error"]), None),
        }
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'clients':>7} {'in-proc p50':>11} {'HTTP p50':>9} {'ratio':>6} {'in-proc p99':>11} "
        f"{'HTTP p99':>9} {'in-proc req/s':>13} {'HTTP req/s':>10} {'HTTP errors':>11}"
    ]
    for row in result["levels"]:
        floor, http = row["in_process"], row["http"]
        lines.append(
            f"{row['clients']:>7} {floor['p50_ms']:>9.1f}ms {http['p50_ms']:>7.1f}ms "
            f"{row['p50_ratio']:>5.2f}x "
            f"{floor['p99_ms']:>9.1f}ms {http['p99_ms']:>7.1f}ms {floor['requests_per_second']:>13.0f} "
            f"{http['requests_per_second']:>10.0f} {http['errors']:>11}"
        )
    t = result["targets"]
    lines += [
        "",
        f"p50 over HTTP within {TARGET_RATIO}x of in-process at 1 client: "
        f"{'yes' if t['ratio_ok'] else 'NO'} ({t['ratio_at_1']:.2f}x)",
        f"no errors at {max(result['clients'])} clients: {'yes' if t['no_errors'] else 'NO'}",
        "server RSS after each HTTP measurement (MB): "
        + ", ".join(f"{m:.0f}" for m in result["server_rss_mb"]),
        f"load average: start {result['load_start']}, end {result['load_end']}; "
        f"{result['rounds']} interleaved rounds, medians shown",
    ]
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    first, t = result["levels"][0], result["targets"]
    most = max(result["clients"])
    return [
        {
            "benchmark": f"api: report preview p50 over HTTP vs in-process, {first['clients']} client(s)",
            "project": first["http"]["p50_ms"],
            "floor": first["in_process"]["p50_ms"],
            "unit": "ms",
            "ratio": first["p50_ratio"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": t["ratio_ok"],
        },
        {
            "benchmark": f"api: HTTP errors at {most} clients",
            "project": next(
                level["http"]["errors"] for level in result["levels"] if level["clients"] == most
            ),
            "floor": None,
            "unit": "errors",
            "ratio": None,
            "target": "0",
            "met": t["no_errors"],
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50], help="concurrency levels")
    parser.add_argument(
        "--requests", type=int, default=300, help="requests per level and round (default 300)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--days", type=int, default=30, help="days of sample analytics (default 30)")
    parser.add_argument("--events-per-day", type=int, default=2000, help="sample events a day (default 2000)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if min(args.clients) < 1 or args.requests < 1 or args.rounds < 1:
        parser.error("--clients, --requests and --rounds must be positive")
    if args.json_only:
        progress_to_stderr()
    warnings.simplefilter("ignore")

    import httpx

    from reporting_assets.api.auth import issue_token
    from reporting_assets.api.context import Database
    from reporting_assets.api.settings import ApiSettings
    from reporting_assets.exports import engine
    from reporting_assets.exports.models import Actor
    from reporting_assets.exports.settings import ExportSettings
    from reporting_assets.exports.source import PostgresAnalyticsSource

    load_start = load()
    with throwaway_server("api_bench_") as (root, server_url):
        url = migrated_database(server_url, DATABASE, "dagster")
        progress(f"[setup] {args.days} days x {args.events_per_day} events of tenant {TENANT}")
        report_id = setup_report(url, args.days, args.events_per_day)
        secret = secrets.token_urlsafe(48)
        settings = ApiSettings(algorithm="HS256", key=secret)
        token = issue_token(
            settings, tenant=TENANT, user="bench@acme.example", role="user", ttl=dt.timedelta(hours=2)
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(root, url, secret, port)
        database = Database(url)
        database.open()
        try:
            wait_ready(base, server)
            actor = Actor(TENANT, "bench@acme.example", "user")
            export_settings = ExportSettings(storage_dir=root / "files")
            source = PostgresAnalyticsSource(url, statement_timeout_ms=export_settings.statement_timeout_ms)

            def in_process() -> Callable[[], None]:
                def call() -> None:
                    with database.connection() as conn:
                        preview = engine.preview_report(
                            conn, actor, report_id, source, export_settings, page=1, page_size=PAGE_SIZE
                        )
                    assert preview.rows, "the preview has no rows"

                return call

            def over_http() -> Callable[[], None]:
                client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
                path = f"/api/reports/{report_id}/preview"

                def call() -> None:
                    response = client.get(path, params={"page": 1, "page_size": PAGE_SIZE})
                    if response.status_code != 200:
                        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:150]}")
                    if not response.json()["rows"]:
                        raise RuntimeError("the preview has no rows")

                return call

            for warm in (in_process, over_http):
                drive(2, 10, warm)
            rounds: list[dict[int, dict[str, Any]]] = []
            rss: list[float] = []
            for number in range(1, args.rounds + 1):
                measured: dict[int, dict[str, Any]] = {}
                for clients in args.clients:
                    per_client = max(1, args.requests // clients)
                    floor = drive(clients, per_client, in_process)
                    http = drive(clients, per_client, over_http)
                    rss.append(rss_mb(server.pid))
                    measured[clients] = {"in_process": floor, "http": http}
                    progress(
                        f"[round {number}] {clients:>3} clients: in-process p50 {floor['p50_ms']:.1f} ms, "
                        f"HTTP p50 {http['p50_ms']:.1f} ms ({http['errors']} errors), load {load()}"
                    )
                rounds.append(measured)
        finally:
            database.close()
            server.terminate()
            server.wait(timeout=30)

    floors, https = summarize(rounds, "in_process"), summarize(rounds, "http")
    levels = [
        {
            "clients": c,
            "in_process": floors[c],
            "http": https[c],
            "p50_ratio": https[c]["p50_ms"] / floors[c]["p50_ms"],
        }
        for c in args.clients
    ]
    first = levels[0]
    result = {
        "benchmark": "api",
        "report": "Usage Summary",
        "page_size": PAGE_SIZE,
        "clients": args.clients,
        "rounds": args.rounds,
        "levels": levels,
        "server_rss_mb": rss,
        "targets": {
            "ratio_at_1": first["p50_ratio"],
            "ratio_ok": first["clients"] == 1 and first["p50_ratio"] <= TARGET_RATIO,
            "no_errors": https[max(args.clients)]["errors"] == 0,
        },
        "load_start": load_start,
        "load_end": load(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        **source_state(),
    }
    publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
