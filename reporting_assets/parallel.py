"""Run independent chunks of work on every core, with forked workers (and pause the cyclic GC
for allocation-heavy batches).

Why fork: the workers inherit the batch's inputs (events, names, the compiled templates) by
copy-on-write, so only a chunk number goes to each task and only the results come back. A spawn
or forkserver pool would pickle every input (that made it slower than one process on this
2-core machine; see docs/architecture.md). Fork is used on Linux only; elsewhere, and for small
batches, everything runs in the calling process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

PARALLEL_MIN_ITEMS = 400
"""Below this, forking (about 10 ms per worker) costs more than it saves."""
CHUNKS_PER_WORKER = 6
"""More chunks than workers balance uneven chunks and let results stream back early, so little
is left to store after the last chunk is rendered."""

_task: Callable[[int], Any] | None = None  # set only while a pool of forked workers runs


def fork_available() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def cores(processes: int = 0) -> int:
    """``processes`` when set, else one per core (the meaning of a ``render_processes`` of 0)."""
    return processes if processes > 0 else (os.cpu_count() or 1)


def worker_count(items: int, processes: int = 0) -> int:
    """Workers for ``items``: ``processes`` (0 = one per core), 1 when the batch is small."""
    wanted = cores(processes)
    if items < PARALLEL_MIN_ITEMS or wanted < 2 or not fork_available():
        return 1
    return min(wanted, items)


def chunk_count(workers: int) -> int:
    return 1 if workers <= 1 else workers * CHUNKS_PER_WORKER


def imap_forked(fn: Callable[[int], T], count: int, workers: int) -> Iterator[T]:
    """``fn(0) .. fn(count - 1)``, each in a forked worker when ``workers > 1``.

    ``fn`` runs with the state it closes over as it was when the pool started; what it returns
    must be picklable. Results arrive as they are ready (in completion order, not index order),
    so the caller can use them while the workers compute the rest. An exception in a worker is
    raised here.
    """
    if workers <= 1 or count <= 1:
        yield from (fn(i) for i in range(count))
        return
    global _task
    _task = fn
    try:
        pool = multiprocessing.get_context("fork").Pool(min(workers, count), initializer=die_on_sigterm)
        with pool:
            _task = None  # the workers have their copy; the parent needs none
            yield from pool.imap_unordered(_run, range(count), chunksize=1)
    finally:
        _task = None


def die_on_sigterm() -> None:
    """A worker ends on SIGTERM at once, as the pool's ``terminate()`` expects when the results
    are in. A forked worker inherits the parent's SIGTERM handler (Dagster's, or the embedded
    server's clean exit) and would run Python clean-up instead, which can wait forever on a
    queue lock the other worker held when it was killed; the run then hangs."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run(index: int) -> Any:
    assert _task is not None, "imap_forked sets the task before the workers fork"
    return _task(index)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Validation and rendering allocate many small acyclic objects; the cyclic collector
    scanning them cost two thirds of validation time in benchmarks/render_store.py."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
