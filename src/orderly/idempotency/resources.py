"""What idempotency adds to the container: where records and locks are kept, and in
embedded mode the hourly purge of expired ones (Redis expires its keys itself)."""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.jobs import JOBS
from orderly.core.kvstore import KV, MemoryStore
from orderly.idempotency import tasks
from orderly.idempotency.repository import IDEMPOTENCY_RECORDS, IdempotencyRepository


async def provide(container: Container, settings: Settings) -> None:
    kv = container[KV]
    records = IdempotencyRepository(kv, ttl_seconds=settings.idempotency_ttl_seconds)
    container.add(IDEMPOTENCY_RECORDS, records)
    if isinstance(kv, MemoryStore):
        container[JOBS].register_periodic(
            tasks.PURGE_EXPIRED,
            partial(tasks.purge_expired, kv),
            every_seconds=tasks.PURGE_EVERY_SECONDS,
        )
