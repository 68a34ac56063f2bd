"""Forked render workers: every result comes back, and a worker ends on SIGTERM whatever handler
the parent process installed (the pool terminates its workers with SIGTERM when it is done)."""

from __future__ import annotations

import signal
import sys

import pytest

from reporting_assets.parallel import fork_available, imap_forked

pytestmark = pytest.mark.skipif(not fork_available(), reason="forked workers are used on Linux only")


def test_every_result_comes_back_from_the_forked_workers() -> None:
    assert sorted(imap_forked(lambda i: i * i, 12, 2)) == [i * i for i in range(12)]


def test_a_forked_worker_ends_on_sigterm_though_the_parent_turns_it_into_an_exit() -> None:
    # Dagster's run process and the embedded server both handle SIGTERM in Python; a worker that
    # inherited such a handler ran clean-up on terminate() and could wait forever on a pool lock
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        seen = list(imap_forked(lambda i: signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, 6, 2))
        assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL  # the parent keeps its handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [True] * 6
