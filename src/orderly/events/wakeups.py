"""Waking the relay of another process: commits in the API, the relay in the worker.

In scale-out mode with ``orderly worker`` running the jobs, the relay's pass (the
advisory lock, numbering, the delivery rows and their jobs, the live fan-out) is
background work: done in the API process, it took CPU from every request
(issue 13's budget: order creation with a subscribed endpoint ≥ 0.9x without). So
there the API process only *signals* its commits, and the workers' relays publish:

- ``CommitSignal`` (API process): ``wake()`` is what ``UnitsOfWork`` calls after a
  commit that recorded events (a flag set, no I/O on the request path). A task of its
  own sends one ``PUBLISH`` on ``<prefix>relay:wake`` per wake-up, at most one per
  ``SIGNAL_WINDOW_SECONDS``: under load, the commits of that window share one message
  (and the relay that gets it one pass).
- ``WakeListener`` (``orderly worker``): subscribed to that channel, it wakes the
  process's relay on every message.

Nothing depends on a message arriving. Every relay still polls every
``APP_RELAY_POLL_SECONDS`` (1 s), the API's included: a lost message (Redis restarting,
no worker running at all) delays events by at most that, never loses one (the outbox
row is the truth). The relays keep taking the one relay lock, so ``seq`` still grows
in commit order (``relay.py``), whichever process numbers the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError

from orderly.core.container import Key

logger = structlog.get_logger("orderly.events")

# Commits within this window after a signal share the next one (the latency it adds
# is this at most, against a p99 budget of 1 s commit → receiver).
SIGNAL_WINDOW_SECONDS = 0.01
# redis-py's PubSub.aclose() can hang (redis/redis-py#3941): bounded, as in core.cache.
CLOSE_TIMEOUT_SECONDS = 2.0
MAX_RECONNECT_SECONDS = 10.0


def wake_channel(redis_prefix: str) -> str:
    return f"{redis_prefix}relay:wake"


class CommitSignal:
    """Tells the workers' relays that this process committed events."""

    def __init__(self, redis: Redis, *, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._pending = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def wake(self) -> None:
        """After a commit that recorded events: a flag, the message goes from a task."""
        self._pending.set()

    def start(self) -> None:
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="relay-commit-signal")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            await self.send()
            # Commits meanwhile set the flag again: one message for all of them.
            await asyncio.sleep(SIGNAL_WINDOW_SECONDS)

    async def send(self) -> None:
        try:
            await self._redis.publish(self._channel, b"1")
        except RedisError as exc:
            # The workers' relays poll: the events are late by a poll at most.
            if not self._failing:
                logger.warning("relay_signal_not_sent", error=type(exc).__name__)
            self._failing = True
        else:
            self._failing = False


class WakeListener:
    """Wakes this process's relay whenever another process signals a commit."""

    def __init__(self, redis: Redis, *, channel: str, wake: Callable[[], None]) -> None:
        self._redis = redis
        self._channel = channel
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()  # tests wait for it

    def start(self) -> None:
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._listen_forever(), name="relay-wake-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        _, pending = await asyncio.wait({task}, timeout=2 * CLOSE_TIMEOUT_SECONDS)
        if pending:
            logger.warning("relay_wake_listener_did_not_stop")

    async def _listen_forever(self) -> None:
        """Keep a subscription up; while Redis is away the relay polls."""
        delay = 0.5
        while True:
            try:
                await self._listen(self._redis.pubsub(ignore_subscribe_messages=True))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost or refused: retry with backoff
                if self.subscribed.is_set():
                    delay = 0.5  # it was up: the first retry comes soon
                self.subscribed.clear()
                logger.warning("relay_wake_listener_disconnected", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_SECONDS)

    async def _listen(self, pubsub: PubSub) -> None:
        try:
            await pubsub.subscribe(self._channel)
            self.subscribed.set()
            # Subscribed: a commit signalled before this may have been missed; a pass
            # now finds its rows (it takes every row pending).
            self._wake()
            async for _ in pubsub.listen():
                self._wake()
        finally:
            connection: Connection | None = pubsub.connection
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            except TimeoutError:
                if connection is not None:  # drop the socket, skip the close handshake
                    await connection.disconnect(nowait=True)


COMMIT_SIGNAL: Key[CommitSignal] = Key("events.commit_signal")
WAKE_LISTENER: Key[WakeListener] = Key("events.wake_listener")
