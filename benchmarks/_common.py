"""Helpers every benchmark script shares: progress output, timers, machine state.

Scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

_out: TextIO = sys.stdout


def progress_to_stderr() -> None:
    """Keep stdout for JSON (``--json-only``): progress lines go to stderr."""
    global _out
    _out = sys.stderr


def progress(message: str) -> None:
    print(message, file=_out, flush=True)


@contextmanager
def timed(into: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        into[name] = into.get(name, 0.0) + time.perf_counter() - started


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def source_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree had uncommitted changes."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except OSError:
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def step_seconds(instance: Any, run_id: str) -> float:
    """Seconds between the run's first STEP_START and last STEP_SUCCESS (the asset body)."""
    from dagster import DagsterEventType

    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
    ).records
    starts = [
        r.event_log_entry.timestamp
        for r in records
        if r.event_log_entry.dagster_event_type == DagsterEventType.STEP_START
    ]
    ends = [
        r.event_log_entry.timestamp
        for r in records
        if r.event_log_entry.dagster_event_type == DagsterEventType.STEP_SUCCESS
    ]
    return max(ends) - min(starts) if starts and ends else float("nan")
