"""Serving the API (``reporting-assets api``) and issuing local tokens (``api token``): the
database resolved and migrated as every other command does, the project's Dagster instance for
export runs, uvicorn on one process. ``serve_in_thread`` runs an app in this process (the
tests and the web benchmark call it)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from fastapi import FastAPI

from reporting_assets.api.app import create_app
from reporting_assets.api.auth import issue_token, parse_ttl
from reporting_assets.api.errors import ApiConfigError
from reporting_assets.api.settings import JWT_SECRET_ENV, ApiSettings, settings_from_env
from reporting_assets.demo import DEMO_TENANT

LOCALHOST = "127.0.0.1"
DEV_TENANT = DEMO_TENANT
"""The tenant ``--dev`` signs in to: the demo's, so its customers are on the dashboard."""
DEV_USER = "admin@acme.example"
DEV_TTL = dt.timedelta(hours=12)


def build_app(settings: ApiSettings) -> FastAPI:
    """The app over the project's database and Dagster instance, configured from the environment."""
    from reporting_assets.db.migrations import migrate
    from reporting_assets.db.urls import resolve_urls
    from reporting_assets.exports.s3 import s3_settings_from_env
    from reporting_assets.exports.settings import export_settings_from_env
    from reporting_assets.instance import project_instance

    url = resolve_urls().reporting
    migrate(url)
    return create_app(
        settings=settings,
        database_url=url,
        exports=export_settings_from_env(),
        s3=s3_settings_from_env(),
        instance=project_instance(),
    )


def serve(host: str, port: int, *, dev: bool, environ: Mapping[str, str] | None = None) -> int:
    """Run the API until Ctrl-C. ``dev``: 127.0.0.1 only, a throw-away key, a token printed."""
    import uvicorn

    if dev and host != LOCALHOST:
        raise ApiConfigError(
            f"--dev serves only on {LOCALHOST} (its key is throw-away and its token is printed); drop "
            f"--host {host}, or set {JWT_SECRET_ENV} and run without --dev"
        )
    settings = settings_from_env(environ, dev_secret=secrets.token_urlsafe(48) if dev else None)
    if dev:
        settings = replace(settings, dev_sign_in=True)
    app = build_app(settings)
    if dev:
        token = issue_token(settings, tenant=DEV_TENANT, user=DEV_USER, role="admin", ttl=DEV_TTL)
        print(
            f"Development mode: http://{host}:{port}/ (web pages: one click signs you in as the admin "
            f"below), http://{host}:{port}/docs (a throw-away key; tokens die with this process).\n"
            f"Admin token for tenant {DEV_TENANT!r} (user {DEV_USER}), valid 12 h:\n\n"
            f"export TOKEN={token}\n",
            flush=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
    return 0


def print_token(tenant: str, user: str, role: str, ttl: str, environ: Mapping[str, str] | None = None) -> int:
    """Print a token signed with ``REPORTING_JWT_SECRET`` (HS256) for local use."""
    from reporting_assets.api.settings import JWT_PUBLIC_KEY_FILE_ENV

    env = os.environ if environ is None else environ
    if not env.get(JWT_SECRET_ENV) and not env.get(JWT_PUBLIC_KEY_FILE_ENV):
        raise ApiConfigError(
            f"`api token` signs with {JWT_SECRET_ENV}, which is not set; set it to the value the API runs "
            "with (a server started with --dev prints its own token instead)"
        )
    settings = settings_from_env(environ)
    if not settings.can_issue:
        raise ApiConfigError(
            "This deployment checks RS256 tokens with a public key file; issue tokens with the private "
            "key's holder (your identity provider), not with this command"
        )
    print(issue_token(settings, tenant=tenant, user=user, role=role, ttl=parse_ttl(ttl)))
    sys.stdout.flush()
    return 0


@contextmanager
def serve_in_thread(app: FastAPI, *, start_timeout: float = 60.0) -> Iterator[str]:
    """``app`` on a real uvicorn in a thread of this process, on a free port of 127.0.0.1 (the
    system picks it): yields the base URL, stops the server on exit."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=LOCALHOST, port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(
                f"uvicorn did not start on {LOCALHOST} within {start_timeout:g} s; its log above says why"
            )
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{LOCALHOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
