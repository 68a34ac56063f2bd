"""Every benchmark, one after another, in one table: project figure, floor, ratio, target, met.

Each script in ``BENCHMARKS`` runs as its own process with ``--json-only`` and either its
``--quick`` arguments (a few minutes in all) or its defaults (the figures to quote). Its JSON is
turned into table rows by the script's own ``summary(result)``; a script whose optional
dependency (``REQUIRES``) is missing is skipped with a note. The children import this
checkout's ``reporting_assets`` whatever the venv's editable install points at.

Before each benchmark (at default sizes; ``--quick`` figures are a check, not figures to quote)
the 1-minute load average is left to fall below 0.5 (up to five minutes: the load the previous
one left decays slowly); it is read at the start and sampled in a thread
while each benchmark runs. Above 0.5 at the start, or above 1.5 during a benchmark, the figures
are not worth quoting and the output says so loudly. The table, the machine (cores, load, Python, the embedded
PostgreSQL, commit) and every script's full result go to ``benchmarks/results/run_all.json``.

Usage (from the repo root)::

    .venv/bin/python benchmarks/run_all.py --quick                 # a few minutes
    .venv/bin/python benchmarks/run_all.py                         # the figures to quote
    .venv/bin/python benchmarks/run_all.py --quick --only aggregate code_location
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from _common import ROOT, checkout_env, load, progress, progress_to_stderr, source_state

HERE = Path(__file__).resolve().parent
RESULTS_PATH = HERE / "results" / "run_all.json"
QUIET_START_LOAD = 0.5  # above this at the start, no figure is worth quoting
QUIET_RUN_LOAD = 1.5  # above this during a benchmark, its figures are not worth quoting
SETTLE_SECONDS = 300  # the longest wait for the load a benchmark left to fall before the next one

# (script, --quick arguments, default arguments): one line per benchmark, in the order they run
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("code_location", ["--runs", "3"], []),
    ("render_store", ["--reports", "500", "--days", "3"], []),
    ("backfill", ["--days", "10", "--customers", "3", "--sample", "5", "--launched", "2"], []),
    ("aggregate", ["--rows", "50000", "--repeat", "1"], []),
    ("sensor_tick", ["--large", "5000", "--repeats", "5"], []),
    ("automation", ["--runs", "20000"], []),
    ("exports", ["--rows", "100000", "--pdf-rows", "2000"], []),
    ("sync_session", ["--records", "1000", "--repeats", "1"], []),
    ("api", ["--requests", "50", "--rounds", "1"], []),
    ("analytics", ["--events", "200000", "--rows", "50000"], []),
    ("ingest", ["--reports", "300"], []),
    ("web", ["--customers", "20", "--days", "3", "--repeat", "5"], []),
    ("patterns", ["--quick"], []),
]


class LoadWatch:
    """The 1-minute load average at the start, its peak (sampled every ``every`` seconds) and
    at the end of a ``with`` block."""

    def __init__(self, every: float = 2.0) -> None:
        self.every = every
        self.start = self.peak = self.end = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, os.getloadavg()[0])

    def __enter__(self) -> LoadWatch:
        self.start = self.peak = os.getloadavg()[0]
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.end = os.getloadavg()[0]
        self.peak = max(self.peak, self.end)


def json_output(stdout: str) -> dict[str, Any]:
    """The JSON object a ``--json-only`` script printed last (anything printed before it is skipped)."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    result: dict[str, Any] = json.loads("\n".join(lines[start:]))
    return result


def settle(name: str) -> None:
    """Wait (up to ``SETTLE_SECONDS``) for the 1-minute load average to fall below
    ``QUIET_START_LOAD``: a benchmark that loads both cores (50 HTTP clients) leaves a load
    average that decays for minutes, and the next benchmark would start on a busy machine."""
    deadline = time.monotonic() + SETTLE_SECONDS
    if load()[0] > QUIET_START_LOAD:
        progress(f"[{name}] waiting for the load average {load()} to fall below {QUIET_START_LOAD}")
    while load()[0] > QUIET_START_LOAD and time.monotonic() < deadline:
        time.sleep(5)


