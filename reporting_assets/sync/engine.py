"""One sync session: the pending records of many customers sent to the sample target in
batches, every API operation audited, a run-report contract per customer, and a folder of
reports that exists whatever happens.

Plain functions and one class over a database URL: the Dagster asset (``assets.py``), the CLI
and the benchmark call :func:`run_session`; the failure sensor calls :func:`finalize_session`.

Order of events, and why:

1. Validate the request (limit, customers: a clear error before anything is written).
2. Insert the ``reporting.sync_sessions`` row (a new id when two sessions draw the same one),
   then make the folder: a read-only or full reports root fails here, before any API call, and
   the session's database record still exists.
3. Read the pending records of every customer in scope, check them against the target's
   dropdown labels (a mismatch is reported, with its config fix, before any call).
4. Per customer (advisory lock, so two sessions never sync one customer at once): find or create
   its one group, give the group id to ALL its pending records, then per batch: find existing
   items by key, create the missing ones, update the others, upsert subitems. A re-run therefore
   updates instead of duplicating, even after a crash between a create and the database write.
5. ``finally``: every customer in scope gets its report and the session its executive summary,
   also when the run failed or was terminated (the failure sensor repeats this when even the
   ``finally`` could not run).
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reporting_assets.contract import RunReport, Status
from reporting_assets.customers import get_customer, list_customers
from reporting_assets.db.connection import Connection, connect
from reporting_assets.db.queries import query
from reporting_assets.errors import ReportingError
from reporting_assets.logging_ids import (
    ContextFilter,
    DagsterForwardHandler,
    JsonLinesHandler,
    attached,
    get_logger,
    levels_from_env,
    log_context,
    verbosity,
)
from reporting_assets.reporter import PipelineReporter
from reporting_assets.sync import reports, store
from reporting_assets.sync.config import SyncProfile
from reporting_assets.sync.errors import (
    ReportsFolderError,
    SyncInputError,
    SyncPreflightError,
    TargetError,
)
from reporting_assets.sync.folders import LOG_FILE, SessionFolder, new_sync_id, parse_sync_id, random_token
from reporting_assets.sync.order_list import OrderRecord, load_sample_orders, pending_scope
from reporting_assets.sync.target import SampleTarget

log = get_logger(__name__)

PIPELINE_TYPE = "sync_order_list"
"""The asset key and contract pipeline type of the sync's per-customer reports."""
SYNC_ID_ATTEMPTS = 5
ADVISORY_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('reporting.sync:' || %(key)s)) AS locked"
ADVISORY_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('reporting.sync:' || %(key)s))"
LOCK_HOLDER_SQL = """
SELECT a.pid, a.application_name
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((hashtext('reporting.sync:' || %(key)s)::bigint >> 32) & 4294967295)::oid
  AND l.objid = (hashtext('reporting.sync:' || %(key)s)::bigint & 4294967295)::oid
"""
"""Who holds a customer's sync lock: the lock's bigint key is split into classid (high 32 bits)
and objid (low 32 bits) in ``pg_locks``."""
APPLICATION_NAME = "reporting-assets sync {sync_id}"
"""The ``application_name`` of a session's connection, so a blocked session can name the holder."""
TARGET_SYSTEM = "sample_target"


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
    """What the user asked for (the seed's flags)."""

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


@dataclass(frozen=True)
class SessionOptions:
    """Switches for the benchmark: the same session with reporting and log ids off."""

    reporting: bool = True
    """Customer reports, summaries, executive summary and per-customer contracts."""
    structured_logs: bool = True
    """The session's JSON-lines log (and the configured verbosity)."""


class ContractSink(Protocol):
    """Receives each customer's run-report contract (the Dagster asset logs it as an event)."""

    def __call__(self, partition_key: str, report: RunReport) -> None: ...


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
class _Customer:
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


def _status(line: store.CustomerLine) -> str:
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


@contextmanager
def _counters_kept_on_commit(customer: _Customer) -> Iterator[None]:
    """If a step is interrupted before its commit, forget the counts it added in memory, so the
    summary written afterwards matches the rows in the database."""
    saved = copy.copy(customer.line)
    created, updated = len(customer.created), len(customer.updated)
    causes = {cause: len(messages) for cause, messages in customer.causes.items()}
    try:
        yield
    except BaseException:
        vars(customer.line).update(vars(saved))
        del customer.created[created:]
        del customer.updated[updated:]
        for cause in list(customer.causes):
            del customer.causes[cause][causes.get(cause, 0) :]
            if not customer.causes[cause]:
                del customer.causes[cause]
        raise


