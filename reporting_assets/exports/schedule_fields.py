"""What a schedule may hold: its fields checked when it is saved, so that a schedule that
could never run (no recipient, no bucket, a subject that breaks the email header) is refused
then, and where its S3 deliveries go."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reporting_assets.delivery.addresses import normalize_email
from reporting_assets.delivery.errors import RecipientError
from reporting_assets.exports.checks import check_name, jsonb_or_none
from reporting_assets.exports.errors import ScheduleValidationError, StorageError
from reporting_assets.exports.formats import FORMATS
from reporting_assets.exports.s3 import ENV_PREFIX as S3_ENV_PREFIX
from reporting_assets.exports.s3 import S3Settings, check_bucket_name, check_prefix, probe_bucket
from reporting_assets.exports.scheduling import check_cron, check_timezone

DELIVERY_METHODS = ("email", "s3", "both")
MAX_RECIPIENTS = 50
SCHEDULE_FIELDS = {
    "name",
    "description",
    "cron_expression",
    "timezone",
    "format",
    "delivery_method",
    "recipients",
    "s3_config",
    "email_config",
    "is_active",
}

# What str.splitlines (and so an email header) treats as a line break: a subject with one of
# them would fail every run of its schedule, so it is refused when the schedule is saved.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class ScheduleFields:
    name: str
    description: str | None
    cron_expression: str
    timezone: str
    format: str
    delivery_method: str
    recipients: list[str]
    s3_config: dict[str, Any] | None
    email_config: dict[str, Any] | None
    is_active: bool

    def sql_params(self) -> dict[str, Any]:
        """The saved columns as query parameters, shared by the insert and the update."""
        return {
            "name": self.name,
            "description": self.description,
            "cron_expression": self.cron_expression,
            "timezone": self.timezone,
            "format": self.format,
            "delivery_method": self.delivery_method,
            "recipients": self.recipients,
            "s3_config": jsonb_or_none(self.s3_config),
            "email_config": jsonb_or_none(self.email_config),
            "is_active": self.is_active,
        }


def check_schedule(values: Mapping[str, Any], s3: S3Settings | None) -> ScheduleFields:
    name = check_name(values.get("name"), "schedule", ScheduleValidationError)
    description = values.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 10_000):
        raise ScheduleValidationError("description: must be text of at most 10,000 characters")
    cron = check_cron(str(values.get("cron_expression") or ""))
    timezone = check_timezone(str(values.get("timezone") or "UTC"))
    fmt = values.get("format")
    if fmt not in FORMATS:
        raise ScheduleValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    method = values.get("delivery_method")
    if method not in DELIVERY_METHODS:
        raise ScheduleValidationError(
            f"delivery_method: {method!r} is not one of {', '.join(DELIVERY_METHODS)}"
        )
    raw = values.get("recipients") or []
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise ScheduleValidationError("recipients: must be a list of email addresses")
    recipients: list[str] = []
    for i, text in enumerate(raw):
        try:
            email = normalize_email(str(text))
        except RecipientError as exc:
            raise ScheduleValidationError(f"recipients[{i}]: {exc}") from None
        if email not in recipients:
            recipients.append(email)
    if method in ("email", "both") and not recipients:
        raise ScheduleValidationError(
            f"recipients: delivery_method {method!r} sends email, so at least one recipient is needed "
            f"(or use delivery_method 's3')"
        )
    if len(recipients) > MAX_RECIPIENTS:
        raise ScheduleValidationError(f"recipients: at most {MAX_RECIPIENTS} addresses per schedule")
    s3_config = values.get("s3_config")
    if s3_config is not None:
        if not isinstance(s3_config, Mapping) or set(s3_config) - {"bucket", "prefix"}:
            raise ScheduleValidationError('s3_config: must be {"bucket": ..., "prefix": ...} (both optional)')
        s3_config = dict(s3_config)
        try:
            if s3_config.get("bucket") is not None:
                s3_config["bucket"] = check_bucket_name(str(s3_config["bucket"]))
            if s3_config.get("prefix") is not None:
                s3_config["prefix"] = check_prefix(str(s3_config["prefix"]))
        except StorageError as exc:
            raise ScheduleValidationError(str(exc)) from None
    if method in ("s3", "both"):
        _s3_bucket(s3_config, s3, str(method))
    email_config = values.get("email_config")
    if email_config is not None:
        if not isinstance(email_config, Mapping) or set(email_config) - {"subject", "body", "attach"}:
            raise ScheduleValidationError(
                'email_config: must be {"subject": ..., "body": ..., "attach": true|false} (all optional)'
            )
        subject = email_config.get("subject")
        if subject is not None and (
            not isinstance(subject, str) or len(subject) > 200 or _LINE_BREAKS.search(subject)
        ):
            raise ScheduleValidationError("email_config.subject: one line of at most 200 characters")
        body = email_config.get("body")
        if body is not None and (not isinstance(body, str) or len(body) > 5000):
            raise ScheduleValidationError("email_config.body: text of at most 5,000 characters")
        if "attach" in email_config and not isinstance(email_config["attach"], bool):
            raise ScheduleValidationError("email_config.attach: must be true or false")
        email_config = dict(email_config)
    is_active = values.get("is_active", True)
    if not isinstance(is_active, bool):
        raise ScheduleValidationError("is_active: must be true or false")
    return ScheduleFields(
        name,
        description,
        cron,
        timezone,
        str(fmt),
        str(method),
        recipients,
        s3_config,
        email_config,
        is_active,
    )


def _s3_bucket(s3_config: Mapping[str, Any] | None, s3: S3Settings | None, method: str) -> str:
    """The bucket an S3 delivery of this schedule uploads to: its own, else the configured
    default; a schedule with neither would fail at every run, so it is refused."""
    bucket = str((s3_config or {}).get("bucket") or "")
    if bucket:
        return bucket
    default = s3.bucket if s3 is not None else ""
    if not default:
        raise ScheduleValidationError(
            f"s3_config.bucket: delivery_method {method!r} uploads to S3, but the schedule names no "
            f"bucket and no default bucket is configured; give one (s3_config.bucket, or --s3-bucket "
            f"NAME on the command line) or set {S3_ENV_PREFIX}BUCKET"
        )
    try:
        return check_bucket_name(default, f"{S3_ENV_PREFIX}BUCKET (the default bucket)")
    except StorageError as exc:
        raise ScheduleValidationError(str(exc)) from None


def delivery_warnings(fields: ScheduleFields, s3: S3Settings | None) -> tuple[str, ...]:
    """Where S3 is configured, whether the schedule's bucket answers now. Not an error: the
    bucket may be created after the schedule, so the schedule is saved with a warning."""
    if fields.delivery_method not in ("s3", "both") or s3 is None:
        return ()
    if not (s3.endpoint_url or s3.bucket or s3.access_key_id):
        return ()  # S3 is not configured here: nothing to check against
    bucket = _s3_bucket(fields.s3_config, s3, fields.delivery_method)
    problem = probe_bucket(s3, bucket)
    if problem is None:
        return ()
    return (
        f"s3_config.bucket: {problem}. The schedule is saved, but its S3 deliveries will fail "
        f"until this is fixed.",
    )
