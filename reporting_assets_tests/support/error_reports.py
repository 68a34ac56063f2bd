"""Stored execution reports carrying chosen errors and warnings, written straight into
``reporting.pipeline_execution_reports`` (the table the error_patterns asset reads)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

from reporting_assets.db.connection import Connection


@dataclass(frozen=True)
class ErrorReport:
    customer_key: str
    day: dt.date
    run_id: str
    errors: Sequence[str] = ()
    warnings: Sequence[str] = field(default_factory=tuple)
    pipeline_type: str = "order_sync"
    started_at: dt.datetime | None = None


def insert_error_reports(conn: Connection, reports: Sequence[ErrorReport]) -> None:
    """One report row per item (status failed when it has errors), committed."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO reporting.pipeline_execution_reports
                   (customer_name, customer_key, execution_date, pipeline_type, execution_id, partition_key,
                    status, source_event, run_started_at, markdown_content, summary_json, contract_json,
                    content_hash, generated_at)
               VALUES (%(name)s, %(key)s, %(day)s, %(pipeline)s, %(run)s, %(partition)s, %(status)s,
                       'materialization', %(started)s, '# report', '{}', %(contract)s,
                       repeat('0', 64), now())""",
            [
                {
                    "name": r.customer_key,
                    "key": r.customer_key,
                    "day": r.day,
                    "pipeline": r.pipeline_type,
                    "run": r.run_id,
                    "partition": f"{r.customer_key}|{r.day.isoformat()}",
                    "status": "failed" if r.errors else "success",
                    "started": r.started_at or dt.datetime.combine(r.day, dt.time(12), tzinfo=dt.UTC),
                    "contract": Jsonb({"errors": list(r.errors), "warnings": list(r.warnings)}),
                }
                for r in reports
            ],
        )
    conn.commit()
