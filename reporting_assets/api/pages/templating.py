"""The pages' Jinja2 environment (templates shipped in ``pages/templates``, autoescaping on for
every template) and the one function that renders a page."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from reporting_assets.api.pages.session import CSRF_COOKIE, csrf_token, set_csrf_cookie
from reporting_assets.links import is_safe_href


def _when(value: Any) -> str:
    """``2025-06-17 15:30 UTC`` for a datetime or its ISO text; a date as it is; '' for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return str(value)


def _size(value: int | None) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{value} bytes"


def _href(url: str | None) -> str:
    """``url`` when it is an http(s)/mailto link or a path of this site, else '#' (never a
    ``javascript:`` link)."""
    if not url:
        return "#"
    if (url.startswith("/") and not url.startswith("//")) or is_safe_href(url):
        return url
    return "#"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reporting_assets.api.pages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["size"] = _size
    env.filters["href"] = _href
    return env


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` with ``context``; every page gets the viewer's CSRF token (the cookie is
    set when the browser has none yet) and the current path."""
    token = csrf_token(request)
    context.setdefault("viewer", None)
    html = (
        environment()
        .get_template(name)
        .render(csrf=token, path=request.url.path, request_query=str(request.url.query), **context)
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(request, response, token)
    return response
