"""Secrets out of everything people and logs see: one function, :func:`redact`, for any text.

psycopg takes a password in three places and all three are masked: the userinfo of a URL
(``postgresql://user:secret@host/db``), a ``password=`` query parameter of a URL, and a
``password=`` pair of a key=value conninfo string (quoted or not). The same patterns cover
``sslpassword`` and ``secret_access_key`` (S3), also in reprs (``password='...'``) and dicts.

Patterns alone cannot catch a secret quoted out of context, e.g. a driver's
``invalid percent-encoded token: "S3%zzcret"``; so the values of the secrets configured in the
environment (``PGPASSWORD``, the passwords inside the database URLs, the SMTP password, the S3
secret key) and any value passed to :func:`register_secret` are masked wherever they appear.
"""

from __future__ import annotations

import os
import re
import threading
from urllib.parse import unquote

MASK = "***"
SECRET_ENV = (
    "PGPASSWORD",
    "REPORTING_SMTP_PASSWORD",
    "REPORTING_S3_SECRET_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY",
)
CONNINFO_ENV = ("REPORTING_DATABASE_URL", "REPORTING_DAGSTER_DATABASE_URL", "DATABASE_URL")
MIN_SECRET_LENGTH = 3
"""Shorter values are not masked as free text (every ``a`` of a message would go); the
structural patterns still mask them inside URLs and key=value strings."""

_SECRET_KEY = r"(?<![A-Za-z0-9])(?:ssl)?password|(?<![A-Za-z0-9])secret_access_key"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_QUERY_SECRET = re.compile(rf"([?&](?:{_SECRET_KEY})=)[^&#\s]*", re.IGNORECASE)
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_KEY_VALUE_SECRET = re.compile(rf"((?:{_SECRET_KEY})\s*=\s*)(?:{_QUOTED}|(?:[^\s'\"\\]|\\.)+)", re.IGNORECASE)
_MAPPING_SECRET = re.compile(rf"((['\"])(?:{_SECRET_KEY})\2\s*:\s*)(?:{_QUOTED})", re.IGNORECASE)

_registered: set[str] = set()
_registered_lock = threading.Lock()


def redact(text: str) -> str:
    """``text`` with every password and secret key it holds replaced by ``***``.

    Safe on any text (a URL, a conninfo string, an error message, a repr); idempotent.
    """
    parts: list[str] = []
    end = 0
    for url in _URL.finditer(text):
        parts += [_redact_pairs(text[end : url.start()]), _redact_url(url.group(0))]
        end = url.end()
    text = "".join([*parts, _redact_pairs(text[end:])])
    for secret in sorted(known_secrets(), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def register_secret(value: str | None) -> None:
    """Mask ``value`` in everything :func:`redact` sees from now on (a password or key that
    came from configuration rather than the environment)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _registered_lock:
            _registered.add(value)


def known_secrets() -> set[str]:
    """The secret values to mask as free text: configured in the environment or registered."""
    secrets = {os.environ.get(name, "") for name in SECRET_ENV}
    for name in CONNINFO_ENV:
        secrets.update(passwords_in(os.environ.get(name, "")))
    with _registered_lock:
        secrets.update(_registered)
    return {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}


def passwords_in(conninfo: str) -> set[str]:
    """The password values in a URL or key=value conninfo, as written and as decoded."""
    found: set[str] = set()
    for url in _URL.findall(conninfo):
        userinfo = _userinfo(url)
        if userinfo:
            found.add(userinfo.partition(":")[2])
        found.update(m.group(0)[len(m.group(1)) :] for m in _QUERY_SECRET.finditer(url))
    for match in _KEY_VALUE_SECRET.finditer(_URL.sub(" ", conninfo)):
        value = match.group(0)[len(match.group(1)) :]
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.add(value)
        found.add(re.sub(r"\\(.)", r"\1", value))
    return found | {unquote(value) for value in found}


def _redact_pairs(text: str) -> str:
    """Mask key=value and mapping secrets in text that holds no URL."""
    text = _KEY_VALUE_SECRET.sub(_mask_value, text)
    return _MAPPING_SECRET.sub(lambda m: m.group(1) + m.group(2) + MASK + m.group(2), text)


def _mask_value(match: re.Match[str]) -> str:
    """``key=***``, keeping the quotes of a quoted value (``password='***'`` in a repr)."""
    quote = match.group(0)[len(match.group(1))]
    return match.group(1) + (quote + MASK + quote if quote in "'\"" else MASK)


def _userinfo(url: str) -> str | None:
    """The ``user:password`` part of a URL, or None.

    A password with an unencoded ``/``, ``?`` or ``#`` ends the authority early; then the last
    ``@`` of the whole URL ends the userinfo, so more is masked rather than less.
    """
    rest = url.split("://", 1)[1]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        return authority.rpartition("@")[0]
    if "@" in rest:
        return rest.rpartition("@")[0]
    return None


def _redact_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    userinfo = _userinfo(url)
    if userinfo is not None and userinfo.partition(":")[2]:
        user = userinfo.partition(":")[0]
        rest = f"{user}:{MASK}@" + rest[len(userinfo) + 1 :]
    rest = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, rest)
    return f"{scheme}://{rest}"