class SyncSession:
    """One session; use :func:`run_session`."""

    def __init__(
        self,
        url: str,
        request: SyncRequest,
        profile: SyncProfile,
        reports_root: Path,
        *,
        run_id: str | None = None,
        sync_id: str | None = None,
        now: dt.datetime | None = None,
        sink: ContractSink | None = None,
        options: SessionOptions = SessionOptions(),
        dagster_log: Any = None,
        token: Callable[[], str] = random_token,
        sleep: Callable[[float], None] = time.sleep,
        config_source: str = "config/sync.toml",
        on_open: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.request = request
        self.profile = profile
        self.reports_root = reports_root
        self.run_id = run_id
        self.started_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        self.sync_id = parse_sync_id(sync_id) if sync_id else None
        self.sink = sink
        self.options = options
        self.dagster_log = dagster_log
        self.token = token
        self.sleep = sleep
        self.config_source = config_source
        self.on_open = on_open
        self.customers: list[_Customer] = []
        self.day = self.started_at.date()

    # --- setup ----------------------------------------------------------------------------

    def _resolve_customers(self, conn: Connection) -> list[store.CustomerLine]:
        if self.request.customers:
            found = [get_customer(conn, key) for key in dict.fromkeys(self.request.customers)]
        else:
            found = list_customers(conn)
            if not found:
                raise SyncInputError(
                    "No customer is registered, so the session has nothing to sync. Register one with "
                    "`reporting-assets customers add NAME`."
                )
        return [store.CustomerLine(c.partition_key, c.display_name, i) for i, c in enumerate(found)]

    def _open(self, conn: Connection, lines: Sequence[store.CustomerLine]) -> str:
        """Insert the session row; draw a new id if this one is taken (same minute, same token)."""
        for _ in range(SYNC_ID_ATTEMPTS):
            sync_id = self.sync_id or new_sync_id(self.started_at, self.token)
            folder = SessionFolder(self.reports_root, sync_id)
            if store.insert_session(
                conn,
                {
                    "sync_id": sync_id,
                    "run_id": self.run_id,
                    "environment": self.profile.environment,
                    "dry_run": not self.request.execute,
                    "filters": self.request.filters(),
                    "customers": [line.customer_key for line in lines],
                    "started_at": self.started_at,
                    "folder": str(folder.path),
                },
            ):
                for line in lines:
                    store.upsert_customer(conn, sync_id, line)
                conn.commit()
                return sync_id
            conn.rollback()
            if self.sync_id:
                raise SyncInputError(
                    f"Sync id {sync_id} is already used by another session; leave it out to draw a new one."
                )
            log.warning("se-001", "Sync id %s was already taken; drawing another", sync_id)
        raise SyncInputError(f"Could not draw an unused sync id in {SYNC_ID_ATTEMPTS} attempts.")

    @contextmanager
    def _logging(self, folder: SessionFolder) -> Iterator[JsonLinesHandler | None]:
        assert self.sync_id is not None
        with ExitStack() as stack:
            handler: JsonLinesHandler | None = None
            if self.options.structured_logs:
                levels = {**self.profile.logging.levels(), **levels_from_env()}
                stack.enter_context(verbosity(levels, f"{self.config_source} [logging]"))
                handler = JsonLinesHandler(folder.path / LOG_FILE)
                handler.addFilter(ContextFilter(sync_id=self.sync_id))
                stack.enter_context(attached(handler))
            if self.dagster_log is not None:
                forward = DagsterForwardHandler(self.dagster_log)
                forward.addFilter(ContextFilter(sync_id=self.sync_id))
                stack.enter_context(attached(forward))
            yield handler

    # --- the session ------------------------------------------------------------------------

    def run(self) -> SessionResult:
        check_limit(self.request.limit)
        with connect(self.url, doing="starting a sync session") as conn:
            lines = self._resolve_customers(conn)
            self.sync_id = self._open(conn, lines)
        sync_id = self.sync_id
        if self.on_open is not None:
            self.on_open(sync_id)
        folder = SessionFolder(self.reports_root, sync_id)
        self.customers = [_Customer(line, []) for line in lines]
        status, error = "failed", None
        with log_context(sync_id=sync_id, run_id=self.run_id):
            try:
                folder.create()
            except ReportsFolderError as exc:
                # Nothing was sent. The summary still goes to reporting.sync_sessions, and in an
                # executed session every customer still gets its (failed) contract.
                reason = str(exc)
                self._interrupt_guard(lambda: self._finalize(folder, "failed", reason, None))
                raise
            with self._logging(folder) as handler:
                try:
                    log.info(
                        "se-002",
                        "Sync session %s started (%s, %s) for %d customer(s)",
                        sync_id,
                        self.profile.environment,
                        "EXECUTE" if self.request.execute else "DRY RUN",
                        len(lines),
                        filters=self.request.filters(),
                    )
                    self._sync_all()
                    status = session_status([c.line for c in self.customers])
                    error = self._not_started()
                except BaseException as exc:
                    status = "failed" if isinstance(exc, Exception) else "canceled"
                    error = describe(exc)
                    log.error("se-003", "Sync session %s %s: %s", sync_id, status, error)
                    self._interrupt_guard(lambda: self._finalize(folder, status, error, handler))
                    raise
                return self._finalize(folder, status, error, handler)

    def _not_started(self) -> str | None:
        """Why the session did not start, when every customer in scope was locked by another."""
        if not self.customers or not all(c.blocked_by for c in self.customers):
            return None
        if len(self.customers) == 1:
            return self.customers[0].line.error
        holders = ", ".join(f"{c.line.customer_key}: {c.blocked_by}" for c in self.customers)
        return (
            f"Not started: every customer in scope is being synced by another session ({holders}), so "
            f"nothing was attempted; the records stay pending. Re-run when those sessions have finished."
        )

    def _interrupt_guard(self, work: Callable[[], object]) -> None:
        """Finish the reports even if a second termination signal arrives meanwhile."""
        try:
            from dagster._utils.interrupts import capture_interrupts
        except ImportError:  # pragma: no cover - dagster is a dependency
            work()
            return
        with capture_interrupts():
            try:
                work()
            except Exception as exc:  # the original error is the one to raise
                log.error("se-004", "Could not finish the reports of a failed session: %s", describe(exc))

    def _sync_all(self) -> None:
        with connect(self.url, doing=f"running sync session {self.sync_id}") as conn:
            conn.execute(
                "SELECT set_config('application_name', %(name)s, false)",
                {"name": APPLICATION_NAME.format(sync_id=self.sync_id)},
            )
            conn.commit()
            keys = [c.line.customer_key for c in self.customers]
            if self.request.sample_day is not None:
                load_sample_orders(conn, keys, self.request.sample_day)
            scope = pending_scope(conn, keys, self.request.limit)
            for customer in self.customers:
                customer.records = scope.records[customer.line.customer_key]
                customer.line.records_in_scope = len(customer.records)
                customer.line.pending_before = scope.pending_total[customer.line.customer_key]
            mismatches = self._preflight()
            target = SampleTarget(
                self.url,
                self.profile.target,
                {self.profile.fields[c]: d.labels for c, d in self.profile.dropdowns.items()},
                seed=self.profile.environment,
                sleep=self.sleep,
            )
            with target:
                for customer in self.customers:
                    self._sync_customer(
                        conn, target, customer, mismatches.get(customer.line.customer_key, {})
                    )

    def _preflight(self) -> dict[str, dict[int, str]]:
        """customer -> record id -> why it cannot be sent, found before any API call."""
        found: dict[str, dict[int, str]] = {}
        counts: dict[str, int] = {}
        fixes: dict[str, str] = {}
        for customer in self.customers:
            for record in customer.records:
                for column in self.profile.dropdowns:
                    value = str(getattr(record, column))
                    if self.profile.dropdown_label(column, value) is None:
                        fix = self.profile.dropdown_fix(column, value, self.config_source)
                        found.setdefault(record.customer_key, {})[record.id] = fix
                        counts[fix] = counts.get(fix, 0) + 1
                        fixes[fix] = column
        for fix, count in counts.items():
            log.warning("se-005", "Preflight: %d pending record(s): %s", count, fix, column=fixes[fix])
        if found and self.profile.on_dropdown_mismatch == "abort":
            raise SyncPreflightError(
                f"{sum(counts.values())} pending record(s) have dropdown values the target does not "
                f'accept; nothing was sent (on_dropdown_mismatch = "abort"). '
                + " | ".join(f"{n} record(s): {fix}" for fix, n in counts.items())
            )
        return found

    # --- one customer -----------------------------------------------------------------------

    def _sync_customer(
        self, conn: Connection, target: SampleTarget, customer: _Customer, mismatched: Mapping[int, str]
    ) -> None:
        line = customer.line
        line.status = "running"
        line.started_at = dt.datetime.now(dt.UTC)
        customer.started = time.perf_counter()
        if self.options.reporting and self.request.execute:
            customer.reporter = PipelineReporter(
                line.customer_name,
                PIPELINE_TYPE,
                self.run_id,
                customer_key=line.customer_key,
                execution_date=self.day,
                external_execution_id=self.sync_id,
            )
        store.upsert_customer(conn, self._id, line)
        conn.commit()
        with log_context(customer=line.customer_key):
            log.info(
                "se-006",
                "%s: %d pending record(s), %d in this session",
                line.customer_name,
                line.pending_before,
                len(customer.records),
            )
            try:
                self._customer_body(conn, target, customer, mismatched)
            except (TargetError, SyncInputError) as exc:  # this customer only; the session goes on
                line.error = describe(exc)
                log.error("se-007", "%s failed: %s", line.customer_name, line.error)
            self._finish_customer(conn, customer)

    def _write(
        self, conn: Connection, customer: _Customer, group_id: str | None, writes: store.PendingWrites
    ) -> None:
        """One step's rows and the customer's counters so far, in one transaction: at every commit
        the database tells the same story the summary will (also for a run killed right after)."""
        line = customer.line
        store.write_batch(conn, self._id, line.customer_key, group_id, writes)
        store.upsert_customer(conn, self._id, line)
        conn.commit()
        if customer.reporter is not None:
            reporter = customer.reporter
            reporter.count_database_operations(
                "inserts", len(writes.operations) + len(writes.errors) + len(writes.batches)
            )
            reporter.count_database_operations("updates", len(writes.synced) + len(writes.failed) + 1)

    @property
    def _id(self) -> str:
        assert self.sync_id is not None
        return self.sync_id

    def _customer_body(
        self, conn: Connection, target: SampleTarget, customer: _Customer, mismatched: Mapping[int, str]
    ) -> None:
        line = customer.line
        if not customer.records:
            log.info("se-008", "%s: nothing pending, nothing to do", line.customer_name)
            return
        if self.request.execute and not self._lock(conn, customer):
            return
        try:
            self._customer_records(conn, target, customer, mismatched)
        finally:
            if self.request.execute:
                try:
                    conn.execute(ADVISORY_UNLOCK_SQL, {"key": line.customer_key})
                    conn.commit()
                except Exception as exc:  # closing the connection releases the lock anyway
                    log.warning(
                        "se-018", "Could not release the sync lock of %s: %s", line.customer_name, exc
                    )

    def _lock(self, conn: Connection, customer: _Customer) -> bool:
        """Take the customer's sync lock; when another session holds it, this customer does not
        start: nothing is attempted, its records are left untouched, and its error names the holder."""
        line = customer.line
        locked = conn.execute(ADVISORY_LOCK_SQL, {"key": line.customer_key}).fetchone()
        conn.commit()
        if locked and locked["locked"]:
            return True
        customer.blocked_by = self._lock_holder(conn, line.customer_key)
        conn.commit()
        line.error = (
            f"Not started: {customer.blocked_by} is syncing {line.customer_name} and holds its sync lock, so "
            f"this session attempted none of its {len(customer.records)} record(s); they stay pending. "
            f"Re-run when that session has finished."
        )
        log.warning("se-019", "%s: %s", line.customer_name, line.error)
        return False

    @staticmethod
    def _lock_holder(conn: Connection, customer_key: str) -> str:
        """The session (or other connection) holding ``customer_key``'s sync lock, for the message."""
        holder = conn.execute(LOCK_HOLDER_SQL, {"key": customer_key}).fetchone()
        if holder is None:
            return "another sync session (it has finished since)"
        prefix = APPLICATION_NAME.format(sync_id="")
        name = holder["application_name"] or ""
        if name.startswith(prefix):
            return f"sync session {name.removeprefix(prefix)}"
        return f"another database connection (backend pid {holder['pid']}, not a sync session)"

    def _customer_records(
        self, conn: Connection, target: SampleTarget, customer: _Customer, mismatched: Mapping[int, str]
    ) -> None:
        """Record the dropdown mismatches, then plan (dry run) or sync the sendable records."""
        writes = store.PendingWrites()
        with _counters_kept_on_commit(customer):
            for record in customer.records:
                if record.id in mismatched:
                    self._fail(
                        customer, writes, record, None, "dropdown_mismatch", mismatched[record.id], None
                    )
            if writes.errors:
                self._write(conn, customer, None, writes)
        sendable = [r for r in customer.records if r.id not in mismatched]
        if not sendable:
            return
        if not self.request.execute:
            self._plan_customer(conn, customer, sendable)
            return
        with _counters_kept_on_commit(customer):
            group_id = self._ensure_group(conn, target, customer, sendable)
        if group_id is None:
            return
        size = self.profile.batch_size
        total = (len(sendable) + size - 1) // size
        for number, start in enumerate(range(0, len(sendable), size), start=1):
            self._sync_batch(conn, target, customer, group_id, number, total, sendable[start : start + size])

    def _fail(
        self,
        customer: _Customer,
        writes: store.PendingWrites,
        record: OrderRecord,
        batch_no: int | None,
        cause: str,
        message: str,
        item_id: str | None,
    ) -> None:
        customer.line.records_processed += 1
        customer.line.errors += 1
        customer.causes.setdefault(cause, []).append(message)
        writes.errors.append(store.RecordError(record.order_id, batch_no, cause, message))
        if self.request.execute:
            writes.failed.append((record.id, item_id, cause, message))

    def _group_title(self, customer: _Customer) -> str:
        return customer.line.customer_name

    def _ensure_group(
        self, conn: Connection, target: SampleTarget, customer: _Customer, sendable: Sequence[OrderRecord]
    ) -> str | None:
        """The customer's one group: known from the order list, found on the target, or created;
        then its id goes to ALL the customer's pending records."""
        line = customer.line
        title = self._group_title(customer)
        line.group_title = title
        writes = store.PendingWrites()
        known = conn.execute(query("sync_known_group"), {"customer_key": line.customer_key}).fetchone()
        try:
            if known:
                group_id, line.group_action = known["group_id"], "known"
            else:
                request = {"board": self.profile.board, "title": title}
                groups = self._call(target, writes, customer, None, "get_groups", request, 0)["groups"]
                if groups:
                    group_id, line.group_action = groups[0]["id"], "found"
                else:
                    created = self._call(target, writes, customer, None, "create_group", request, 0)
                    group_id, line.group_action = created["group"]["id"], "created"
        except TargetError as exc:
            line.error = (
                f"The target failed on the group step after {self.profile.max_retries + 1} attempt(s): {exc}"
            )
            for record in sendable:
                self._fail(customer, writes, record, None, exc.cause, line.error, None)
            self._write(conn, customer, None, writes)
            log.error("se-009", "%s: %s", line.customer_name, line.error)
            return None
        line.group_id = str(group_id)
        applied = conn.execute(
            query("sync_group_apply"), {"group_id": group_id, "customer_key": line.customer_key}
        )
        line.group_applied = max(applied.rowcount or 0, 0)
        self._write(conn, customer, None, writes)
        log.info(
            "se-010",
            "%s: group %s %s; %d pending record(s) given its id",
            line.customer_name,
            group_id,
            line.group_action,
            line.group_applied,
        )
        return line.group_id

    def _call(
        self,
        target: SampleTarget,
        writes: store.PendingWrites,
        customer: _Customer,
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
                response = target.call(operation, customer.line.customer_key, request)
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
                    log.warning(
                        "se-011",
                        "%s %s attempt %d/%d failed (%s); retrying in %.2fs",
                        customer.line.customer_name,
                        operation,
                        attempt,
                        attempts,
                        exc,
                        delay,
                    )
                    if delay:
                        self.sleep(delay)
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
            log.debug(
                "se-012",
                "%s %s ok (%d record(s), %d rejected)",
                customer.line.customer_name,
                operation,
                records,
                failed,
            )
            return response
        raise AssertionError("unreachable")

    def _item_payload(self, record: OrderRecord) -> tuple[str, dict[str, Any]]:
        values: dict[str, Any] = {}
        for source, column in self.profile.fields.items():
            if column == "name":
                continue
            value: Any = getattr(record, source)
            if source in self.profile.dropdowns:
                value = {"labels": [self.profile.dropdown_label(source, str(value))]}
            elif isinstance(value, dt.date):
                value = value.isoformat()
            values[column] = value
        return record.product, values

    def _sync_batch(
        self,
        conn: Connection,
        target: SampleTarget,
        customer: _Customer,
        group_id: str,
        number: int,
        total: int,
        batch: Sequence[OrderRecord],
    ) -> None:
        with _counters_kept_on_commit(customer):
            self._sync_batch_body(conn, target, customer, group_id, number, total, batch)

    def _sync_batch_body(
        self,
        conn: Connection,
        target: SampleTarget,
        customer: _Customer,
        group_id: str,
        number: int,
        total: int,
        batch: Sequence[OrderRecord],
    ) -> None:
        line = customer.line
        started = time.perf_counter()
        writes = store.PendingWrites()
        done: dict[int, str] = {}  # record id -> item id (item ok so far)
        failed: set[int] = set()
        by_key = {r.order_id: r for r in batch}

        def fail(records: Sequence[OrderRecord], cause: str, message: str) -> None:
            for record in records:
                if record.id not in failed:
                    failed.add(record.id)
                    self._fail(customer, writes, record, number, cause, message, done.get(record.id))

        try:
            found = self._call(
                target,
                writes,
                customer,
                number,
                "find_items",
                {"group_id": group_id, "column_id": self.profile.key_column, "keys": list(by_key)},
                len(batch),
            )
            existing = {item["key"]: item for item in found["items"]}
            creates = [r for r in batch if r.order_id not in existing]
            updates = [r for r in batch if r.order_id in existing]
            for operation, records in (("create_items", creates), ("update_items", updates)):
                if not records:
                    continue
                entries = []
                for record in records:
                    name, values = self._item_payload(record)
                    entry: dict[str, Any] = {
                        "ref": record.order_id,
                        "name": name,
                        "key": record.order_id,
                        "column_values": values,
                    }
                    if operation == "update_items":
                        entry["item_id"] = existing[record.order_id]["id"]
                    entries.append(entry)
                payload: dict[str, Any] = {"items": entries}
                if operation == "create_items":
                    payload["group_id"] = group_id
                try:
                    response = self._call(target, writes, customer, number, operation, payload, len(records))
                except TargetError as exc:
                    fail(records, exc.cause, f"{operation} failed: {exc}")
                    continue
                for result in response["results"]:
                    record = by_key[result["ref"]]
                    if "error" in result:
                        fail([record], "item_rejected", f"{operation}: {result['error']}")
                    else:
                        done[record.id] = result["id"]
                        (customer.created if operation == "create_items" else customer.updated).append(record)
                        if operation == "create_items":
                            line.items_created += 1
                        else:
                            line.items_updated += 1
            if not self.request.skip_subitems:
                self._sync_subitems(target, customer, writes, number, batch, existing, done, fail)
        except TargetError as exc:
            fail([r for r in batch if r.id not in failed], exc.cause, f"batch {number} failed: {exc}")
        synced = [r for r in batch if r.id in done and r.id not in failed]
        for record in synced:
            writes.synced.append((record.id, done[record.id]))
        line.records_processed += len(synced)
        line.records_synced += len(synced)
        errors = len(batch) - len(synced)
        seconds = time.perf_counter() - started
        batch_ops = len(writes.operations)
        writes.batches.append(
            store.BatchRow(
                line.customer_key,
                number,
                len(batch),
                len(synced),
                errors,
                batch_ops,
                round(seconds, 3),
                "success" if not errors else ("partial" if synced else "failed"),
            )
        )
        self._write(conn, customer, group_id, writes)
        log.info(
            "se-013",
            "%s batch %d/%d: %d synced, %d error(s), %d API operation(s), %.2fs",
            line.customer_name,
            number,
            total,
            len(synced),
            errors,
            batch_ops,
            seconds,
            batch=number,
        )

    def _sync_subitems(
        self,
        target: SampleTarget,
        customer: _Customer,
        writes: store.PendingWrites,
        number: int,
        batch: Sequence[OrderRecord],
        existing: Mapping[str, Mapping[str, Any]],
        done: Mapping[int, str],
        fail: Callable[[Sequence[OrderRecord], str, str], None],
    ) -> None:
        """Create missing subitems and update changed ones (matched by name: no duplicates)."""
        quantity_column = self.profile.subitems.quantity_column
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        owner: dict[str, OrderRecord] = {}
        for record in batch:
            item_id = done.get(record.id)
            if item_id is None:
                continue
            present = {s["name"]: s for s in existing.get(record.order_id, {}).get("subitems", [])}
            for size, quantity in record.sizes.items():
                ref = f"{record.order_id}:{size}"
                owner[ref] = record
                values = {quantity_column: quantity}
                if size not in present:
                    creates.append(
                        {"ref": ref, "parent_item_id": item_id, "name": size, "column_values": values}
                    )
                elif present[size]["column_values"].get(quantity_column) != quantity:
                    updates.append({"ref": ref, "subitem_id": present[size]["id"], "column_values": values})
        for operation, entries in (("create_subitems", creates), ("update_subitems", updates)):
            if not entries:
                continue
            records = list({owner[e["ref"]].id: owner[e["ref"]] for e in entries}.values())
            try:
                response = self._call(
                    target, writes, customer, number, operation, {"subitems": entries}, len(records)
                )
            except TargetError as exc:
                fail(
                    records,
                    "subitem_failed" if exc.cause != "timeout" else "timeout",
                    f"{operation} failed after retries: {exc}",
                )
                continue
            for result in response["results"]:
                if "error" in result:
                    fail([owner[result["ref"]]], "subitem_failed", f"{operation}: {result['error']}")
                elif operation == "create_subitems":
                    customer.line.subitems_created += 1
                else:
                    customer.line.subitems_updated += 1

    def _plan_customer(self, conn: Connection, customer: _Customer, sendable: Sequence[OrderRecord]) -> None:
        """Dry run: what the session would send, recorded as planned operations; nothing is called."""
        line = customer.line
        writes = store.PendingWrites()
        title = self._group_title(customer)
        known = conn.execute(query("sync_known_group"), {"customer_key": line.customer_key}).fetchone()
        line.group_title = title
        if known:
            line.group_id, line.group_action = known["group_id"], "known"
        else:
            line.group_action = "planned"
            for operation in ("get_groups", "create_group"):
                writes.operations.append(
                    self._planned(
                        line.customer_key, None, operation, {"board": self.profile.board, "title": title}, 0
                    )
                )
        line.group_applied = line.pending_before
        size = self.profile.batch_size
        for number, start in enumerate(range(0, len(sendable), size), start=1):
            batch = sendable[start : start + size]
            ops = [
                self._planned(
                    line.customer_key,
                    number,
                    "find_items",
                    {"group_id": line.group_id, "keys": [r.order_id for r in batch]},
                    len(batch),
                )
            ]
            creates = [r for r in batch if not r.item_id]
            updates = [r for r in batch if r.item_id]
            for operation, records in (("create_items", creates), ("update_items", updates)):
                if records:
                    entries = []
                    for r in records:
                        name, values = self._item_payload(r)
                        entry = {"ref": r.order_id, "name": name, "key": r.order_id, "column_values": values}
                        if r.item_id:
                            entry["item_id"] = r.item_id
                        entries.append(entry)
                    ops.append(
                        self._planned(line.customer_key, number, operation, {"items": entries}, len(records))
                    )
            if creates and not self.request.skip_subitems:
                entries = [
                    {
                        "ref": f"{r.order_id}:{s}",
                        "name": s,
                        "column_values": {self.profile.subitems.quantity_column: q},
                    }
                    for r in creates
                    for s, q in r.sizes.items()
                ]
                ops.append(
                    self._planned(
                        line.customer_key, number, "create_subitems", {"subitems": entries}, len(creates)
                    )
                )
                line.subitems_created += len(entries)
            line.items_created += len(creates)
            line.items_updated += len(updates)
            line.records_processed += len(batch)
            line.records_synced += len(batch)
            writes.operations += ops
            writes.batches.append(
                store.BatchRow(line.customer_key, number, len(batch), len(batch), 0, len(ops), 0.0, "planned")
            )
        self._write(conn, customer, None, writes)
        log.info(
            "se-014",
            "%s: would sync %d record(s) in %d batch(es), %d API operation(s)",
            line.customer_name,
            len(sendable),
            len(writes.batches),
            len(writes.operations),
        )

    @staticmethod
    def _planned(
        customer_key: str, batch_no: int | None, operation: str, request: dict[str, Any], records: int
    ) -> store.OperationRow:
        return store.OperationRow(
            customer_key, batch_no, operation, 1, "planned", records, 0, 0.0, request, None, None
        )

    def _finish_customer(self, conn: Connection, customer: _Customer) -> None:
        line = customer.line
        line.finished_at = dt.datetime.now(dt.UTC)
        line.seconds = round(time.perf_counter() - customer.started, 3)
        line.status = store.NOT_STARTED if customer.blocked_by else _status(line)
        store.upsert_customer(conn, self._id, line)
        conn.commit()
        log.info(
            "se-015",
            "%s: %s, %d processed, %d synced, %d error(s) in %.2fs",
            line.customer_name,
            line.status.upper(),
            line.records_processed,
            line.records_synced,
            line.errors,
            line.seconds,
        )
        self._emit_contract(conn, customer)

    # --- contracts and the end ----------------------------------------------------------------

    def _emit_contract(self, conn: Connection | None, customer: _Customer, reason: str | None = None) -> None:
        """The customer's run-report contract (execute mode, reporting on, once)."""
        line = customer.line
        if self.sink is None or customer.reporter is None or line.contract_emitted:
            return
        reporter = customer.reporter
        reporter.log_metric("records_processed", line.records_processed)
        reporter.log_metric("new", line.items_created)
        reporter.log_metric("updated", line.items_updated)
        reporter.log_metric("failed", line.errors)
        reporter.log_metric("records_in_scope", line.records_in_scope)
        reporter.log_metric("subitems_created", line.subitems_created)
        reporter.log_metric("pending_before", line.pending_before)
        for record in customer.created:
            reporter.log_change(
                "new_order",
                f"{record.product} (Qty: {record.quantity:,})",
                key=record.order_id,
                after=record.status,
                quantity=record.quantity,
            )
        for record in customer.updated:
            reporter.log_change(
                "order_updated",
                f"{record.product} re-synced to the target",
                key=record.order_id,
                after=record.status,
            )
        for cause, messages in sorted(customer.causes.items()):
            reporter.add_error(f"{len(messages)} record(s) failed ({cause}): {messages[0]}")
            reporter.add_next_action(reports.FIXES.get(cause, "See the sync session's customer report."))
        if line.error or reason:
            reporter.add_error(reason or line.error or "")
        if line.errors or line.error or reason:
            reporter.add_warning(f"Sync session {self.sync_id}: see its customer report for details")
        status: Status = "failed"
        if not reason and line.status in ("success", "partial"):
            status = "success" if line.status == "success" else "partial"
        partition_key = f"{line.customer_key}|{self.day.isoformat()}"
        self.sink(partition_key, reporter.build(status))
        line.contract_emitted = True
        if conn is not None:
            store.upsert_customer(conn, self._id, line)
            conn.commit()

    def _finalize(
        self, folder: SessionFolder, status: str, error: str | None, handler: JsonLinesHandler | None
    ) -> SessionResult:
        """Every customer's report and the executive summary, whatever happened before."""
        for customer in self.customers:
            line = customer.line
            if line.status == "running" or (line.status == store.NOT_STARTED and not line.error):
                reason = f"Not synced: the session was {status} before this customer finished."
                if error:
                    reason += f" {error}"
                line.error = line.error or reason
                line.status = "failed"
                if customer.started:
                    line.seconds = round(time.perf_counter() - customer.started, 3)
            if self.request.execute and self.options.reporting and customer.reporter is None and line.error:
                customer.reporter = PipelineReporter(
                    line.customer_name,
                    PIPELINE_TYPE,
                    self.run_id,
                    customer_key=line.customer_key,
                    execution_date=self.day,
                    external_execution_id=self.sync_id,
                )
            if not line.contract_emitted and line.error and customer.reporter is not None:
                self._emit_contract(None, customer, reason=line.error)
        with connect(self.url, doing=f"finishing sync session {self.sync_id}") as conn:
            for customer in self.customers:
                store.upsert_customer(conn, self._id, customer.line)
            conn.commit()
            result = finalize_session(
                conn,
                self._id,
                status=status,
                error=error,
                folder=folder,
                finalized_by="session",
                reporting=self.options.reporting,
                log_handler=handler,
            )
        result.partition_keys = [
            f"{c.line.customer_key}|{self.day.isoformat()}" for c in self.customers if c.line.contract_emitted
        ]
        return result


def finalize_session(
    conn: Connection,
    sync_id: str,
    *,
    status: str,
    error: str | None,
    folder: SessionFolder | None = None,
    finalized_by: str = "session",
    reporting: bool = True,
    log_handler: JsonLinesHandler | None = None,
) -> SessionResult:
    """Write the customer reports, summaries and executive summary of a session and close its
    row. Used by the session's own ``finally`` and by the run-failure sensor; idempotent."""
    session = store.get_session(conn, sync_id=sync_id)
    if session is None:
        raise SyncInputError(f"Sync session {sync_id} is not in reporting.sync_sessions.")
    if folder is None:
        path = Path(session["folder"])
        folder = SessionFolder(path.parent.parent, sync_id)
    finished_at = dt.datetime.now(dt.UTC)
    if not reporting:
        store.finish_session(
            conn,
            sync_id,
            status=status,
            error=error,
            reports_error=None,
            finalized_by=finalized_by,
            summary_json=None,
            summary_markdown=None,
        )
        conn.commit()
        return SessionResult(sync_id, status, folder.path, None, None, error)
    summary = reports.build_summary(conn, sync_id, status=status, error=error, finished_at=finished_at)
    reports.assign_report_files(folder, summary)
    store.set_report_files(
        conn, sync_id, {c.line.customer_key: c.line.report_file or "" for c in summary.customers}
    )
    markdown = reports.render_summary(summary)
    summary_json = summary.as_json()
    reports_error: str | None = None
    try:
        folder.create(new=False)
        written = reports.write_session_files(folder, summary, markdown, finished_at)
        if written.error is not None:
            reports_error = str(written.error)
    except ReportsFolderError as exc:
        reports_error = str(exc)
    if log_handler is not None:
        log_handler.flush()
        if log_handler.error is not None and reports_error is None:
            reports_error = str(folder.error("write the session log", log_handler.error))
    store.finish_session(
        conn,
        sync_id,
        status=status,
        error=error,
        reports_error=reports_error,
        finalized_by=finalized_by,
        summary_json=summary_json,
        summary_markdown=markdown,
    )
    conn.commit()
    log.info("se-016", "Sync session %s finished: %s; summary in %s", sync_id, status.upper(), folder.path)
    result = SessionResult(sync_id, status, folder.path, markdown, summary_json, error, reports_error)
    if reports_error is not None:
        log.error("se-017", "Reports of sync session %s are incomplete: %s", sync_id, reports_error)
    return result


def run_session(
    url: str,
    request: SyncRequest,
    profile: SyncProfile,
    reports_root: Path,
    **kwargs: Any,
) -> SessionResult:
    """Run one session (see :class:`SyncSession` for the keyword arguments). Raises
    :class:`ReportsFolderError` after the session when its files could not be written."""
    result = SyncSession(url, request, profile, reports_root, **kwargs).run()
    if result.reports_error is not None:
        raise ReportsFolderError(result.reports_error)
    return result
