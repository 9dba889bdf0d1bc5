"""A small async key-value store: locks, counters and short-lived records.

Idempotency records, access-token revocations and cached responses go through it
(and, later, rate-limit counters). Embedded mode gets ``MemoryStore`` (one process);
scale-out mode gets ``RedisStore``, so what one API process decides holds for all of
them.
"""

from orderly.core.kvstore.base import KV, KeyValueStore, StoreUnavailableError
from orderly.core.kvstore.memory import MemoryStore
from orderly.core.kvstore.redis_store import REDIS, RedisStore, open_redis

__all__ = [
    "KV",
    "REDIS",
    "KeyValueStore",
    "MemoryStore",
    "RedisStore",
    "StoreUnavailableError",
    "open_redis",
]
