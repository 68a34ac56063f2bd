"""What every request shares (settings, the connection pool, the rate limiter, the export run
submitter) and the dependencies routes declare: the caller, an admin, a connection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from reporting_assets.api.auth import Principal, bearer_token, verify_token
from reporting_assets.api.errors import ApiError
from reporting_assets.api.ratelimit import RateLimiter
from reporting_assets.api.runs import ExportRuns
from reporting_assets.api.settings import ApiSettings
from reporting_assets.db.connection import Connection, is_outage, unavailable
from reporting_assets.exports.analytics import analytics_source
from reporting_assets.exports.s3 import S3Settings
from reporting_assets.exports.settings import ExportSettings
from reporting_assets.exports.source import AnalyticsSource


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


class Database:
    """A small pool of connections to the reporting database (rows as dicts, sessions in UTC)."""

    def __init__(self, url: str, max_size: int = 10) -> None:
        self.url = url
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"row_factory": dict_row},
            configure=_configure,
            timeout=15,
            open=False,
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    @property
    def connection(self) -> Any:
        return self.pool.connection

    def close(self) -> None:
        self.pool.close()


@dataclass
class ApiContext:
    settings: ApiSettings
    database: Database
    exports: ExportSettings
    s3: S3Settings | None
    limiter: RateLimiter
    runs: ExportRuns | None

    def source(self) -> AnalyticsSource:
        return analytics_source(self.exports, self.database.url)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]
_bearer = HTTPBearer(
    auto_error=False, description="A JWT from `reporting-assets api token` (HS256) or your issuer (RS256)."
)


def current_principal(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    """The caller of this request (401 without a good token), counted against its rate limit."""
    header = request.headers.get("authorization")
    principal = verify_token(context.settings, bearer_token(header))
    context.limiter.hit(principal.subject)
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def admin_principal(principal: Caller) -> Principal:
    if not principal.actor.is_admin:
        raise ApiError(
            403,
            "forbidden",
            f"This action needs role 'admin' in tenant {principal.actor.tenant_id!r}; the token's role is "
            f"'{principal.actor.role}'. Ask an admin of the tenant.",
        )
    return principal


Admin = Annotated[Principal, Depends(admin_principal)]


def connection(context: Context) -> Iterator[Connection]:
    """A pooled connection for one request; routes that write commit before they answer."""
    try:
        with context.database.connection() as conn:
            yield conn
    except PoolTimeout as exc:
        raise unavailable(context.database.url, exc, "answering an API request") from exc
    except psycopg.OperationalError as exc:
        if is_outage(exc):
            raise unavailable(context.database.url, exc, "answering an API request") from exc
        raise


Conn = Annotated[Connection, Depends(connection)]
