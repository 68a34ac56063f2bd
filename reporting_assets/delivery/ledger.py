"""The one delivery ledger, ``reporting.deliveries``: every email or S3 object
the project sends is a row keyed by (kind, subject, channel, recipient, content hash).

A key is delivered once: :func:`claim` atomically moves a row to ``sending`` only when it is
new, ``pending``, ``failed`` or abandoned in ``sending`` by a crashed process, so a retried or
concurrent run never sends what is already ``sent`` or being sent. :func:`deliver_once` wraps
claim, send and the final mark for any channel (email here, S3 exports later).

Primitives do not commit; :func:`deliver_once` commits each state change so the ledger tells
the truth even if the process dies mid-send. SQL lives in ``sql/queries/delivery_*.sql``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.errors import DeliveryAttemptError, DeliveryError
from reporting_assets.delivery.states import CHANNELS, KINDS, STATUSES, Channel, Kind, Status

DEFAULT_STALE_AFTER = dt.timedelta(minutes=15)
"""A row left in ``sending`` longer than this belongs to a dead process and may be claimed."""

_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class DeliveryKey:
    """What is delivered to whom: the ledger's natural key."""

    kind: Kind
    subject_key: str
    channel: Channel
    recipient: str
    content_hash: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DeliveryError(f"Unknown delivery kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        if self.channel not in CHANNELS:
            raise DeliveryError(f"Unknown channel {self.channel!r}; use one of {', '.join(CHANNELS)}.")
        if not self.subject_key or len(self.subject_key) > 500:
            raise DeliveryError("A delivery subject key must be 1-500 characters.")
        if not self.recipient or len(self.recipient) > 1024:
            raise DeliveryError("A delivery recipient/target must be 1-1024 characters.")
        if not _HASH.match(self.content_hash):
            raise DeliveryError(
                f"Content hash {self.content_hash!r} is not a lowercase hex SHA-256 (64 characters)."
            )

    def params(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "subject_key": self.subject_key,
            "channel": self.channel,
            "recipient": self.recipient,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class Delivery:
    """One ledger row."""

    id: int
    key: DeliveryKey
    status: Status
    attempts: int
    last_error: str | None
    message_id: str | None
    object_key: str | None
    metadata: dict[str, Any]
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Delivery:
        return cls(
            id=row["id"],
            key=DeliveryKey(
                kind=row["kind"],
                subject_key=row["subject_key"],
                channel=row["channel"],
                recipient=row["recipient"],
                content_hash=row["content_hash"],
            ),
            status=row["status"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            message_id=row["message_id"],
            object_key=row["object_key"],
            metadata=dict(row["metadata"] or {}),
            sent_at=row["sent_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly dict (CLI ``--json``)."""
        return {
            "id": self.id,
            **self.key.params(),
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "message_id": self.message_id,
            "object_key": self.object_key,
            "metadata": self.metadata,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Sent:
    """What a successful send reports back: an email's Message-ID or an S3 object key."""

    message_id: str | None = None
    object_key: str | None = None
    attempts: int = 1


OutcomeStatus = Literal["sent", "failed", "already_sent", "in_progress"]


@dataclass(frozen=True)
class DeliveryOutcome:
    key: DeliveryKey
    status: OutcomeStatus
    delivery: Delivery | None
    error: str | None = None


def record_pending(
    conn: Connection, keys: Sequence[DeliveryKey], metadata: Sequence[Mapping[str, Any]] | None = None
) -> None:
    """Record planned deliveries as ``pending`` (existing rows, whatever their state, stay)."""
    if not keys:
        return
    extra = list(metadata) if metadata is not None else [{} for _ in keys]
    if len(extra) != len(keys):
        raise ValueError("record_pending: one metadata mapping per key")
    conn.execute(
        query("delivery_record_pending"),
        {
            "kinds": [k.kind for k in keys],
            "subject_keys": [k.subject_key for k in keys],
            "channels": [k.channel for k in keys],
            "recipients": [k.recipient for k in keys],
            "content_hashes": [k.content_hash for k in keys],
            "metadata": [Jsonb(dict(m)) for m in extra],
        },
    )


def claim(
    conn: Connection,
    key: DeliveryKey,
    *,
    metadata: Mapping[str, Any] | None = None,
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER,
) -> Delivery | None:
    """Move ``key`` to ``sending`` and return its row, or None when it is already sent or
    another process is sending it now. Atomic: two concurrent claims never both win."""
    row = conn.execute(
        query("delivery_claim"),
        {**key.params(), "metadata": Jsonb(dict(metadata or {})), "stale_after": stale_after},
    ).fetchone()
    return Delivery.from_row(row) if row else None


def mark_sent(
    conn: Connection,
    delivery_id: int,
    *,
    attempts: int = 1,
    message_id: str | None = None,
    object_key: str | None = None,
) -> Delivery:
    row = conn.execute(
        query("delivery_mark_sent"),
        {"id": delivery_id, "attempts": attempts, "message_id": message_id, "object_key": object_key},
    ).fetchone()
    if row is None:
        raise DeliveryError(f"Delivery {delivery_id} is not in 'sending'; was it claimed?")
    return Delivery.from_row(row)


def mark_failed(conn: Connection, delivery_id: int, *, error: str, attempts: int = 1) -> Delivery:
    row = conn.execute(
        query("delivery_mark_failed"),
        {"id": delivery_id, "attempts": attempts, "error": error or "unknown error"},
    ).fetchone()
    if row is None:
        raise DeliveryError(f"Delivery {delivery_id} is not in 'sending'; was it claimed?")
    return Delivery.from_row(row)


def get(conn: Connection, key: DeliveryKey) -> Delivery | None:
    row = conn.execute(query("delivery_get"), key.params()).fetchone()
    return Delivery.from_row(row) if row else None


def for_subject(
    conn: Connection,
    subject_key: str,
    *,
    channel: Channel | None = None,
    recipient: str | None = None,
    status: Status | None = None,
    kinds: Sequence[Kind] | None = None,
) -> list[Delivery]:
    """Deliveries of a subject, sent ones first in the order they went out."""
    rows = conn.execute(
        query("delivery_for_subject"),
        {
            "subject_key": subject_key,
            "channel": channel,
            "recipient": recipient,
            "status": status,
            "kinds": list(kinds) if kinds is not None else None,
        },
    ).fetchall()
    return [Delivery.from_row(r) for r in rows]


def sent_before(
    conn: Connection,
    subject_key: str,
    *,
    channel: Channel | None = None,
    recipient: str | None = None,
    kinds: Sequence[Kind] | None = None,
) -> list[Delivery]:
    """What was sent for a subject (optionally to one recipient), oldest first."""
    return for_subject(conn, subject_key, channel=channel, recipient=recipient, status="sent", kinds=kinds)


def recent(
    conn: Connection, *, status: Status | None = None, subject_prefix: str | None = None, limit: int = 50
) -> list[Delivery]:
    """The most recently changed deliveries (for the CLI)."""
    if status is not None and status not in STATUSES:
        raise DeliveryError(f"Unknown delivery status {status!r}; use one of {', '.join(STATUSES)}.")
    rows = conn.execute(
        query("delivery_list"), {"status": status, "subject_prefix": subject_prefix, "limit": limit}
    ).fetchall()
    return [Delivery.from_row(r) for r in rows]


def deliver_once(
    conn: Connection,
    key: DeliveryKey,
    send: Callable[[], Sent],
    *,
    metadata: Mapping[str, Any] | None = None,
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER,
) -> DeliveryOutcome:
    """Claim ``key``, call ``send`` and record the result; commit each step.

    ``send`` raises :class:`DeliveryAttemptError` (with the number of tries it made) when it
    gives up; the row ends ``failed`` with that message. Any other exception also marks the row
    ``failed`` and propagates. Returns ``already_sent`` / ``in_progress`` without calling
    ``send`` when the key is not claimable.
    """
    conn.commit()  # the claim must be its own, committed transaction
    claimed = claim(conn, key, metadata=metadata, stale_after=stale_after)
    conn.commit()
    if claimed is None:
        existing = get(conn, key)
        conn.commit()
        status: OutcomeStatus = (
            "already_sent" if existing is not None and existing.status == "sent" else "in_progress"
        )
        return DeliveryOutcome(key, status, existing)
    try:
        sent = send()
    except DeliveryAttemptError as exc:
        failed = mark_failed(conn, claimed.id, error=str(exc), attempts=exc.attempts)
        conn.commit()
        return DeliveryOutcome(key, "failed", failed, str(exc))
    except BaseException as exc:
        with contextlib.suppress(Exception):  # keep the original error if the database is gone too
            conn.rollback()
            mark_failed(conn, claimed.id, error=f"{type(exc).__name__}: {exc}", attempts=1)
            conn.commit()
        raise
    done = mark_sent(
        conn, claimed.id, attempts=sent.attempts, message_id=sent.message_id, object_key=sent.object_key
    )
    conn.commit()
    return DeliveryOutcome(key, "sent", done)
