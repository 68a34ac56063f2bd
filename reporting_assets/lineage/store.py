"""Write lineage for the reports of a set of partitions: set-based SQL, idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.first_write import insert_or_upsert, with_conflict_clause
from reporting_assets.db.queries import query


@dataclass(frozen=True)
class RunInfo:
    """What the Dagster instance knows about a run."""

    run_id: str
    job_name: str
    status: str
    started_at: dt.datetime | None
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class LineageOutcome:
    runs: list[dict[str, Any]]
    runs_without_external_id: list[str]


def runs_for_partitions(conn: Connection, partition_keys: Sequence[str]) -> list[dict[str, Any]]:
    return conn.execute(
        query("lineage_runs_for_partitions"), {"partition_keys": list(partition_keys)}
    ).fetchall()


def store_lineage(
    conn: Connection,
    partition_keys: Sequence[str],
    runs: Sequence[Mapping[str, Any]],
    run_info: Mapping[str, RunInfo],
) -> LineageOutcome:
    """Upsert executions, their per-partition children and one row per leaf figure."""
    params = {"partition_keys": list(partition_keys)}
    unknown = RunInfo("", "unknown", "unknown", None, None)
    infos = [run_info.get(r["run_id"], unknown) for r in runs]
    with conn.transaction():
        conn.execute(
            query("lineage_executions_upsert"),
            {
                "run_ids": [r["run_id"] for r in runs],
                "job_names": [i.job_name for i in infos],
                "statuses": [i.status for i in infos],
                "started_at": [i.started_at for i in infos],
                "completed_at": [i.completed_at for i in infos],
                "external_ids": [r["external_execution_id"] for r in runs],
            },
        )
        conn.execute(query("lineage_partitions_upsert"), params)
        conn.execute(query("lineage_leaves_stage"))
        conn.execute(query("lineage_leaves_fill"), params)

        def replace_stale_and_upsert() -> None:
            conn.execute(query("lineage_stale_delete"), params)
            conn.execute(with_conflict_clause("lineage_figures_insert", "lineage_figures_on_conflict"))

        insert_or_upsert(
            conn,
            exists=query("lineage_exists_for_leaves"),
            insert=query("lineage_figures_insert"),
            upsert=replace_stale_and_upsert,
        )
        summary = conn.execute(query("lineage_partition_summary"), params).fetchall()
    return LineageOutcome(
        runs=summary,
        runs_without_external_id=sorted(r["run_id"] for r in runs if not r["external_execution_id"]),
    )
