"""The embedded PostgreSQL server: a real PostgreSQL 16 from the ``pgserver`` wheel.

Several processes (CLI, ``dagster dev``'s webserver, daemon, code server and run workers)
share one server; each holds a handle and the server stops when the last holder exits.
"""

from __future__ import annotations

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
            _exit_normally_on_sigterm()
    url: str = server.get_uri()
    return url


def stop_embedded_server(root: Path) -> bool:
    """Stop the embedded server if it runs (``reporting-assets db stop``); True if it was running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice, as in ensure_embedded_server
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]
        from pgserver.utils import PostmasterInfo

    pgdata = root / "postgres"
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return True
