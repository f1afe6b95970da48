"""Token-bucket rate limits, in memory and per process.

Each caller (an API key, or the client address in single-user mode) has a bucket holding up to
`burst` tokens that refills at `per_minute / 60` tokens a second; a request takes one token. These
buckets live in one process: with several API worker processes each keeps its own, so a key could
reach N × the limit. api/ratelimit_db.py keeps the same buckets in the shared database instead
(HAZARD_RATE_LIMIT_STORE=database; `auto` picks it for PostgreSQL or `hazard serve --workers` > 1)
and falls back to this class while the database is unreachable.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    # Above this many callers, buckets that have refilled completely are forgotten (they would
    # behave exactly like a new bucket), so memory stays bounded.
    PRUNE_AT = 10_000

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def acquire(self, caller: str) -> int:
        """Take a token for `caller`: 0 when allowed, else the whole seconds to wait (≥ 1)."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) >= self.PRUNE_AT:
                    self._prune(now)
                bucket = self._buckets[caller] = _Bucket(float(self.burst), now)
            else:
                bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full = [c for c, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for caller in full:
            del self._buckets[caller]
