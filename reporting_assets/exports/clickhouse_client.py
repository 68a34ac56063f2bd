"""One ClickHouse client for both kinds of target, through ``clickhouse-connect``.

A server is reached over HTTP(S); the embedded engine is clickhouse-connect's in-process chDB
interface. Both give the same client (``query``, ``query_row_block_stream``, ``command``,
``insert``, ``raw_stream``), so everything above this module runs the same code on either.
The packages come with the ``clickhouse`` extra and are imported only here, when a ClickHouse
target is used.

Failures to connect or log in become :class:`AnalyticsUnavailableError` naming the target
without its password and saying what to check.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reporting_assets.exports.clickhouse_url import ClickHouseTarget
from reporting_assets.exports.errors import AnalyticsUnavailableError
from reporting_assets.redaction import redact

CONNECT_TIMEOUT_SECONDS = 10
_OS_ERROR = re.compile(r"\[Errno -?\d+\] [^\"')]+")
AUTHENTICATION_FAILED = 516
INSTALL_HINT = "install the ClickHouse extra: pip install 'reporting_assets[clickhouse]'"


def _module(name: str, package: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise AnalyticsUnavailableError(
            f"The clickhouse analytics engine needs the {package} package, which is not installed "
            f"({exc.msg}): {INSTALL_HINT}, or set REPORTING_ANALYTICS_ENGINE=postgres."
        ) from None


def open_client(target: ClickHouseTarget, *, doing: str = "connecting") -> Any:
    """A connected clickhouse-connect client for ``target`` (its database is the default)."""
    clickhouse_connect = _module("clickhouse_connect", "clickhouse-connect")
    # its driver logs a warning before raising; the raised error is reported once, by us
    logging.getLogger("clickhouse_connect").setLevel(logging.ERROR)
    try:
        if target.path is not None:
            _module("chdb", "chdb")
            target.path.mkdir(parents=True, exist_ok=True)
            return clickhouse_connect.get_client(interface="chdb", path=str(target.path))
        return clickhouse_connect.get_client(
            host=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            secure=target.secure,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
    except OSError as exc:
        raise AnalyticsUnavailableError(
            f"Cannot use {target.shown} while {doing}: {exc.strerror or exc}. Check that the folder is "
            f"writable."
        ) from None
    except Exception as exc:
        raise unavailable(target, exc, doing) from None


def _reason(exc: Exception) -> str:
    """The part of a driver error a person can act on: the OS error of a failed connection
    (``[Errno 111] Connection refused``), else the message, shortened."""
    text = redact(" ".join(str(exc).split()))
    os_error = _OS_ERROR.search(text)
    return os_error.group(0) if os_error else text[:300]


def unavailable(target: ClickHouseTarget, exc: Exception, doing: str) -> AnalyticsUnavailableError:
    """The error for a failed connection or login, naming ``target`` without its password."""
    detail = _reason(exc)
    if getattr(exc, "code", None) == AUTHENTICATION_FAILED or "Authentication failed" in detail:
        fix = "check the user and password in REPORTING_ANALYTICS_URL"
        what = "refused the login"
    elif target.embedded:
        fix = (
            "only one process at a time can open the embedded engine's folder; stop the other one or "
            "point REPORTING_ANALYTICS_URL at a ClickHouse server"
        )
        what = "cannot be opened"
    else:
        fix = (
            "check that the server runs and that host, port and TLS (clickhouses://) in "
            "REPORTING_ANALYTICS_URL are right"
        )
        what = "is unavailable"
    return AnalyticsUnavailableError(
        f"{target.shown} {what} while {doing}: {detail}. {fix[:1].upper()}{fix[1:]}."
    )


def is_connection_failure(exc: Exception) -> bool:
    """True for errors of the transport or the login, False for errors of a statement."""
    exceptions = importlib.import_module("clickhouse_connect.driver.exceptions")
    if isinstance(exc, exceptions.OperationalError):
        return True
    return getattr(exc, "code", None) == AUTHENTICATION_FAILED


@contextmanager
def client_errors(target: ClickHouseTarget, doing: str) -> Iterator[None]:
    """Turn transport and login failures inside the block into AnalyticsUnavailableError."""
    try:
        yield
    except AnalyticsUnavailableError:
        raise
    except Exception as exc:
        if is_connection_failure(exc):
            raise unavailable(target, exc, doing) from None
        raise
