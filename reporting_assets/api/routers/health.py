"""``GET /health`` (no token): whether the database answers and its migrations are current,
whether SMTP and S3 are configured, and how many exports wait or failed. 200 when the database
is usable, else 503 with the same body saying what is wrong."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from reporting_assets.api.context import Context
from reporting_assets.db.migrations import discover
from reporting_assets.delivery.smtp import ENV_PREFIX as SMTP_ENV_PREFIX
from reporting_assets.exports.maintenance import export_health
from reporting_assets.redaction import redact

router = APIRouter(tags=["health"])


class HealthBody(BaseModel):
    status: str
    database: dict[str, Any]
    smtp: dict[str, Any]
    s3: dict[str, Any]
    exports: dict[str, Any] | None


@router.get(
    "/health",
    response_model=HealthBody,
    summary="Database, migrations, SMTP/S3 configuration and export backlog",
    responses={503: {"model": HealthBody, "description": "The database is unreachable or not migrated."}},
)
def get_health(context: Context) -> JSONResponse:
    database: dict[str, Any] = {"reachable": False, "migrations_current": False}
    exports: dict[str, Any] | None = None
    try:
        with context.database.connection() as conn:
            conn.execute("SELECT 1")
            database["reachable"] = True
            applied = {r["version"] for r in conn.execute("SELECT version FROM reporting.schema_migrations")}
            missing = [m.name for m in discover() if m.version not in applied]
            database["migrations_current"] = not missing
            if missing:
                database["pending_migrations"] = missing
                database["hint"] = "run `reporting-assets db migrate`"
            else:
                health = export_health(conn, now=dt.datetime.now(dt.UTC), settings=context.exports)
                exports = {"pending": health.pending, "failed": health.failed, **health.as_json()}
    except Exception as exc:  # whatever fails here is what /health reports (redacted)
        database["error"] = redact(" ".join(str(exc).split())[:500]) or type(exc).__name__
    s3 = context.s3
    ok = database["reachable"] and database["migrations_current"]
    payload = HealthBody(
        status="ok" if ok else "unavailable",
        database=database,
        smtp={"configured": bool(os.environ.get(f"{SMTP_ENV_PREFIX}HOST", "").strip())},
        s3={
            "configured": bool(s3 and (s3.endpoint_url or s3.bucket or s3.access_key_id)),
            "default_bucket": (s3.bucket or None) if s3 else None,
        },
        exports=exports,
    )
    return JSONResponse(payload.model_dump(), status_code=200 if ok else 503)
