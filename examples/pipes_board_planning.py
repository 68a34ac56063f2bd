"""The board-planning ETL as a script that a Dagster asset launches through Dagster Pipes
(``PipesSubprocessClient``, see ``pipes_asset.py``): it talks to Dagster through ``dagster_pipes``
only and never imports ``dagster``.

``PipelineReporter`` builds the contract as in any pipeline; ``pipes_metadata()`` hands it to
``report_asset_materialization``, so the launching asset's materialization carries the run report
and is rendered like any other run. The customer and day come from the partition key.
"""

from __future__ import annotations

import sys

from dagster_pipes import open_dagster_pipes

from reporting_assets.partition_keys import parse_partition_key
from reporting_assets.reporter import PipelineReporter

CHANGES = [("BP-201", "Fleece Joggers", 800), ("BP-202", "Canvas Tote", 2500)]


def main() -> None:
    with open_dagster_pipes() as pipes:
        partition = parse_partition_key(pipes.partition_key)
        reporter = PipelineReporter(
            partition.customer_key, "board_planning_pipes", pipes.run_id, execution_date=partition.day
        )
        for key, product, quantity in CHANGES:
            reporter.log_change("new_order", f"{product} (Qty: {quantity:,})", key=key, quantity=quantity)
        reporter.log_metric("records_processed", len(CHANGES))
        reporter.log_metric("new", len(CHANGES))
        pipes.log.info(f"board planning: {len(CHANGES)} new orders for {partition.partition_key}")
        pipes.report_asset_materialization(metadata=reporter.pipes_metadata())
    if "dagster" in sys.modules:
        raise SystemExit("this script must report through dagster_pipes alone, without importing dagster")


if __name__ == "__main__":
    main()
