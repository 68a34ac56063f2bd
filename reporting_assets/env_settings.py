"""Settings from environment variables: one parser per kind of value and one message shape.

Each integration (SMTP, S3, exports) reads its ``REPORTING_*`` variables in one function built
on these parsers, and its Dagster resource validates its fields with the same parsers, so a bad
value gets the same message from the CLI, from loading the code location and from a run
configured in the launchpad: the variable, the value and what it may be instead.

An empty or whitespace-only variable counts as unset (the default applies).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from reporting_assets.errors import SettingsError

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
FLAG_ALLOWED = "true/false, 1/0, yes/no or on/off (any case)"
PORT_ALLOWED = "a whole number from 1 to 65535"


def _problem(name: str, value: object, problem: str, allowed: str) -> SettingsError:
    """``NAME='value' <problem>; use <allowed>.`` A number from a resource's config is shown as an
    environment variable would hold it (Dagster hands a float field ``0`` as ``0.0``)."""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return SettingsError(f"{name}={shown!r} {problem}; use {allowed}.")


def is_env_var(value: object) -> bool:
    """True for a ``dg.EnvVar`` / ``dg.EnvVar.int`` placeholder: a resource built when the code
    location loads holds one until a run resolves it, and the run validates the real value."""
    import dagster as dg

    return isinstance(value, (dg.EnvVar, type(dg.EnvVar.int("REPORTING_UNSET"))))


class Environment:
    """The variables of one integration, read from ``environ`` (default ``os.environ``)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def get(self, name: str) -> str | None:
        """The value with surrounding blanks removed; None when unset or empty."""
        return self.environ.get(name, "").strip() or None

    def require_together(self, first: str, second: str, why: str) -> None:
        """Refuse one of two variables set without the other."""
        for have, missing in ((first, second), (second, first)):
            if self.get(have) and not self.get(missing):
                raise SettingsError(f"{have} is set but {missing} is empty; {why}")


def flag(name: str, value: object) -> bool:
    """A yes/no setting: true/false, 1/0, yes/no, on/off in any case; anything else is refused."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise _problem(name, value, "is not a yes/no value", FLAG_ALLOWED)


def whole(name: str, value: object, low: int, high: int) -> int:
    """A whole number in ``[low, high]``."""
    allowed = f"a whole number from {low} to {high}"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip())
    except ValueError:
        raise _problem(name, value, "is not a whole number", allowed) from None
    if not low <= number <= high:
        raise _problem(name, value, "is out of range", allowed)
    return number


def port(name: str, value: object) -> int:
    """A TCP port, 1-65535."""
    return whole(name, value, 1, 65535)


def seconds(name: str, value: object, high: float, *, zero: bool = False) -> float:
    """A duration in seconds: above 0 (or 0 itself with ``zero``) and at most ``high``."""
    low = "from 0 to" if zero else "greater than 0 and at most"
    allowed = f"a number of seconds {low} {high:g}, e.g. 10 or 2.5"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(str(value).strip())
    except ValueError:
        raise _problem(name, value, "is not a number", allowed) from None
    if not math.isfinite(number) or number > high or number < 0 or (number == 0 and not zero):
        raise _problem(name, value, "is out of range", allowed)
    return number


def choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (any case)."""
    text = str(value).strip().lower()
    if text not in choices:
        raise _problem(name, value, "is not a known value", "one of " + ", ".join(choices))
    return text


def http_url(name: str, value: object, example: str) -> str:
    """An ``http://`` or ``https://`` URL with a host and, if it names one, a port 1-65535."""
    text = str(value).strip()
    allowed = f"an http:// or https:// URL with a host and an optional port from 1 to 65535, e.g. {example}"
    parts = urlsplit(text)
    try:
        given_port = parts.port
    except ValueError:
        raise _problem(name, value, "is not a usable URL", allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or given_port == 0:
        raise _problem(name, value, "is not a usable URL", allowed)
    return text
