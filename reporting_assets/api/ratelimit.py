"""Requests per token subject per minute, counted in this process's memory (a sliding window).

Each worker process counts on its own: with N uvicorn workers (or N replicas) a subject can make
up to N times the limit. A multi-worker deployment that needs one shared budget puts the limit in
front of the workers (the reverse proxy or gateway, keyed on the token subject) or divides the
limit by the worker count (``REPORTING_API_RATE_LIMIT``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from reporting_assets.api.errors import ApiError

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60 s window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one request of ``key``, or raise a 429 with Retry-After when it is over the limit."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                wait = max(1, math.ceil(hits[0] + WINDOW_SECONDS - now))
                raise ApiError(
                    429,
                    "rate_limited",
                    f"Too many requests: at most {self.per_minute} per minute for one token subject; "
                    f"try again in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle subjects so memory stays flat
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW_SECONDS]:
                    del self._hits[idle]
