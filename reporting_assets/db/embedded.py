"""The embedded PostgreSQL server: a real PostgreSQL 16 from the ``pgserver`` wheel.

Several processes (CLI, ``dagster dev``'s webserver, daemon, code server and run workers)
share one server; each holds a handle and the server stops when the last holder exits,
unless ``reporting-assets db start`` left a keep-running marker next to the data folder: then
the server stays up (whoever started it) until ``reporting-assets db stop``.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from reporting_assets.errors import DatabaseUnavailableError

_lock = threading.Lock()
_servers: dict[Path, Any] = {}
KEEP_RUNNING_MARKER = "postgres.keep-running"


def _exit_normally_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so pgserver's atexit handler releases the handle.

    Only installed when nobody else handles SIGTERM and only on the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def ensure_embedded_server(root: Path) -> str:
    """Start (or join) the embedded server under ``root/postgres`` and return its URL."""
    pgdata = root / "postgres"
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            try:
                root.mkdir(parents=True, exist_ok=True)
                with warnings.catch_warnings():
                    # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp: fine here
                    warnings.simplefilter("ignore")
                    import pgserver

                    server = pgserver.get_server(pgdata, cleanup_mode="stop")
            except Exception as exc:
                raise DatabaseUnavailableError(
                    f"Could not start the embedded PostgreSQL in {pgdata}: {exc}. "
                    f"Check that the folder is writable (its log is {pgdata / 'log'}), or set "
                    f"REPORTING_DATABASE_URL to use an existing server."
                ) from exc
            _servers[pgdata] = server
            # atexit runs handlers last-in first-out: this one decides before pgserver's own
            # handler (registered in get_server) whether the last holder stops the server
            atexit.register(_stop_at_exit_unless_kept, server, root)
            _exit_normally_on_sigterm()
    url: str = server.get_uri()
    return url


def _stop_at_exit_unless_kept(server: Any, root: Path) -> None:
    server.cleanup_mode = None if is_kept_running(root) else "stop"


def is_kept_running(root: Path) -> bool:
    """``reporting-assets db start`` asked to keep the server up (until ``db stop``)."""
    return (root / KEEP_RUNNING_MARKER).exists()


def is_running(root: Path) -> bool:
    """The embedded server under ``root/postgres`` is running now (started by any process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice, as in ensure_embedded_server
        from pgserver.utils import PostmasterInfo

    pgdata = root / "postgres"
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    return info is not None and bool(info.is_running())


def start_embedded_server(root: Path) -> str:
    """Start the server (or join the running one) and keep it up after this process exits,
    until :func:`stop_embedded_server`; return its URL."""
    root.mkdir(parents=True, exist_ok=True)
    marker = root / KEEP_RUNNING_MARKER
    marker.write_text("Written by `reporting-assets db start`; `reporting-assets db stop` removes it.\n")
    try:
        return ensure_embedded_server(root)
    except BaseException:
        marker.unlink(missing_ok=True)
        raise


def stop_embedded_server(root: Path) -> bool:
    """Stop the embedded server if it runs (``reporting-assets db stop``); True if it was running.

    Also drops the keep-running marker of ``db start``, so the next command's server stops again
    when its last holder exits."""
    (root / KEEP_RUNNING_MARKER).unlink(missing_ok=True)
    if not is_running(root):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice, as in ensure_embedded_server
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    pgdata = root / "postgres"
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return True
