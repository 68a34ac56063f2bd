"""The run-report contract of each customer of an executed session (docs/contract.md): counts,
a change per item, API calls, one error per cause and next actions, handed to the sink under
the customer's ``CUSTOMER|day`` partition once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reporting_assets.contract import Status
from reporting_assets.db.connection import Connection
from reporting_assets.partition_keys import CustomerDay
from reporting_assets.reporter import PipelineReporter
from reporting_assets.sync import reports, store
from reporting_assets.sync.model import PIPELINE_TYPE, ContractSink, CustomerRun


@dataclass(frozen=True)
class Contracts:
    """The contracts of one session: whose run, which sync id, which day's partitions."""

    sink: ContractSink | None
    run_id: str | None
    sync_id: str
    day: dt.date
    """The session's UTC start day: the day of every partition it claims."""

    def partition_key(self, customer_key: str) -> str:
        return CustomerDay(customer_key, self.day).partition_key

    def reporter(self, line: store.CustomerLine) -> PipelineReporter:
        """The customer's contract builder; ``external_execution_id`` is the sync id, so lineage
        and execution reports tie every figure to the session."""
        return PipelineReporter(
            line.customer_name,
            PIPELINE_TYPE,
            self.run_id,
            customer_key=line.customer_key,
            execution_date=self.day,
            external_execution_id=self.sync_id,
        )

    def emit(self, conn: Connection | None, customer: CustomerRun, reason: str | None = None) -> None:
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
        self.sink(self.partition_key(line.customer_key), reporter.build(status))
        line.contract_emitted = True
        if conn is not None:
            store.upsert_customer(conn, self.sync_id, line)
            conn.commit()
