"""The sample source pipelines as Dagster assets, partitioned customer x day."""

import dagster as dg
from pydantic import Field

from reporting_assets.partitions import customer_day_partitions, parse_partition_key, run_partition_key
from reporting_assets.reporter import PipelineReporter, report_failures
from reporting_assets.resources import PostgresResource
from reporting_assets.sources.pipelines import PIPELINES, Simulation, run_pipeline

SOURCE_GROUP = "sources"


class SourceRunConfig(dg.Config):
    simulate: Simulation = Field(
        default="none", description="'partial' or 'failure' to exercise error reporting on purpose."
    )
    external_execution_id: str | None = Field(
        default=None, description="An id from an external orchestrator (Kestra, AMC...) to keep in lineage."
    )


def build_source_asset(pipeline_type: str) -> dg.AssetsDefinition:
    description = (PIPELINES[pipeline_type].__doc__ or "").strip()

    @dg.asset(
        name=pipeline_type,
        group_name=SOURCE_GROUP,
        partitions_def=customer_day_partitions,
        description=f"{description} Emits the run-report contract (docs/contract.md).",
        kinds={"python"},
    )
    def source_asset(
        context: dg.AssetExecutionContext, config: SourceRunConfig, postgres: PostgresResource
    ) -> dg.MaterializeResult:
        from reporting_assets.customers import get_customer  # psycopg: paid by the run, not the load

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

    return source_asset


source_assets = [build_source_asset(name) for name in PIPELINES]
SOURCE_ASSET_KEYS = [a.key for a in source_assets]

sample_pipelines_job = dg.define_asset_job(
    "sample_pipelines",
    selection=dg.AssetSelection.assets(*SOURCE_ASSET_KEYS),
    description="The three sample source pipelines for one customer and day.",
)
