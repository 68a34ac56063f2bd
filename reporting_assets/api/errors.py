"""Every error the API answers, as one JSON shape: ``{"error": {"code", "message", "field"?}}``.

Engine errors keep their message (it names the bad part and says what to do) and get the status
their class stands for: not found 404 (another tenant's ids too, so ids do not leak), permission
denied 403, invalid input 422, a state that does not allow the action 409. Anything unexpected
is a 500 whose body says only that, with an id to find it in the server log: no traceback or
driver text reaches a client.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from reporting_assets.contract import problem_message
from reporting_assets.errors import CustomerError, DatabaseUnavailableError, ReportingError
from reporting_assets.exports.errors import (
    AnalyticsUnavailableError,
    ExportError,
    ExportStateError,
    NotFoundError,
    PermissionDeniedError,
    QueryValidationError,
    ReportValidationError,
    ScheduleValidationError,
    StorageError,
)
from reporting_assets.logging_ids import get_logger
from reporting_assets.redaction import redact

log = get_logger(__name__)


class ApiConfigError(ReportingError):
    """The API cannot start as configured (no JWT key, a bad rate limit, an unreadable key file)."""


class ApiError(Exception):
    """An error answered as it is: status, code, message and the field it is about."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    401: "No token, or a token that is expired, not yet valid, malformed, signed with another key or "
    "algorithm, or missing a claim (sub, tenant, role, exp).",
    403: "The token's role may not do this (an admin-only action, or another user's object).",
    404: "No such object in the token's tenant (another tenant's ids are not found too).",
    409: "The object's state does not allow this (e.g. retrying an export that did not fail).",
    410: "The export's file was removed (expired or cleaned up); create a new export.",
    413: "The request body is larger than 1 MB.",
    422: "Invalid input: the message names the field and what is accepted.",
    429: "Too many requests for this token's subject; wait Retry-After seconds.",
    503: "PostgreSQL, the analytics engine or the export storage is not reachable; try again later.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DESCRIPTIONS.items()
}
"""Documented on every route (the OpenAPI lists each status a route can answer)."""

_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?)*): ")


def field_of(message: str) -> str | None:
    """The field an engine message is about: its ``field: ...`` prefix, when it has one."""
    match = _FIELD.match(message)
    return match.group(1) if match else None


def body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        detail["field"] = field
    return {"error": detail}


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body(code, redact(message), field), status_code=status, headers=headers)


def map_engine_error(exc: ReportingError) -> ApiError:
    """The HTTP answer for an engine error (its class says which kind it is)."""
    message = str(exc)
    if isinstance(exc, NotFoundError):
        return ApiError(404, "not_found", message)
    if isinstance(exc, PermissionDeniedError):
        return ApiError(403, "forbidden", message)
    if isinstance(exc, QueryValidationError):
        path = field_of(exc.problems[0]) if exc.problems else None
        return ApiError(
            422, "invalid_query", message, field=f"query_config.{path}" if path else "query_config"
        )
    if isinstance(exc, ReportValidationError | ScheduleValidationError):
        return ApiError(422, "invalid", message, field=field_of(message))
    if isinstance(exc, ExportStateError):
        return ApiError(409, "conflict", message)
    if isinstance(exc, StorageError):
        return ApiError(503, "storage_unavailable", message)
    if isinstance(exc, DatabaseUnavailableError):
        return ApiError(503, "database_unavailable", message)
    if isinstance(exc, AnalyticsUnavailableError):
        return ApiError(503, "analytics_unavailable", message)
    if isinstance(exc, CustomerError):
        return ApiError(404, "not_found", message)
    if isinstance(exc, ExportError):
        return ApiError(422, "invalid", message, field=field_of(message))
    return ApiError(422, "invalid", message)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    problems = []
    first_field = None
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        where = ".".join(loc) or "body"
        first_field = first_field or where
        problems.append(f"{where}: {problem_message(err)}")
    return "Invalid request: " + "; ".join(problems[:10]), first_field


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as JSON of one shape (engine errors, validation, 404/405, crashes)."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.exception_handler(ReportingError)
    async def _engine_error(request: Request, exc: ReportingError) -> JSONResponse:
        mapped = map_engine_error(exc)
        return error_response(mapped.status, mapped.code, mapped.message, mapped.field)

    @app.exception_handler(psycopg.DataError)
    async def _bad_value(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # a value PostgreSQL cannot take as a parameter (a NUL character, an integer out of range)
        return error_response(
            422, "invalid", f"A value in the request cannot be used: {exc}. Remove it and try again."
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, field = _validation_message(exc)
        return error_response(422, "invalid", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"No such path: {request.url.path}; see /docs for the API's paths"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(
            exc.status_code, codes.get(exc.status_code, "error"), message, headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("ap-001", "API error %s on %s %s", incident, request.method, request.url.path)
        return error_response(
            500,
            "internal_error",
            f"The server failed on this request (incident {incident}, in the server log). "
            "Try again; if it persists, report the incident id.",
        )
