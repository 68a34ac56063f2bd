"""The API's settings: how tokens are checked, the rate limit, the operations tenant and the
request limits. Read once from the environment (``REPORTING_JWT_*``, ``REPORTING_API_*``,
``REPORTING_OPERATIONS_TENANT``, ``REPORTING_UI_BASE_URL``) when the server starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reporting_assets.api.errors import ApiConfigError
from reporting_assets.links import base_url_problem

JWT_SECRET_ENV = "REPORTING_JWT_SECRET"
JWT_PUBLIC_KEY_FILE_ENV = "REPORTING_JWT_PUBLIC_KEY_FILE"
RATE_LIMIT_ENV = "REPORTING_API_RATE_LIMIT"
OPERATIONS_TENANT_ENV = "REPORTING_OPERATIONS_TENANT"
CODE_LOCATION_ENV = "REPORTING_API_CODE_LOCATION"
UI_BASE_URL_ENV = "REPORTING_UI_BASE_URL"
DEFAULT_UI_BASE_URL = "http://localhost:3000"

MAX_BODY_BYTES = 1024 * 1024
MAX_PAGE_SIZE = 500
DEFAULT_RATE_LIMIT = 120
LEEWAY_SECONDS = 30
MIN_SECRET_LENGTH = 32
DEFAULT_CODE_LOCATION = "reporting_assets.definitions"
"""The code location name ``dagster dev -m reporting_assets.definitions`` and workspace.yaml give;
export runs are submitted to it so the daemon and the UI find them."""


@dataclass(frozen=True)
class ApiSettings:
    """How the API checks tokens and limits requests.

    ``algorithm`` is fixed per deployment (HS256 with ``secret``, or RS256 with ``public_key``):
    a token signed with any other algorithm, ``none`` included, is refused.
    """

    algorithm: str
    key: str
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT
    operations_tenant: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    max_page_size: int = MAX_PAGE_SIZE
    code_location: str = DEFAULT_CODE_LOCATION
    ui_base_url: str = DEFAULT_UI_BASE_URL
    """The Dagster UI the web pages link runs to (``REPORTING_UI_BASE_URL``)."""
    dev_sign_in: bool = False
    """``--dev``: the sign-in page offers a one-click sign-in as the local admin."""

    @property
    def can_issue(self) -> bool:
        """Whether this process holds the signing key (HS256); RS256 tokens come from elsewhere."""
        return self.algorithm == "HS256"


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, dev_secret: str | None = None
) -> ApiSettings:
    """Settings from the environment. Without ``REPORTING_JWT_SECRET`` or a public key file the
    API cannot check tokens: refused, unless ``dev_secret`` (``--dev``) stands in for the secret."""
    env = os.environ if environ is None else environ
    secret = env.get(JWT_SECRET_ENV, "")
    key_file = env.get(JWT_PUBLIC_KEY_FILE_ENV, "").strip()
    rate_text = env.get(RATE_LIMIT_ENV, "").strip()
    try:
        rate = int(rate_text) if rate_text else DEFAULT_RATE_LIMIT
    except ValueError:
        raise ApiConfigError(
            f"{RATE_LIMIT_ENV}={rate_text!r} is not a whole number of requests per minute"
        ) from None
    if rate < 1:
        raise ApiConfigError(f"{RATE_LIMIT_ENV} must be at least 1 request per minute, got {rate}")

    ui_base_url = env.get(UI_BASE_URL_ENV, "").strip() or DEFAULT_UI_BASE_URL
    problem = base_url_problem(ui_base_url, UI_BASE_URL_ENV)
    if problem:
        raise ApiConfigError(problem)

    def made(algorithm: str, key: str) -> ApiSettings:
        return ApiSettings(
            algorithm=algorithm,
            key=key,
            rate_limit_per_minute=rate,
            operations_tenant=env.get(OPERATIONS_TENANT_ENV, "").strip() or None,
            code_location=env.get(CODE_LOCATION_ENV, "").strip() or DEFAULT_CODE_LOCATION,
            ui_base_url=ui_base_url,
        )

    if key_file:
        path = Path(key_file)
        try:
            public_key = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ApiConfigError(
                f"{JWT_PUBLIC_KEY_FILE_ENV}={key_file}: cannot read the RS256 public key ({exc}); "
                "give the path of a PEM file (-----BEGIN PUBLIC KEY-----)"
            ) from None
        if "BEGIN PUBLIC KEY" not in public_key:
            raise ApiConfigError(
                f"{JWT_PUBLIC_KEY_FILE_ENV}={key_file} is not a PEM public key (-----BEGIN PUBLIC KEY-----); "
                "the API only needs the public half of the RS256 key pair"
            )
        return made("RS256", public_key)
    if secret:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ApiConfigError(
                f"{JWT_SECRET_ENV} is {len(secret)} characters; use at least {MIN_SECRET_LENGTH} random "
                "characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return made("HS256", secret)
    if dev_secret is not None:
        return made("HS256", dev_secret)
    raise ApiConfigError(
        f"{JWT_SECRET_ENV} is not set, so the API could not check any token and refuses to start. Set it "
        f"(at least {MIN_SECRET_LENGTH} random characters; or {JWT_PUBLIC_KEY_FILE_ENV} for RS256), or run "
        "`reporting-assets api --dev` for a local server on 127.0.0.1 with a throw-away key."
    )
