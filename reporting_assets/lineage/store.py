"""Write lineage for the reports of a set of partitions: set-based SQL, idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from reporting_assets.db.connection import Connection
from reporting_assets.db.first_write import insert_or_upsert
from reporting_assets.db.queries import query
from reporting_assets.parallel import cores

PARALLEL_MIN_PARTITIONS = 100
"""Below this a second connection costs more than it saves."""


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


def external_run_info(run: Mapping[str, Any]) -> RunInfo:
    """A run reported from outside Dagster: its job is its pipeline, its status and times are
    what it reported (it is over: it sent its report)."""
    status = "failed" if run["report_status"] == "failed" else "success"
    return RunInfo(run["run_id"], run["pipeline_type"], status, run["started_at"], run["finished_at"])


def runs_for_partitions(conn: Connection, partition_keys: Sequence[str]) -> list[dict[str, Any]]:
    return conn.execute(
        query("lineage_runs_for_partitions"), {"partition_keys": list(partition_keys)}
    ).fetchall()


def store_lineage(
    conn: Connection,
    partition_keys: Sequence[str],
    runs: Sequence[Mapping[str, Any]],
    run_info: Mapping[str, RunInfo],
    more: Sequence[Connection] = (),
) -> LineageOutcome:
    """Upsert executions, their per-partition children and one row per leaf figure.

    Without ``more`` it is one transaction on ``conn`` (committed by the caller). With ``more``
    connections (large batches), the executions are committed first, then the per-partition
    rows and figure rows are written in parallel, one slice of the partitions per connection,
    each in its own transaction: a write is the server's single-core work, and this spreads it
    over the cores. A failure may leave some slices written; a re-run makes the batch whole.
    """
    unknown = RunInfo("", "unknown", "unknown", None, None)
    infos = [external_run_info(r) if r["external"] else run_info.get(r["run_id"], unknown) for r in runs]
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
                "sources": ["external" if r["external"] else "dagster" for r in runs],
            },
        )
        if not more:
            summary = _store_partitions(conn, partition_keys)
    if more:
        conn.commit()  # the other connections' rows reference these
        connections = [conn, *more]
        keys = sorted(partition_keys)
        size = -(-len(keys) // len(connections))
        slices = [keys[i : i + size] for i in range(0, len(keys), size)]
        with ThreadPoolExecutor(len(slices), thread_name_prefix="lineage") as pool:
            parts = list(pool.map(_store_partitions_committed, connections, slices))
        summary = [row for part in parts for row in part]
    return LineageOutcome(
        runs=summary,
        runs_without_external_id=sorted(r["run_id"] for r in runs if not r["external_execution_id"]),
    )


def _store_partitions(conn: Connection, partition_keys: Sequence[str]) -> list[dict[str, Any]]:
    """The partitions' per-run rows and one row per leaf figure of their reports; returns the
    per-report summary.

    A first write inserts the leaves straight from the reports; otherwise they are staged, the
    figures a report no longer has are deleted and the rest upserted."""
    params = {"partition_keys": list(partition_keys)}
    conn.execute(query("lineage_partitions_upsert"), params)

    def replace_stale_and_upsert() -> None:
        conn.execute(query("lineage_leaves_stage"))
        conn.execute(query("lineage_leaves_stage_into") + query("lineage_leaves"), params)
        conn.execute(query("lineage_stale_delete"), params)
        conn.execute(
            query("lineage_figures_into")
            + query("lineage_leaves_staged")
            + query("lineage_figures_on_conflict")
        )

    insert_or_upsert(
        conn,
        exists=query("lineage_exists_for_partitions"),
        insert=query("lineage_figures_into") + query("lineage_leaves"),
        upsert=replace_stale_and_upsert,
        params=params,
    )
    return conn.execute(query("lineage_partition_summary"), params).fetchall()


def _store_partitions_committed(conn: Connection, partition_keys: Sequence[str]) -> list[dict[str, Any]]:
    with conn.transaction():
        summary = _store_partitions(conn, partition_keys)
    conn.commit()  # the block was a savepoint if the connection already had a transaction open
    return summary


def lineage_connections(partitions: int, processes: int = 0) -> int:
    """Connections for the figure write of ``partitions``: one per core (or ``processes``) for
    large batches, else one."""
    if partitions < PARALLEL_MIN_PARTITIONS:
        return 1
    return cores(processes)
