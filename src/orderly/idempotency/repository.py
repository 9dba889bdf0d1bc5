"""Where records and locks live: the key-value store (memory or Redis)."""

from __future__ import annotations

from orderly.core.container import Key
from orderly.core.kvstore import KeyValueStore
from orderly.idempotency.schemas import StoredResponse

# Long enough for any request we serve, short enough that a key whose process crashed
# mid-request (and so never released it) is usable again within a minute.
LOCK_TTL_MS = 60_000


class IdempotencyRepository:
    def __init__(self, kv: KeyValueStore, *, ttl_seconds: int) -> None:
        self._kv = kv
        self._ttl_ms = ttl_seconds * 1000

    @staticmethod
    def _record_key(scope_key: str) -> str:
        return f"idem:{scope_key}"

    @staticmethod
    def _lock_key(scope_key: str) -> str:
        return f"idem:{scope_key}:lock"

    async def find(self, scope_key: str) -> StoredResponse | None:
        raw = await self._kv.get(self._record_key(scope_key))
        return None if raw is None else StoredResponse.model_validate_json(raw)

    async def save(self, scope_key: str, record: StoredResponse) -> None:
        data = record.model_dump_json().encode()
        await self._kv.set(self._record_key(scope_key), data, ttl_ms=self._ttl_ms)

    async def lock(self, scope_key: str) -> bool:
        return await self._kv.set_if_absent(self._lock_key(scope_key), b"1", ttl_ms=LOCK_TTL_MS)

    async def unlock(self, scope_key: str) -> None:
        await self._kv.delete(self._lock_key(scope_key))


IDEMPOTENCY_RECORDS: Key[IdempotencyRepository] = Key("idempotency.records")
