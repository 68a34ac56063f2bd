"""Bearer JWT: who calls (``sub``), for which tenant (``tenant``) and with which ``role``.

Tokens are checked with one algorithm fixed by the deployment (HS256 with
``REPORTING_JWT_SECRET``, or RS256 with a public key file), so ``alg: none`` and a token whose
header names the other family (HS/RS confusion) are refused before any key is tried. ``sub``,
``tenant``, ``role`` and ``exp`` are required; ``exp``/``nbf``/``iat`` allow 30 s of clock skew.
Every refusal is a 401 whose message says what is wrong with the token and how to get a good one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import jwt

from reporting_assets.api.errors import ApiError
from reporting_assets.api.settings import LEEWAY_SECONDS, ApiSettings
from reporting_assets.exports.errors import ExportError
from reporting_assets.exports.models import ROLES, Actor

REQUIRED_CLAIMS = ("sub", "tenant", "role", "exp")
GET_ONE = "get one with `reporting-assets api token --tenant T --user U --role user|admin|pipeline`"
PIPELINE_ROLE = "pipeline"
"""Tokens of pipelines that report runs (POST /api/pipeline-runs) for their tenant's customers,
and may do nothing else."""
API_ROLES = (*ROLES, PIPELINE_ROLE)
_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_TTL = dt.timedelta(days=30)


@dataclass(frozen=True)
class Principal:
    """The caller: the engine's Actor, and whether its tenant is the operations tenant (which
    sees every customer's pipeline reports)."""

    actor: Actor
    operations: bool
    pipeline: bool = False
    """A pipeline's token: it may only report runs of its tenant's customers."""

    @property
    def subject(self) -> str:
        """The rate limit's key: one budget per user of a tenant."""
        return f"{self.actor.tenant_id}/{self.actor.user_id}"


def parse_ttl(text: str) -> dt.timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``: a token lifetime of at most 30 days."""
    match = _TTL.match(text.strip())
    if not match:
        raise ValueError(f"--ttl {text!r} is not a duration; use a number and s, m, h or d, e.g. 1h or 7d")
    ttl = dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not dt.timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise ValueError(f"--ttl {text!r} must be between 1s and 30d")
    return ttl


def issue_token(
    settings: ApiSettings,
    *,
    tenant: str,
    user: str,
    role: str,
    ttl: dt.timedelta,
    now: dt.datetime | None = None,
) -> str:
    """A signed HS256 token (local use: ``reporting-assets api token``, ``--dev``)."""
    if not settings.can_issue:
        raise ApiError(
            400,
            "cannot_issue",
            "This deployment checks RS256 tokens with a public key; tokens are issued by whoever holds "
            "the private key, not by this command",
        )
    if role not in API_ROLES:
        raise ValueError(f"Role {role!r} is not valid; use one of {', '.join(API_ROLES)}.")
    Actor(tenant_id=tenant, user_id=user, role=_actor_role(role))  # validates tenant and user
    moment = now or dt.datetime.now(dt.UTC)
    claims = {
        "sub": user,
        "tenant": tenant,
        "role": role,
        "iat": int(moment.timestamp()),
        "nbf": int(moment.timestamp()),
        "exp": int((moment + ttl).timestamp()),
    }
    return jwt.encode(claims, settings.key, algorithm="HS256")


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def _actor_role(role: str) -> Any:
    """The engine's role for a token role: a pipeline token acts as a plain user of its tenant."""
    return "user" if role == PIPELINE_ROLE else role


def verify_token(settings: ApiSettings, token: str, *, pipeline_route: bool = False) -> Principal:
    """The caller named by ``token``, or a 401 saying what is wrong with it. A pipeline token is
    refused (403) anywhere but a ``pipeline_route``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise _unauthorized(
            f"The bearer token is not a JWT (three base64url parts separated by dots); {GET_ONE}"
        ) from None
    algorithm = header.get("alg")
    if algorithm != settings.algorithm:
        raise _unauthorized(
            f"The token is signed with {algorithm!r}; this API accepts only {settings.algorithm} tokens "
            f"(unsigned 'none' tokens never); {GET_ONE}"
        )
    try:
        claims = jwt.decode(
            token,
            settings.key,
            algorithms=[settings.algorithm],
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized(f"The token has expired (more than {LEEWAY_SECONDS} s ago); {GET_ONE}") from None
    except jwt.ImmatureSignatureError:
        raise _unauthorized(
            f"The token is not valid yet (its nbf or iat is more than {LEEWAY_SECONDS} s in the future; "
            "check the issuer's clock)"
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise _unauthorized(
            f"The token has no {exc.claim!r} claim; tokens need {', '.join(REQUIRED_CLAIMS)}; {GET_ONE}"
        ) from None
    except jwt.InvalidSignatureError:
        raise _unauthorized(f"The token's signature does not match this API's key; {GET_ONE}") from None
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"The token is invalid ({exc}); {GET_ONE}") from None
    for name in ("sub", "tenant", "role"):
        if not isinstance(claims.get(name), str):
            raise _unauthorized(f"The token's {name!r} claim must be a string")
    if claims["role"] not in API_ROLES:
        raise _unauthorized(f"The token's role {claims['role']!r} is not one of {', '.join(API_ROLES)}")
    pipeline = claims["role"] == PIPELINE_ROLE
    if pipeline and not pipeline_route:
        raise ApiError(
            403,
            "forbidden",
            "A token with role 'pipeline' may only report runs (POST /api/pipeline-runs); use a user "
            f"or admin token for this; {GET_ONE}",
        )
    try:
        actor = Actor(tenant_id=claims["tenant"], user_id=claims["sub"], role=_actor_role(claims["role"]))
    except ExportError as exc:
        raise _unauthorized(f"The token's claims are not usable: {exc}") from None
    return Principal(actor=actor, operations=settings.operations_tenant == actor.tenant_id, pipeline=pipeline)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or a 401 saying how to send one."""
    if not authorization:
        raise _unauthorized(f"This endpoint needs a token: send 'Authorization: Bearer <token>'; {GET_ONE}")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("The Authorization header must be 'Bearer <token>'")
    return token.strip()
