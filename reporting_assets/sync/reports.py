"""The executive summary (``_SYNC_SUMMARY.md``), customer reports, group summaries and batch
results of a session, computed from the session's tables and written to its folder.

Everything here reads the database, never the engine's memory: the sensor that finalizes a
run that died uses the same code and gets the same files, and the numbers in the files are the
numbers in the tables. Customer reports are sync-centric (session statistics first); they read
the order list only for the customer's records with errors and its pending records.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jinja2

from reporting_assets.db.connection import Connection
from reporting_assets.logging_ids import get_logger
from reporting_assets.markdown_text import MarkdownSafe, markdown_environment
from reporting_assets.sync import store
from reporting_assets.sync.errors import ReportsFolderError
from reporting_assets.sync.folders import SUMMARY_FILE, SessionFolder

log = get_logger(__name__)

STATUS_LABELS = {
    "success": "✅ SUCCESS",
    "partial": "⚠️ PARTIAL",
    "failed": "❌ FAILED",
    "canceled": "❌ CANCELED",
    "running": "⏳ RUNNING",
    store.NOT_STARTED: "⏸️ NOT STARTED",
}
NOT_STARTED_SESSION = "⏸️ NOT STARTED"
FIXES = {
    "dropdown_mismatch": "Nothing was sent for these records. Apply the config fix in the example, "
    "then re-run.",
    "timeout": "Transient: the records stay pending and the next session retries them; raise max_retries "
    "if it persists.",
    "target_unavailable": "The target refused every call: check the target (or target.fail_customers), "
    "then re-run.",
    "item_rejected": "The target rejected these items (see the example); they stay pending for the next "
    "session.",
    "subitem_failed": "The items exist; their subitems failed. The next session updates the items and "
    "retries the subitems (no duplicates).",
    "not_run": "The session ended before these records were sent; they stay pending.",
    "session_failed": "The session failed; see the session error. The records stay pending.",
}
ORDER_ERRORS_PER_CUSTOMER = 50
PENDING_LISTED = 10
BATCH_ROWS = 100


def _num(value: float | int | None) -> MarkdownSafe:
    if value is None:
        return MarkdownSafe("n/a")
    if isinstance(value, float) and not value.is_integer():
        return MarkdownSafe(f"{value:,.1f}")
    return MarkdownSafe(f"{int(value):,}")


def _pct(value: float | None) -> MarkdownSafe:
    return MarkdownSafe("n/a" if value is None else f"{value:.1f}%")


def _seconds(value: float | None) -> MarkdownSafe:
    if value is None:
        return MarkdownSafe("n/a")
    if value < 60:
        return MarkdownSafe(f"{value:.2f}s")
    minutes, seconds = divmod(value, 60)
    return MarkdownSafe(f"{int(minutes)}m {seconds:.0f}s")


def _when(value: dt.datetime | None) -> MarkdownSafe:
    return MarkdownSafe("n/a" if value is None else f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")


def _code(value: Any) -> MarkdownSafe:
    text = str(value).replace("`", "'").replace("\n", " ")
    return MarkdownSafe(f"`{text}`")


@cache
def _environment() -> jinja2.Environment:
    return markdown_environment(
        "reporting_assets.sync",
        {"num": _num, "pct": _pct, "seconds": _seconds, "when": _when, "code": _code},
    )


def _rate(ok: int, total: int) -> float | None:
    return round(100.0 * ok / total, 1) if total else None


@dataclass
class CustomerView:
    """A customer's line plus what its report shows."""

    line: store.CustomerLine
    ops: dict[str, Any]
    batches: list[dict[str, Any]]
    order_errors: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:  # templates read the line's fields directly
        return getattr(self.line, name)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.line.status, self.line.status)

    @property
    def batches_succeeded(self) -> int:
        return sum(1 for b in self.batches if b["status"] in ("success", "planned"))

    @property
    def batch_success_rate(self) -> float | None:
        return _rate(self.batches_succeeded, len(self.batches))

    @property
    def records_per_second(self) -> float:
        return round(self.line.records_processed / self.line.seconds, 1) if self.line.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        line = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in vars(self.line).items()}
        return {
            **line,
            "status_label": self.status_label,
            "api_operations": {k: _plain(v) for k, v in self.ops.items() if k != "customer_key"},
            "batches_total": len(self.batches),
            "batches_succeeded": self.batches_succeeded,
            "batch_success_rate": self.batch_success_rate,
        }


def _plain(value: Any) -> Any:
    return float(value) if hasattr(value, "as_integer_ratio") and not isinstance(value, int) else value


