"""The sync job: one Dagster run is one sync session over many customers.

``sync_session`` is a multi-asset with two specs:

- ``sync_sessions`` (unpartitioned): one materialization per session, the executive summary as
  markdown plus the headline numbers;
- ``sync_order_list`` (customer x day, skippable): the run-report contract of each customer the
  session synced, as ``AssetMaterialization(partition="customer|day")`` (an
  ``AssetObservation`` with the error contract when the customer failed), so its customers get
  execution reports and lineage like any other source pipeline. The contract's
  ``external_execution_id`` is the sync id, so lineage ties every figure to the session.

A dry run materializes ``sync_sessions`` only: it changes nothing, so it claims no
``sync_order_list`` partition. The run is tagged ``reporting/sync_id``.
"""

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field, field_validator

from reporting_assets.partitions import customer_day_partitions
from reporting_assets.resources import PostgresResource
from reporting_assets.sync.folders import parse_sync_id
from reporting_assets.sync.resources import ReportsOutputResource, SyncSettingsResource

if TYPE_CHECKING:
    from reporting_assets.sync.model import SyncRequest

SYNC_ORDER_LIST = dg.AssetKey("sync_order_list")  # the pipeline type of its contracts (sync.model)
SYNC_SESSIONS = dg.AssetKey("sync_sessions")
SYNC_JOB_NAME = "sync_order_list"
SYNC_OP_NAME = "sync_session"
SYNC_ID_TAG = "reporting/sync_id"
SYNC_GROUP = "sync"


class SyncRunConfig(dg.Config):
    """The ``reporting-assets sync`` flags, as run config (the CLI fills them; the launchpad shows them)."""

    environment: str = Field(default="", description="Profile of config/sync.toml; empty = its default.")
    customers: list[str] = Field(
        default=[], description="Customer partition keys; empty = every registered one."
    )
    limit: int | None = Field(
        default=None, description="At most this many pending records per customer (>= 1)."
    )
    skip_subitems: bool = Field(default=False, description="Do not create or update subitems.")
    execute: bool = Field(default=False, description="Apply the changes; false = dry run (changes nothing).")
    generate_report: bool = Field(
        default=False,
        description="Recorded in the session's filters (the CLI renders execution reports after).",
    )
    sample_day: str | None = Field(
        default=None, description="YYYY-MM-DD: fill the sample order list from the synthetic source first."
    )
    sync_id: str | None = Field(
        default=None, description="Sync id to use (default: a new one, or the run's tag)."
    )

    @field_validator("limit")
    @classmethod
    def _check_limit(cls, value: int | None) -> int | None:
        from reporting_assets.sync.model import check_limit

        try:
            return check_limit(value)
        except Exception as exc:
            raise ValueError(str(exc)) from None

    @field_validator("sample_day")
    @classmethod
    def _check_day(cls, value: str | None) -> str | None:
        if value is not None:
            dt.date.fromisoformat(value)
        return value

    @field_validator("sync_id")
    @classmethod
    def _check_sync_id(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_sync_id(value)
            except Exception as exc:
                raise ValueError(str(exc)) from None
        return value

    def request(self, environment: str) -> "SyncRequest":
        from reporting_assets.sync.model import SyncRequest

        return SyncRequest(
            environment=environment,
            customers=tuple(self.customers),
            limit=self.limit,
            skip_subitems=self.skip_subitems,
            execute=self.execute,
            generate_report=self.generate_report,
            sample_day=dt.date.fromisoformat(self.sample_day) if self.sample_day else None,
        )


@dg.multi_asset(
    name=SYNC_OP_NAME,
    specs=[
        dg.AssetSpec(
            SYNC_SESSIONS,
            group_name=SYNC_GROUP,
            kinds={"postgres"},
            description="One sync session per run: the executive summary (_SYNC_SUMMARY.md) as markdown, "
            "stored in reporting.sync_sessions, with its folder reports/sync/{SYNC-ID}/.",
        ),
        dg.AssetSpec(
            SYNC_ORDER_LIST,
            group_name=SYNC_GROUP,
            partitions_def=customer_day_partitions,
            skippable=True,
            kinds={"python"},
            description="Pending order list records synced to the target, per customer and day: each "
            "executed session emits the run-report contract (docs/contract.md) of every customer it "
            "synced (an observation with the error contract when it failed).",
        ),
    ],
    can_subset=False,
)
def sync_session(
    context: dg.AssetExecutionContext,
    config: SyncRunConfig,
    postgres: PostgresResource,
    reports_output: ReportsOutputResource,
    sync_settings: SyncSettingsResource,
) -> Iterator[dg.MaterializeResult]:
    from reporting_assets.contract import RunReport
    from reporting_assets.reporter import report_metadata
    from reporting_assets.sync.engine import run_session
    from reporting_assets.sync.model import RunHooks

    settings = sync_settings.load()
    profile = settings.profile(config.environment or None)
    sync_id = config.sync_id or context.run.tags.get(SYNC_ID_TAG)

    def emit(partition_key: str, report: RunReport) -> None:
        metadata = report_metadata(report)
        event: dg.AssetMaterialization | dg.AssetObservation
        if report.status == "failed":
            event = dg.AssetObservation(asset_key=SYNC_ORDER_LIST, partition=partition_key, metadata=metadata)
        else:
            event = dg.AssetMaterialization(
                asset_key=SYNC_ORDER_LIST, partition=partition_key, metadata=metadata
            )
        context.log_event(event)

    def tag_run(sync_id: str) -> None:
        if context.run.tags.get(SYNC_ID_TAG) != sync_id:
            context.instance.add_run_tags(context.run.run_id, {SYNC_ID_TAG: sync_id})

    result = run_session(
        postgres.url(),
        config.request(profile.environment),
        profile,
        reports_output.path(),
        config_source=settings.source,
        sync_id=sync_id,
        hooks=RunHooks(run_id=context.run.run_id, sink=emit, dagster_log=context.log, on_open=tag_run),
    )
    totals = (result.summary or {}).get("totals", {})
    metadata: dict[str, dg.RawMetadataValue] = {
        "summary": dg.MetadataValue.md(result.summary_markdown or "_No summary (reporting off)._"),
        "sync_id": dg.MetadataValue.text(result.sync_id),
        "status": dg.MetadataValue.text(result.status),
        "dry_run": dg.MetadataValue.bool(not config.execute),
        "folder": dg.MetadataValue.path(str(result.folder)),
        "records_processed": dg.MetadataValue.int(int(totals.get("records_processed", 0))),
        "errors": dg.MetadataValue.int(int(totals.get("errors", 0))),
        "api_operations": dg.MetadataValue.int(int(totals.get("api_operations", 0))),
        "batch_success_rate": dg.MetadataValue.float(float(totals.get("batch_success_rate") or 0.0)),
        "customer_partitions": dg.MetadataValue.text(", ".join(result.partition_keys) or "none"),
    }
    if result.status == "failed":
        raise dg.Failure(
            description=f"Sync session {result.sync_id}: "
            + (result.error or "it failed for every customer in scope.")
            + f" The reports are in {result.folder} (executive summary in the metadata).",
            metadata=metadata,
        )
    yield dg.MaterializeResult(asset_key=SYNC_SESSIONS, metadata=metadata)


sync_order_list_job = dg.define_asset_job(
    SYNC_JOB_NAME,
    selection=dg.AssetSelection.assets(SYNC_SESSIONS, SYNC_ORDER_LIST),
    description="One sync session: pending order list records of many customers sent to the sample "
    "target in batches, with customer reports, an executive summary and a contract per customer.",
    tags={"reporting/kind": "sync"},
)
