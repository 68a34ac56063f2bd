"""One-time form nonces: "Download" and "Run now" forms carry one, and a second submission of the
same nonce by the same subject (a double click, a resent request) gets the first one's result
instead of creating a second export. Kept in this process's memory (the last 10,000); with
several workers, a double click whose two requests reach different workers still makes two
exports, so such a deployment routes a subject's requests to one worker (sticky sessions)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

KEEP = 10_000


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    result: str | None = None


class Once:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, subject: str, nonce: str, action: Callable[[], str]) -> str:
        """``action()``'s result, computed once per (subject, nonce); concurrent submissions of
        the same nonce wait for the first. Without a nonce the action always runs."""
        if not nonce:
            return action()
        with self._lock:
            entry = self._entries.setdefault((subject, nonce[:64]), _Entry())
            while len(self._entries) > self.keep:
                self._entries.popitem(last=False)
        with entry.lock:
            if entry.result is None:
                entry.result = action()
            return entry.result


once = Once()
