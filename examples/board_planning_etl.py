"""A board-planning ETL outside Dagster that reports its run: a plain script, as a Kestra task or a
cron job runs it.

It reads the day's board for one customer, writes what changed, and records the run with
``PipelineReporter(...).save()``: the report, lineage and daily summary follow as for any
pipeline. The execution id is Kestra's (``KESTRA_EXECUTION_ID``, which the flow in
``kestra_flow.yaml`` sets); run by hand, pass ``--execution-id``. The pipeline is registered once:

    reporting-assets pipelines add board_planning --name 'Board Planning' \\
        --run-link 'https://kestra.example.com/ui/executions/{id}'

Usage: python examples/board_planning_etl.py 'ACTIVELY BLACK' 2025-06-17
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from reporting_assets.errors import ReportingError
from reporting_assets.reporter import PipelineReporter

BOARD = [  # what the planning board holds today (a real ETL reads it from its source)
    ("BP-101", "Spring Collection Hoodie", 500, "new"),
    ("BP-102", "Summer Tee", 1200, "new"),
    ("BP-087", "Track Jacket", 300, "updated"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Board-planning ETL for one customer and day.")
    parser.add_argument("customer", help="registered customer key, e.g. 'ACTIVELY BLACK'")
    parser.add_argument("day", type=dt.date.fromisoformat, help="UTC day, YYYY-MM-DD")
    parser.add_argument(
        "--execution-id", default=os.environ.get("KESTRA_EXECUTION_ID"), help="default: $KESTRA_EXECUTION_ID"
    )
    args = parser.parse_args(argv)
    if not args.execution_id:
        parser.error("no execution id: set KESTRA_EXECUTION_ID or pass --execution-id")

    reporter = PipelineReporter(
        args.customer, "board_planning", execution_date=args.day, external_execution_id=args.execution_id
    )
    for key, product, quantity, state in BOARD:
        category = "new_order" if state == "new" else "order_updated"
        reporter.log_change(category, f"{product} (Qty: {quantity:,})", key=key, quantity=quantity)
    reporter.log_metric("records_processed", len(BOARD))
    reporter.log_metric("new", sum(state == "new" for *_, state in BOARD))
    reporter.log_metric("updated", sum(state == "updated" for *_, state in BOARD))
    reporter.count_api_calls("monday_com", 2)
    try:
        recorded = reporter.save()
    except ReportingError as exc:  # not registered, instance away (then spooled): say so, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Recorded board_planning {recorded.external_execution_id}: {recorded.show_command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
