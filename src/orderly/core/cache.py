"""In-process caching, and telling every API process to forget something.

``ExpiringLru`` is the one in-process TTL + LRU map: an entry lives until its expiry,
and the least recently used entry goes when the map is full. ``LocalCache`` gives every
entry the same time to live; it holds values read on every request (verified access
tokens, API-key resolutions). The embedded key-value store (``kvstore.MemoryStore``) is
an ``ExpiringLru`` of bytes with a time to live per key. ``InvalidationBus`` evicts
entries everywhere: locally at once, and in the other processes through Redis pub/sub
when Redis is configured.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError

from orderly.core.container import Key

V = TypeVar("V")
logger = structlog.get_logger("orderly.cache")


class ExpiringLru(Generic[V]):
    """String keys to values, each with an expiry time on ``clock``, bounded by LRU.

    Expired entries are dropped when they are next touched (or evicted as the least
    recently used), so there is no sweeper task to start and stop. No method awaits,
    so within one event loop a check and the write that follows it are atomic.
    """

    def __init__(self, *, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self.clock = clock
        # key -> (expires at, value); order = least recently used first.
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> tuple[float, V] | None:
        """``(expires at, value)`` of a live entry, which becomes the most recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def get(self, key: str) -> V | None:
        # ``entry`` written out: this runs on every request (verified tokens, API keys).
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def set_until(self, key: str, value: V, expires_at: float) -> None:
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def purge_expired(self) -> int:
        """Drop every expired entry now; how many. Entries nobody reads again would
        otherwise stay until the LRU pushes them out (a periodic job calls this)."""
        now = self.clock()
        dead = [key for key, (expires_at, _) in self._entries.items() if expires_at <= now]
        for key in dead:
            del self._entries[key]
        return len(dead)


class LocalCache(ExpiringLru[V]):
    """An ``ExpiringLru`` whose entries all live ``ttl_seconds``."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_entries=max_entries, clock=clock)
        self._ttl = ttl_seconds

    def set(self, key: str, value: V) -> None:
        self.set_until(key, value, self.clock() + self._ttl)


Handler = Callable[[str], None]


# redis-py's PubSub.aclose() can hang in wait_closed() (redis/redis-py#3941, open), seen
# here as a test run stuck for 14 minutes at shutdown. Closing and stopping are bounded.
CLOSE_TIMEOUT_SECONDS = 2.0


class InvalidationBus:
    def __init__(self, redis: Redis | None, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._handlers: dict[str, list[Handler]] = {}
        self._listener: asyncio.Task[None] | None = None

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    async def publish(self, topic: str, key: str) -> None:
        self._deliver(topic, key)
        if self._redis is None:
            return
        try:
            await self._redis.publish(self._channel, f"{topic}\x00{key}")
        except RedisError as exc:
            # The change itself is committed; other processes fall back on the TTL.
            logger.warning("invalidation_not_published", topic=topic, error=type(exc).__name__)

    def _deliver(self, topic: str, key: str) -> None:
        for handler in self._handlers.get(topic, ()):
            handler(key)

    async def start(self) -> None:
        if self._redis is not None:
            self._listener = asyncio.get_running_loop().create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        """Keep a subscription up. While Redis is unreachable the app still starts and
        serves (readiness reports Redis as failing); evictions from other processes
        are then missed, and the cache TTL bounds how stale an entry can be."""
        redis = self._redis
        if redis is None:
            return
        delay = 0.5
        while True:
            try:
                await self._listen(redis.pubsub(ignore_subscribe_messages=True))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost or refused: retry with backoff
                logger.warning("invalidation_bus_disconnected", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _listen(self, pubsub: PubSub) -> None:
        try:
            await pubsub.subscribe(self._channel)
            async for message in pubsub.listen():
                data = message.get("data")
                if isinstance(data, bytes):
                    topic, _, key = data.decode().partition("\x00")
                    self._deliver(topic, key)
        finally:
            # aclose() forgets it; redis-py declares the attribute without its type.
            connection: Connection | None = pubsub.connection
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            except TimeoutError:
                logger.warning("invalidation_bus_close_timed_out")
                if connection is not None:  # drop the socket, skip the close handshake
                    await connection.disconnect(nowait=True)

    async def stop(self) -> None:
        """Stop listening; never waits more than about twice the close timeout."""
        if self._listener is None:
            return
        self._listener.cancel()
        _, pending = await asyncio.wait({self._listener}, timeout=2 * CLOSE_TIMEOUT_SECONDS)
        if pending:
            logger.warning("invalidation_bus_listener_did_not_stop")


INVALIDATION_BUS: Key[InvalidationBus] = Key("invalidation_bus")
