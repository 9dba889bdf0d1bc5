"""A connection pool that serves waiting requests first come, first served.

SQLAlchemy's ``AsyncAdaptedQueuePool`` keeps idle connections in an ``asyncio.Queue``
and lets a new request take one that was just returned before the requests already
waiting for it get to run; a waiter that loses that race queues again at the back. At
64 clients on a pool of 10, uncached pages had a p99 six times their mean, and at 256
clients some requests waited past two seconds while later ones were served.

``FairAsyncQueue`` hands a returned connection straight to the longest waiter, so a
connection only rests in the queue when nobody is waiting. SQLAlchemy picks a pool's
queue through the class attribute ``_queue_class``, which is what ``FairAsyncPool``
sets; everything else (overflow, timeouts, recycling, events) is the stock pool's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

T = TypeVar("T")


class FairAsyncQueue(QueueCommon[T]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._idle: deque[T] = deque()
        # Futures of the requests waiting, oldest first; given up ones are skipped.
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def qsize(self) -> int:
        return len(self._idle)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._idle.append(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        # A connection is returned at once or closed (the pool's overflow rule).
        self.put_nowait(item)

    def get_nowait(self) -> T:
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        # Idle connections exist only while nobody waits, so taking one jumps no queue.
        if self._idle or not block:
            return self.get_nowait()
        return await_(self._wait(seconds=timeout))

    async def _wait(self, seconds: float | None) -> T:
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # Handed over just as this request gave up (timeout or cancellation):
                # pass the connection on instead of losing it.
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise Empty() from None
            raise


class FairAsyncPool(AsyncAdaptedQueuePool):
    _queue_class = FairAsyncQueue[ConnectionPoolEntry]
