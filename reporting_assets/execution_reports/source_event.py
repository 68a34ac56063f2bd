"""What one source run reported for one partition (plain data, picklable, no Dagster import)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

EventKind = Literal["materialization", "observation", "run_failure", "external"]
EXTERNAL_PREFIX = "ext:"


def external_run_id(pipeline_type: str, external_id: str) -> str:
    """The execution id of a run reported from outside Dagster: one per pipeline and external
    execution id, so the same report sent twice is one report (and one lineage run)."""
    run_id = f"{EXTERNAL_PREFIX}{pipeline_type}:{external_id}"
    if len(run_id) <= 255:
        return run_id
    return f"{EXTERNAL_PREFIX}{pipeline_type}:sha256:{hashlib.sha256(external_id.encode()).hexdigest()}"


def is_external_run_id(run_id: str) -> bool:
    return run_id.startswith(EXTERNAL_PREFIX)


@dataclass(frozen=True)
class SourceEvent:
    """One source run's report for one partition, as found in the instance."""

    run_id: str
    pipeline_type: str
    partition_key: str
    kind: EventKind
    storage_id: int | None
    timestamp: float
    raw_contract: Any  # the run_report metadata value, or None
    failure_messages: tuple[str, ...] = ()
    external_id: str | None = None  # set for a run reported from outside Dagster (kind "external")
    asset_key: str | None = None  # the pipeline's asset, for the link to an external run's event

    @property
    def label(self) -> str:
        return f"run {self.run_id} ({self.pipeline_type}, partition {self.partition_key!r})"
