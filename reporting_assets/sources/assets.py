"""The sample source pipelines as Dagster assets, partitioned customer x day."""

import dagster as dg
from pydantic import Field

from reporting_assets.partitions import customer_day_partitions
from reporting_assets.resources import PostgresResource
from reporting_assets.sources.catalog import PIPELINE_DESCRIPTIONS, Simulation

SOURCE_GROUP = "sources"


class SourceRunConfig(dg.Config):
    simulate: Simulation = Field(
        default="none", description="'partial' or 'failure' to exercise error reporting on purpose."
    )
    external_execution_id: str | None = Field(
        default=None, description="An id from an external orchestrator (Kestra, AMC...) to keep in lineage."
    )


def build_source_asset(pipeline_type: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=pipeline_type,
        group_name=SOURCE_GROUP,
        partitions_def=customer_day_partitions,
        description=f"{PIPELINE_DESCRIPTIONS[pipeline_type]} "
        "Emits the run-report contract (docs/contract.md).",
        kinds={"python"},
    )
    def source_asset(
        context: dg.AssetExecutionContext, config: SourceRunConfig, postgres: PostgresResource
    ) -> dg.MaterializeResult:
        from reporting_assets.sources.materialize import materialize_source

        return materialize_source(context, config, postgres, pipeline_type)

    return source_asset


source_assets = [build_source_asset(name) for name in PIPELINE_DESCRIPTIONS]
SOURCE_ASSET_KEYS = [a.key for a in source_assets]

sample_pipelines_job = dg.define_asset_job(
    "sample_pipelines",
    selection=dg.AssetSelection.assets(*SOURCE_ASSET_KEYS),
    description="The three sample source pipelines for one customer and day.",
)
