"""The values a sync session works with: what was asked, how the session is set up and hosted,
each customer's progress, and the result. No I/O here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from reporting_assets.errors import ReportingError
from reporting_assets.sync.errors import SyncInputError
from reporting_assets.sync.folders import random_token

if TYPE_CHECKING:
    from reporting_assets.contract import RunReport
    from reporting_assets.reporter import PipelineReporter
    from reporting_assets.sync import store
    from reporting_assets.sync.config import SyncProfile
    from reporting_assets.sync.order_list import OrderRecord

PIPELINE_TYPE = "sync_order_list"
"""The asset key and contract pipeline type of the sync's per-customer reports."""
TARGET_SYSTEM = "sample_target"
DEFAULT_CONFIG_SOURCE = "config/sync.toml"


def check_limit(limit: int | None) -> int | None:
    """``None`` (no limit) or a positive number of records per customer."""
    if limit is not None and limit < 1:
        raise SyncInputError(
            f"--limit must be at least 1 (got {limit}): it caps the pending records synced per "
            f"customer. Leave it out to sync every pending record."
        )
    return limit


@dataclass(frozen=True)
class SyncRequest:
    """What the user asked for (the command's flags)."""

    environment: str
    customers: tuple[str, ...] = ()
    limit: int | None = None
    skip_subitems: bool = False
    execute: bool = False
    generate_report: bool = False
    sample_day: dt.date | None = None

    def filters(self) -> dict[str, Any]:
        return {
            "customers": list(self.customers),
            "limit": self.limit,
            "skip_subitems": self.skip_subitems,
            "generate_report": self.generate_report,
            "execute": self.execute,
            "sample_day": self.sample_day.isoformat() if self.sample_day else None,
        }


class ContractSink(Protocol):
    """Receives each customer's run-report contract (the Dagster asset logs it as an event)."""

    def __call__(self, partition_key: str, report: RunReport) -> None: ...


@dataclass(frozen=True)
class SessionSetup:
    """What a session syncs, with which settings, and where its folder goes."""

    url: str
    """The reporting database (order list, session tables, the sample target)."""
    request: SyncRequest
    profile: SyncProfile
    reports_root: Path
    """The session folder is ``reports_root/sync/{SYNC-ID}``."""
    config_source: str = DEFAULT_CONFIG_SOURCE
    """The config file the profile came from, named in config fixes and logging errors."""


@dataclass(frozen=True)
class RunHooks:
    """How the Dagster run hosting a session takes part; all optional (tests and the benchmark
    run sessions without a run)."""

    run_id: str | None = None
    sink: ContractSink | None = None
    """Where each customer's contract goes (executed sessions with reporting on)."""
    dagster_log: Any = None
    """The op's ``context.log``: log lines also show in the run's event log."""
    on_open: Callable[[str], None] | None = None
    """Called with the sync id once the session row exists (the asset tags its run with it)."""


@dataclass(frozen=True)
class SessionStart:
    """When the session starts and which id it takes: the given ``sync_id`` (the run's tag), else
    the start minute plus a random ``token``. Tests fix ``now`` and ``token``."""

    sync_id: str | None = None
    now: dt.datetime | None = None
    token: Callable[[], str] = random_token


@dataclass(frozen=True)
class SessionOptions:
    """Switches for the benchmark: the same session with reporting and log ids off."""

    reporting: bool = True
    """Customer reports, summaries, executive summary and per-customer contracts."""
    structured_logs: bool = True
    """The session's JSON-lines log (and the configured verbosity)."""


@dataclass
class SessionResult:
    sync_id: str
    status: str
    folder: Path
    summary_markdown: str | None
    summary: dict[str, Any] | None
    error: str | None = None
    reports_error: str | None = None
    partition_keys: list[str] = field(default_factory=list)


@dataclass
class CustomerRun:
    """One customer in a session: its line (what the database gets) and what happened so far."""

    line: store.CustomerLine
    records: list[OrderRecord]
    reporter: PipelineReporter | None = None
    started: float = 0.0
    created: list[OrderRecord] = field(default_factory=list)
    updated: list[OrderRecord] = field(default_factory=list)
    causes: dict[str, list[str]] = field(default_factory=dict)
    blocked_by: str | None = None
    """Who held the customer's sync lock when this session wanted it (it then did not start)."""


def describe(exc: BaseException) -> str:
    """A one-line reason for a session or customer failure."""
    if isinstance(exc, ReportingError):
        return str(exc)
    if not isinstance(exc, Exception):
        return f"The run was terminated ({type(exc).__name__}) before the session finished."
    return f"{type(exc).__name__}: {exc}"


def customer_status(line: store.CustomerLine) -> str:
    if line.errors == 0 and line.error is None:
        return "success"
    return "partial" if line.records_synced > 0 else "failed"


def session_status(lines: Sequence[store.CustomerLine]) -> str:
    statuses = {line.status for line in lines}
    if not lines or statuses == {"success"}:
        return "success"
    if statuses <= {"failed", "pending", "running"}:
        return "failed"
    return "partial"
