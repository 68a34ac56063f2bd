"""Daily summaries as the email sees them: the current version, an earlier (sent) version from
the history of restatements, and what changed between the two."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.partition_keys import CustomerDay

SUBJECT_PREFIX = "daily_summary:"
TOTAL_LABELS = {
    "total_pipelines": "Pipeline runs",
    "successful_pipelines": "Successful runs",
    "new_orders": "New orders",
    "updated_orders": "Updated orders",
    "manufacturing_updates": "Manufacturing updates",
    "shipping_updates": "Shipping updates",
}


def subject_key(customer_key: str, day: dt.date) -> str:
    """The ledger subject of a customer's day: ``daily_summary:PELOTON|2025-06-17``."""
    return f"{SUBJECT_PREFIX}{CustomerDay(customer_key, day).partition_key}"


def incomplete_reason(missing: Sequence[str], failed: Sequence[str]) -> str:
    """``missing shipping_sync; failed order_sync`` (why a day is incomplete)."""
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if failed:
        parts.append("failed " + ", ".join(failed))
    return "; ".join(parts) or "not all pipelines reported"


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


@dataclass(frozen=True)
class SummaryVersion:
    """One version of a customer's daily summary (current or from the history)."""

    customer_key: str
    customer_name: str
    summary_date: dt.date
    version: int
    content_hash: str
    combined_markdown: str
    status_json: dict[str, Any]
    is_complete: bool
    missing: tuple[str, ...]
    failed: tuple[str, ...]
    totals: dict[str, int]
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SummaryVersion:
        status = dict(row["status_json"] or {})
        missing = row["missing_pipelines"]
        return cls(
            customer_key=row["customer_key"],
            customer_name=row["customer_name"],
            summary_date=row["summary_date"],
            version=row["version"],
            content_hash=row["content_hash"].strip(),
            combined_markdown=row["combined_markdown"],
            status_json=status,
            # history rows carry no missing_pipelines column: status_json has the same list
            is_complete=bool(row["is_complete"]) and status.get("complete", True) is not False,
            missing=tuple(missing) if missing is not None else _names(status.get("missing")),
            failed=_names(status.get("failed")),
            totals={name: int(row[name]) for name in TOTAL_LABELS},
            updated_at=row["updated_at"],
        )

    @property
    def subject_key(self) -> str:
        return subject_key(self.customer_key, self.summary_date)

    @property
    def partition_key(self) -> str:
        return CustomerDay(self.customer_key, self.summary_date).partition_key

    def incomplete_reason(self) -> str | None:
        """``missing shipping_sync; failed order_sync`` for an incomplete day, None when complete."""
        return None if self.is_complete else incomplete_reason(self.missing, self.failed)

    def status_text(self) -> str:
        reason = self.incomplete_reason()
        return "complete" if reason is None else f"incomplete ({reason})"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def load_current(conn: Connection, customer_key: str, day: dt.date) -> SummaryVersion | None:
    row = conn.execute(
        query("delivery_summary_current"), {"customer_key": customer_key, "summary_date": day}
    ).fetchone()
    return SummaryVersion.from_row(row) if row else None


def load_version(
    conn: Connection, customer_key: str, day: dt.date, content_hash: str
) -> SummaryVersion | None:
    """The version that had ``content_hash`` (current row or history), None if unknown."""
    row = conn.execute(
        query("delivery_summary_version"),
        {"customer_key": customer_key, "summary_date": day, "content_hash": content_hash},
    ).fetchone()
    return SummaryVersion.from_row(row) if row else None


def changes(before: SummaryVersion, after: SummaryVersion) -> list[Change]:
    """What differs between two versions: status first, then each total that changed."""
    found: list[Change] = []
    if before.status_text() != after.status_text():
        found.append(Change("Status", before.status_text(), after.status_text()))
    for name, label in TOTAL_LABELS.items():
        old, new = before.totals[name], after.totals[name]
        if old != new:
            found.append(Change(label, f"{old:,}", f"{new:,} ({new - old:+,})"))
    return found


def describe(items: Sequence[Change]) -> str:
    """A one-line summary of changes, for logs and ledger metadata."""
    return "; ".join(f"{c.label}: {c.before} → {c.after}" for c in items) or "details revised"
