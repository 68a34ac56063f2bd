"""Deliver one customer's daily summary by email, through the ledger (plain function; the
Dagster op in ``jobs.py`` wraps it).

Each active recipient is one ledger row and one SMTP transaction. A recipient who already has
this exact content is skipped; one who got an earlier version gets a short correction (kind
``summary_correction``) naming what changed; everyone else gets the summary. A run requested
for a content hash that is no longer current sends nothing: the sensor requests the new one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from reporting_assets.customer_settings.store import subject_prefix
from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.errors import DeliveryAttemptError, DeliveryError
from reporting_assets.delivery.jobs import JOB_NAME
from reporting_assets.delivery.ledger import (
    DEFAULT_STALE_AFTER,
    DeliveryKey,
    Kind,
    OutcomeStatus,
    Sent,
    deliver_once,
    record_pending,
    sent_before,
)
from reporting_assets.delivery.recipients import Recipient, active_recipients
from reporting_assets.delivery.render import compose_correction, compose_summary
from reporting_assets.delivery.smtp import SmtpSettings, send_with_retries
from reporting_assets.delivery.summaries import (
    SummaryVersion,
    changes,
    describe,
    load_current,
    load_version,
    subject_key,
)

SUMMARY_KINDS: tuple[Kind, ...] = ("daily_summary", "summary_correction")


@dataclass(frozen=True)
class RecipientOutcome:
    recipient: str
    kind: Kind
    status: OutcomeStatus
    attempts: int = 0
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SummaryDeliveryReport:
    subject_key: str
    requested_hash: str
    current: SummaryVersion
    outcomes: list[RecipientOutcome] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        """The run asked for a version that has since been restated: nothing was sent."""
        return self.current.content_hash != self.requested_hash

    def with_status(self, *statuses: OutcomeStatus) -> list[RecipientOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def failed(self) -> list[RecipientOutcome]:
        """Deliveries that did not go out: failed, or left 'sending' by a run that died."""
        return self.with_status("failed", "in_progress")

    def failure_message(self) -> str:
        failed = self.failed
        lines = "\n".join(f"  - {o.recipient} ({o.kind}): {o.error}" for o in failed)
        return (
            f"Daily summary email {self.current.partition_key} (version {self.current.version}): "
            f"{len(failed)} of {len(self.outcomes)} recipient(s) failed:\n{lines}\n"
            f"The summary itself is unchanged. These deliveries are 'failed' in reporting.deliveries, "
            f"or still 'sending' where another run held them (see `reporting-assets deliveries list`). "
            f"daily_summary_email_sensor "
            f"retries them in a new run after retry_after_minutes (up to retry_runs runs). To retry "
            f"now, once the cause is fixed, re-execute this run (Dagster UI: Runs > this run > "
            f"Re-execute) or launch {JOB_NAME} with the same config: recipients already sent are "
            f"skipped, only the failed ones are sent."
        )

    def as_metadata(self) -> dict[str, Any]:
        return {
            "subject_key": self.subject_key,
            "version": self.current.version,
            "content_hash": self.requested_hash,
            "stale": self.stale,
            "sent": [o.recipient for o in self.with_status("sent")],
            "already_sent": [o.recipient for o in self.with_status("already_sent")],
            "failed": {o.recipient: o.error for o in self.failed},
        }


@contextmanager
def subject_lock(conn: Connection, key: str) -> Iterator[None]:
    """Hold a session-level advisory lock on a delivery subject (waits for another holder)."""
    conn.execute(query("delivery_lock"), {"subject_key": key})
    conn.commit()
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.rollback()
            conn.execute(query("delivery_unlock"), {"subject_key": key})
            conn.commit()


@dataclass(frozen=True)
class _Plan:
    recipient: Recipient
    key: DeliveryKey
    based_on_hash: str | None  # the content the recipient already has (corrections)


def _plan(
    conn: Connection, current: SummaryVersion, recipients: list[Recipient]
) -> tuple[list[_Plan], list[RecipientOutcome]]:
    plans: list[_Plan] = []
    done: list[RecipientOutcome] = []
    subject = current.subject_key
    for recipient in recipients:
        sent = sent_before(conn, subject, channel="email", recipient=recipient.email, kinds=SUMMARY_KINDS)
        same = [d for d in sent if d.key.content_hash == current.content_hash]
        if same:
            done.append(RecipientOutcome(recipient.email, same[-1].key.kind, "already_sent"))
            continue
        kind: Kind = "summary_correction" if sent else "daily_summary"
        key = DeliveryKey(kind, subject, "email", recipient.email, current.content_hash)
        plans.append(_Plan(recipient, key, sent[-1].key.content_hash if sent else None))
    return plans, done


def deliver_daily_summary(
    conn: Connection,
    settings: SmtpSettings,
    customer_key: str,
    day: dt.date,
    content_hash: str,
    *,
    log: Callable[[str], None] = lambda _line: None,
    sleep: Callable[[float], None] = time.sleep,
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER,
) -> SummaryDeliveryReport:
    """Email ``customer_key``'s summary of ``day`` (version ``content_hash``) to its active
    recipients, each at most once per content. Never raises for SMTP failures: they end as
    ``failed`` outcomes (and ledger rows); see :meth:`SummaryDeliveryReport.failure_message`."""
    subject = subject_key(customer_key, day)
    with subject_lock(conn, subject):
        current = load_current(conn, customer_key, day)
        if current is None:
            raise DeliveryError(
                f"No daily summary is stored for {customer_key}|{day.isoformat()}; materialize the "
                f"day's summary first, then launch {JOB_NAME} again."
            )
        report = SummaryDeliveryReport(subject, content_hash, current)
        if report.stale:
            log(
                f"{current.partition_key} was restated since this run was requested (requested "
                f"{content_hash[:12]}, now version {current.version} {current.content_hash[:12]}): "
                f"nothing sent; the sensor requests the current version."
            )
            return report
        recipients = active_recipients(conn, customer_key)
        if not recipients:
            log(
                f"{customer_key} has no active summary recipients; add one with "
                f"`reporting-assets recipients add {customer_key!r} name@example.com`."
            )
            return report
        plans, outcomes = _plan(conn, current, recipients)
        for skipped in outcomes:
            log(f"{skipped.recipient}: already has version {current.version}, not sent again")
        record_pending(conn, [p.key for p in plans], [{"version": current.version} for p in plans])
        conn.commit()
        previous_versions: dict[str, SummaryVersion | None] = {}
        for plan in plans:
            message, metadata = _compose(conn, settings, current, plan, previous_versions)

            def send(message: EmailMessage = message, recipient: str = plan.recipient.email) -> Sent:
                def retrying(attempt: int, exc: DeliveryAttemptError, delay: float) -> None:
                    log(f"{recipient}: attempt {attempt} failed ({exc}); retrying in {delay:g}s")

                result = send_with_retries(settings, message, sleep=sleep, on_retry=retrying)
                return Sent(message_id=result.message_id, attempts=result.attempts)

            outcome = deliver_once(conn, plan.key, send, metadata=metadata, stale_after=stale_after)
            row = outcome.delivery
            error = outcome.error
            if outcome.status == "in_progress" and row is not None:
                # under the subject lock nobody else is sending: a run died mid-send
                error = (
                    f"left 'sending' at {row.updated_at:%Y-%m-%d %H:%M:%S} UTC by a run that stopped "
                    f"mid-send (it may have gone out); a run started after "
                    f"{row.updated_at + stale_after:%Y-%m-%d %H:%M:%S} UTC sends it again"
                )
            outcomes.append(
                RecipientOutcome(
                    plan.recipient.email,
                    plan.key.kind,
                    outcome.status,
                    attempts=row.attempts if row else 0,
                    message_id=row.message_id if row else None,
                    error=error,
                )
            )
            log(f"{plan.recipient.email}: {plan.key.kind} {outcome.status}" + (f": {error}" if error else ""))
        return SummaryDeliveryReport(subject, content_hash, current, outcomes)


def _compose(
    conn: Connection,
    settings: SmtpSettings,
    current: SummaryVersion,
    plan: _Plan,
    previous_versions: dict[str, SummaryVersion | None],
) -> tuple[EmailMessage, dict[str, Any]]:
    metadata: dict[str, Any] = {"version": current.version}
    if plan.based_on_hash is None:
        message = compose_summary(current, plan.recipient, settings.sender)
    else:
        if plan.based_on_hash not in previous_versions:
            previous_versions[plan.based_on_hash] = load_version(
                conn, current.customer_key, current.summary_date, plan.based_on_hash
            )
        previous = previous_versions[plan.based_on_hash]
        found = changes(previous, current) if previous is not None else []
        message = compose_correction(previous, current, found, plan.recipient, settings.sender)
        metadata["based_on_version"] = previous.version if previous is not None else None
        metadata["changes"] = describe(found) if previous is not None else "earlier version not on record"
    prefix = subject_prefix(conn, current.customer_key)
    if prefix:
        message.replace_header("Subject", f"{prefix} {message['Subject']}")
    metadata["subject"] = str(message["Subject"])
    return message, metadata
