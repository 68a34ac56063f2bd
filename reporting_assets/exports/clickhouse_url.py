"""Where the ClickHouse analytics tables are: a server URL, or the embedded engine's folder.

``clickhouse://user:password@host:8123/database`` (HTTP) or ``clickhouses://...`` (HTTPS, port
8443 by default) names a server; the database defaults to ``analytics``. Without a URL the
embedded engine (chdb) keeps its data in ``<data dir>/clickhouse`` of the project home.
Messages name a server by :attr:`ClickHouseTarget.shown`: the URL with its password masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reporting_assets.errors import SettingsError
from reporting_assets.redaction import redact, register_secret

DEFAULT_DATABASE = "analytics"
SCHEMES = {"clickhouse": (False, 8123), "clickhouses": (True, 8443)}
_DATABASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
EXAMPLE = "clickhouse://user:password@host:8123/analytics"


@dataclass(frozen=True)
class ClickHouseTarget:
    """A ClickHouse server (``host`` set) or the embedded engine (``path`` set)."""

    database: str = DEFAULT_DATABASE
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = ""
    secure: bool = False
    path: Path | None = None
    url: str = ""

    @property
    def embedded(self) -> bool:
        return self.path is not None

    @property
    def shown(self) -> str:
        """How messages name it: the URL without its password, or the embedded engine's folder."""
        if self.path is not None:
            return f"the embedded ClickHouse engine (chdb) in {self.path}"
        return f"ClickHouse at {redact(self.url)}"


def check_clickhouse_url(variable: str, value: object) -> str:
    """``value`` if it is a usable ClickHouse server URL; a SettingsError naming ``variable`` and
    the accepted form otherwise (never showing the password)."""
    parse_clickhouse_url(str(value), variable)
    return str(value).strip()


def parse_clickhouse_url(url: str, what: str = "REPORTING_ANALYTICS_URL") -> ClickHouseTarget:
    text = url.strip()
    register_secret(_password(text))
    allowed = f"use {EXAMPLE} (clickhouses:// for TLS; the database defaults to {DEFAULT_DATABASE})"
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:  # not a number, or outside 0-65535
        port = 0
    names_port = ":" in parts.netloc.rpartition("@")[2].rpartition("]")[2]
    bad_port = port == 0 and names_port
    if parts.scheme not in SCHEMES or not parts.hostname or bad_port:
        raise SettingsError(f"{what}={redact(text)!r} is not a ClickHouse server URL; {allowed}.")
    database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
    if not _DATABASE.match(database):
        raise SettingsError(
            f"{what}={redact(text)!r} names the database {database!r}; a database name is letters, digits "
            f"and _ (starting with a letter or _); {allowed}."
        )
    secure, default_port = SCHEMES[parts.scheme]
    return ClickHouseTarget(
        database=database,
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username or "") or "default",
        password=unquote(parts.password or ""),
        secure=secure,
        url=text,
    )


def _password(url: str) -> str | None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def embedded_target(data_dir: Path) -> ClickHouseTarget:
    """The embedded engine with its data in ``data_dir/clickhouse``."""
    return ClickHouseTarget(path=data_dir / "clickhouse")
