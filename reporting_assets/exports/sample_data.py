"""A deterministic sample for the analytics tables: several tenants, a few months of events,
sessions and device metrics. Generated inside PostgreSQL (``generate_series`` + hashes), so a
million rows take seconds and the same arguments always give the same rows; re-running adds
nothing (ids are derived from the same hashes)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from reporting_assets.db.connection import Connection
from reporting_assets.db.queries import query
from reporting_assets.exports.errors import ExportError

DEFAULT_TENANTS: tuple[str, ...] = ("acme", "globex", "initech")
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: ``days`` days ending with ``end`` (inclusive), per tenant."""

    end: dt.date
    tenants: tuple[str, ...] = DEFAULT_TENANTS
    days: int = 90
    events_per_day: int = 200
    users: int = 40
    sessions_per_day: int = 30
    devices: int = 12
    seed: str = "reporting-sample"

    @property
    def start(self) -> dt.datetime:
        first = self.end - dt.timedelta(days=self.days - 1)
        return dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)


def generate_sample_data(conn: Connection, spec: SampleSpec) -> dict[str, int]:
    """Insert the sample (rows already there stay); return rows inserted per table. Commits."""
    if not spec.tenants:
        raise ExportError("Sample data needs at least one tenant.")
    for tenant in spec.tenants:
        if not TENANT_ID.match(tenant):
            raise ExportError(
                f"Tenant id {tenant!r} is not valid: 1-100 letters, digits, '.', '_' or '-', starting "
                f"with a letter or digit."
            )
    if not 1 <= spec.days <= 3660 or spec.events_per_day < 1 or spec.users < 1:
        raise ExportError("Sample data needs 1-3660 days, at least one event per day and one user.")
    params = {
        "tenants": list(spec.tenants),
        "start": spec.start,
        "days": spec.days,
        "per_day": spec.events_per_day,
        "users": spec.users,
        "sessions_per_day": spec.sessions_per_day,
        "devices": spec.devices,
        "sample_seed": spec.seed,
    }
    counts = {}
    for table in ("usage_events", "user_sessions", "device_metrics"):
        cur = conn.execute(query(f"exports_sample_{table}"), params)
        counts[table] = max(cur.rowcount, 0)
    conn.execute("ANALYZE analytics.usage_events")
    conn.commit()
    return counts
