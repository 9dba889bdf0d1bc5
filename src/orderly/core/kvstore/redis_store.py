"""Redis-backed store for scale-out mode: one view of every key across API processes."""

from __future__ import annotations

from redis.asyncio import Redis

from orderly.core.kvstore.base import check_ttl

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
        value: bytes | str | None = await self._client.get(self._key(key))
        # A client built with decode_responses=True hands back str; the contract is bytes.
        return value.encode() if isinstance(value, str) else value

    async def get_many(self, *keys: str) -> list[bytes | None]:
        values: list[bytes | str | None] = await self._client.mget(
            [self._key(key) for key in keys]
        )
        return [v.encode() if isinstance(v, str) else v for v in values]

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        check_ttl(ttl_ms)
        await self._client.set(self._key(key), value, px=ttl_ms)

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        check_ttl(ttl_ms)
        return bool(await self._client.set(self._key(key), value, px=ttl_ms, nx=True))

    async def delete(self, *keys: str) -> None:
        if keys:  # DEL with no key is a Redis error
            await self._client.delete(*(self._key(key) for key in keys))

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        check_ttl(ttl_ms)
        await self._raise_to(keys=[self._key(key)], args=[value, ttl_ms])

    async def incr(self, key: str, ttl_ms: int) -> int:
        check_ttl(ttl_ms)
        name = self._key(key)
        # MULTI/EXEC: "create at 0 with an expiry" and "add one" run as one step, so a
        # counter never exists without its expiry (INCR keeps an existing TTL). Works on
        # any Redis version, unlike PEXPIRE NX (7.0+).
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=ttl_ms, nx=True)
            pipe.incr(name)
            _, count = await pipe.execute()
        return int(count)
