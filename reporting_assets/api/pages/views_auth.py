"""Signing in (paste a token, or one click as the local admin of ``reporting-assets api
--dev``) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from reporting_assets.api.auth import issue_token, verify_token
from reporting_assets.api.context import Context
from reporting_assets.api.errors import ApiError
from reporting_assets.api.pages.routing import PageRoute
from reporting_assets.api.pages.session import FormFields, end_session, safe_next, set_session
from reporting_assets.api.pages.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _sign_in_page(
    request: Request, context: Context, *, next_path: str, reason: str | None, error: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "sign_in.html.j2",
        status_code=401 if error else 200,
        next_path=safe_next(next_path),
        reason=reason,
        error=error,
        dev=context.settings.dev_sign_in,
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request,
    context: Context,
    next: Annotated[str, Query(max_length=2000)] = "/",
    reason: Annotated[str | None, Query(max_length=400)] = None,
) -> HTMLResponse:
    return _sign_in_page(request, context, next_path=next, reason=reason)


@router.post("/sign-in")
def sign_in(request: Request, context: Context, form: FormFields) -> Response:
    next_path = safe_next(form.raw("next"))
    token = "".join(form.raw("token").split())
    if form.raw("dev") and context.settings.dev_sign_in:
        from reporting_assets.api.server import DEV_TENANT, DEV_TTL, DEV_USER

        token = issue_token(context.settings, tenant=DEV_TENANT, user=DEV_USER, role="admin", ttl=DEV_TTL)
    if not token:
        return _sign_in_page(
            request, context, next_path=next_path, reason=None, error="Paste a token to sign in."
        )
    try:
        verify_token(context.settings, token)
    except ApiError as exc:
        return _sign_in_page(request, context, next_path=next_path, reason=None, error=exc.message)
    response = RedirectResponse(next_path, status_code=303)
    set_session(request, response, token)
    return response


@router.post("/sign-out")
def sign_out(form: FormFields) -> Response:
    response = RedirectResponse("/sign-in?reason=You+signed+out.", status_code=303)
    end_session(response)
    return response
