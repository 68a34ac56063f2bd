"""Page routes answer in HTML: a route class that turns what the API answers as JSON errors
into pages (not found, not allowed, invalid) and a lost session into the sign-in page.

Fetches of the pages' scripts (``Accept: application/json``) get JSON instead, with where to
sign in, so the script can keep the form and send the browser there.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from reporting_assets.api.errors import ApiError, map_engine_error
from reporting_assets.api.pages.session import CsrfRejected, SignInRequired, sign_in_url
from reporting_assets.api.pages.templating import render
from reporting_assets.errors import ReportingError
from reporting_assets.redaction import redact

_TITLES = {
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible right now",
    410: "Gone",
    413: "Too large",
    422: "Not valid",
    429: "Too many requests",
    503: "Unavailable",
}


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    message = redact(message)
    if wants_json(request):
        return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)
    response = render(
        request, "error.html.j2", status_code=status, title=_TITLES.get(status, "Error"), message=message
    )
    response.headers.update(headers or {})
    return response


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                url = sign_in_url(exc.reason, exc.next_path)
                if wants_json(request):
                    return JSONResponse({"error": {"message": exc.reason, "sign_in": url}}, status_code=401)
                return RedirectResponse(url, status_code=303)
            except RequestValidationError:
                return error_page(request, 404, f"There is no page at {request.url.path}.")
            except CsrfRejected as exc:
                return error_page(request, 403, str(exc))
            except ApiError as exc:
                return error_page(request, exc.status, exc.message, exc.headers)
            except ReportingError as exc:
                mapped = map_engine_error(exc)
                return error_page(request, mapped.status, mapped.message)

        return page_handler
