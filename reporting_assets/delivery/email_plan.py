"""Which daily summary emails are due: the plan ``daily_summary_email_sensor`` turns into run
requests (see :mod:`reporting_assets.delivery.sensors` for the rules). Imported by the sensor
when it ticks, so loading the code location does not pay for the ledger and its queries."""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.delivery.jobs import run_config_for
from reporting_assets.delivery.ledger import DEFAULT_STALE_AFTER
from reporting_assets.delivery.resources import SummaryEmailSettingsResource
from reporting_assets.delivery.summaries import SUBJECT_PREFIX, incomplete_reason
from reporting_assets.partition_keys import CustomerDay

CURSOR_VERSION = 1
RETRY_OF_TAG = "reporting/email_retry_of"
VERSION_TAG = "reporting/email_version"


@dataclass(frozen=True)
class PlannedRun:
    customer_key: str
    summary_date: dt.date
    content_hash: str
    version: int
    reason: str
    retry_of_failure_at: dt.datetime | None = None
    """Set on a retry run: when the failure it retries happened."""

    @property
    def partition_key(self) -> str:
        return CustomerDay(self.customer_key, self.summary_date).partition_key

    @property
    def run_key(self) -> str:
        key = f"{SUBJECT_PREFIX}{self.partition_key}:{self.content_hash}"
        if self.retry_of_failure_at is not None:
            key += f":retry@{self.retry_of_failure_at.timestamp():.6f}"
        return key

    def run_request(self) -> dg.RunRequest:
        tags = {
            "reporting/customer": self.customer_key,
            "reporting/summary_date": self.summary_date.isoformat(),
            "reporting/summary_version": str(self.version),
            VERSION_TAG: version_tag(self.partition_key, self.version),
        }
        if self.retry_of_failure_at is not None:
            tags[RETRY_OF_TAG] = tags[VERSION_TAG]
        return dg.RunRequest(
            run_key=self.run_key,
            run_config=run_config_for(self.customer_key, self.summary_date, self.content_hash),
            tags=tags,
        )


def version_tag(partition_key: str, version: int) -> str:
    """The value of the ``reporting/email_version`` tag (every email run of one summary version)
    and of ``reporting/email_retry_of`` (its retry runs)."""
    return f"{partition_key}@v{version}"


_FAILED_RUN = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


@dataclass(frozen=True)
class EmailRuns:
    """What the Dagster instance knows about the email runs of a summary version, by tag."""

    instance: dg.DagsterInstance

    def retries_made(self, tag: str) -> int:
        return self.instance.get_runs_count(dg.RunsFilter(tags={RETRY_OF_TAG: tag}))

    def failed_at(self, tag: str) -> dt.datetime | None:
        """When the version's latest run ended, if it failed or was canceled (it may have died
        before the ledger heard of any recipient)."""
        records = self.instance.get_run_records(dg.RunsFilter(tags={VERSION_TAG: tag}), limit=1)
        if not records or records[0].dagster_run.status not in _FAILED_RUN:
            return None
        ended = records[0].end_time
        return dt.datetime.fromtimestamp(ended, dt.UTC) if ended is not None else None


