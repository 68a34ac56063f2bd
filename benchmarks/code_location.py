"""Code location load benchmark: loading the definitions next to importing Dagster, and ``--help``.

Every run worker, CLI call and code-server start loads the code location, so its cost is paid
over and over. Each measurement is a fresh Python process (the files are in the OS cache after a
warm-up process of each, not counted), timed from start to exit; the three commands alternate
and each figure is the median over ``--runs``:

- the project: ``python -c "import reporting_assets.definitions as d; d.defs()"``;
- its floor: ``python -c "import dagster"``, what any Dagster code location pays;
- ``reporting-assets --help`` (the installed entry point next to this Python, or the same call
  of ``reporting_assets.cli.main`` when there is none).

The checkout's modules are byte-compiled first, as pip does when it installs the wheel (the
image) and as Dagster's own installed files are: an uncompiled checkout under
``PYTHONDONTWRITEBYTECODE=1`` would recompile every project module in every process, a cost no
installed code location pays.

Targets: the definitions within 1.25x of ``import dagster``; ``--help`` under 0.3 s.

Usage (from the repo root)::

    .venv/bin/python benchmarks/code_location.py            # median of 5 of each
    .venv/bin/python benchmarks/code_location.py --runs 1   # smoke run
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, checkout_env, load, progress, progress_to_stderr, publish, source_state

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "code_location.json"
TARGET_RATIO = 1.25  # definitions / import dagster
TARGET_HELP_SECONDS = 0.3


def commands() -> dict[str, list[str]]:
    entry_point = Path(sys.executable).with_name("reporting-assets")
    help_command = (
        [str(entry_point), "--help"]
        if entry_point.exists()
        else [
            sys.executable,
            "-c",
            "import sys; from reporting_assets.cli import main; sys.exit(main())",
            "--help",
        ]
    )
    return {
        "import_dagster": [sys.executable, "-c", "import dagster"],
        "definitions": [sys.executable, "-c", "import reporting_assets.definitions as d; d.defs()"],
        "cli_help": help_command,
    }


def seconds_of(command: list[str]) -> float:
    """Wall seconds of one process, start to exit (it must succeed); it imports this checkout."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=checkout_env(), capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return took


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows this benchmark adds to ``run_all.py``'s table."""
    m, ra = result["median_seconds"], result["ratios"]
    return [
        {
            "benchmark": "code location load: defs() vs import dagster",
            "project": m["definitions"],
            "floor": m["import_dagster"],
            "unit": "s",
            "ratio": ra["definitions_over_dagster"],
            "target": f"<= {TARGET_RATIO:g}x",
            "met": ra["within_target"],
        },
        {
            "benchmark": "reporting-assets --help",
            "project": m["cli_help"],
            "floor": None,
            "unit": "s",
            "ratio": None,
            "target": f"< {TARGET_HELP_SECONDS:g} s",
            "met": ra["cli_help_within_target"],
        },
    ]


def table(r: dict[str, Any]) -> str:
    m, ra = r["median_seconds"], r["ratios"]
    labels = {
        "import_dagster": 'python -c "import dagster"',
        "definitions": 'python -c "import reporting_assets.definitions as d; d.defs()"',
        "cli_help": "reporting-assets --help",
    }
    lines = [
        f"code location load: median of {r['runs']} fresh processes each, {r['cpus']} CPUs, "
        f"Python {r['python']}, load {r['load_before']} -> {r['load_after']}",
        "",
        *(
            f"   {labels[name]:<66}{m[name]:>7.3f} s   ({', '.join(f'{x:.3f}' for x in r['seconds'][name])})"
            for name in labels
        ),
        "",
        f"   definitions / import dagster: {ra['definitions_over_dagster']:.2f}x "
        f"(target <= {TARGET_RATIO:g}x: {'met' if ra['within_target'] else 'NOT met'}); "
        f"--help {m['cli_help']:.3f} s (target < "
        f"{TARGET_HELP_SECONDS:g} s: {'met' if ra['cli_help_within_target'] else 'NOT met'})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="processes of each command; medians (default 5)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON (progress to stderr)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be positive")
    if args.json_only:
        progress_to_stderr()
    load_before = load()
    todo = commands()
    compileall.compile_dir(ROOT / "reporting_assets", quiet=1)
    for command in todo.values():  # warm-up: the OS file cache
        seconds_of(command)
    seconds: dict[str, list[float]] = {name: [] for name in todo}
    for run in range(1, args.runs + 1):
        for name, command in todo.items():
            seconds[name].append(seconds_of(command))
        progress(f"[{run}/{args.runs}] " + ", ".join(f"{name} {s[-1]:.3f}s" for name, s in seconds.items()))
    median = {name: statistics.median(s) for name, s in seconds.items()}
    ratio = median["definitions"] / median["import_dagster"]
    result = {
        "benchmark": "code_location",
        "runs": args.runs,
        "commands": todo,
        "seconds": seconds,
        "median_seconds": median,
        "ratios": {
            "definitions_over_dagster": ratio,
            "target": TARGET_RATIO,
            "within_target": ratio <= TARGET_RATIO,
            "cli_help_target_seconds": TARGET_HELP_SECONDS,
            "cli_help_within_target": median["cli_help"] < TARGET_HELP_SECONDS,
        },
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_before": load_before,
        "load_after": load(),
        **source_state(),
    }
    publish(result, table(result), RESULTS_PATH, args.json_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