def run_one(name: str, arguments: list[str], *, wait_for_quiet: bool) -> dict[str, Any]:
    """One benchmark script in its own process; its result, rows and the load around it
    (``wait_for_quiet``: let the load settle first, for figures worth quoting)."""
    module = importlib.import_module(name)
    missing = [m for m in getattr(module, "REQUIRES", ()) if importlib.util.find_spec(m) is None]
    entry: dict[str, Any] = {"name": name, "arguments": arguments}
    if missing:
        entry["skipped"] = f"needs {', '.join(missing)}, not installed (see its --help)"
        progress(f"[{name}] skipped: {entry['skipped']}")
        return entry
    command = [sys.executable, str(HERE / f"{name}.py"), "--json-only", *arguments]
    if wait_for_quiet:
        settle(name)
    progress(f"[{name}] {' '.join(['benchmarks/' + name + '.py', *arguments])} (load {load()})")
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with LoadWatch() as watch:
        done = subprocess.run(
            command, cwd=ROOT, env=checkout_env(), stdout=subprocess.PIPE, text=True, check=False
        )
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = time.perf_counter() - started
    own_cpu = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    entry.update(
        seconds=seconds,
        # the script's own processes (not the PostgreSQL server, which is no child): how much of
        # the load the benchmark itself explains
        own_cpu_cores=round(own_cpu / seconds, 2),
        returncode=done.returncode,
        load={"start": round(watch.start, 2), "peak": round(watch.peak, 2), "end": round(watch.end, 2)},
        quotable=watch.peak <= QUIET_RUN_LOAD,
    )
    if done.returncode != 0:
        entry["failed"] = f"exit {done.returncode}"
    else:
        try:
            entry["result"] = json_output(done.stdout)
            entry["rows"] = module.summary(entry["result"])
        except (ValueError, KeyError, TypeError) as exc:
            entry["failed"] = f"its output could not be read: {type(exc).__name__}: {exc}"
    progress(
        f"[{name}] {seconds:.0f}s, load {watch.start:.2f} -> peak {watch.peak:.2f}, its own processes "
        f"{entry['own_cpu_cores']:.2f} cores busy on average"
        + (f"; FAILED: {entry['failed']}" if "failed" in entry else "")
    )
    if not entry["quotable"]:
        progress(
            f"!!! [{name}] load average rose to {watch.peak:.2f} (above {QUIET_RUN_LOAD}): "
            "its figures are not worth quoting"
        )
    return entry


def figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}"


def table_rows(entries: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for entry in entries:
        load_note = ""
        if "load" in entry:
            peak = entry["load"]["peak"]
            load_note = f"{peak:.2f}" + ("" if entry["quotable"] else " (!)")
        if "skipped" in entry or "failed" in entry:
            note = f"skipped: {entry['skipped']}" if "skipped" in entry else f"FAILED: {entry['failed']}"
            out.append([f"{entry['name']}: {note}", "", "", "", "", "", load_note])
            continue
        for row in entry["rows"]:
            met = row["met"]
            out.append(
                [
                    row["benchmark"],
                    figure(row["project"], row["unit"]),
                    figure(row["floor"], row["unit"]),
                    "—" if row["ratio"] is None else f"{row['ratio']:.2f}x",
                    row["target"] or "(info)",
                    "—" if met is None else "yes" if met else "NO",
                    load_note,
                ]
            )
    return out


def markdown_table(rows: list[list[str]]) -> str:
    head = ["benchmark", "project", "floor", "ratio", "target", "met", "peak load"]
    right = {1, 2, 3, 6}
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = (
        "|"
        + "|".join(("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(head), rule, *(line(r) for r in rows)])


def postgres_version() -> str:
    """The embedded server's version, asked in a child that imports this checkout."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", "import _common; print(_common.embedded_postgres_version())"],
        cwd=HERE,
        env=checkout_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else "unknown"


def main(argv: list[str] | None = None) -> int:
    names = [name for name, _, _ in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes: a few minutes in all (default: the figures to quote)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=names, metavar="NAME", help=f"run only these, of: {', '.join(names)}"
    )
    args = parser.parse_args(argv)
    progress_to_stderr()  # stdout: the table
    started_at = dt.datetime.now(dt.UTC)
    load_start = load()
    warnings: list[str] = []
    if load_start[0] > QUIET_START_LOAD:
        warnings.append(
            f"load average {load_start[0]:.2f} at the start (above {QUIET_START_LOAD}): "
            "no figure of this run is worth quoting"
        )
        progress(f"!!! {warnings[-1]}")
    machine = {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "postgres": postgres_version(),
        **source_state(),
    }
    started = time.perf_counter()
    entries = [
        run_one(name, quick if args.quick else default, wait_for_quiet=not args.quick)
        for name, quick, default in BENCHMARKS
        if not args.only or name in args.only
    ]
    seconds = time.perf_counter() - started
    load_end = load()
    warnings += [
        f"load average rose to {e['load']['peak']:.2f} during {e['name']} (above {QUIET_RUN_LOAD}): "
        "its figures are not worth quoting"
        for e in entries
        if "load" in e and not e["quotable"]
    ]
    table = markdown_table(table_rows(entries))
    facts = (
        f"{'quick sizes' if args.quick else 'default sizes'}; {machine['cores']} cores, Python "
        f"{machine['python']}, PostgreSQL {machine['postgres']} (embedded); commit {machine['commit']}"
        f"{' + uncommitted changes' if machine['dirty'] else ''}; load average {load_start} at the start, "
        f"{load_end} at the end; {seconds / 60:.1f} min"
    )
    result = {
        "started": started_at.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "default",
        "only": args.only,
        "seconds": seconds,
        "machine": machine,
        "load": {"start": load_start, "end": load_end},
        "quotable": not warnings,
        "warnings": warnings,
        "table": table,
        "benchmarks": entries,
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(table)
    print()
    print(facts)
    for warning in warnings:
        print(f"!!! WARNING: {warning}")
    print(f"(JSON written to {RESULTS_PATH})")
    return 1 if any("failed" in e for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