_NO_OPS = {
    "operations": 0,
    "ok": 0,
    "partial": 0,
    "failed": 0,
    "timeouts": 0,
    "planned": 0,
    "retries": 0,
    "duration_ms": 0,
}


@dataclass
class SessionSummary:
    """What ``_SYNC_SUMMARY.md`` shows (and ``reporting.sync_sessions.summary_json`` holds)."""

    sync_id: str
    run_id: str | None
    environment: str
    dry_run: bool
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime
    filters: dict[str, Any]
    error: str | None
    customers: list[CustomerView]
    errors: list[dict[str, Any]]
    totals: dict[str, Any]

    @property
    def mode(self) -> str:
        return "🧪 DRY RUN (nothing sent, nothing changed)" if self.dry_run else "🚀 EXECUTED"

    @property
    def not_started(self) -> bool:
        """A failed session in which no customer started (each was locked by another session)."""
        return (
            self.status == "failed"
            and bool(self.customers)
            and all(c.line.status == store.NOT_STARTED and c.line.error for c in self.customers)
        )

    @property
    def status_label(self) -> str:
        return NOT_STARTED_SESSION if self.not_started else STATUS_LABELS.get(self.status, self.status)

    @property
    def customer_problems(self) -> list[CustomerView]:
        return [c for c in self.customers if c.line.error]

    def as_json(self) -> dict[str, Any]:
        return {
            "sync_id": self.sync_id,
            "run_id": self.run_id,
            "environment": self.environment,
            "dry_run": self.dry_run,
            "status": self.status,
            "not_started": self.not_started,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "filters": self.filters,
            "error": self.error,
            "totals": self.totals,
            "customers": [c.as_json() for c in self.customers],
            "errors_by_cause": [{k: v for k, v in e.items() if k != "customer_keys"} for e in self.errors],
        }


def build_summary(
    conn: Connection,
    sync_id: str,
    *,
    status: str,
    error: str | None,
    finished_at: dt.datetime,
    with_order_list: bool = True,
) -> SessionSummary:
    """The session's summary from its tables (a few set-based queries, whatever the size)."""
    session = store.get_session(conn, sync_id=sync_id)
    if session is None:
        raise ReportsFolderError(f"Sync session {sync_id} is not in reporting.sync_sessions.")
    lines = store.customer_lines(conn, sync_id)
    ops = store.operation_stats(conn, sync_id)
    batches_by_customer: dict[str, list[dict[str, Any]]] = {}
    for batch in store.batches(conn, sync_id):
        batch["seconds"] = float(batch["seconds"])
        batches_by_customer.setdefault(batch["customer_key"], []).append(batch)
    keys = [line.customer_key for line in lines]
    order_errors = store.order_errors(conn, keys, ORDER_ERRORS_PER_CUSTOMER) if with_order_list else {}
    pending = store.pending_summary(conn, keys, PENDING_LISTED) if with_order_list else {}
    customers = [
        CustomerView(
            line=line,
            ops={**_NO_OPS, **ops.get(line.customer_key, {})},
            batches=batches_by_customer.get(line.customer_key, []),
            order_errors=order_errors.get(line.customer_key, []),
            pending=pending.get(line.customer_key) or {"pending": 0, "with_error": 0, "first_orders": []},
        )
        for line in lines
    ]
    names = {line.customer_key: line.customer_name for line in lines}
    errors = []
    for row in store.errors_by_cause(conn, sync_id):
        errors.append(
            {
                "cause": row["cause"],
                "errors": row["errors"],
                "customers": row["customers"],
                "customer_keys": row["customer_keys"],
                "customer_names": [names.get(k, k) for k in row["customer_keys"]],
                "example": row["example"],
                "fix": FIXES.get(row["cause"], ""),
            }
        )
    started: dt.datetime = session["started_at"]
    duration = max((finished_at - started).total_seconds(), 0.0)
    processed = sum(c.line.records_processed for c in customers)
    batches_total = sum(len(c.batches) for c in customers)
    batches_ok = sum(c.batches_succeeded for c in customers)
    totals = {
        "customers": len(customers),
        "customers_success": sum(1 for c in customers if c.line.status == "success"),
        "customers_partial": sum(1 for c in customers if c.line.status == "partial"),
        "customers_failed": sum(
            1 for c in customers if c.line.status not in ("success", "partial", store.NOT_STARTED)
        ),
        "customers_not_started": sum(1 for c in customers if c.line.status == store.NOT_STARTED),
        "records_in_scope": sum(c.line.records_in_scope for c in customers),
        "records_processed": processed,
        "records_synced": sum(c.line.records_synced for c in customers),
        "items_created": sum(c.line.items_created for c in customers),
        "items_updated": sum(c.line.items_updated for c in customers),
        "subitems_created": sum(c.line.subitems_created for c in customers),
        "subitems_updated": sum(c.line.subitems_updated for c in customers),
        "errors": sum(c.line.errors for c in customers),
        "api_operations": sum(int(c.ops["operations"]) for c in customers),
        "api_failed": sum(int(c.ops["failed"]) + int(c.ops["timeouts"]) for c in customers),
        "api_retries": sum(int(c.ops["retries"]) for c in customers),
        "batches_total": batches_total,
        "batches_succeeded": batches_ok,
        "batch_success_rate": _rate(batches_ok, batches_total),
        "duration_seconds": round(duration, 3),
        "records_per_second": round(processed / duration, 1) if duration > 0 else 0.0,
    }
    return SessionSummary(
        sync_id=sync_id,
        run_id=session["run_id"],
        environment=session["environment"],
        dry_run=session["dry_run"],
        status=status,
        started_at=started,
        finished_at=finished_at,
        filters=dict(session["filters"] or {}),
        error=error,
        customers=customers,
        errors=errors,
        totals=totals,
    )


