"""Redis-backed store for scale-out mode: one view of every key across API processes.

How the client behaves when Redis does not:

- every command and connect is bounded (``socket_timeout``, ``socket_connect_timeout``),
  and waiting for a pooled connection too (the pool's ``timeout``);
- a command that meets a broken connection is sent once more on a fresh one. After a
  Redis restart every pooled connection is dead, and each was failing one request
  (redis/redis-py#2727: the pool's check on checkout does not notice them). Retried
  only for commands Redis may safely run twice: GET, MGET, SET of a given value, DEL,
  PUBLISH, PING, and SET NX (the idempotency lock: if the first attempt took the lock
  and only its reply was lost, the retry reports the key as held, a 409 for the
  request, never a second run). INCR is not retried: applied twice, it counts one
  request twice. Timeouts are not retried either: the server may be running the
  command, and a retry would double the wait on a server that stopped answering.
- what still fails reaches callers as ``StoreUnavailableError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from orderly.core.container import Key
from orderly.core.kvstore.base import StoreUnavailableError, check_ttl

T = TypeVar("T")
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)

# False while a command Redis must not run twice is being sent (see ``_single_attempt``).
_RETRY_ALLOWED: ContextVar[bool] = ContextVar("orderly_redis_retry_allowed", default=True)


def _never(_error: Exception) -> bool:
    return False


class RetryOnceUnlessSingleAttempt(Retry):
    """One retry on a broken connection, on the same connection object reconnected
    (redis-py applies a connection's policy to every command sent on it, pipelines
    included); none inside ``_single_attempt()``."""

    def __init__(self) -> None:
        super().__init__(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,))

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        if not _RETRY_ALLOWED.get():
            is_retryable = _never
        return await super().call_with_retry(do, fail, is_retryable, with_failure_count)


@contextmanager
def _single_attempt() -> Iterator[None]:
    token = _RETRY_ALLOWED.set(False)
    try:
        yield
    finally:
        _RETRY_ALLOWED.reset(token)


def open_redis(
    url: str,
    *,
    max_connections: int,
    pool_timeout: float,
    socket_timeout: float,
    connect_timeout: float,
) -> Redis:
    # A blocking pool: under a burst, requests wait (up to the timeout) for one of a
    # bounded set of connections instead of failing at the default pool's limit.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=RetryOnceUnlessSingleAttempt(),
    )
    return Redis.from_pool(pool)


# KEYS[1] = max(KEYS[1], ARGV[1]), living at least ARGV[2] ms more; one script, so two
# writers cannot interleave a read and a write.
_RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]))
local value = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
if current ~= nil and current > value then value = current end
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], value, 'PX', ttl)
"""


class RedisStore:
    """Every key is namespaced by ``prefix`` (``APP_REDIS_PREFIX``), so several
    deployments or test sessions can share one Redis. The client is owned (and closed)
    by whoever created it."""

    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._raise_to = client.register_script(_RAISE_TO)

    def _key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    async def get(self, key: str) -> bytes | None:
        try:
            value: bytes | str | None = await self._client.get(self._key(key))
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError from exc
        # A client built with decode_responses=True hands back str; the contract is bytes.
        return value.encode() if isinstance(value, str) else value

    async def get_many(self, *keys: str) -> list[bytes | None]:
        try:
            values: list[bytes | str | None] = await self._client.mget(
                [self._key(key) for key in keys]
            )
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError from exc
        return [v.encode() if isinstance(v, str) else v for v in values]

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        check_ttl(ttl_ms)
        try:
            await self._client.set(self._key(key), value, px=ttl_ms)
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError from exc

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        check_ttl(ttl_ms)
        try:
            return bool(await self._client.set(self._key(key), value, px=ttl_ms, nx=True))
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError from exc

    async def delete(self, *keys: str) -> None:
        if not keys:  # DEL with no key is a Redis error
            return
        try:
            await self._client.delete(*(self._key(key) for key in keys))
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError from exc

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        check_ttl(ttl_ms)
        await self._raise_to(keys=[self._key(key)], args=[value, ttl_ms])

    async def incr(self, key: str, ttl_ms: int) -> int:
        check_ttl(ttl_ms)
        name = self._key(key)
        # MULTI/EXEC: "create at 0 with an expiry" and "add one" run as one step, so a
        # counter never exists without its expiry (INCR keeps an existing TTL). Works on
        # any Redis version, unlike PEXPIRE NX (7.0+).
        try:
            with _single_attempt():
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.set(name, 0, px=ttl_ms, nx=True)
                    pipe.incr(name)
                    _, count = await pipe.execute()
        except _UNAVAILABLE as exc:
            raise StoreUnavailableError from exc
        return int(count)


# The client behind ``RedisStore`` and the invalidation bus; None in embedded mode.
REDIS: Key[Redis | None] = Key("redis")
