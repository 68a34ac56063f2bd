"""Run a per-item function on every core for large batches, with forked workers.

Why fork: the workers inherit the batch's inputs (events, validated contracts, the compiled
templates) by copy-on-write, so only two integers go to each task and only the results come
back. A spawn or forkserver pool would pickle every input (that made it slower than one process
on this 2-core machine; see docs/architecture.md). Fork is used on Linux only; elsewhere, and
for small batches, everything runs in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

PARALLEL_MIN_ITEMS = 400
"""Below this, forking (about 10 ms per worker) costs more than it saves."""
CHUNKS_PER_WORKER = 2

_task: Callable[[int], Any] | None = None  # set only while a pool of forked workers runs


def fork_available() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def worker_count(items: int, processes: int = 0) -> int:
    """Workers for ``items``: ``processes`` (0 = one per core), 1 when the batch is small."""
    wanted = processes if processes > 0 else (os.cpu_count() or 1)
    if items < PARALLEL_MIN_ITEMS or wanted < 2 or not fork_available():
        return 1
    return min(wanted, items)


def map_indexed(fn: Callable[[int], T], count: int, processes: int = 0) -> list[T]:
    """``[fn(i) for i in range(count)]``, split over forked workers when that pays.

    ``fn`` runs in the workers with the state it closes over as it was when the pool started;
    what it returns must be picklable. An exception in a worker is raised here.
    """
    workers = worker_count(count, processes)
    if workers == 1:
        return [fn(i) for i in range(count)]
    global _task
    size = -(-count // (workers * CHUNKS_PER_WORKER))
    bounds = [(start, min(start + size, count)) for start in range(0, count, size)]
    _task = fn
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts: Sequence[list[T]] = pool.map(_run_chunk, bounds, chunksize=1)
    finally:
        _task = None
    return [item for part in parts for item in part]


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _task is not None, "map_indexed sets the task before the workers fork"
    return [_task(i) for i in range(*bounds)]
