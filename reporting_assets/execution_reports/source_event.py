"""What one source run reported for one partition (plain data, picklable, no Dagster import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

EventKind = Literal["materialization", "observation", "run_failure"]


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

    @property
    def label(self) -> str:
        return f"run {self.run_id} ({self.pipeline_type}, partition {self.partition_key!r})"
