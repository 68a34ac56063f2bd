"""``reporting-assets demo``: the main job on a fresh machine, with progress output.

Registers sample customers (one of them with its own report settings: German locale, no
manufacturing section), runs the three sample pipelines for each customer and day (one Dagster
run per customer x day, as production would), renders execution reports and lineage in one
batched run per customer, and groups the days' errors and warnings into error patterns in one
run. Re-running it skips runs that already exist.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg
import psycopg
import sqlalchemy.exc
from psycopg import sql

from reporting_assets.batched_runs import QUIET_LOGGERS, range_tags
from reporting_assets.customer_settings.store import SettingsChange, get_settings, set_settings
from reporting_assets.customers import add_customer
from reporting_assets.db.connection import Connection, connect, is_outage, unavailable
from reporting_assets.db.migrations import migrate
from reporting_assets.errors import DatabaseUnavailableError
from reporting_assets.partition_keys import CustomerDay
from reporting_assets.sources.pipelines import PIPELINES

DEMO_CUSTOMERS = ("ACTIVELY BLACK", "PELOTON", "GREYSON")
DEMO_TENANT = "acme"
"""The tenant the demo's customers belong to: ``reporting-assets api --dev`` signs in as its
admin, so the web dashboard shows them (a user sees only their tenant's customers)."""
DEMO_END_DATE = dt.date(2025, 6, 17)
DEMO_DAYS = 7
# Deliberate trouble, so the demo shows failure and partial reports too:
# (customer, day offset from the first day, pipeline, simulation)
DEMO_TROUBLE = (("PELOTON", 4, "shipping_sync", "failure"), ("GREYSON", 5, "order_sync", "partial"))
# One customer whose reports read differently: set once (a reader's own changes are kept)
DEMO_SETTINGS = ("GREYSON", SettingsChange(hide=("manufacturing",), locale="de_DE"))

Progress = Callable[[str], None]


@dataclass
class DemoResult:
    partitions: list[CustomerDay]
    runs_launched: int = 0
    runs_skipped: int = 0
    failed_runs: list[str] = field(default_factory=list)
    table_counts: dict[str, int] = field(default_factory=dict)


def demo_partitions(customers: tuple[str, ...], end: dt.date, days: int) -> list[CustomerDay]:
    first = end - dt.timedelta(days=days - 1)
    return [CustomerDay(c, first + dt.timedelta(days=i)) for c in customers for i in range(days)]


def _run_config(partition: CustomerDay, first: dt.date, sequence: int) -> dict:
    """Per-pipeline config: a Kestra-style external id, plus the deliberate trouble."""
    ops: dict[str, dict] = {}
    for offset, pipeline in enumerate(PIPELINES):
        external = f"kestra_exec_{partition.day:%Y%m%d}_{sequence * 10 + offset:06d}"
        ops[pipeline] = {"config": {"external_execution_id": external}}
    for customer, day_offset, pipeline, simulate in DEMO_TROUBLE:
        if customer == partition.customer_key and partition.day == first + dt.timedelta(days=day_offset):
            ops[pipeline]["config"]["simulate"] = simulate
    return {**QUIET_LOGGERS, "ops": ops}


DAGSTER_RETRY_MESSAGE = "Retrying failed database connection"
DAGSTER_EVENT_WRITE_MESSAGE = "Exception while writing logger call to event log"


def _quiet_dagster_retries(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(DAGSTER_RETRY_MESSAGE)


class _QuietEventWriteErrors(io.TextIOBase):
    """stderr without the line Dagster writes there (not through logging) each time it cannot
    store a log line; the outage is reported once, as the project's message."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if not text.startswith(DAGSTER_EVENT_WRITE_MESSAGE):
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


@contextmanager
def database_outage_as_error(url: str, doing: str) -> Iterator[None]:
    """Turn a database that goes away under a run into the project's one message.

    Dagster's PostgreSQL storage retries every write a few times, logging each attempt on the
    root logger (hundreds of lines in a range run), then raises ``DagsterPostgresException`` with
    a traceback; the run stays STARTED until run monitoring fails it. Here the retries are kept
    quiet and the outage becomes a :class:`DatabaseUnavailableError` that says what to do."""
    from dagster_postgres.utils import DagsterPostgresException

    root = logging.getLogger()
    root.addFilter(_quiet_dagster_retries)
    try:
        with redirect_stderr(_QuietEventWriteErrors(sys.stderr)):
            yield
    except DatabaseUnavailableError:
        raise
    except (DagsterPostgresException, sqlalchemy.exc.OperationalError) as exc:
        cause = _root_cause(exc)
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise unavailable(url, RuntimeError(reason), doing) from None
    except psycopg.OperationalError as exc:
        if not is_outage(exc):
            raise
        raise unavailable(url, exc, doing) from None
    finally:
        root.removeFilter(_quiet_dagster_retries)


def register_demo_customers(
    conn: Connection, instance: dg.DagsterInstance | None, customers: tuple[str, ...]
) -> None:
    """Register ``customers`` as customers of :data:`DEMO_TENANT` (one registered earlier
    without a tenant gets it; one of another tenant is refused, as ``customers add`` does)."""
    for name in customers:
        add_customer(conn, instance, name, tenant=DEMO_TENANT)


def run_demo(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    database_url: str,
    *,
    customers: tuple[str, ...] = DEMO_CUSTOMERS,
    end: dt.date = DEMO_END_DATE,
    days: int = DEMO_DAYS,
    progress: Progress = print,
) -> DemoResult:
    """Run the demo (see the module docstring); a database outage ends it with one
    :class:`DatabaseUnavailableError` (its interrupted run is failed by run monitoring)."""
    with database_outage_as_error(database_url, "running the demo"):
        return _run_demo(defs, instance, database_url, customers, end, days, progress)


def _run_demo(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    database_url: str,
    customers: tuple[str, ...],
    end: dt.date,
    days: int,
    progress: Progress,
) -> DemoResult:
    partitions = demo_partitions(customers, end, days)
    first = end - dt.timedelta(days=days - 1)
    result = DemoResult(partitions)

    progress("[1/4] Applying database migrations")
    applied = migrate(database_url)
    progress(f"      {len(applied)} applied" + (f": {', '.join(applied)}" if applied else " (up to date)"))

    progress(f"[2/4] Registering customers of tenant {DEMO_TENANT}: {', '.join(customers)}")
    with connect(database_url, doing="registering demo customers") as conn:
        register_demo_customers(conn, instance, customers)
        customised, change = DEMO_SETTINGS
        if customised in customers:
            if get_settings(conn, customised).version == 0:
                set_settings(conn, customised, change, None)
            progress(
                f"      {customised}'s reports read in German (de_DE), without the manufacturing section: "
                f"reporting-assets reports show '{customised}|{end}' --pipeline manufacturing_sync"
            )

    sources = defs.resolve_job_def("sample_pipelines")
    progress(
        f"[3/4] Running sample pipelines: {len(customers)} customers x {days} days "
        f"({first} to {end}), one run per customer and day"
    )
    for index, partition in enumerate(partitions, 1):
        key = partition.partition_key
        prefix = f"      [{index:>2}/{len(partitions)}] {key:<28}"
        existing = instance.get_runs(
            dg.RunsFilter(job_name=sources.name, tags={"dagster/partition": key}), limit=1
        )
        if existing:
            result.runs_skipped += 1
            progress(f"{prefix} already ran ({existing[0].status.value.lower()}), skipped")
            continue
        started = time.perf_counter()
        outcome = sources.execute_in_process(
            instance=instance,
            partition_key=key,
            run_config=_run_config(partition, first, index),
            raise_on_error=False,
        )
        result.runs_launched += 1
        failed = [e.step_key for e in outcome.all_events if e.is_step_failure]
        if failed:
            result.failed_runs.append(outcome.run_id)
        status = "ok" if outcome.success else f"FAILED on purpose ({', '.join(str(s) for s in failed)})"
        progress(f"{prefix} {status} in {time.perf_counter() - started:.1f}s  run {outcome.run_id[:8]}")

    reports = defs.resolve_job_def("render_reports")
    progress(
        "[4/4] Rendering execution reports, lineage and daily summaries: one batched run per customer; "
        "then error patterns"
    )
    for customer in customers:
        keys = [p.partition_key for p in partitions if p.customer_key == customer]
        started = time.perf_counter()
        outcome = reports.execute_in_process(
            instance=instance,
            run_config=QUIET_LOGGERS,
            tags=range_tags(keys[0], keys[-1]),
        )
        progress(
            f"      {customer:<16} {len(keys)} partitions in {time.perf_counter() - started:.1f}s  "
            f"run {outcome.run_id[:8]}"
        )

    started = time.perf_counter()
    outcome = defs.resolve_job_def("error_patterns_job").execute_in_process(
        instance=instance,
        run_config=QUIET_LOGGERS,
        tags=range_tags(first.isoformat(), end.isoformat()),
    )
    last_day = outcome.get_asset_materialization_events()[-1].materialization.metadata
    patterns, flagged = last_day["pattern_count"].value, last_day["flagged"].value
    progress(
        f"      {'error patterns':<16} {days} days in {time.perf_counter() - started:.1f}s  run "
        f"{outcome.run_id[:8]}: {patterns} on {end}, {flagged} flagged"
    )

    with connect(database_url, doing="counting demo rows") as conn:
        for table in (
            "customers",
            "daily_customer_summaries",
            "pipeline_execution_reports",
            "workflow_executions",
            "workflow_execution_partitions",
            "report_lineage",
        ):
            stmt = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier("reporting", table))
            row = conn.execute(stmt).fetchone()
            result.table_counts[table] = row["n"] if row else 0
    return result
