"""Token-bucket rate limits shared by every API worker process, through the app's database.

The same buckets and contract as api/ratelimit.py's RateLimiter (`acquire(caller)` → 0 when allowed,
else the whole seconds to wait), kept as one row per caller in `rate_limit_buckets` (tokens, and
when they were counted, in epoch seconds). A request is one atomic upsert:

    INSERT … VALUES (caller, burst - 1, now)
    ON CONFLICT (caller) DO UPDATE SET tokens = refilled - 1, updated = now WHERE refilled >= 1
    RETURNING tokens

A row comes back when a token was taken (a new caller always gets one); none when the bucket holds
less than one token, and then one SELECT says how long to wait. PostgreSQL locks the row for the
statement; on SQLite it runs inside BEGIN IMMEDIATE (the write lock is taken before the row is
read), so two workers can never both take the last token.

The clock is time.time(): it has to mean the same in every process (time.monotonic() does not).
A worker whose clock lags never moves a bucket back in time nor refills it twice.

When the database cannot be reached the limiter falls back to per-process buckets (see
`acquire`), and rows of callers whose bucket has refilled completely are deleted now and then
(such a row behaves exactly like a missing one).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from sqlalchemy import Float, String, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base
from api.db_health import UNREACHABLE, DatabaseUnavailable
from api.ratelimit import RateLimiter
from api.settings import Settings

log = logging.getLogger(__name__)

STORES = ("memory", "database", "auto")
TABLE = "rate_limit_buckets"


class RateLimitBucket(Base):
    __tablename__ = TABLE

    caller: Mapped[str] = mapped_column(String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)  # epoch seconds (time.time()) when `tokens` was counted


# The bucket refilled up to `now` (never before `updated`: clocks of workers may differ a little).
_ELAPSED = f"CASE WHEN :now > {TABLE}.updated THEN :now - {TABLE}.updated ELSE 0 END"
_REFILLED = (f"CASE WHEN {TABLE}.tokens + ({_ELAPSED}) * :rate > :burst THEN :burst "
             f"ELSE {TABLE}.tokens + ({_ELAPSED}) * :rate END")
TAKE = text(
    f"INSERT INTO {TABLE} (caller, tokens, updated) VALUES (:caller, :burst - 1, :now) "
    f"ON CONFLICT (caller) DO UPDATE SET tokens = ({_REFILLED}) - 1, "
    f"updated = CASE WHEN :now > {TABLE}.updated THEN :now ELSE {TABLE}.updated END "
    f"WHERE ({_REFILLED}) >= 1 "
    "RETURNING tokens")
PEEK = text(f"SELECT tokens, updated FROM {TABLE} WHERE caller = :caller")
PRUNE = text(f"DELETE FROM {TABLE} WHERE tokens + ({_ELAPSED}) * :rate >= :burst")


def rate_limit_store_problem(settings: Settings) -> str:
    """A Chinese message when HAZARD_RATE_LIMIT_STORE is not a known value, else ""."""
    store = settings.rate_limit_store.strip().lower()
    return "" if store in STORES else (
        f"HAZARD_RATE_LIMIT_STORE 的取值应为 memory、database 或 auto，当前为“{settings.rate_limit_store}”")


def limiter_store(settings: Settings) -> str:
    """"memory" or "database": auto (and an unknown value) means database when several processes
    share the limit — the database is PostgreSQL (workers on several ports or hosts), or this
    server runs more than one worker process — and memory otherwise."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    store = settings.rate_limit_store.strip().lower()
    if store in ("memory", "database"):
        return store
    if store != "auto":
        log.warning("%s; using auto", rate_limit_store_problem(settings))
    try:
        backend = make_url(settings.resolved_database_url()).get_backend_name()
    except ArgumentError:  # a malformed URL: opening the database reports it
        backend = ""
    return "database" if backend == "postgresql" or settings.workers > 1 else "memory"


class DatabaseRateLimiter:
    """Buckets in the database named by `engine()` (which raises DatabaseUnavailable or an
    unreachable-database error while there is none)."""

    PRUNE_SECONDS = 600.0  # how often this process deletes full buckets
    RETRY_SECONDS = 1.0  # after a failure, local buckets only for this long

    def __init__(self, per_minute: int, burst: int, engine: Callable[[], Engine],
                 clock: Callable[[], float] = time.time):
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.engine = engine
        self.clock = clock
        self.fallback = RateLimiter(per_minute, burst)
        self._lock = threading.Lock()
        self._next_prune = clock() + self.PRUNE_SECONDS
        self._down_until: float | None = None  # set while the database is treated as unreachable

    def acquire(self, caller: str) -> int:
        """Take a token for `caller`: 0 when allowed, else the whole seconds to wait (≥ 1).

        Database unreachable: this process's own buckets decide (each worker then allows up to the
        limit, as the memory store does). Failing open keeps the promise that search and
        classification answer while the database is down (in single-user mode they need no
        database at all), and returning 503 here would turn an outage of the shared counter into
        an outage of the whole API; with API keys the key check already answers 503 itself."""
        now = self.clock()
        if self._down_until is not None and now < self._down_until:
            return self.fallback.acquire(caller)
        try:
            wait = self._take(self.engine(), caller, now)
        except (*UNREACHABLE, DatabaseUnavailable) as exc:
            with self._lock:
                if self._down_until is None:
                    log.warning("rate limits: database unreachable, counting per process until it is back: %s",
                                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                self._down_until = now + self.RETRY_SECONDS
            return self.fallback.acquire(caller)
        if self._down_until is not None:
            with self._lock:
                if self._down_until is not None:
                    self._down_until = None
                    log.info("rate limits: database reachable again, counting in the database")
        if now >= self._next_prune:
            self._prune_now(now)
        return wait

    def _take(self, engine: Engine, caller: str, now: float) -> int:
        params = {"caller": caller, "now": float(now), "rate": self.rate, "burst": float(self.burst)}
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock before the bucket is read
            taken = conn.execute(TAKE, params).first()
            bucket = None if taken is not None else conn.execute(PEEK, params).first()
            conn.commit()
        if taken is not None:
            return 0
        if bucket is None:  # pruned in between: it was full, so the next request gets through
            return 1
        tokens, updated = bucket
        refilled = min(float(self.burst), tokens + max(0.0, now - updated) * self.rate)
        return max(1, math.ceil((1.0 - refilled) / self.rate))

    def prune(self) -> int:
        """Delete the buckets that have refilled completely; how many rows went."""
        now = self.clock()
        with self.engine().begin() as conn:
            return conn.execute(PRUNE, {"now": float(now), "rate": self.rate, "burst": float(self.burst)}).rowcount

    def _prune_now(self, now: float) -> None:
        with self._lock:
            if now < self._next_prune:
                return  # another thread just did
            self._next_prune = now + self.PRUNE_SECONDS
        try:
            self.prune()
        except SQLAlchemyError as exc:  # housekeeping only: the request has its answer already
            log.warning("rate limits: pruning full buckets failed: %s", exc)


def build_limiter(settings: Settings, engine: Callable[[], Engine]) -> RateLimiter | DatabaseRateLimiter | None:
    """The limiter HAZARD_RATE_LIMIT_STORE asks for; None when HAZARD_RATE_LIMIT is 0."""
    if settings.rate_limit <= 0:
        return None
    if limiter_store(settings) == "database":
        return DatabaseRateLimiter(settings.rate_limit, settings.rate_burst, engine)
    return RateLimiter(settings.rate_limit, settings.rate_burst)
