"""Concurrent callers asking for the same thing share one computation.

When a hot cache entry expires or is invalidated, every request in flight misses at
once; without this, each would run the same query (64 connections, 64 identical
queries queueing for the connection pool, a latency spike of a second). The first
caller computes; the others wait for its result. If the first caller fails or is
cancelled (its client went away), each waiter computes for itself instead of inheriting
an error or a cancellation that was not its own.

In-process only: other processes compute their own (one query per process, not per
request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Failed:
    """The leader produced no value (it raised or was cancelled)."""


_FAILED = _Failed()


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V | _Failed]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        flight = self._flights.get(key)
        if flight is not None:
            # shield: a waiter's own cancellation must not cancel the shared future.
            result = await asyncio.shield(flight)
            if not isinstance(result, _Failed):
                return result
            return await compute()
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            value = await compute()
        except BaseException:
            flight.set_result(_FAILED)
            raise
        else:
            flight.set_result(value)
            return value
        finally:
            del self._flights[key]
