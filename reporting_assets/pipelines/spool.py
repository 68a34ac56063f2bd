"""Sending an external run's report, and the local spool that keeps it while the instance is away.

When the Dagster instance or the reporting database cannot be reached, the contract is written to
``spool/pipeline-runs/`` in the project home (one file per pipeline and external execution id, so
spooling the same report twice keeps one file) and ``reporting-assets report-run --spool`` sends
it later: no report is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg
import sqlalchemy.exc
from dagster_postgres.utils import DagsterPostgresException

from reporting_assets.contract import RunReport
from reporting_assets.db.connection import Connection, is_outage, open_connection, unavailable
from reporting_assets.db.urls import resolve_urls
from reporting_assets.errors import DatabaseUnavailableError, InstanceUnavailableError, ReportingError
from reporting_assets.home import project_home
from reporting_assets.pipelines.ingest import RecordedRun, default_instance, parse_contract, record_run

SPOOL_DIR = Path("spool") / "pipeline-runs"
_OUTAGES = (DatabaseUnavailableError, DagsterPostgresException, sqlalchemy.exc.OperationalError)


def spool_dir() -> Path:
    return project_home() / SPOOL_DIR


def spool_report(report: RunReport, partition_key: str | None = None) -> Path:
    """Write the contract to the spool (atomically; the same report replaces its earlier file)."""
    folder = spool_dir()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(f"{report.pipeline_type}\0{report.external_execution_id}".encode()).hexdigest()
    path = folder / f"{report.pipeline_type}-{digest[:20]}.json"
    body = {"partition_key": partition_key, "run_report": report.model_dump(mode="json")}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)
    return path


_kept = threading.local()
"""One reporting-database connection per thread, kept between reports: a script that saves many
runs pays for connecting once."""


@contextmanager
def reporting_connection(doing: str) -> Iterator[Connection]:
    """The thread's kept connection (opened when missing or broken); commits after the block,
    rolls back on an error, and is dropped when the server went away."""
    url = resolve_urls().reporting
    kept: dict[str, Connection] = _kept.__dict__.setdefault("connections", {})
    conn = kept.get(url)
    if conn is None or conn.closed or conn.broken:
        conn = kept[url] = open_connection(url, doing=doing)
    try:
        yield conn
        conn.commit()
    except psycopg.OperationalError as exc:
        kept.pop(url, None)
        conn.close()
        if is_outage(exc):
            raise unavailable(url, exc, doing) from exc
        raise
    except BaseException:
        conn.rollback()
        raise


def send_report(
    report: RunReport, *, instance: dg.DagsterInstance | None = None, partition_key: str | None = None
) -> RecordedRun:
    """Record ``report``; when the instance or the database is away, spool it and say so. The
    reporting database is only asked when the process's registry and customers must be re-read."""
    doing = f"recording the {report.pipeline_type} run report"
    try:
        return record_run(
            instance or default_instance(), lambda: reporting_connection(doing), report, partition_key
        )
    except _OUTAGES as exc:
        path = spool_report(report, partition_key)
        reason = " ".join(str(exc).split())
        raise InstanceUnavailableError(
            f"The {report.pipeline_type} run report (external execution "
            f"{report.external_execution_id}) could not be recorded: {reason[:400]} It was written to "
            f"{path}; run `reporting-assets report-run --spool` when the instance is back to send it."
        ) from exc


@dataclass(frozen=True)
class SpoolOutcome:
    sent: list[RecordedRun]
    failed: dict[Path, str]


def send_spooled(instance: dg.DagsterInstance | None = None) -> SpoolOutcome:
    """Send every spooled report, deleting each file once recorded. A file that cannot be sent
    (its pipeline was unregistered meanwhile...) stays, with the reason in the outcome; an outage
    stops the whole send with its error, keeping every file not sent yet."""
    folder = spool_dir()
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    sent: list[RecordedRun] = []
    failed: dict[Path, str] = {}
    if not files:
        return SpoolOutcome(sent, failed)
    with reporting_connection("sending spooled run reports") as conn:
        target = instance or default_instance()
        for path in files:
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
                report = parse_contract(body.get("run_report"), source=str(path))
                sent.append(record_run(target, lambda: nullcontext(conn), report, body.get("partition_key")))
            except _OUTAGES:
                raise
            except (ReportingError, ValueError, AttributeError) as exc:
                failed[path] = str(exc)
                continue
            path.unlink()
    return SpoolOutcome(sent, failed)
