"""Alert emails: a source whose success rate fell under the threshold in a report window is
emailed to the configured recipients once per window, through the shared SMTP settings and the
delivery ledger (``reporting.deliveries``, kind ``alert``).

The ledger key is (``alert``, ``automation_alert:<source>:<window end>/<hours>h``, ``email``,
recipient, hash of that subject): the *window* is what is alerted once, so a re-run of the same
window, or a second run racing it, never sends the same alert again, even if late lineage
changed the figures. The next window (the next scheduled report) alerts again if the source is
still failing. A failed send stays ``failed`` in the ledger and is retried by re-running.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cache
from typing import Any

import jinja2

from reporting_assets.automation.render import render_alert_markdown
from reporting_assets.automation.window import ReportWindow, parse_report_time
from reporting_assets.db.connection import Connection
from reporting_assets.delivery.addresses import normalize_email
from reporting_assets.delivery.errors import DeliveryAttemptError
from reporting_assets.delivery.ledger import DeliveryKey, OutcomeStatus, Sent, deliver_once
from reporting_assets.delivery.render import markdown_to_html
from reporting_assets.delivery.smtp import SmtpSettings, send_with_retries


def alert_subject_key(source: str, window: ReportWindow) -> str:
    """``automation_alert:order_sync:2025-07-10T21:00:00Z/24h``: one alert per source and window."""
    return f"automation_alert:{source}:{window.key()}"


def document_window(document: dict[str, Any]) -> ReportWindow:
    meta = document["metadata"]
    return ReportWindow.ending_at(parse_report_time(meta["window_end"]), int(meta["time_window_hours"]))


def alert_subject(document: dict[str, Any]) -> str:
    meta, metrics = document["metadata"], document["performance_metrics"]
    rate = metrics["overall_success_rate"]
    shown = "n/a" if rate is None else f"{rate * 100:.1f}%"
    window = document_window(document)
    return (
        f"Automation alert – {meta['source']} success rate {shown} < {meta['alert_threshold'] * 100:g}% "
        f"({window.hours} h to {window.end:%Y-%m-%d %H:%M} UTC)"
    )


@cache
def _html_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reporting_assets.automation", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def compose_alert(document: dict[str, Any], recipient: str, sender: str) -> EmailMessage:
    """The alert for one recipient: plain-text markdown plus the same rendered as HTML."""
    text = render_alert_markdown(document)
    subject = alert_subject(document)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Auto-Submitted"] = "auto-generated"
    message["X-Reporting-Subject"] = alert_subject_key(
        document["metadata"]["source"], document_window(document)
    )
    message.set_content(text)
    html = (
        _html_environment()
        .get_template("automation_alert_email.html.j2")
        .render(subject=subject, body=markdown_to_html(text))
    )
    message.add_alternative(html, subtype="html")
    return message


@dataclass(frozen=True)
class AlertOutcome:
    source: str
    recipient: str
    status: OutcomeStatus
    error: str | None = None


@dataclass(frozen=True)
class AlertReport:
    due: list[str] = field(default_factory=list)  # sources below the threshold
    outcomes: list[AlertOutcome] = field(default_factory=list)

    def with_status(self, *statuses: OutcomeStatus) -> list[AlertOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def failed(self) -> list[AlertOutcome]:
        return self.with_status("failed", "in_progress")

    def failure_message(self) -> str:
        lines = "\n".join(f"  - {o.source} -> {o.recipient}: {o.error}" for o in self.failed)
        return (
            f"{len(self.failed)} automation alert email(s) were not sent:\n{lines}\n"
            f"The reports are stored. The deliveries are 'failed' in reporting.deliveries "
            f"(`reporting-assets deliveries list --status failed --subject automation_alert:`); once "
            f"the cause is fixed, re-execute this run: alerts already sent are skipped."
        )


def validate_recipients(recipients: Sequence[str]) -> list[str]:
    """Trimmed, lower-case, de-duplicated addresses (RecipientError for a bad one)."""
    return list(dict.fromkeys(normalize_email(r) for r in recipients if r.strip()))


def send_alerts(
    conn: Connection,
    settings: SmtpSettings,
    recipients: Sequence[str],
    documents: Sequence[dict[str, Any]],
    *,
    log: Callable[[str], None] = lambda _line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertReport:
    """Email every document flagged ``below_alert_threshold`` to each recipient, once per
    (source, window, recipient). Never raises for SMTP failures: see :attr:`AlertReport.failed`."""
    due = [d for d in documents if d["performance_metrics"]["below_alert_threshold"]]
    report = AlertReport(due=[d["metadata"]["source"] for d in due])
    if not due:
        return report
    addresses = validate_recipients(recipients)
    if not addresses:
        log(
            f"{len(due)} source(s) below the alert threshold ({', '.join(report.due)}) but no alert "
            f"recipients are configured: set REPORTING_AUTOMATION_ALERT_RECIPIENTS (comma-separated)."
        )
        return report
    for document in due:
        source = document["metadata"]["source"]
        subject = alert_subject_key(source, document_window(document))
        identity = hashlib.sha256(subject.encode()).hexdigest()
        for recipient in addresses:
            message = compose_alert(document, recipient, settings.sender)

            def send(message: EmailMessage = message, source: str = source) -> Sent:
                def retrying(attempt: int, exc: DeliveryAttemptError, delay: float) -> None:
                    log(
                        f"alert {source} -> {message['To']}: try {attempt} failed ({exc}); "
                        f"retrying in {delay:g}s"
                    )

                result = send_with_retries(settings, message, sleep=sleep, on_retry=retrying)
                return Sent(message_id=result.message_id, attempts=result.attempts)

            key = DeliveryKey("alert", subject, "email", recipient, identity)
            outcome = deliver_once(
                conn,
                key,
                send,
                metadata={
                    "subject": str(message["Subject"]),
                    "success_rate": document["performance_metrics"]["overall_success_rate"],
                    "total_actions": document["performance_metrics"]["total_actions"],
                    "failed_actions": document["performance_metrics"]["failed_actions"],
                },
            )
            report.outcomes.append(AlertOutcome(source, recipient, outcome.status, outcome.error))
            log(
                f"alert {source} -> {recipient}: {outcome.status}"
                + (f": {outcome.error}" if outcome.error else "")
            )
    return report
