"""Calls to the target: one API operation with retries (timeouts and 503s, exponential backoff),
every attempt audited with its payloads, and the payloads the session sends.

Nothing here logs: retries and successes are reported to :class:`CallEvents`, which the engine
turns into its log lines (the ``se`` ids of ``reporting_assets.sync.engine``)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Protocol

from reporting_assets.sync import store
from reporting_assets.sync.config import SyncProfile
from reporting_assets.sync.errors import TargetError
from reporting_assets.sync.model import TARGET_SYSTEM, CustomerRun
from reporting_assets.sync.order_list import OrderRecord
from reporting_assets.sync.target import SampleTarget


class CallEvents(Protocol):
    """What the retry loop reports while it works."""

    def retrying(
        self,
        customer: CustomerRun,
        operation: str,
        attempt: int,
        attempts: int,
        exc: TargetError,
        delay: float,
    ) -> None: ...

    def succeeded(self, customer: CustomerRun, operation: str, records: int, rejected: int) -> None: ...


class TargetCalls:
    """The target as the session calls it: retries per the profile, an audit row per attempt."""

    def __init__(self, target: SampleTarget, profile: SyncProfile, events: CallEvents) -> None:
        self.target = target
        self.profile = profile
        self.events = events

    def call(
        self,
        writes: store.PendingWrites,
        customer: CustomerRun,
        batch_no: int | None,
        operation: str,
        request: dict[str, Any],
        records: int,
    ) -> dict[str, Any]:
        """One API operation with retries; every attempt is audited with its payloads."""
        attempts = self.profile.max_retries + 1
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = self.target.call(operation, customer.line.customer_key, request)
            except TargetError as exc:
                writes.operations.append(
                    store.OperationRow(
                        customer.line.customer_key,
                        batch_no,
                        operation,
                        attempt,
                        "timeout" if exc.cause == "timeout" else "error",
                        records,
                        records,
                        round((time.perf_counter() - started) * 1000, 3),
                        request,
                        {"error": str(exc)},
                        str(exc),
                    )
                )
                if customer.reporter:
                    customer.reporter.count_api_calls(TARGET_SYSTEM)
                if attempt < attempts and exc.retryable:
                    delay = self.profile.retry_backoff_seconds * 2 ** (attempt - 1)
                    self.events.retrying(customer, operation, attempt, attempts, exc, delay)
                    if delay:
                        time.sleep(delay)
                    continue
                raise
            results = response.get("results", [])
            failed = sum(1 for r in results if "error" in r)
            writes.operations.append(
                store.OperationRow(
                    customer.line.customer_key,
                    batch_no,
                    operation,
                    attempt,
                    "partial" if failed else "ok",
                    records,
                    failed,
                    round((time.perf_counter() - started) * 1000, 3),
                    request,
                    response,
                    None,
                )
            )
            if customer.reporter:
                customer.reporter.count_api_calls(TARGET_SYSTEM)
            self.events.succeeded(customer, operation, records, failed)
            return response
        raise AssertionError("unreachable")


def group_title(customer: CustomerRun) -> str:
    """A customer's group on the target is titled with its display name."""
    return customer.line.customer_name


def item_payload(profile: SyncProfile, record: OrderRecord) -> tuple[str, dict[str, Any]]:
    """An order record as the target's item: its name and column values (dropdowns as labels)."""
    values: dict[str, Any] = {}
    for source, column in profile.fields.items():
        if column == "name":
            continue
        value: Any = getattr(record, source)
        if source in profile.dropdowns:
            value = {"labels": [profile.dropdown_label(source, str(value))]}
        elif isinstance(value, dt.date):
            value = value.isoformat()
        values[column] = value
    return record.product, values
