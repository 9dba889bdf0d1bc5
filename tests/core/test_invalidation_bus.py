"""The invalidation bus stops within a bounded time, even when redis-py's close hangs."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from orderly.core import cache
from orderly.core.cache import InvalidationBus
from tests.support.services import require_redis


async def test_a_hanging_pubsub_close_does_not_hang_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """redis/redis-py#3941: PubSub.aclose() can wait forever in wait_closed(). A test run
    once hung 14 minutes in an app's shutdown there."""
    redis = Redis.from_url(require_redis())
    received: list[str] = []
    channel = f"test-bus-{time.monotonic_ns()}"
    bus = InvalidationBus(redis, channel=channel)
    bus.subscribe("topic", received.append)

    async def close_forever(self: PubSub) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(PubSub, "aclose", close_forever)
    monkeypatch.setattr(cache, "CLOSE_TIMEOUT_SECONDS", 0.2)
    await bus.start()
    try:
        for _ in range(100):  # the listener is subscribed once a publish reaches it
            await redis.publish(channel, "topic\x00probe")
            await asyncio.sleep(0.02)
            if received:
                break
        assert received, "the listener never subscribed"
        started = time.monotonic()
        await asyncio.wait_for(bus.stop(), timeout=30)  # without the bound: forever
        # Bounded by 2 x the (patched) close timeout, 0.4 s; the slack is a busy machine's.
        assert time.monotonic() - started < 5.0
    finally:
        await redis.aclose()
