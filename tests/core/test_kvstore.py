"""Both key-value stores against one contract; Redis is the real server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from orderly.core.kvstore import (
    KeyValueStore,
    MemoryStore,
    RedisStore,
    StoreUnavailableError,
    open_redis,
)
from tests.support.clock import FakeClock
from tests.support.services import require_redis
from tests.support.throwaway import ThrowawayRedis


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis.from_url(require_redis())
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def redis_store(redis_client: Redis) -> AsyncIterator[RedisStore]:
    prefix = f"orderly_test_kv_{uuid.uuid4().hex}:"
    try:
        yield RedisStore(redis_client, prefix=prefix)
    finally:
        keys = [k async for k in redis_client.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis_client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> KeyValueStore:
    if request.param == "memory":
        return MemoryStore()
    redis_store: RedisStore = request.getfixturevalue("redis_store")
    return redis_store


async def test_a_missing_key_reads_as_none(store: KeyValueStore) -> None:
    assert await store.get("missing") is None


async def test_a_value_reads_back_until_it_expires(store: KeyValueStore) -> None:
    await store.set("k", b"v", ttl_ms=400)
    assert await store.get("k") == b"v"
    await asyncio.sleep(0.6)
    assert await store.get("k") is None


async def test_set_replaces_the_value(store: KeyValueStore) -> None:
    await store.set("k", b"one", ttl_ms=10_000)
    await store.set("k", b"two", ttl_ms=10_000)
    assert await store.get("k") == b"two"


async def test_set_if_absent_stores_only_when_nothing_is_there(store: KeyValueStore) -> None:
    assert await store.set_if_absent("k", b"first", ttl_ms=10_000)
    assert not await store.set_if_absent("k", b"second", ttl_ms=10_000)
    assert await store.get("k") == b"first"


async def test_set_if_absent_succeeds_again_once_the_key_expired(store: KeyValueStore) -> None:
    assert await store.set_if_absent("k", b"first", ttl_ms=100)
    await asyncio.sleep(0.3)
    assert await store.set_if_absent("k", b"second", ttl_ms=10_000)
    assert await store.get("k") == b"second"


async def test_exactly_one_of_many_concurrent_set_if_absent_wins(store: KeyValueStore) -> None:
    results = await asyncio.gather(
        *(store.set_if_absent("lock", str(i).encode(), ttl_ms=10_000) for i in range(50))
    )
    assert results.count(True) == 1


async def test_delete_removes_several_keys_and_ignores_missing_ones(
    store: KeyValueStore,
) -> None:
    await store.set("a", b"1", ttl_ms=10_000)
    await store.set("b", b"2", ttl_ms=10_000)
    await store.delete("a", "b", "never-set")
    await store.delete()
    assert await store.get("a") is None
    assert await store.get("b") is None


async def test_a_counter_counts_from_one_and_reads_as_bytes(store: KeyValueStore) -> None:
    assert [await store.incr("c", ttl_ms=10_000) for _ in range(3)] == [1, 2, 3]
    assert await store.get("c") == b"3"


async def test_concurrent_increments_are_never_lost(store: KeyValueStore) -> None:
    counts = await asyncio.gather(*(store.incr("c", ttl_ms=10_000) for _ in range(50)))
    assert sorted(counts) == list(range(1, 51))


async def test_a_counter_keeps_the_expiry_it_was_created_with(store: KeyValueStore) -> None:
    # Created at 0, it expires at 1.5 s; incremented at 0.75 s, it would live until
    # 2.25 s if that pushed the expiry back. Read at 1.9 s. A busy machine can delay the
    # second increment by 0.75 s before the verdict changes; a late read cannot fail it.
    created = time.monotonic()
    assert await store.incr("c", ttl_ms=1500) == 1
    await asyncio.sleep(0.75)
    assert await store.incr("c", ttl_ms=1500) == 2
    await asyncio.sleep(max(0.0, created + 1.9 - time.monotonic()))
    assert await store.get("c") is None


async def test_raise_to_keeps_the_larger_value_whatever_the_order(store: KeyValueStore) -> None:
    await store.raise_to("m", 5, ttl_ms=10_000)
    await store.raise_to("m", 3, ttl_ms=10_000)
    assert await store.get("m") == b"5"
    await store.raise_to("m", 8, ttl_ms=10_000)
    assert await store.get("m") == b"8"


async def test_raise_to_never_shortens_the_life_of_the_key(store: KeyValueStore) -> None:
    await store.raise_to("m", 1, ttl_ms=10_000)
    await store.raise_to("m", 2, ttl_ms=100)
    await asyncio.sleep(0.2)
    assert await store.get("m") == b"2"


async def test_concurrent_raises_end_at_the_largest_value(store: KeyValueStore) -> None:
    await asyncio.gather(*(store.raise_to("m", n, ttl_ms=10_000) for n in range(50, 0, -1)))
    assert await store.get("m") == b"50"


@pytest.mark.parametrize("ttl_ms", [0, -1])
async def test_a_ttl_that_is_not_positive_is_refused(store: KeyValueStore, ttl_ms: int) -> None:
    with pytest.raises(ValueError, match="ttl_ms"):
        await store.set("k", b"v", ttl_ms=ttl_ms)
    with pytest.raises(ValueError, match="ttl_ms"):
        await store.set_if_absent("k", b"v", ttl_ms=ttl_ms)
    with pytest.raises(ValueError, match="ttl_ms"):
        await store.incr("k", ttl_ms=ttl_ms)


async def test_memory_store_evicts_the_least_recently_used_entry_when_full() -> None:
    store = MemoryStore(max_entries=2)
    await store.set("a", b"1", ttl_ms=10_000)
    await store.set("b", b"2", ttl_ms=10_000)
    await store.get("a")  # "b" is now the least recently used
    await store.set("c", b"3", ttl_ms=10_000)
    assert await store.get("b") is None
    assert await store.get("a") == b"1"
    assert await store.get("c") == b"3"


async def test_memory_store_drops_an_expired_entry_when_it_is_touched() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    await store.set("k", b"v", ttl_ms=1000)
    clock.advance(0.999)
    assert await store.get("k") == b"v"
    clock.advance(0.001)
    assert len(store) == 1
    assert await store.get("k") is None
    assert len(store) == 0


async def test_memory_store_counter_expires_on_its_creation_schedule() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    await store.incr("c", ttl_ms=1000)
    clock.advance(0.9)
    assert await store.incr("c", ttl_ms=1000) == 2
    clock.advance(0.1)
    assert await store.incr("c", ttl_ms=1000) == 1  # a new window


async def test_redis_store_keeps_every_key_under_its_prefix(redis_client: Redis) -> None:
    prefix = f"orderly_test_kv_{uuid.uuid4().hex}:"
    store = RedisStore(redis_client, prefix=prefix)
    try:
        await store.set("k", b"v", ttl_ms=10_000)
        assert await redis_client.get(f"{prefix}k") == b"v"
        assert 0 < await redis_client.pttl(f"{prefix}k") <= 10_000
    finally:
        await redis_client.delete(f"{prefix}k")


@pytest.fixture
async def restartable_store(throwaway_redis: ThrowawayRedis) -> AsyncIterator[RedisStore]:
    """A store on a throwaway Redis, its pool holding 8 connections to the current server."""
    client = open_redis(
        throwaway_redis.url,
        max_connections=8,
        pool_timeout=1.0,
        socket_timeout=0.5,
        connect_timeout=0.5,
    )
    store = RedisStore(client, prefix="t:")
    await asyncio.gather(*(store.get("warm") for _ in range(8)))
    try:
        yield store
    finally:
        await client.aclose()


async def test_reads_over_connections_a_redis_restart_broke_are_retried_on_fresh_ones(
    restartable_store: RedisStore, throwaway_redis: ThrowawayRedis
) -> None:
    """redis/redis-py#2727: the pool hands out connections to the old server, and
    without a retry each one failed one command."""
    throwaway_redis.restart()
    assert await asyncio.gather(*(restartable_store.get("k") for _ in range(8))) == [None] * 8


async def test_an_increment_over_a_broken_connection_is_not_sent_again(
    restartable_store: RedisStore, throwaway_redis: ThrowawayRedis
) -> None:
    """INCR is not idempotent: had the lost reply been the only thing lost, a retry would
    count one request twice. It fails instead (a control test of the retry policy's
    single-attempt switch, which relies on redis-py sending pipelines through the
    connection's Retry)."""
    throwaway_redis.restart()
    with pytest.raises(StoreUnavailableError):
        await restartable_store.incr("c", ttl_ms=10_000)
    assert await restartable_store.incr("c", ttl_ms=10_000) == 1


async def test_a_redis_that_is_down_is_reported_as_unavailable_within_its_timeouts(
    restartable_store: RedisStore, throwaway_redis: ThrowawayRedis
) -> None:
    throwaway_redis.stop()
    started = time.perf_counter()
    with pytest.raises(StoreUnavailableError):
        await restartable_store.get("k")
    with pytest.raises(StoreUnavailableError):
        await restartable_store.set("k", b"v", ttl_ms=1000)
    assert time.perf_counter() - started < 2.0


async def test_the_purge_drops_expired_keys_nobody_reads_again() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    await store.set("short", b"1", ttl_ms=1_000)
    await store.set("long", b"2", ttl_ms=60_000)
    clock.advance(2)
    assert store.purge_expired() == 1
    assert len(store) == 1
    assert await store.get("long") == b"2"
