"""The app factory: the routers, the JSON error handlers, the body cap and what starts and stops
with the server (the connection pool, the code server export runs are submitted through)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import dagster as dg
from fastapi import FastAPI

from reporting_assets.api.body_limit import BodyLimitMiddleware
from reporting_assets.api.context import ApiContext, Database
from reporting_assets.api.errors import ERROR_RESPONSES, install_error_handlers
from reporting_assets.api.pages import install_pages
from reporting_assets.api.ratelimit import RateLimiter
from reporting_assets.api.routers import (
    customer_settings,
    error_patterns,
    health,
    lineage,
    pipeline_reports,
    pipeline_runs,
    report_builder,
)
from reporting_assets.api.runs import ExportRuns
from reporting_assets.api.settings import ApiSettings
from reporting_assets.exports.s3 import S3Settings
from reporting_assets.exports.settings import ExportSettings

DESCRIPTION = """Reports of the reporting_assets project over HTTP: the report builder (saved
reports, previews, schedules, exports) and the pipeline reports (customers, execution reports,
daily summaries, lineage, error patterns).

Every `/api` route needs `Authorization: Bearer <JWT>` with claims `sub`, `tenant`, `role`
(`admin` or `user`) and `exp`. Errors are `{"error": {"code", "message", "field"?}}`.
See docs/api.md."""


def create_app(
    *,
    settings: ApiSettings,
    database_url: str,
    exports: ExportSettings,
    s3: S3Settings | None,
    instance: dg.DagsterInstance | None,
) -> FastAPI:
    """The API over the reporting database ``database_url``; export runs are submitted to
    ``instance`` (None: exports stay pending for scheduled_exports_sensor)."""
    context = ApiContext(
        settings=settings,
        database=Database(database_url),
        exports=exports,
        s3=s3,
        limiter=RateLimiter(settings.rate_limit_per_minute),
        runs=ExportRuns(instance, settings.code_location) if instance is not None else None,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context.database.open()
        if context.runs is not None:
            context.runs.start()
        try:
            yield
        finally:
            if context.runs is not None:
                context.runs.close()
            context.database.close()

    app = FastAPI(
        title="reporting_assets API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.context = context
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(report_builder.router)
    app.include_router(pipeline_reports.router)
    app.include_router(lineage.router)
    app.include_router(error_patterns.router)
    app.include_router(pipeline_runs.router)
    app.include_router(customer_settings.router)
    install_pages(app)
    return app
