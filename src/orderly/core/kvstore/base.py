"""The interface every store implements."""

from __future__ import annotations

from typing import Protocol

from orderly.core.container import Key
from orderly.core.errors import ServiceUnavailableError


class StoreUnavailableError(ServiceUnavailableError):
    """The store did not answer: connection refused or broken, or no reply within its
    timeout. Callers decide what that means for them without knowing the backend: the
    cache is bypassed, an idempotency key refuses the request, a revocation check
    fails closed (this error's own 503)."""

    code = "REDIS_UNAVAILABLE"
    default_detail = "A shared store is unreachable; retry shortly."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


class KeyValueStore(Protocol):
    """Bytes under string keys, each with a time to live in milliseconds (> 0).

    ``set_if_absent`` and ``incr`` are atomic: of N concurrent callers on one key,
    exactly one creates it. That is what makes them usable as a lock and as a
    rate-limit counter.

    Every method raises ``StoreUnavailableError`` when the store cannot be reached in
    time (never for the in-process store).
    """

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, *keys: str) -> list[bytes | None]:
        """Several keys in one round trip (Redis MGET), in the order given."""
        ...

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None: ...

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        """Store ``value`` only if ``key`` holds nothing; True when it was stored."""
        ...

    async def delete(self, *keys: str) -> None: ...

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        """Store the larger of ``value`` and the integer already stored, atomically, and
        keep the key at least ``ttl_ms`` from now: a marker that must never go back
        (writers that arrive out of order cannot lower it)."""
        ...

    async def incr(self, key: str, ttl_ms: int) -> int:
        """Add one and return the new value; a new counter starts at 1 and expires
        ``ttl_ms`` after its creation (later increments do not extend it)."""
        ...


def check_ttl(ttl_ms: int) -> None:
    # Redis rejects a zero or negative PX; refuse it everywhere so both stores agree.
    if ttl_ms <= 0:
        raise ValueError(f"ttl_ms must be positive, got {ttl_ms}")


KV: Key[KeyValueStore] = Key("kv")
