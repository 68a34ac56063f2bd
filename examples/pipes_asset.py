"""A Dagster asset that runs ``pipes_board_planning.py`` through Dagster Pipes. Register the
pipeline once (``reporting-assets pipelines add board_planning_pipes --name 'Board Planning
(Pipes)' --not-expected-daily``) and load this module as a code location of the same instance
(``dagster dev -f examples/pipes_asset.py``, next to reporting_assets): the report sensor watches
the asset by its key."""

import sys
from pathlib import Path

import dagster as dg

from reporting_assets.partitions import customer_day_partitions

SCRIPT = Path(__file__).with_name("pipes_board_planning.py")


@dg.asset(partitions_def=customer_day_partitions, kinds={"python"})
def board_planning_pipes(
    context: dg.AssetExecutionContext, pipes_subprocess_client: dg.PipesSubprocessClient
) -> dg.MaterializeResult:
    """Board planning run as an external script; its run report comes back through Dagster Pipes."""
    return pipes_subprocess_client.run(
        command=[sys.executable, str(SCRIPT)], context=context
    ).get_materialize_result()


defs = dg.Definitions(
    assets=[board_planning_pipes],
    resources={"pipes_subprocess_client": dg.PipesSubprocessClient()},
)
