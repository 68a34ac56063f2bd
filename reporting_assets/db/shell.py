"""``reporting-assets db shell``: psql (shipped in the pgserver wheel) on the database in use."""

from __future__ import annotations

import os
import signal
import subprocess
import warnings
from collections.abc import Sequence
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reporting_assets.errors import ReportingError


def psql_path() -> Path:
    """The psql binary of the pgserver wheel (the same PostgreSQL 16 as the embedded server)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs' XDG_RUNTIME_DIR notice
        from pgserver._commands import POSTGRES_BIN_PATH

    path = Path(POSTGRES_BIN_PATH) / "psql"
    if not path.exists():
        raise ReportingError(
            f"psql is missing from the pgserver package ({path}); reinstall it with "
            f"`pip install --force-reinstall pgserver`, or use your own psql with "
            f'`psql "$(reporting-assets db url --show-password)"`.'
        )
    return path


def psql_invocation(conninfo: str, args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """psql's argv and environment for ``conninfo``: the password goes into ``PGPASSWORD``
    (the environment), never into argv where ``ps`` shows it to every user of the machine."""
    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return [str(psql_path()), make_conninfo("", **params), *args], env


def run_psql(conninfo: str, args: Sequence[str]) -> int:
    """Run psql on ``conninfo`` with extra ``args`` (e.g. ``-c 'select 1'``); its exit code.

    Ctrl-C belongs to psql (it cancels the running query), so this process ignores it meanwhile.
    """
    argv, env = psql_invocation(conninfo, args)
    previous = signal.signal(signal.SIGINT, _ignore)  # a handler, not SIG_IGN: psql gets the default
    try:
        return subprocess.run(argv, env=env, check=False).returncode
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore(signum: int, frame: object) -> None:
    """SIGINT while psql runs: psql handles it."""