def render_summary(summary: SessionSummary) -> str:
    return _environment().get_template("sync_summary.md.j2").render(s=summary)


def render_customer_report(summary: SessionSummary, customer: CustomerView, generated_at: dt.datetime) -> str:
    return (
        _environment()
        .get_template("customer_report.md.j2")
        .render(s=summary, c=customer, generated_at=generated_at, batch_rows=BATCH_ROWS)
    )


def report_files(folder: SessionFolder, summary: SessionSummary) -> dict[str, str]:
    """customer key -> its report file (relative), named from the session's start."""
    return {
        c.line.customer_key: folder.customer_report_name(c.line.customer_key, summary.started_at)
        for c in summary.customers
    }


def assign_report_files(folder: SessionFolder, summary: SessionSummary) -> None:
    for customer, name in zip(summary.customers, report_files(folder, summary).values(), strict=True):
        customer.line.report_file = name


@dataclass
class WrittenFiles:
    files: list[str] = field(default_factory=list)
    error: ReportsFolderError | None = None


def write_session_files(
    folder: SessionFolder, summary: SessionSummary, summary_markdown: str, generated_at: dt.datetime
) -> WrittenFiles:
    """Customer reports first (they must exist), then group and batch summaries, then the
    executive summary. A failing file does not stop the others; the first error is returned."""
    out = WrittenFiles()
    documents: list[tuple[str, str]] = [
        (
            c.line.report_file or folder.customer_report_name(c.line.customer_key, summary.started_at),
            render_customer_report(summary, c, generated_at),
        )
        for c in summary.customers
    ]
    env = _environment()
    documents += [
        ("summaries/groups.md", env.get_template("groups.md.j2").render(s=summary)),
        ("summaries/groups.json", _json([_group_json(c) for c in summary.customers])),
        ("summaries/batches.md", env.get_template("batches.md.j2").render(s=summary)),
        ("summaries/batches.json", _json(_batches_json(summary.customers))),
        ("summaries/session.json", _json(summary.as_json())),
        (SUMMARY_FILE, summary_markdown),
    ]
    for name, text in documents:
        try:
            folder.write_text(name, text)
            out.files.append(name)
        except ReportsFolderError as exc:
            out.error = out.error or exc
            log.error("sr-001", "Could not write %s: %s", name, exc)
    if out.error is None:
        log.info("sr-002", "Wrote %d files to %s", len(out.files), folder.path)
    return out


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n"


def _group_json(c: CustomerView) -> dict[str, Any]:
    line = c.line
    return {
        "customer_key": line.customer_key,
        "customer_name": line.customer_name,
        "group_id": line.group_id,
        "group_title": line.group_title,
        "group_action": line.group_action,
        "pending_records_given_group_id": line.group_applied,
        "items_created": line.items_created,
        "items_updated": line.items_updated,
        "subitems_created": line.subitems_created,
        "subitems_updated": line.subitems_updated,
    }


def _batches_json(customers: Sequence[CustomerView]) -> list[Mapping[str, Any]]:
    return [
        {k: v for k, v in b.items() if k != "sync_id"} | {"customer_name": c.line.customer_name}
        for c in customers
        for b in c.batches
    ]
