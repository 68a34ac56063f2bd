"""Reading stored execution reports back (``reporting-assets reports show``).

Each way a request can miss gets its own message: a customer that is not registered (with
close matches), a partition with no reports yet (with the command that makes them), a pipeline
with no report in a partition that has others (with the pipelines it has). A key that is not
``CUSTOMER|YYYY-MM-DD`` is refused before, by ``parse_partition_key``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting_assets.customers import get_customer
from reporting_assets.db.connection import Connection
from reporting_assets.errors import ReportingError
from reporting_assets.partition_keys import CustomerDay


class ReportNotFoundError(ReportingError):
    """No stored execution report matches the request."""


@dataclass(frozen=True)
class StoredReport:
    pipeline_type: str
    execution_id: str
    markdown: str


def partition_reports(
    conn: Connection, partition: CustomerDay, pipeline: str | None = None
) -> list[StoredReport]:
    """The stored reports of a partition (only ``pipeline``'s when given), oldest run first."""
    customer = get_customer(conn, partition.customer_key)
    key = f"{customer.partition_key}|{partition.day.isoformat()}"
    rows = conn.execute(
        "SELECT pipeline_type, execution_id, markdown_content FROM reporting.pipeline_execution_reports "
        "WHERE partition_key = %s ORDER BY run_started_at NULLS FIRST, pipeline_type, execution_id",
        (key,),
    ).fetchall()
    if not rows:
        raise ReportNotFoundError(
            f"No execution report stored for {key!r}. Materialize it with "
            f"`dagster asset materialize -m reporting_assets.definitions --select execution_reports "
            f"--partition '{key}'`."
        )
    reports = [StoredReport(r["pipeline_type"], str(r["execution_id"]), r["markdown_content"]) for r in rows]
    if pipeline is None:
        return reports
    chosen = [r for r in reports if r.pipeline_type == pipeline]
    if not chosen:
        present = sorted({r.pipeline_type for r in reports})
        raise ReportNotFoundError(
            f"Pipeline {pipeline!r} has no report in partition {key!r}; the pipelines with reports "
            f"there are: {', '.join(present)}."
        )
    return chosen
