"""The ``send_daily_summary_emails`` job: one op that delivers one customer's day through the
ledger (:mod:`reporting_assets.delivery.daily_summary`, imported when the op runs). Run config
names the customer, the day and the summary's content hash."""

import datetime as dt

import dagster as dg
from pydantic import Field, field_validator

from reporting_assets.delivery.smtp import SmtpResource
from reporting_assets.logging_ids import get_logger
from reporting_assets.resources import PostgresResource

JOB_NAME = "send_daily_summary_emails"
OP_NAME = "send_daily_summary_email"


class SendDailySummaryConfig(dg.Config):
    customer_key: str = Field(description="Customer partition key, e.g. 'PELOTON'.")
    summary_date: str = Field(description="Summary day, YYYY-MM-DD (UTC).")
    content_hash: str = Field(
        description="Content hash of the summary version to send; when the summary has been "
        "restated since, the run sends nothing (the sensor requests the new version)."
    )

    @field_validator("summary_date")
    @classmethod
    def _check_date(cls, value: str) -> str:
        dt.date.fromisoformat(value)
        return value

    @field_validator("content_hash")
    @classmethod
    def _check_hash(cls, value: str) -> str:
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("content_hash must be the summary's 64-character lowercase hex SHA-256")
        return value


def run_config_for(customer_key: str, summary_date: dt.date, content_hash: str) -> dict[str, object]:
    """The run config of a ``send_daily_summary_emails`` run."""
    return {
        "ops": {
            OP_NAME: {
                "config": {
                    "customer_key": customer_key,
                    "summary_date": summary_date.isoformat(),
                    "content_hash": content_hash,
                }
            }
        }
    }


@dg.op(
    name=OP_NAME,
    description="Email the customer's daily summary (or a correction) to each active recipient, "
    "once per content, recording every delivery in reporting.deliveries.",
)
def send_daily_summary_email(
    context: dg.OpExecutionContext,
    config: SendDailySummaryConfig,
    postgres: PostgresResource,
    smtp: SmtpResource,
) -> None:
    from reporting_assets.delivery.daily_summary import deliver_daily_summary

    settings = smtp.settings()
    day = dt.date.fromisoformat(config.summary_date)
    get_logger(__name__, context.log).info(
        "dj-001",
        "Delivering daily summary %s|%s via %s",
        config.customer_key,
        config.summary_date,
        settings.describe(),
    )
    with postgres.connection(doing="sending the daily summary email") as conn:
        report = deliver_daily_summary(
            conn, settings, config.customer_key, day, config.content_hash, log=context.log.info
        )
    context.add_output_metadata(
        {
            "subject_key": report.subject_key,
            "version": report.current.version,
            "stale": report.stale,
            "sent": len(report.with_status("sent")),
            "already_sent": len(report.with_status("already_sent")),
            "failed": len(report.failed),
            "deliveries": dg.MetadataValue.json(report.as_metadata()),
        }
    )
    if report.failed:
        raise dg.Failure(
            description=report.failure_message(),
            metadata={"failed_recipients": ", ".join(o.recipient for o in report.failed)},
        )


@dg.job(
    name=JOB_NAME,
    description="Send one customer's daily summary email for one day (requested by "
    "daily_summary_email_sensor; safe to re-run: nothing is sent twice).",
    tags={"reporting/kind": "delivery"},
)
def send_daily_summary_emails() -> None:
    send_daily_summary_email()
