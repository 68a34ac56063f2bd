"""The web pages, served by the API's app at ``/``: server-rendered Jinja2 templates with a
little JavaScript (plain ES modules, no build step) and charts drawn on the server as SVG. Pages
call the same functions as the API's routers; they only translate forms into those calls and
results into HTML."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from reporting_assets.api.pages import (
    views_auth,
    views_exports,
    views_pipeline,
    views_reports,
    views_schedules,
)


def install_pages(app: FastAPI) -> None:
    """Add the pages and their static files to the API's app."""
    app.mount("/static", StaticFiles(packages=[("reporting_assets.api.pages", "static")]), name="static")
    for module in (views_auth, views_pipeline, views_reports, views_schedules, views_exports):
        app.include_router(module.router)
