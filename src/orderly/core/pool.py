"""A connection pool that serves waiting requests first come, first served.

The upstream behaviour this works around (SQLAlchemy 2.1.9, CPython 3.11):

- ``AsyncAdaptedQueue.get`` (``sqlalchemy/util/queue.py``, lines 299-303 in 2.1.9)
  first tries ``asyncio.Queue.get_nowait()``, "an item that's already available is
  taken without awaiting", whoever else is waiting;
- ``asyncio.Queue.put_nowait`` stores the returned connection and only *wakes* the
  oldest getter; that getter runs an iteration later, finds the queue empty if a
  newcomer's ``get_nowait`` took it meanwhile, and waits again at the back of the
  line (``asyncio.Queue.get``'s ``while self.empty()`` loop). asyncio does not
  promise an order among concurrent getters (python/asyncio#269).

So under contention a new request takes a just-returned connection ahead of the ones
already waiting, and a waiter can lose that race until its pool timeout. SQLAlchemy
has the same report for its threaded ``QueuePool`` (sqlalchemy/sqlalchemy#7679,
"QueuePool connection allocation can starve threads", open); no report was found for
the asyncio queue. Measured here: at 64 clients on a pool of 10, uncached pages had a
p99 six times their mean, and at 256 clients some requests waited past two seconds
while later ones were served.

``FairAsyncQueue`` hands a returned connection straight to the longest waiter, so a
connection only rests in the queue when nobody is waiting. It relies on two private
parts of SQLAlchemy: the pool picks its queue through the class attribute
``_queue_class`` (``sqlalchemy/pool/impl.py``), which ``FairAsyncPool`` sets, and the
queue implements ``sqlalchemy.util.queue.QueueCommon``. Both are why ``pyproject.toml``
pins SQLAlchemy to 2.1.x; ``tests/core/test_pool.py`` has the control test that fails
the day the stock queue is fair (then this module can go) and the engine test that
fails if the pool stops using ``_queue_class``. Everything else (overflow, timeouts,
recycling, events) is the stock pool's.
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
