"""One sync session: the pending records of many customers sent to the sample target in
batches, every API operation audited, a run-report contract per customer, and a folder of
reports that exists whatever happens.

Plain functions and one class over a database URL: the Dagster asset (``assets.py``) and the
benchmark call :func:`run_session`; the failure sensors call :func:`finalize_session`. This
module runs the session and writes every log line of it (the ``se`` ids); the steps live in
modules with one job each:

- ``model``: the values (request, setup, run hooks, options, per-customer state, result);
- ``planning``: the preflight check of dropdown values and a dry run's planned operations;
- ``calls``: one API operation with retries, every attempt audited, and the payloads sent;
- ``batches``: an executed session's group and batches for one customer;
- ``ledger``: a step's counters and rows committed together;
- ``locks``: per-customer advisory locks and who holds them;
- ``contracts``: each customer's run-report contract.

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

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from reporting_assets.customers import get_customer, list_customers
from reporting_assets.db.connection import Connection, connect
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
from reporting_assets.sync import reports, store
from reporting_assets.sync.batches import CustomerSync
from reporting_assets.sync.calls import TargetCalls
from reporting_assets.sync.config import SyncProfile
from reporting_assets.sync.contracts import Contracts
from reporting_assets.sync.errors import ReportsFolderError, SyncInputError, TargetError
from reporting_assets.sync.folders import LOG_FILE, SessionFolder, new_sync_id, parse_sync_id, random_token
from reporting_assets.sync.ledger import commit_step, counters_kept_on_commit, record_failure
from reporting_assets.sync.locks import name_connection, release_lock, take_lock
from reporting_assets.sync.model import (
    DEFAULT_CONFIG_SOURCE,
    PIPELINE_TYPE,
    ContractSink,
    CustomerRun,
    RunHooks,
    SessionOptions,
    SessionResult,
    SessionSetup,
    SessionStart,
    SyncRequest,
    check_limit,
    customer_status,
    describe,
    session_status,
)
from reporting_assets.sync.order_list import OrderRecord, load_sample_orders, pending_scope
from reporting_assets.sync.planning import plan_customer, preflight
from reporting_assets.sync.target import SampleTarget

log = get_logger(__name__)

SYNC_ID_ATTEMPTS = 5

__all__ = [  # the engine's API (the values come from ``model``)
    "PIPELINE_TYPE",
    "ContractSink",
    "RunHooks",
    "SessionOptions",
    "SessionResult",
    "SessionSetup",
    "SessionStart",
    "SyncRequest",
    "SyncSession",
    "check_limit",
    "describe",
    "finalize_session",
    "run_session",
    "session_status",
]


class _CallLog:
    """The log lines of the retry loop in :mod:`reporting_assets.sync.calls`."""

    def retrying(
        self,
        customer: CustomerRun,
        operation: str,
        attempt: int,
        attempts: int,
        exc: TargetError,
        delay: float,
    ) -> None:
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

    def succeeded(self, customer: CustomerRun, operation: str, records: int, rejected: int) -> None:
        log.debug(
            "se-012",
            "%s %s ok (%d record(s), %d rejected)",
            customer.line.customer_name,
            operation,
            records,
            rejected,
        )


class SyncSession:
    """One session; use :func:`run_session`."""

    def __init__(
        self,
        setup: SessionSetup,
        hooks: RunHooks | None = None,
        start: SessionStart | None = None,
        options: SessionOptions | None = None,
    ) -> None:
        self.setup = setup
        self.request = setup.request
        self.profile = setup.profile
        self.hooks = hooks or RunHooks()
        self.start = start or SessionStart()
        self.options = options or SessionOptions()
        self.started_at = (self.start.now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        self.sync_id = parse_sync_id(self.start.sync_id) if self.start.sync_id else None
        self.customers: list[CustomerRun] = []
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
            sync_id = self.sync_id or new_sync_id(self.started_at, self.start.token)
            folder = SessionFolder(self.setup.reports_root, sync_id)
            if store.insert_session(
                conn,
                {
                    "sync_id": sync_id,
                    "run_id": self.hooks.run_id,
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
        with ExitStack() as stack:
            handler: JsonLinesHandler | None = None
            if self.options.structured_logs:
                levels = {**self.profile.logging.levels(), **levels_from_env()}
                stack.enter_context(verbosity(levels, f"{self.setup.config_source} [logging]"))
                handler = JsonLinesHandler(folder.path / LOG_FILE)
                handler.addFilter(ContextFilter(sync_id=self._id))
                stack.enter_context(attached(handler))
            if self.hooks.dagster_log is not None:
                forward = DagsterForwardHandler(self.hooks.dagster_log)
                forward.addFilter(ContextFilter(sync_id=self._id))
                stack.enter_context(attached(forward))
            yield handler

    @property
    def _id(self) -> str:
        assert self.sync_id is not None
        return self.sync_id

    @property
    def contracts(self) -> Contracts:
        return Contracts(self.hooks.sink, self.hooks.run_id, self._id, self.day)

    # --- the session ------------------------------------------------------------------------

    def run(self) -> SessionResult:
        check_limit(self.request.limit)
        with connect(self.setup.url, doing="starting a sync session") as conn:
            lines = self._resolve_customers(conn)
            self.sync_id = self._open(conn, lines)
        sync_id = self.sync_id
        if self.hooks.on_open is not None:
            self.hooks.on_open(sync_id)
        folder = SessionFolder(self.setup.reports_root, sync_id)
        self.customers = [CustomerRun(line, []) for line in lines]
        status, error = "failed", None
        with log_context(sync_id=sync_id, run_id=self.hooks.run_id):
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
        with connect(self.setup.url, doing=f"running sync session {self.sync_id}") as conn:
            name_connection(conn, self._id)
            keys = [c.line.customer_key for c in self.customers]
            if self.request.sample_day is not None:
                load_sample_orders(conn, keys, self.request.sample_day)
            scope = pending_scope(conn, keys, self.request.limit)
            for customer in self.customers:
                customer.records = scope.records[customer.line.customer_key]
                customer.line.records_in_scope = len(customer.records)
                customer.line.pending_before = scope.pending_total[customer.line.customer_key]
            found = preflight(self.customers, self.profile, self.setup.config_source)
            for fix, count in found.counts.items():
                log.warning(
                    "se-005", "Preflight: %d pending record(s): %s", count, fix, column=found.columns[fix]
                )
            found.enforce(self.profile.on_dropdown_mismatch)
            target = SampleTarget(
                self.setup.url,
                self.profile.target,
                {self.profile.fields[c]: d.labels for c, d in self.profile.dropdowns.items()},
                seed=self.profile.environment,
            )
            calls = TargetCalls(target, self.profile, _CallLog())
            sender = CustomerSync(calls, self.profile, self._id, skip_subitems=self.request.skip_subitems)
            with target:
                for customer in self.customers:
                    mismatched = found.mismatched.get(customer.line.customer_key, {})
                    self._sync_customer(conn, sender, customer, mismatched)

    # --- one customer -----------------------------------------------------------------------

    def _sync_customer(
        self, conn: Connection, sender: CustomerSync, customer: CustomerRun, mismatched: Mapping[int, str]
    ) -> None:
        line = customer.line
        line.status = "running"
        line.started_at = dt.datetime.now(dt.UTC)
        customer.started = time.perf_counter()
        if self.options.reporting and self.request.execute:
            customer.reporter = self.contracts.reporter(line)
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
                self._customer_body(conn, sender, customer, mismatched)
            except (TargetError, SyncInputError) as exc:  # this customer only; the session goes on
                line.error = describe(exc)
                log.error("se-007", "%s failed: %s", line.customer_name, line.error)
            self._finish_customer(conn, customer)

    def _customer_body(
        self, conn: Connection, sender: CustomerSync, customer: CustomerRun, mismatched: Mapping[int, str]
    ) -> None:
        if not customer.records:
            log.info("se-008", "%s: nothing pending, nothing to do", customer.line.customer_name)
            return
        line = customer.line
        if self.request.execute and not take_lock(conn, customer):
            log.warning("se-019", "%s: %s", line.customer_name, line.error)
            return
        try:
            self._customer_records(conn, sender, customer, mismatched)
        finally:
            if self.request.execute:
                try:
                    release_lock(conn, line.customer_key)
                except Exception as exc:  # closing the connection releases the lock anyway
                    log.warning(
                        "se-018", "Could not release the sync lock of %s: %s", line.customer_name, exc
                    )

    def _customer_records(
        self, conn: Connection, sender: CustomerSync, customer: CustomerRun, mismatched: Mapping[int, str]
    ) -> None:
        """Record the dropdown mismatches, then plan (dry run) or sync the sendable records."""
        writes = store.PendingWrites()
        with counters_kept_on_commit(customer):
            for record in customer.records:
                if record.id in mismatched:
                    record_failure(
                        customer,
                        writes,
                        record,
                        None,
                        "dropdown_mismatch",
                        mismatched[record.id],
                        None,
                        execute=self.request.execute,
                    )
            if writes.errors:
                commit_step(conn, self._id, customer, None, writes)
        sendable: list[OrderRecord] = [r for r in customer.records if r.id not in mismatched]
        if not sendable:
            return
        line = customer.line
        if not self.request.execute:
            plan = plan_customer(
                conn, self._id, customer, sendable, self.profile, skip_subitems=self.request.skip_subitems
            )
            log.info(
                "se-014",
                "%s: would sync %d record(s) in %d batch(es), %d API operation(s)",
                line.customer_name,
                len(sendable),
                len(plan.batches),
                len(plan.operations),
            )
            return
        with counters_kept_on_commit(customer):
            group_id = sender.ensure_group(conn, customer, sendable)
        if group_id is None:
            log.error("se-009", "%s: %s", line.customer_name, line.error)
            return
        log.info(
            "se-010",
            "%s: group %s %s; %d pending record(s) given its id",
            line.customer_name,
            group_id,
            line.group_action,
            line.group_applied,
        )
        size = self.profile.batch_size
        total = (len(sendable) + size - 1) // size
        for number, start in enumerate(range(0, len(sendable), size), start=1):
            batch = sender.sync_batch(conn, customer, group_id, number, sendable[start : start + size])
            log.info(
                "se-013",
                "%s batch %d/%d: %d synced, %d error(s), %d API operation(s), %.2fs",
                line.customer_name,
                number,
                total,
                batch.synced,
                batch.errors,
                batch.operations,
                batch.seconds,
                batch=number,
            )

    def _finish_customer(self, conn: Connection, customer: CustomerRun) -> None:
        line = customer.line
        line.finished_at = dt.datetime.now(dt.UTC)
        line.seconds = round(time.perf_counter() - customer.started, 3)
        line.status = store.NOT_STARTED if customer.blocked_by else customer_status(line)
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
        self.contracts.emit(conn, customer)

    # --- the end ----------------------------------------------------------------------------

    def _finalize(
        self, folder: SessionFolder, status: str, error: str | None, handler: JsonLinesHandler | None
    ) -> SessionResult:
        """Every customer's report and the executive summary, whatever happened before."""
        contracts = self.contracts
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
                customer.reporter = contracts.reporter(line)
            if not line.contract_emitted and line.error and customer.reporter is not None:
                contracts.emit(None, customer, reason=line.error)
        with connect(self.setup.url, doing=f"finishing sync session {self.sync_id}") as conn:
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
            contracts.partition_key(c.line.customer_key) for c in self.customers if c.line.contract_emitted
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
    *,
    config_source: str = DEFAULT_CONFIG_SOURCE,
    hooks: RunHooks | None = None,
    options: SessionOptions | None = None,
    sync_id: str | None = None,
    now: dt.datetime | None = None,
    token: Callable[[], str] = random_token,
) -> SessionResult:
    """Run one session. ``hooks`` connect it to its Dagster run; ``sync_id`` (the run's tag),
    ``now`` and ``token`` fix its id (see :class:`SessionStart`). Raises
    :class:`ReportsFolderError` after the session when its files could not be written."""
    setup = SessionSetup(url, request, profile, reports_root, config_source)
    result = SyncSession(setup, hooks, SessionStart(sync_id, now, token), options).run()
    if result.reports_error is not None:
        raise ReportsFolderError(result.reports_error)
    return result
