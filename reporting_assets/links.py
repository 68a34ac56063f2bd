"""Which links may reach a reader: run links in reports, links in the daily summary email.

Reports are markdown that the daily email turns into HTML, so a ``javascript:`` or ``data:``
link there runs in the reader's mail client. Base URLs people configure must be http(s), and
the HTML step keeps only http, https and mailto links (an allowlist: an obfuscated scheme is
simply not on it).
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

# What a link's href (as it is written into the HTML) must start with to stay a link.
_SAFE_HREF = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
_BASE_URL_EXAMPLE = "e.g. http://localhost:3000 or https://dagster.example.com"


def is_safe_href(href: str) -> bool:
    """True when ``href`` is an http, https or mailto link (compared as written, no trimming:
    anything a browser could read as another scheme does not match)."""
    return _SAFE_HREF.match(href) is not None


def base_url_problem(value: str, setting: str) -> str | None:
    """Why ``value`` cannot be ``setting``, an http(s) base URL run links are built on, or None."""
    wrong = f"{setting} must be an http:// or https:// URL ({_BASE_URL_EXAMPLE}), got {value!r}"
    if not value or any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        return wrong + ": it is empty or holds spaces or control characters."
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return wrong + ": it is not a valid URL."
    if parts.scheme.lower() not in ("http", "https"):
        return wrong + ": only http and https links are written into reports and emails."
    if not host:
        return wrong + ": it names no host."
    if parts.query or parts.fragment:
        return wrong + ": a base URL has no '?query' or '#fragment' (run links are <base>/runs/<run id>)."
    return None


def require_base_url(value: str, setting: str) -> str:
    """``value`` unchanged if it is an http(s) base URL, else ValueError saying what is wrong."""
    problem = base_url_problem(value, setting)
    if problem:
        raise ValueError(problem)
    return value


def run_link(base_url: str, run_id: str) -> str:
    """``<base>/runs/<run id>``: the Dagster UI page of a run."""
    return f"{base_url.rstrip('/')}/runs/{run_id}"


def asset_link(base_url: str, asset_key: str) -> str:
    """``<base>/assets/<key path>``: the Dagster UI page of an asset."""
    path = "/".join(urllib.parse.quote(part, safe="") for part in asset_key.split("/"))
    return f"{base_url.rstrip('/')}/assets/{path}"


def asset_event_link(base_url: str, asset_key: str, partition: str, timestamp: float) -> str:
    """The Dagster UI page of one asset event (a run reported from outside Dagster has no run
    page): the asset's events, at that partition and time."""
    query = urllib.parse.urlencode(
        {"view": "events", "partition": partition, "time": str(int(timestamp * 1000))}
    )
    return f"{asset_link(base_url, asset_key)}?{query}"
