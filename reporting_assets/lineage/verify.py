"""``reporting-assets lineage verify``: check that the workflow lineage tables are complete.

Checks the expected columns exist, prints population rates per column, broken references and
sample rows; the result is a failure when any figure lacks lineage or a reference is broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query

EXPECTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "pipeline_execution_reports": (
        "id",
        "customer_name",
        "customer_key",
        "execution_date",
        "pipeline_type",
        "execution_id",
        "external_execution_id",
        "partition_key",
        "status",
        "event_storage_id",
        "markdown_content",
        "summary_json",
        "metrics_json",
        "generated_at",
        "created_at",
        "updated_at",
    ),
    "workflow_executions": (
        "run_id",
        "job_name",
        "status",
        "started_at",
        "completed_at",
        "external_execution_id",
        "source",
    ),
    "workflow_execution_partitions": (
        "id",
        "run_id",
        "pipeline_type",
        "customer_key",
        "execution_date",
        "partition_key",
        "record_count",
        "external_execution_id",
    ),
    "report_lineage": (
        "report_id",
        "figure_path",
        "figure_value",
        "run_id",
        "execution_partition_id",
        "event_storage_id",
        "external_execution_id",
    ),
}


@dataclass
class VerifyResult:
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    population: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    runs_by_source: dict[str, int] = field(default_factory=dict)
    """Runs in the lineage: Dagster runs, and runs reported from outside Dagster ("external")."""

    @property
    def ok(self) -> bool:
        return not self.missing_columns and not any(self.problems.values())


def verify(conn: Connection, sample_rows: int = 5) -> VerifyResult:
    result = VerifyResult()
    present: dict[str, set[str]] = {}
    for row in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'reporting'"
    ):
        present.setdefault(row["table_name"], set()).add(row["column_name"])
    for table, columns in EXPECTED_COLUMNS.items():
        missing = [c for c in columns if c not in present.get(table, set())]
        if missing:
            result.missing_columns[table] = missing
            continue
        counts = sql.SQL(", ").join(
            sql.SQL("count({}) AS {}").format(sql.Identifier(c), sql.Identifier(c)) for c in columns
        )
        stmt = sql.SQL("SELECT count(*) AS {}, {} FROM {}").format(
            sql.Identifier("__total__"), counts, sql.Identifier("reporting", table)
        )
        totals = conn.execute(stmt).fetchone()
        assert totals is not None
        values = list(totals.values())
        result.population[table] = {c: (values[i + 1], values[0]) for i, c in enumerate(columns)}
    if result.missing_columns:
        return result
    result.runs_by_source = {"dagster": 0, "external": 0} | {
        row["source"]: row["runs"]
        for row in conn.execute(
            "SELECT source, count(*) AS runs FROM reporting.workflow_executions GROUP BY source"
        )
    }
    found = conn.execute(query("lineage_verify_problems")).fetchone()
    result.problems = dict(found or {})
    result.samples = conn.execute(query("lineage_verify_samples"), {"limit": sample_rows}).fetchall()
    return result


def format_result(result: VerifyResult) -> str:
    lines = ["Lineage verification", ""]
    for table, missing in result.missing_columns.items():
        lines.append(
            f"MISSING  reporting.{table}: columns {', '.join(missing)} (run `reporting-assets db migrate`)"
        )
    for table, columns in result.population.items():
        total = next(iter(columns.values()))[1] if columns else 0
        lines.append(f"reporting.{table} ({total:,} rows)")
        for column, (filled, rows) in columns.items():
            rate = 100.0 * filled / rows if rows else 0.0
            lines.append(f"  {column:<24} {filled:>10,} / {rows:<10,} {rate:6.1f}% populated")
    if result.runs_by_source:
        lines += [
            "",
            f"Runs: {result.runs_by_source.get('dagster', 0):,} Dagster runs, "
            f"{result.runs_by_source.get('external', 0):,} external runs (reported from outside Dagster)",
        ]
    if result.problems:
        lines += ["", "Checks"]
        for name, count in result.problems.items():
            lines.append(f"  {'OK  ' if count == 0 else 'FAIL'} {name.replace('_', ' ')}: {count:,}")
    if result.samples:
        lines += ["", "Sample lineage rows (newest first)"]
        for s in result.samples:
            lines.append(
                f"  {s['customer_key']}|{s['execution_date']} {s['pipeline_type']} "
                f"{s['figure_path']}={s['figure_value']} <- run {s['run_id']} "
                f"event {s['event_storage_id']} external {s['external_execution_id'] or '-'}"
            )
    lines += [
        "",
        "RESULT: OK"
        if result.ok
        else "RESULT: FAILED (re-materialize workflow_lineage for the affected partitions)",
    ]
    return "\n".join(lines)
