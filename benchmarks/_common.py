"""Helpers every benchmark script shares: progress output, timers, machine state.

Scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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


ROOT = Path(__file__).resolve().parents[1]


def checkout_env() -> dict[str, str]:
    """The environment for a child process that must import this checkout's ``reporting_assets``
    (the venv's editable install may point at another clone)."""
    paths = (str(ROOT), os.environ.get("PYTHONPATH", ""))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def source_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree had uncommitted changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
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


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB: Linux's ``VmHWM``, which starts afresh
    at exec (``ru_maxrss`` carries the parent's peak over into a child process started by a big
    parent); ``ru_maxrss`` (kB on Linux) where there is no ``/proc``."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(script: str, args: Sequence[str]) -> dict[str, Any]:
    """``script --child ARGS`` in a fresh Python process (so its peak RSS is its own): the JSON
    object on the last line it prints."""
    done = subprocess.run(
        [sys.executable, str(Path(script).resolve()), "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@contextmanager
def throwaway_server(prefix: str) -> Iterator[tuple[Path, str]]:
    """A temp folder and an embedded PostgreSQL in ``<folder>/pg``: yields (folder, server URL).

    The URL variables a script sets for the project are restored afterwards, the server is
    stopped and the folder removed, whatever happens. Project imports wait until ``main`` has
    silenced warnings.
    """
    from reporting_assets.db.embedded import ensure_embedded_server, stop_embedded_server
    from reporting_assets.db.urls import DAGSTER_DATABASE_URL_ENV, DATABASE_URL_ENV

    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(root, 0o755)  # the embedded server runs as user 'pgserver' when we are root
    saved_env = {k: os.environ.get(k) for k in (DATABASE_URL_ENV, DAGSTER_DATABASE_URL_ENV)}
    try:
        progress(f"[setup] starting embedded PostgreSQL in {root / 'pg'} (load {load()})")
        yield root, ensure_embedded_server(root / "pg")
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            stop_embedded_server(root / "pg")
        finally:
            shutil.rmtree(root, ignore_errors=True)


def migrated_database(server_url: str, database: str, *others: str) -> str:
    """``database`` (and ``others``) created on the throw-away server, ``database`` migrated to
    the project's schema: its URL."""
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import ensure_databases, with_database

    ensure_databases(server_url, [database, *others])
    url = with_database(server_url, database)
    migrate(url)
    return url


def instance_settings(**extra: Any) -> dict[str, Any]:
    """Settings of a benchmark's Dagster instance: the project's storage (the databases the URL
    variables point at) and no telemetry, plus ``extra`` (e.g. a run coordinator)."""
    return {
        "storage": {
            "custom": {
                "module": "reporting_assets.db.dagster_storage",
                "class": "ReportingPostgresStorage",
                "config": {},
            }
        },
        "telemetry": {"enabled": False},
        **extra,
    }


@contextmanager
def throwaway_instance(root: Path, **extra: Any) -> Iterator[Any]:
    """A Dagster instance with :func:`instance_settings` and its local files in
    ``<root>/dagster_home``, disposed of on exit."""
    import dagster as dg

    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(overrides=instance_settings(**extra), temp_dir=str(home)) as instance:
        yield instance


def embedded_postgres_version() -> str:
    """``server_version`` of the embedded PostgreSQL the scripts start (one started and stopped)."""
    import psycopg

    with throwaway_server("postgres_version_") as (_root, url), psycopg.connect(url) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]


def publish(result: dict[str, Any], table_text: str, path: Path, json_only: bool) -> None:
    """Write the result JSON to ``path``; print it (``--json-only``) or the table, then it."""
    text = json.dumps(result, indent=2, default=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    if json_only:
        print(text, flush=True)
    else:
        progress("")
        progress(table_text)
        progress("")
        progress(text)
        progress(f"\n(JSON written to {path})")


# --------------------------------------------------------------------------------------------
# Floors: a bare Jinja2 render and a COPY into a plain table
# --------------------------------------------------------------------------------------------

FLOOR_ENV_OPTIONS = (
    "autoescape",
    "finalize",
    "undefined",
    "trim_blocks",
    "lstrip_blocks",
    "keep_trailing_newline",
    "auto_reload",
)


def bare_environment(package: str, filters: dict[str, Callable[..., Any]], project: Any) -> Any:
    """A bare ``jinja2.Environment`` for ``<package>/templates`` with the options of
    ``markdown_environment``, and ``filters``.

    Built directly (no project helper) and then checked option by option against ``project``,
    the environment the project renders with, so a floor cannot drift from its settings.
    """
    import jinja2

    from reporting_assets.markdown_text import finalize

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=False,
        finalize=finalize,  # the per-value markdown escaping the output needs
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # as markdown_environment: no stat() of the template per render
    )
    env.filters.update(filters)
    drift = [o for o in FLOOR_ENV_OPTIONS if getattr(env, o) != getattr(project, o)]
    if drift:
        raise RuntimeError(f"floor Environment differs from markdown_environment in: {', '.join(drift)}")
    return env


def plain_table(conn: Any, name: str, columns: Sequence[tuple[str, str]]) -> None:
    """(Re)create ``public.<name>`` with ``columns`` (name, type): no keys, indexes, constraints
    or defaults. Commits."""
    conn.execute(f"DROP TABLE IF EXISTS public.{name}")
    conn.execute(f"CREATE TABLE public.{name} ({', '.join(f'{c} {t}' for c, t in columns)})")
    conn.commit()


def copy_plain(
    conn: Any, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
) -> None:
    """One psycopg COPY of ``rows`` into the plain table ``public.<name>``, then commit (a floor's
    store: whatever ``rows`` computes as it is iterated is part of it)."""
    with conn.cursor().copy(f"COPY public.{name} ({', '.join(c for c, _ in columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
    conn.commit()
