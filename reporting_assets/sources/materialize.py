"""What a sample pipeline asset does when it materializes: look up the customer, run the pipeline
through a PipelineReporter and return its run-report contract. Imported by the asset body, so
loading the code location does not pay for psycopg, the pipelines or the report builder."""

from __future__ import annotations

import dagster as dg

from reporting_assets.customers import get_customer
from reporting_assets.partitions import parse_partition_key, run_partition_key
from reporting_assets.reporter import PipelineReporter, report_failures
from reporting_assets.resources import PostgresResource
from reporting_assets.sources.assets import SourceRunConfig
from reporting_assets.sources.pipelines import run_pipeline


def materialize_source(
    context: dg.AssetExecutionContext, config: SourceRunConfig, postgres: PostgresResource, pipeline_type: str
) -> dg.MaterializeResult:
    """One run of ``pipeline_type`` for the run's customer and day."""
    partition = parse_partition_key(run_partition_key(context))
    with postgres.connection(doing=f"looking up customer {partition.customer_key!r}") as conn:
        customer = get_customer(conn, partition.customer_key)
    reporter = PipelineReporter(
        customer.display_name,
        pipeline_type,
        context.run.run_id,
        customer_key=customer.partition_key,
        execution_date=partition.day,
        external_execution_id=config.external_execution_id,
    )
    with report_failures(context, reporter):
        run_pipeline(pipeline_type, reporter, partition.customer_key, partition.day, config.simulate)
    return reporter.materialize_result()