@dataclass
class SensorPlan:
    runs: list[PlannedRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requested: dict[str, str] = field(default_factory=dict)
    """partition key -> content hash already requested (the next cursor)."""


def parse_cursor(cursor: str | None) -> dict[str, str]:
    """The requested versions recorded by the last tick (an unreadable cursor counts as empty:
    the ledger and the run keys still prevent duplicates)."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    requested = data.get("requested") if isinstance(data, dict) else None
    if not isinstance(requested, dict):
        return {}
    return {str(k): str(v) for k, v in requested.items()}


def format_cursor(requested: Mapping[str, str]) -> str:
    return json.dumps({"v": CURSOR_VERSION, "requested": dict(sorted(requested.items()))}, sort_keys=True)


def _reason(row: Mapping[str, Any]) -> str:
    status = row["status_json"] if isinstance(row["status_json"], dict) else {}
    failed = status.get("failed")
    failed_names = [str(p) for p in failed] if isinstance(failed, list) else []
    return incomplete_reason([str(p) for p in row["missing_pipelines"] or []], failed_names)


def _plan_retry(
    row: Mapping[str, Any],
    *,
    now: dt.datetime,
    settings: SummaryEmailSettingsResource,
    runs: EmailRuns,
    plan: SensorPlan,
) -> None:
    """A run for the recipients of an emailed version that did not get it because deliveries
    failed, or a run stopped (mid-send, or before it reached the ledger), once the delay passed."""
    if row["sending_deliveries"]:
        return  # a run is sending right now
    day: dt.date = row["summary_date"]
    partition = CustomerDay(row["customer_key"], day).partition_key
    tag = version_tag(partition, row["version"])
    if row["failed_deliveries"]:
        last_failure: dt.datetime | None = row["last_failure_at"]
        why = f"{row['failed_deliveries']} recipient(s) failed"
        if row["abandoned_deliveries"]:
            why += f" ({row['abandoned_deliveries']} left unfinished by a run that stopped)"
    else:
        last_failure = runs.failed_at(tag)
        why = (
            f"the email run stopped before {row['active_recipients'] - row['delivered_recipients']} "
            "recipient(s) got it"
        )
    if last_failure is None:
        return  # nothing failed: e.g. a recipient added after the email went out
    made = runs.retries_made(tag)
    if made >= settings.retry_runs:
        plan.notes.append(
            f"{partition}: {why}; no automatic retry left ({made} of {settings.retry_runs} made): "
            "re-execute send_daily_summary_emails once the cause is fixed (only those recipients are sent)"
        )
        return
    due = last_failure + dt.timedelta(minutes=settings.retry_after_minutes)
    if now < due:
        plan.notes.append(
            f"{partition}: {why}; retry {made + 1} of {settings.retry_runs} at {due:%Y-%m-%d %H:%M} UTC"
        )
        return
    plan.runs.append(
        PlannedRun(
            row["customer_key"],
            day,
            row["content_hash"].strip(),
            row["version"],
            f"retry {made + 1} of {settings.retry_runs} ({why})",
            retry_of_failure_at=last_failure,
        )
    )


def plan_summary_emails(
    conn: Connection,
    *,
    now: dt.datetime,
    settings: SummaryEmailSettingsResource,
    requested: Mapping[str, str],
    runs: EmailRuns,
) -> SensorPlan:
    """Which summaries to email now, and which failed recipients to retry (plain function; the
    sensor wraps it)."""
    since = now - dt.timedelta(days=settings.lookback_days)
    rows = conn.execute(
        query("delivery_summary_candidates"),
        {
            "subject_prefix": SUBJECT_PREFIX,
            "since_date": since.date(),
            "since": since,
            "stale_after": DEFAULT_STALE_AFTER,
        },
    ).fetchall()
    plan = SensorPlan()
    for row in rows:
        day: dt.date = row["summary_date"]
        partition = CustomerDay(row["customer_key"], day).partition_key
        content_hash = row["content_hash"].strip()
        if requested.get(partition) == content_hash:
            plan.requested[partition] = content_hash
            if row["delivered_recipients"] < row["active_recipients"]:
                _plan_retry(row, now=now, settings=settings, runs=runs, plan=plan)
            continue
        if row["active_recipients"] and row["delivered_recipients"] >= row["active_recipients"]:
            plan.requested[partition] = content_hash  # every recipient already has this version
            continue
        complete = bool(row["is_complete"])
        deadline = settings.deadline_for(day)
        if not complete and now < deadline:
            plan.notes.append(
                f"{partition}: incomplete ({_reason(row)}), waiting until "
                f"{deadline:%Y-%m-%d %H:%M} UTC or until it is complete"
            )
            continue
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        if settings.wait_for_day_end and now < min(day_end, deadline):
            plan.notes.append(
                f"{partition}: complete, waiting for the day to end ({day_end:%Y-%m-%d %H:%M} UTC)"
            )
            continue
        plan.requested[partition] = content_hash
        if not row["active_recipients"]:
            plan.notes.append(f"{partition}: ready but the customer has no active summary recipients")
            continue
        reason = "complete" if complete else f"deadline passed, incomplete ({_reason(row)})"
        if row["version"] > 1:
            reason += f", restated (version {row['version']})"
        plan.runs.append(PlannedRun(row["customer_key"], day, content_hash, row["version"], reason))
    return plan
