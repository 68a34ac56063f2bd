"""Who is signed in to the web pages, and the CSRF check of every form that changes something.

The session is the caller's JWT itself, in an HttpOnly, SameSite=Strict cookie: the pages check
it exactly as the API checks a bearer token (same keys, claims, leeway, rate limit), so there is
no second kind of credential and nothing stored server-side. A CSRF token (random, in its own
HttpOnly SameSite=Strict cookie) is written into every form and sent back by the page's scripts
in a header; a change is accepted only when the two match (double submit). Both cookies are
``Secure`` when the page was served over https.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from starlette.responses import Response

from reporting_assets.api.auth import Principal, verify_token
from reporting_assets.api.context import Context
from reporting_assets.api.errors import ApiError
from reporting_assets.api.pages.forms import Form
from reporting_assets.exports.models import Actor

SESSION_COOKIE = "ra_session"
CSRF_COOKIE = "ra_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
MAX_FORM_BYTES = 256 * 1024


class SignInRequired(Exception):
    """No session, or one whose token no longer verifies: the viewer signs in again."""

    def __init__(self, reason: str, next_path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.next_path = next_path


class CsrfRejected(Exception):
    """A change without the form's CSRF token (a stale page, or another site posting)."""


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a URL)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _here(request: Request) -> str:
    """The page to come back to: this page for a GET, the page the form was on otherwise."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return safe_next(referer[len(origin) :] if referer.startswith(origin) else "/")


def sign_in_url(reason: str, next_path: str) -> str:
    return f"/sign-in?next={quote(safe_next(next_path), safe='/')}&reason={quote(reason[:300])}"


@dataclass(frozen=True)
class Viewer:
    """The signed-in caller of a page and the CSRF token its forms carry."""

    principal: Principal
    csrf: str

    @property
    def actor(self) -> Actor:
        return self.principal.actor


def current_viewer(request: Request, context: Context) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("Sign in to see this page.", _here(request))
    try:
        principal = verify_token(context.settings, token)
    except ApiError as exc:
        raise SignInRequired(
            f"Your session ended: {exc.message.split(';')[0]}. Sign in again.", _here(request)
        ) from None
    context.limiter.hit(principal.subject)
    return Viewer(principal=principal, csrf=request.cookies.get(CSRF_COOKIE) or "")


SignedIn = Annotated[Viewer, Depends(current_viewer)]


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (a new one when it has none yet; see :func:`set_cookies`)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )


def set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


async def form_fields(request: Request) -> Form:
    """The submitted ``application/x-www-form-urlencoded`` fields, in order, after the CSRF
    check (the form's hidden field or the scripts' header must match the cookie)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ApiError(413, "body_too_large", f"The form is larger than {MAX_FORM_BYTES:,} bytes.")
    fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    sent = request.headers.get(CSRF_HEADER) or next((v for k, v in fields if k == CSRF_FIELD), "")
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected(
            "This form is out of date or did not come from this site (its security token does not "
            "match). Reload the page and submit it again."
        )
    return Form([(k, v) for k, v in fields if k != CSRF_FIELD])


FormFields = Annotated[Form, Depends(form_fields)]
