"""Where the hits of a fixed window are counted.

Windows are aligned to the clock (window ``n`` of a 60 s limit is the minute
``[60n, 60n + 60)`` of Unix time), and the window number is part of the counter's key.
So every process agrees on when a window starts and ends without asking the store
(the ``RateLimit`` header's reset is computed, not read), and a check costs one
increment: in Redis, one script call.

Why a fixed window: it is the one strategy ``limits`` runs as a single script call
that also returns the count (``incr_expire.lua``: INCRBY, and EXPIRE on the first hit).
Its moving and sliding windows answer "allowed or not" in one script
(``acquire_moving_window.lua``, ``acquire_sliding_window.lua``), but the remaining
quota the ``RateLimit`` header reports would take a second script
(``get_moving_window`` / ``get_sliding_window``), a second round trip per request.
The price of a fixed window is a burst of up to twice the quota across a window
boundary, which a per-minute API quota tolerates.
"""

from __future__ import annotations

from typing import Protocol

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis


class WindowCounter(Protocol):
    async def hit(self, key: str, window: int, window_seconds: int) -> int:
        """Count one hit of ``key`` in window number ``window``; the count so far."""
        ...


class MemoryWindowCounter:
    """One process's counters: a dict per window length, dropped whole when its window
    ends, so memory holds the keys of one window and a hit is two dict operations.

    Written by hand rather than ``limits``' ``MemoryStorage``: that one keeps an expiry
    per key behind an ``asyncio.Lock`` and a background expiry task (measured in the
    README, "Rate limits"); a check here runs on every authenticated request.
    """

    __slots__ = ("_windows",)

    def __init__(self) -> None:
        # window length -> (window number, counts of that window)
        self._windows: dict[int, tuple[int, dict[str, int]]] = {}

    def hit_now(self, key: str, window: int, window_seconds: int) -> int:
        current = self._windows.get(window_seconds)
        if current is None or current[0] != window:
            if current is not None and current[0] > window:
                # A hit computed just before the window turned, arriving after a newer
                # one: count it in the current window rather than reset the counts.
                window = current[0]
                counts = current[1]
            else:
                counts = {}
                self._windows[window_seconds] = (window, counts)
        else:
            counts = current[1]
        count = counts.get(key, 0) + 1
        counts[key] = count
        return count

    async def hit(self, key: str, window: int, window_seconds: int) -> int:
        return self.hit_now(key, window, window_seconds)


class RedisWindowCounter:
    """Counters shared by every process, in Redis through ``limits``' storage (the
    redis-py implementation, on the app's own connection pool: same timeouts, same
    connections). One ``EVALSHA`` of ``incr_expire.lua`` per hit."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{prefix}ratelimit",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )

    async def hit(self, key: str, window: int, window_seconds: int) -> int:
        # The key expires one window after its first hit: by then its window is over.
        return await self._storage.incr(f"{key}/{window}", window_seconds)
